"""PUBLIC self-check tests, part 3 (orm_threadpool): ``GET, POST /api/tasks/``.

These public tests are a subset of what grading checks: listing, creating, 405
for other methods, and the key behaviour (the event loop keeps running while a
query is slow, because the ORM runs in the thread pool). Grading runs more (hidden) tests: filters,
validation, ordering, the number of queries and more; see INSTRUCTIONS.md,
part 3.

Your project runs in a process of its own (the ``app`` fixture) and shares the
database with the tests: the tests write their rows with the models and commit
them (``transaction=True``), then call your view over HTTP and read the
database back.
"""

import datetime
import json

import pytest

from grader.messages.feedback import expect

PROBES = "grader.appside.probes"  # adds /__probe__/async/, a view that makes no query


def make_task(title, minutes_ago, done=False):
    from django.utils import timezone
    from homework.models import Task

    return Task.objects.create(
        title=title,
        done=done,
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )


@pytest.mark.points(3)
@pytest.mark.django_db(transaction=True)
def test_get_lists_tasks_newest_first(app, read_json, describe):
    old = make_task("oldest", 30)
    new = make_task("newest", 1, done=True)
    mid = make_task("middle", 10)
    response = app.get("/api/tasks/", via="wsgi")
    body = read_json(response)
    expect(
        response.status_code == 200 and isinstance(body, dict),
        expected="GET /api/tasks/ answers 200 with a JSON object",
        got=describe(response),
        hint="run the query with sync_to_async (or the async ORM) and return a JsonResponse",
    )
    tasks = body.get("tasks")
    ids = [task.get("id") for task in tasks] if isinstance(tasks, list) else tasks
    expect(
        body.get("count") == 3 and ids == [new.id, mid.id, old.id],
        expected='{"count": 3, "tasks": [...]} with the newest created_at first',
        got=f"count {body.get('count')!r}, task ids in order {ids!r} "
        f"(newest is {new.id}, oldest {old.id})",
        hint="order_by('-created_at', '-id')",
    )
    first = tasks[0]
    created_at = first.get("created_at")
    try:
        instant = datetime.datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        instant = None
    expect(
        set(first) == {"id", "title", "done", "created_at"}
        and first["title"] == "newest"
        and first["done"] is True
        and instant is not None
        and instant.utcoffset() is not None
        and abs(instant - new.created_at) < datetime.timedelta(milliseconds=1),
        expected='each task as {"id", "title", "done", "created_at"} with created_at in '
        "ISO 8601 with its offset",
        got=f"first task: {json.dumps(first)[:300]}",
        hint="created_at.isoformat() on an aware datetime gives e.g. 2025-01-31T08:00:00+00:00",
    )


@pytest.mark.points(2)
@pytest.mark.django_db(transaction=True)
def test_post_creates_a_task(app, read_json, describe):
    from homework.models import Task

    response = app.post("/api/tasks/", {"title": "Buy milk"}, via="wsgi")
    body = read_json(response)
    saved = list(Task.objects.values_list("id", "title", "done"))
    expect(
        response.status_code == 201
        and isinstance(body, dict)
        and body.get("title") == "Buy milk"
        and body.get("done") is False
        and len(saved) == 1
        and body.get("id") == saved[0][0],
        expected='POST {"title": "Buy milk"} answers 201 with the new task\'s JSON and saves it',
        got=f"{describe(response)}; tasks in the database: {saved}",
        hint="json.loads(request.body), then `await sync_to_async(Task.objects.create)(...)` "
        "or `await Task.objects.acreate(...)`",
    )


@pytest.mark.points(3)
@pytest.mark.in_app_evidence
@pytest.mark.django_db(transaction=True)
def test_slow_query_does_not_block_the_event_loop(app, describe):
    make_task("a task", 5)
    app.settings(ROOT_URLCONF=PROBES)
    app.get("/api/tasks/")  # the first request imports your view: not part of what is measured
    # Every query from now on takes 0.6 s; the app reports the threads the queries ran
    # on and the longest time its event loop stood still.
    with app.watch(heartbeat=0.005, queries=0.6, site="homework.db_views") as loop:
        slow = app.submit("GET", "/api/tasks/")
        loop_was_free = app.answered_while(slow)
        response = slow.result()
    expect(
        response.status_code == 200,
        expected="GET /api/tasks/ answers 200 while the database is slow",
        got=describe(response),
        hint="a SynchronousOnlyOperation error means the ORM ran on the event loop: wrap the "
        "whole query, including list(...), in sync_to_async",
    )
    expect(
        loop.query_count >= 1 and loop.loop_thread not in loop.query_threads,
        expected="the query runs in a worker thread, not on the event loop's thread",
        got=f"{loop.query_count} quer(y/ies), run on the event loop's thread: "
        f"{loop.loop_thread in loop.query_threads}",
        hint="await sync_to_async(function_that_queries)() or use the async ORM (async for, "
        "acount, acreate)",
        trap="orm_on_loop",
        where=", ".join(loop.queries_on_loop),
    )
    expect(
        loop.max_gap < 0.3 and loop_was_free,
        expected="the event loop keeps running while a query takes 0.6 s: another request "
        "is answered before the slow one",
        got=f"the event loop was frozen for {loop.max_gap:.2f} s at a time; another request "
        f"was answered {'before' if loop_was_free else 'only after'} the slow one",
        hint="never call the ORM directly from async code (not even with "
        "DJANGO_ALLOW_ASYNC_UNSAFE): move it to the thread pool",
    )


@pytest.mark.points(1)
@pytest.mark.django_db(transaction=True)
def test_other_methods_answer_405(app, describe):
    from homework.models import Task

    for method in ("PUT", "PATCH", "DELETE"):
        response = app.request(
            method,
            "/api/tasks/",
            data=json.dumps({"title": "x"}).encode(),
            content_type="application/json",
            via="wsgi",
        )
        expect(
            response.status_code == 405 and Task.objects.count() == 0,
            expected=f"{method} /api/tasks/ answers 405 and changes nothing",
            got=describe(response),
            hint="only GET and POST are allowed",
        )
