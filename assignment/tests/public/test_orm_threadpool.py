"""PUBLIC self-check tests, part 3 (orm_threadpool): ``GET, POST /api/tasks/``.

These public tests are a subset of what grading checks: listing, creating, 405
for other methods, and the key behaviour (the event loop keeps running while a
query is slow, because the ORM runs in the thread pool). Grading runs more (hidden) tests: filters,
validation, ordering, the number of queries and more; see INSTRUCTIONS.md,
part 3.

The tests commit their rows (``transaction=True``): the view's queries run on
other threads, with connections of their own, and must see them.
"""

import datetime
import json

import pytest
from asgiref.sync import async_to_sync

from grader.feedback import expect


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
def test_get_lists_tasks_newest_first(client, read_json, describe):
    old = make_task("oldest", 30)
    new = make_task("newest", 1, done=True)
    mid = make_task("middle", 10)
    response = client.get("/api/tasks/")
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
def test_post_creates_a_task(client, read_json, describe):
    from homework.models import Task

    response = client.post("/api/tasks/", {"title": "Buy milk"}, content_type="application/json")
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
@pytest.mark.django_db(transaction=True)
def test_slow_query_does_not_block_the_event_loop(async_client, heartbeat, slow_queries, describe):
    make_task("a task", 5)
    queries = slow_queries(0.6)

    async def scenario():
        async with heartbeat() as beat:
            response = await async_client.get("/api/tasks/")
        return beat, response

    beat, response = async_to_sync(scenario)()
    expect(
        response.status_code == 200,
        expected="GET /api/tasks/ answers 200 while the database is slow",
        got=describe(response),
        hint="a SynchronousOnlyOperation error means the ORM ran on the event loop: wrap the "
        "whole query, including list(...), in sync_to_async",
    )
    expect(
        queries.count >= 1 and beat.loop_thread not in queries.threads,
        expected="the query runs in a worker thread, not on the event loop's thread",
        got=f"{queries.count} quer(y/ies), run on the event loop's thread: "
        f"{beat.loop_thread in queries.threads}",
        hint="await sync_to_async(function_that_queries)() or use the async ORM (async for, "
        "acount, acreate)",
        trap="orm_on_loop",
        where=queries.run_on(beat.loop_thread),
    )
    expect(
        beat.max_gap < 0.3,
        expected="the event loop keeps running while a query takes 0.6 s",
        got=f"the event loop was frozen for {beat.max_gap:.2f} s at a time",
        hint="never call the ORM directly from async code (not even with "
        "DJANGO_ALLOW_ASYNC_UNSAFE): move it to the thread pool",
    )


@pytest.mark.points(1)
@pytest.mark.django_db(transaction=True)
def test_other_methods_answer_405(client, describe):
    from homework.models import Task

    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(
            "/api/tasks/", json.dumps({"title": "x"}), content_type="application/json"
        )
        expect(
            response.status_code == 405 and Task.objects.count() == 0,
            expected=f"{method.upper()} /api/tasks/ answers 405 and changes nothing",
            got=describe(response),
            hint="only GET and POST are allowed",
        )
