"""Helpers shared by several grading suites, as plain functions.

Like ``conftest.py``, this file ships to students together with the public tests,
so it holds only tools, never a hidden test's inputs. The fixtures live in
``conftest.py``; what is here is called from a suite's own module-level helpers
too, so it is imported (``from ..helpers import returned``) rather than asked for
as a fixture.
"""

from grader.judge.client import AppError
from grader.messages.feedback import expect

# --------------------------------------------------------------------------
# Part 5 (middleware): requests to the probe views, and where they broke
# --------------------------------------------------------------------------

ANSWER_FILE = "homework/middleware.py"


def get(app, path, via):
    """``(response, None)``, or ``(None, the AppError)`` when the request broke inside Django."""
    try:
        # text/plain: Django's debug page for an error is then a short text, not HTML.
        return app.get(
            path, via=via, headers={"Accept": "text/plain"}, raise_request_exception=False
        ), None
    except AppError as exc:
        return None, exc


def place(response, failure):
    """Where in the answer file the request broke (the app says it), else the file."""
    caught = response.exception if response is not None else failure
    return caught.where if caught is not None and caught.where else ANSWER_FILE


def coroutine_trap(response, failure):
    """The lesson's trap when Django got a coroutine where it wanted a response."""
    if response is not None and response.exception is not None:
        seen = response.exception.message
    else:
        seen = str(failure) if response is None else response.text[:2000]
    return "coroutine_returned" if "'coroutine' object" in seen else None


# --------------------------------------------------------------------------
# Part 4 (daily_stats): what the task returned
# --------------------------------------------------------------------------


def returned(outcome):
    """What the task returned; a failed check when it raised instead."""
    place = f" (at {outcome.where})" if outcome.where else ""
    expect(
        outcome.raised is None,
        expected="the task returns its summary",
        got=f"it raised {outcome.raised}: {outcome.message}{place}"[:500],
        hint="the task must not raise for a valid day: fix the line named above",
    )
    return outcome.value
