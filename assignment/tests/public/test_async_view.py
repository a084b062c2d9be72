"""PUBLIC self-check tests, part 1 (async_view): ``GET /async/``.

These public tests are a subset of what grading checks: the happy path, the
key behaviour (waiting without blocking the event loop) and 405 for other
methods. Grading runs more
(hidden) tests on the same rules; see INSTRUCTIONS.md, part 1.

Your project runs in its own process, behind Django's real ASGI handler (as
uvicorn would serve it); the ``app`` fixture sends it requests and
``app.settings(...)`` changes its settings for one test.
"""

import time

import pytest

from grader.messages.feedback import expect

MESSAGE = {"message": "This is an async view!"}
# Probe views the grader mounts in front of your URLs: /__probe__/async/ answers at once.
PROBES = "grader.appside.probes"


def describe(response):
    """Status and the start of the body, for messages."""
    return (
        f"HTTP {response.status_code} with body {response.content[:300].decode(errors='replace')!r}"
    )


def read_json(response):
    """The JSON body, or ``None`` when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


@pytest.mark.points(3)
def test_get_answers_the_message(app):
    app.settings(ASYNC_DEMO_DELAY=0.05)
    response = app.get("/async/")
    expect(
        response.status_code == 200 and read_json(response) == MESSAGE,
        expected=f"GET /async/ answers 200 with the JSON {MESSAGE}",
        got=describe(response),
        hint="return JsonResponse({'message': 'This is an async view!'}) after the await",
    )


@pytest.mark.points(4)
def test_waiting_does_not_block_the_event_loop(app):
    delay = 1.0
    app.settings(ASYNC_DEMO_DELAY=delay, ROOT_URLCONF=PROBES)
    started = time.perf_counter()
    slow = [app.submit("GET", "/async/") for _ in range(3)]
    time.sleep(0.2)  # the three are waiting in the view by now
    # While they wait, quick requests to the same process, one after the other: each is
    # answered only if the event loop is free to serve it.
    answered_meanwhile = 0
    while answered_meanwhile < 3 and not all(future.done() for future in slow):
        app.get("/__probe__/async/")
        if not any(future.done() for future in slow):
            answered_meanwhile += 1
    responses = [future.result() for future in slow]
    elapsed = time.perf_counter() - started
    statuses = [response.status_code for response in responses]
    expect(
        statuses == [200] * 3,
        expected="three GET /async/ made at the same time all answer 200",
        got=f"statuses {statuses}; first: {describe(responses[0])}",
        hint="the view must be an `async def` that awaits asyncio.sleep(...)",
    )
    expect(
        elapsed >= delay,
        expected="the view waits settings.ASYNC_DEMO_DELAY seconds before answering",
        got=f"three requests done after {elapsed:.2f} s with a {delay} s delay",
        hint="await asyncio.sleep(settings.ASYNC_DEMO_DELAY)",
    )
    expect(
        answered_meanwhile >= 3,
        expected="the event loop keeps running while the view waits: other requests to the "
        "same process are answered in the meantime",
        got=f"only {answered_meanwhile} quick request(s) were answered while GET /async/ "
        "waited: the event loop was frozen",
        hint="something in the view blocks the event loop; use `await asyncio.sleep(...)`",
        trap="time_sleep",
        module="homework.async_views",
    )


@pytest.mark.points(3)
def test_other_methods_answer_405(app):
    app.settings(ASYNC_DEMO_DELAY=0.01)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = app.request(method, "/async/")
        expect(
            response.status_code == 405,
            expected=f"{method} /async/ answers 405 Method Not Allowed",
            got=describe(response),
            hint="only GET is allowed: django.views.decorators.http.require_GET works on "
            "async views",
        )
