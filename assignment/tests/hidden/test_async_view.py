"""Hidden grading tests, part 1 (async_view): ``GET /async/``.

Covers the contract beyond the public tests: the delay
taken from ``settings.ASYNC_DEMO_DELAY``, an ``async def`` view, many requests
overlapping.
"""

import time

import pytest

from grader.messages.feedback import expect
from grader.messages.hints import defines_async

HELLO = "homework.async_views.hello"


def describe(response):
    """Status and the start of the body, for messages."""
    return (
        f"HTTP {response.status_code} with body {response.content[:300].decode(errors='replace')!r}"
    )


@pytest.mark.points(3)
def test_waits_the_configured_delay(app):
    for delay, check_long in ((1.2, True), (0.05, False)):
        app.settings(ASYNC_DEMO_DELAY=delay)
        started = time.perf_counter()
        response = app.get("/async/")
        elapsed = time.perf_counter() - started
        expect(
            response.status_code == 200,
            expected="GET /async/ answers 200",
            got=describe(response),
            hint="see the public test of this part",
        )
        if check_long:
            expect(
                elapsed >= delay - 0.05,
                expected="with a longer ASYNC_DEMO_DELAY the view waits that much longer",
                got=f"the answer came after {elapsed:.2f} s, before the configured delay ended",
                hint="read the delay from settings.ASYNC_DEMO_DELAY (from django.conf import "
                "settings) instead of writing a number",
            )
        else:
            expect(
                elapsed < delay + 1.5,
                expected="with a very short ASYNC_DEMO_DELAY the view answers quickly",
                got=f"the answer took {elapsed:.2f} s",
                hint="read the delay from settings.ASYNC_DEMO_DELAY instead of writing a number",
            )


@pytest.mark.points(1)
@pytest.mark.in_app_evidence
def test_hello_is_an_async_def(app):
    app.settings(ASYNC_DEMO_DELAY=0.01)
    hello = app.fact("coroutine_function", target=HELLO)
    expect(
        # The app's word, and the grader's own reading of the source (never imported).
        hello.get("is_coroutine_function") is True
        and defines_async("homework.async_views", "hello") is not False,
        expected="homework.async_views.hello is a coroutine function (`async def hello(request)`)",
        got=str(hello.get("repr")),
        hint="declare the view with `async def`; a sync view would hold a thread while it waits",
    )
    called = app.fact("call_view", target=HELLO, path="/async/")
    expect(
        called.get("status") == 200,
        expected="awaiting hello(request) for a GET gives a 200 response",
        got=str(called.get("repr")),
        hint="return a JsonResponse from the view",
    )


@pytest.mark.points(1)
def test_many_requests_wait_together(app):
    app.settings(ASYNC_DEMO_DELAY=0.5)
    started = time.perf_counter()
    responses = app.together(*[("GET", "/async/")] * 10)
    elapsed = time.perf_counter() - started
    statuses = sorted({response.status_code for response in responses})
    expect(
        statuses == [200],
        expected="ten GET /async/ made together all answer 200",
        got=f"statuses {statuses}; one of them: {describe(responses[0])}",
        hint="see the public tests of this part",
    )
    # One after the other, ten waits of 0.5 s take at least 5 s; together, about 0.5 s.
    expect(
        elapsed < 2.5,
        expected="ten requests that each wait 0.5 s finish together, in well under 5 s",
        got=f"they took {elapsed:.2f} s: the waits ran one after the other",
        hint="await asyncio.sleep(...) lets other requests run while one waits; a sync view "
        "holds a thread for each request that waits",
        trap="time_sleep",
        module="homework.async_views",
    )
