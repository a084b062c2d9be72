"""PUBLIC self-check tests, part 2 (aggregator): ``GET /api/users/<id>/dashboard/``.

These public tests are a subset of what grading checks: the merged answer for a
user, the key behaviour (all three upstream calls in flight at the same time),
405 for other methods, and upstream bodies that are not JSON or not a list.
Grading runs more (hidden) tests: the 404 and 502 rules, timeouts and more;
see INSTRUCTIONS.md, part 2.

Your project runs in its own process (the ``app`` fixture); the requests it
makes with httpx come back to these tests, where a fake upstream API (respx,
the ``upstream`` fixture in conftest.py) answers them: no network.
"""

import pytest

from grader.messages.feedback import expect

EXPECTED_USER_1 = {
    "user": {"id": 1, "name": "User Number1", "email": "user1@example.org"},
    "posts": {"count": 10, "latest": ["post 10", "post 9", "post 8"]},
    "todos": {"total": 20, "completed": 11},
    "errors": {},
}


@pytest.mark.points(4)
def test_dashboard_merges_the_three_apis(app, upstream, read_json, describe, explain_dashboard):
    response = app.get("/api/users/1/dashboard/")
    expect(
        response.status_code == 200,
        expected="GET /api/users/1/dashboard/ answers 200 when every upstream call succeeds",
        got=describe(response),
        hint="request users, posts and todos with httpx.AsyncClient and return a JsonResponse",
    )
    body = read_json(response)
    expect(
        body == EXPECTED_USER_1,
        expected=f"the merged JSON {EXPECTED_USER_1}",
        got=describe(response),
        hint=explain_dashboard(body, EXPECTED_USER_1),
    )


@pytest.mark.points(6)
def test_three_upstream_calls_are_in_flight_together(app, upstream, describe):
    upstream.window = 1.0
    response = app.get("/api/users/1/dashboard/")
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
        hint="start all three before awaiting any: asyncio.gather(...) or asyncio.TaskGroup",
        trap="sequential_awaits",
        where=upstream.awaited_one_by_one,
    )


@pytest.mark.points(1.5)
def test_other_methods_answer_405(app, upstream, describe):
    for method in ("POST", "PUT", "DELETE"):
        response = app.request(method, "/api/users/1/dashboard/")
        expect(
            response.status_code == 405,
            expected=f"{method} on the dashboard answers 405 Method Not Allowed",
            got=describe(response),
            hint="only GET is allowed: django.views.decorators.http.require_GET works on "
            "async views",
        )


@pytest.mark.points(1)
def test_bodies_that_are_not_json_or_not_a_list_null_their_section(
    app, upstream, read_json, describe
):
    upstream.set("posts", content=b"<html>not JSON</html>")
    upstream.set("todos", json={"id": 1, "title": "one object, not a list"})
    response = app.get("/api/users/1/dashboard/")
    body = read_json(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    expect(
        response.status_code == 200
        and isinstance(errors, dict)
        and body.get("posts", "missing") is None
        and body.get("todos", "missing") is None
        and all(isinstance(errors.get(s), str) and errors[s].strip() for s in ("posts", "todos"))
        and body.get("user") == EXPECTED_USER_1["user"],
        expected='200 with "posts": null and "todos": null, and a reason in errors for each, '
        "when posts answers a body that is not JSON and todos a JSON object instead of a list",
        got=describe(response),
        hint="response.json() raises ValueError on a body that is not JSON: catch it; then "
        "check the type (isinstance(data, list)) before using posts or todos"
        if response.status_code == 200
        else "posts and todos are optional: when one fails (here: a body that is not JSON, a "
        "JSON object instead of a list), answer 200 with that section null and a reason in "
        "errors; only a users failure changes the status",
    )
