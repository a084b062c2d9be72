"""Hidden grading tests, part 2 (aggregator): ``GET /api/users/<id>/dashboard/``.

Covers every rule of the contract: the merged shape for any user, the
configured upstream URL and timeout on one client, the 404 and 502 rules
for users, a failed posts/todos section becoming ``null`` with a reason
(``"timeout"`` for a timeout), and an answer in time when an upstream never
answers. The project runs in its own process (the ``app`` fixture); its httpx
requests come back here, where respx fakes the upstream API: no network.
"""

import time

import httpx
import pytest

from grader.messages.feedback import expect

SECTIONS_HINT = (
    "posts and todos are optional: when one fails, answer 200 with that section null and "
    "errors[section] a short reason; only a users failure changes the status"
)


USERS_HINT = (
    "without the user there is no dashboard: any users failure other than a 404 "
    "(non-2xx status, timeout, transport error, a body that is not JSON) answers 502"
)


def dashboard_url(user_id: int) -> str:
    return f"/api/users/{user_id}/dashboard/"


@pytest.mark.points(2)
def test_merged_answer_for_other_users(app, upstream, read_json, show_dashboard, explain_dashboard):
    scenarios = [
        # (user id, post ids in upstream order, todos completed flags, expected posts/todos)
        (7, [41, 45, 43, 44, 42], [False, True, False], ["post 45", "post 44", "post 43"], 1),
        (12, [67, 61], [], ["post 67", "post 61"], 0),
        (3, [], [True, True], [], 2),
    ]
    for user_id, post_ids, completed, latest, done in scenarios:
        upstream.use_defaults(user_id, post_ids=post_ids, completed=completed)
        response = app.get(dashboard_url(user_id))
        expected = {
            "user": {
                "id": user_id,
                "name": f"User Number{user_id}",
                "email": f"user{user_id}@example.org",
            },
            "posts": {"count": len(post_ids), "latest": latest},
            "todos": {"total": len(completed), "completed": done},
            "errors": {},
        }
        body = read_json(response)
        expect(
            response.status_code == 200 and body == expected,
            expected="the merged JSON for any user id, with fewer than three posts "
            "(latest = all of them, highest id first), no posts at all (count 0, latest []), "
            "posts not sorted by the upstream, and no todos",
            got=f"for a user with {len(post_ids)} post(s) and {len(completed)} todo(s): "
            f"{show_dashboard(response, expected)}",
            hint=explain_dashboard(body, expected)
            if response.status_code == 200
            else "use the user id from the URL for all three calls",
        )


@pytest.mark.points(1.5)
def test_calls_the_configured_api(app, make_upstream, describe):
    configured = "https://upstream.grading.test/v2"
    app.settings(UPSTREAM_API_URL=configured)
    with make_upstream(configured) as upstream:
        upstream.use_defaults(5)
        response = app.get(dashboard_url(5))
        calls = {section: upstream.calls[section] for section in ("users", "posts", "todos")}
    urls = [
        str(request.url).replace(configured, "{UPSTREAM_API_URL}")
        for requests in calls.values()
        for request in requests
    ]
    expect(
        response.status_code == 200 and all(len(requests) == 1 for requests in calls.values()),
        expected="one request to each of users, posts and todos under settings.UPSTREAM_API_URL",
        got=f"{describe(response)}; requests: {urls}",
        hint="build every URL from settings.UPSTREAM_API_URL (read it when the request comes "
        "in, never hard-code jsonplaceholder's address)",
    )
    params = {section: dict(calls[section][0].url.params) for section in ("posts", "todos")}
    expect(
        str(calls["users"][0].url.path).rstrip("/").endswith("/users/5")
        and params == {"posts": {"userId": "5"}, "todos": {"userId": "5"}},
        expected="GET {UPSTREAM_API_URL}/users/<id>, /posts?userId=<id> and /todos?userId=<id>",
        got=f"requests: {urls}",
        hint="filter posts and todos with the query parameter userId",
    )


@pytest.mark.points(1)
@pytest.mark.in_app_evidence  # which client made each request: the app says
def test_one_client_with_the_configured_timeout(app, upstream, describe):
    app.settings(UPSTREAM_TIMEOUT=1.7)
    response = app.get(dashboard_url(1))
    requests = upstream.requests
    clients = {request.extensions.get("grader_client") for request in requests}
    timeouts = [(request.extensions.get("timeout") or {}).get("read") for request in requests]
    expect(
        response.status_code == 200 and len(requests) == 3 and len(clients) == 1,
        expected="one httpx.AsyncClient per request, shared by the three calls",
        got=f"{describe(response)}; {len(requests)} upstream request(s) made by "
        f"{len(clients)} AsyncClient(s)",
        hint="open one `async with httpx.AsyncClient(...) as client:` and make the three "
        "calls on it (one connection pool, one configuration)",
    )
    expect(
        len(timeouts) == 3 and all(timeout == 1.7 for timeout in timeouts),
        expected="every upstream request uses timeout=settings.UPSTREAM_TIMEOUT",
        got=f"read timeouts seen by the upstream: {timeouts}",
        hint="httpx.AsyncClient(timeout=settings.UPSTREAM_TIMEOUT); httpx's own default is 5 s",
    )


@pytest.mark.points(2)
def test_unknown_user_is_404(app, upstream, read_json, describe):
    upstream.set("users", status=404, json={})
    response = app.get(dashboard_url(404000))
    expect(
        response.status_code == 404 and read_json(response) == {"error": "user not found"},
        expected='404 with exactly {"error": "user not found"} when the users API answers 404',
        got=describe(response),
        hint="check the users response's status code before reading its body",
    )


USERS_FAILURES = {
    "server_error": dict(status=500, json={"message": "boom"}),
    "transport_error": dict(error=httpx.ConnectError),
    "body_not_json": dict(content=b"<html>Bad gateway</html>"),
    "timeout": dict(hang=True),
}


@pytest.mark.points(0.5)
@pytest.mark.parametrize("failure", list(USERS_FAILURES))
def test_users_failure_is_502(failure, app, upstream, read_json, describe):
    app.settings(UPSTREAM_TIMEOUT=0.2)
    upstream.set("users", **USERS_FAILURES[failure])
    response = app.get(dashboard_url(2))
    body = read_json(response)
    what = failure.replace("_", " ")
    expect(
        response.status_code == 502
        and isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and body["error"].strip(),
        expected=f'502 with {{"error": "<a reason>"}} when the users API fails ({what})',
        got=describe(response),
        hint=USERS_HINT,
    )


SECTION_FAILURES = {
    "server_error": dict(status=503, json={"message": "unavailable"}),
    "transport_error": dict(error=httpx.ConnectError),
    "body_not_json": dict(content=b"not json at all"),
    "body_not_a_list": dict(json={"id": 1, "title": "one object, not a list"}),
}


@pytest.mark.points(0.25)
@pytest.mark.parametrize("section", ["posts", "todos"])
@pytest.mark.parametrize("failure", list(SECTION_FAILURES))
def test_failed_section_becomes_null(
    failure, section, app, upstream, read_json, describe, show_dashboard, explain_dashboard
):
    upstream.use_defaults(4, post_ids=[1, 2, 3, 4], completed=[True, False])
    upstream.set(section, **SECTION_FAILURES[failure])
    response = app.get(dashboard_url(4))
    body = read_json(response)
    what = failure.replace("_", " ")
    expect(
        response.status_code == 200 and isinstance(body, dict),
        expected=f"200 even when the {section} API fails ({what})",
        got=describe(response),
        hint=SECTIONS_HINT,
    )
    other = "todos" if section == "posts" else "posts"
    other_value = (
        {"total": 2, "completed": 1}
        if other == "todos"
        else {"count": 4, "latest": ["post 4", "post 3", "post 2"]}
    )
    errors = body.get("errors")
    expect(
        body.get(section, "missing") is None
        and isinstance(errors, dict)
        and isinstance(errors.get(section), str)
        and errors[section].strip()
        and other not in errors,
        expected=f'"{section}": null and errors["{section}"] a non-empty reason when the '
        f"{section} API fails ({what}); no error for {other}",
        got=describe(response),
        hint=SECTIONS_HINT + "; a JSON body that is not a list is a failure too",
    )
    user = {"id": 4, "name": "User Number4", "email": "user4@example.org"}
    expect(
        body.get(other) == other_value and body.get("user") == user,
        expected=f"user and {other} are still filled in, and right, when only {section} fails",
        got=show_dashboard(response, {"user": user, other: other_value}),
        hint="handle each call's failure on its own (asyncio.gather(..., "
        "return_exceptions=True) or a try/except around each call)"
        if body.get(other) is None or body.get("user") is None
        else explain_dashboard(
            {key: body.get(key) for key in ("user", other)}, {"user": user, other: other_value}
        ),
    )


@pytest.mark.points(1)
@pytest.mark.parametrize("section", ["posts", "todos"])
def test_timeout_is_reported_as_timeout(section, app, upstream, read_json, describe):
    app.settings(UPSTREAM_TIMEOUT=0.2)
    upstream.set(section, hang=True)
    response = app.get(dashboard_url(1))
    body = read_json(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    expect(
        response.status_code == 200
        and isinstance(errors, dict)
        and body.get(section, "missing") is None
        and isinstance(errors, dict)
        and errors.get(section) == "timeout",
        expected=f'200, "{section}": null and errors["{section}"] exactly "timeout" when the '
        f"{section} API does not answer within UPSTREAM_TIMEOUT",
        got=describe(response),
        hint="catch httpx.TimeoutException (and asyncio's TimeoutError if you use "
        'asyncio.timeout/wait_for) and report "timeout"'
        if response.status_code == 200
        else SECTIONS_HINT,
    )


@pytest.mark.points(1)
@pytest.mark.parametrize("section", ["users", "todos"])
def test_answers_in_time_when_an_upstream_never_answers(section, app, upstream, describe):
    app.settings(UPSTREAM_TIMEOUT=0.2)
    upstream.set(section, hang=True)
    started = time.perf_counter()
    response = app.get(dashboard_url(1))
    elapsed = time.perf_counter() - started
    expected_status = 502 if section == "users" else 200
    expect(
        response.status_code == expected_status,
        expected=f"{expected_status} when the {section} API never answers",
        got=describe(response),
        hint=USERS_HINT if section == "users" else SECTIONS_HINT,
    )
    expect(
        elapsed < 0.2 + 0.5 + 2.0,
        expected="an answer within UPSTREAM_TIMEOUT + 0.5 s even when an upstream never answers",
        got=f"the answer took {elapsed:.2f} s with UPSTREAM_TIMEOUT set to 0.2 s",
        hint="give the AsyncClient timeout=settings.UPSTREAM_TIMEOUT (read at request time); "
        "httpx's default is 5 s",
    )


@pytest.mark.points(3)
def test_calls_overlap_for_any_user_even_when_one_fails(app, upstream, describe):
    upstream.use_defaults(9)
    upstream.window = 1.0
    upstream.set("todos", status=500, json={})
    response = app.get(dashboard_url(9))
    expect(
        response.status_code == 200,
        expected="200 when only the todos API fails",
        got=describe(response),
        hint=SECTIONS_HINT,
    )
    expect(
        upstream.total_calls == 3 and upstream.max_in_flight == 3,
        expected="the three upstream requests are all in flight at the same time",
        got=f"{upstream.total_calls} request(s) made, at most {upstream.max_in_flight} "
        "open at the same time",
        hint="start all three before awaiting any (asyncio.gather or asyncio.TaskGroup), "
        "and do not wait for the user before asking for posts and todos",
        trap="sequential_awaits",
        where=upstream.awaited_one_by_one,
    )
