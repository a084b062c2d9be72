"""Feedback for a stuck student, the only text a failing grading test shows.

Grading tests run with ``--assert=plain``, so an ``assert`` shows nothing but
its message: every check in a grading test says what was expected, what
happened and a hint, through these two helpers, and never the hidden test's
code or exact inputs.
"""

from __future__ import annotations


def feedback(*, expected: str, got: str, hint: str) -> str:
    """``"Expected: ...\\nGot: ...\\nHint: ..."``, the message of a failed check."""
    return f"Expected: {expected}\nGot: {got}\nHint: {hint}"


def expect(condition: object, *, expected: str, got: str, hint: str) -> None:
    """Raise ``AssertionError(feedback(...))`` when ``condition`` is false.

    ``condition`` is any value; it is judged by its truth, like ``assert``.
    """
    if not condition:
        raise AssertionError(feedback(expected=expected, got=got, hint=hint))
