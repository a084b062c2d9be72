"""Hidden grading tests, part 1 (async_view): ``GET /async/``.

Covers the contract beyond the public tests: the delay
taken from ``settings.ASYNC_DEMO_DELAY``, an ``async def`` view, many requests
overlapping.
"""

import inspect
import time

import pytest

from grader.feedback import expect


@pytest.mark.points(3)
@pytest.mark.asyncio
async def test_waits_the_configured_delay(async_client, settings, describe):
    for delay, check_long in ((1.2, True), (0.05, False)):
        settings.ASYNC_DEMO_DELAY = delay
        started = time.perf_counter()
        response = await async_client.get("/async/")
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
@pytest.mark.asyncio
async def test_hello_is_an_async_def(settings):
    from django.test import RequestFactory
    from homework import async_views

    settings.ASYNC_DEMO_DELAY = 0.01
    hello = getattr(async_views, "hello", None)
    expect(
        inspect.iscoroutinefunction(hello),
        expected="homework.async_views.hello is a coroutine function (`async def hello(request)`)",
        got=f"{hello!r}",
        hint="declare the view with `async def`; a sync view would hold a thread while it waits",
    )
    response = await hello(RequestFactory().get("/async/"))
    expect(
        getattr(response, "status_code", None) == 200,
        expected="awaiting hello(request) for a GET gives a 200 response",
        got=f"{response!r}",
        hint="return a JsonResponse from the view",
    )


@pytest.mark.points(1)
@pytest.mark.asyncio
async def test_many_requests_wait_together(async_client, settings, concurrently, describe):
    settings.ASYNC_DEMO_DELAY = 0.5
    started = time.perf_counter()
    responses = await concurrently(*[lambda: async_client.get("/async/")] * 10)
    elapsed = time.perf_counter() - started
    statuses = sorted({response.status_code for response in responses})
    expect(
        statuses == [200],
        expected="ten GET /async/ made together all answer 200",
        got=f"statuses {statuses}; one of them: {describe(responses[0])}",
        hint="see the public tests of this part",
    )
    expect(
        elapsed < 2.5,
        expected="ten requests that each wait 0.5 s finish together, in well under 5 s",
        got=f"they took {elapsed:.2f} s: the waits ran one after the other",
        hint="await asyncio.sleep(...) lets other requests run while one waits; a sync view "
        "holds a thread for each request that waits",
        trap="time_sleep",
        module="homework.async_views",
    )
