"""Feedback for a stuck student, the only text a failing grading test shows.

Grading tests run with ``--assert=plain``, so an ``assert`` shows nothing but
its message: every check in a grading test says what was expected, what
happened and a hint, through these two helpers, and never the hidden test's
code or exact inputs.

A check that catches one of the lesson's known traps names it (``trap=``):
when the check fails and the trap is found (in the answer file ``module``, or
at the place ``where`` the test saw it happen), the hint becomes the trap's
own hint from ``grader.messages.hints`` with the file and line; otherwise the check's
own hint stays, so the message always fits what was seen.
"""

from __future__ import annotations

from grader.messages.hints import TRAPS, Found, find_in_source

# Every way a student reads that time ran out, in one place.
DID_NOT_FINISH = {
    "test": "Your code did not finish within {seconds:g} s (this test's time limit): look "
    "for a blocking call, an endless loop or an await that never returns.",
    "stuck": "Your code did not finish within {seconds:g} s (this test's time limit) and "
    "could not be stopped: look for a blocking call in a thread (sync_to_async) or an "
    "endless loop.",
    "part": "Your code did not finish within {seconds:g} s, the time limit for this whole "
    "part: the tests that had not finished count as timeouts.",
    "unfinished": "Your code did not finish within {seconds:g} s (the time limit for this "
    "part), so this test never finished.",
}


def did_not_finish(kind: str, seconds: float) -> str:
    """The message for time that ran out: ``kind`` is a key of ``DID_NOT_FINISH``."""
    return DID_NOT_FINISH[kind].format(seconds=seconds)


def feedback(*, expected: str, got: str, hint: str) -> str:
    """``"Expected: ...\\nGot: ...\\nHint: ..."``, the message of a failed check."""
    return f"Expected: {expected}\nGot: {got}\nHint: {hint}"


def expect(
    condition: object,
    *,
    expected: str,
    got: str,
    hint: str,
    trap: str | None = None,
    module: str | None = None,
    where: str = "",
) -> None:
    """Raise ``AssertionError(feedback(...))`` when ``condition`` is false.

    ``condition`` is any value; it is judged by its truth, like ``assert``.
    ``trap``/``module``/``where``: see the module's docstring.
    """
    if not condition:
        raise AssertionError(
            feedback(expected=expected, got=got, hint=trap_hint(hint, trap, module, where))
        )


def trap_hint(hint: str, trap: str | None, module: str | None, where: str) -> str:
    """The trap's hint with its place when the trap is found, else ``hint``."""
    if trap is None or trap not in TRAPS:  # a trap name the app sent may be anything
        return hint
    places = [where] if where else find_in_source(trap, module) if module else []
    return Found(trap, ", ".join(places)).text() if places else hint
