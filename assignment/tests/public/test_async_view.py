"""PUBLIC self-check tests, part 1 (async_view): ``GET /async/``.

These public tests are a subset of what grading checks: the happy path, the
key behaviour (waiting without blocking the event loop) and 405 for other
methods. Grading runs more
(hidden) tests on the same rules; see INSTRUCTIONS.md, part 1.
"""

import time

import pytest

from grader.feedback import expect

MESSAGE = {"message": "This is an async view!"}


@pytest.mark.points(3)
@pytest.mark.asyncio
async def test_get_answers_the_message(async_client, settings, read_json, describe):
    settings.ASYNC_DEMO_DELAY = 0.05
    response = await async_client.get("/async/")
    expect(
        response.status_code == 200 and read_json(response) == MESSAGE,
        expected=f"GET /async/ answers 200 with the JSON {MESSAGE}",
        got=describe(response),
        hint="return JsonResponse({'message': 'This is an async view!'}) after the await",
    )


@pytest.mark.points(4)
@pytest.mark.asyncio
async def test_waiting_does_not_block_the_event_loop(
    async_client, settings, heartbeat, concurrently, describe
):
    settings.ASYNC_DEMO_DELAY = 0.6
    async with heartbeat() as beat:
        started = time.perf_counter()
        responses = await concurrently(*[lambda: async_client.get("/async/")] * 3)
        elapsed = time.perf_counter() - started
    statuses = [response.status_code for response in responses]
    expect(
        statuses == [200] * 3,
        expected="three GET /async/ made at the same time all answer 200",
        got=f"statuses {statuses}; first: {describe(responses[0])}",
        hint="the view must be an `async def` that awaits asyncio.sleep(...)",
    )
    expect(
        elapsed >= 0.6,
        expected="the view waits settings.ASYNC_DEMO_DELAY seconds before answering",
        got=f"three requests done after {elapsed:.2f} s with a 0.6 s delay",
        hint="await asyncio.sleep(settings.ASYNC_DEMO_DELAY)",
    )
    expect(
        beat.max_gap < 0.3,
        expected="the event loop keeps running while the view waits (no pause of 0.3 s or more)",
        got=f"the event loop was frozen for {beat.max_gap:.2f} s at a time",
        hint="something in the view blocks the event loop; use `await asyncio.sleep(...)`",
        trap="time_sleep",
        module="homework.async_views",
    )


@pytest.mark.points(3)
@pytest.mark.asyncio
async def test_other_methods_answer_405(async_client, settings, describe):
    settings.ASYNC_DEMO_DELAY = 0.01
    for method in ("post", "put", "patch", "delete"):
        response = await getattr(async_client, method)("/async/")
        expect(
            response.status_code == 405,
            expected=f"{method.upper()} /async/ answers 405 Method Not Allowed",
            got=describe(response),
            hint="only GET is allowed: django.views.decorators.http.require_GET works on "
            "async views",
        )
