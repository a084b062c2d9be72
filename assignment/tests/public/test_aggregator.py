"""PUBLIC self-check tests, part 2 (aggregator): ``GET /api/users/<id>/dashboard/``.

These public tests are a subset of what grading checks: the merged answer for a
user and the key behaviour (all three upstream calls in flight at the same
time). Grading runs more (hidden) tests: the error rules, timeouts and more;
see INSTRUCTIONS.md, part 2. The upstream API is faked with respx: no network.
"""

import pytest

from grader.feedback import expect

EXPECTED_USER_1 = {
    "user": {"id": 1, "name": "User Number1", "email": "user1@example.org"},
    "posts": {"count": 10, "latest": ["post 10", "post 9", "post 8"]},
    "todos": {"total": 20, "completed": 11},
    "errors": {},
}


@pytest.mark.points(4)
@pytest.mark.asyncio
async def test_dashboard_merges_the_three_apis(async_client, upstream, read_json, describe):
    response = await async_client.get("/api/users/1/dashboard/")
    expect(
        response.status_code == 200,
        expected="GET /api/users/1/dashboard/ answers 200 when every upstream call succeeds",
        got=describe(response),
        hint="request users, posts and todos with httpx.AsyncClient and return a JsonResponse",
    )
    expect(
        read_json(response) == EXPECTED_USER_1,
        expected=f"the merged JSON {EXPECTED_USER_1}",
        got=describe(response),
        hint="keep only id/name/email of the user; latest = titles of the 3 highest post ids, "
        "highest first; completed = todos whose 'completed' is true",
    )


@pytest.mark.points(6)
@pytest.mark.asyncio
async def test_three_upstream_calls_are_in_flight_together(async_client, upstream, describe):
    upstream.window = 1.0
    response = await async_client.get("/api/users/1/dashboard/")
    expect(
        response.status_code == 200,
        expected="GET /api/users/1/dashboard/ answers 200",
        got=describe(response),
        hint="see test_dashboard_merges_the_three_apis",
    )
    expect(
        upstream.total_calls == 3 and upstream.max_in_flight == 3,
        expected="the three upstream requests are all in flight at the same time",
        got=f"{upstream.total_calls} request(s) made, at most {upstream.max_in_flight} "
        "open at the same time",
        hint="start all three before awaiting any: asyncio.gather(...) or asyncio.TaskGroup; "
        "`await`-ing them one after the other makes the view as slow as their sum",
    )
