"""Hidden grading tests, part 3 (orm_threadpool): ``GET, POST /api/tasks/``.

Covers the contract beyond the public tests: the done filter and its 400,
ordering ties, ISO 8601 with any offset, at most two queries whatever the
number of tasks, validation of POST bodies (nothing saved on a 400), and
every query (POST too) running off the event loop.
"""

import datetime
import json
import re

import pytest

from grader.messages.feedback import expect
from grader.messages.hints import defines_async

PROBES = "grader.appside.probes"  # adds /__probe__/async/, a view that makes no query


def make_task(title, created_at=None, done=False):
    from django.utils import timezone
    from homework.models import Task

    return Task.objects.create(
        title=title,
        done=done,
        created_at=created_at or timezone.now(),
        completed_at=timezone.now() if done else None,
    )


def listed_ids(body):
    tasks = body.get("tasks") if isinstance(body, dict) else None
    if not isinstance(tasks, list):
        return None
    return [task.get("id") if isinstance(task, dict) else task for task in tasks]


@pytest.mark.points(2)
@pytest.mark.django_db(transaction=True)
def test_done_filter(app, read_json, describe):
    base = datetime.datetime(2025, 5, 1, 12, 0, tzinfo=datetime.UTC)
    tasks = [
        make_task(f"task {index}", base + datetime.timedelta(hours=index), done=index % 3 == 0)
        for index in range(7)
    ]
    for value, wanted in (("true", True), ("false", False)):
        response = app.get("/api/tasks/", {"done": value}, via="wsgi")
        body = read_json(response)
        expected_ids = [task.id for task in reversed(tasks) if task.done is wanted]
        expect(
            response.status_code == 200
            and listed_ids(body) == expected_ids
            and body.get("count") == len(expected_ids),
            expected=f"?done={value} lists only the tasks whose done is {wanted}, newest first, "
            "and count is their number",
            got=f"{describe(response)}",
            hint="filter(done=True) for 'true' and filter(done=False) for 'false', inside the "
            "same query",
        )


@pytest.mark.points(1.5)
@pytest.mark.django_db(transaction=True)
def test_other_done_values_are_400(app, read_json, describe):
    make_task("one")
    for value in ("True", "1", "yes", ""):
        response = app.get("/api/tasks/", {"done": value}, via="wsgi")
        body = read_json(response)
        expect(
            response.status_code == 400
            and isinstance(body, dict)
            and isinstance(body.get("error"), str),
            expected='400 with {"error": "..."} for a done value other than exactly true/false '
            "(upper case, numbers, words, empty)",
            got=f"for a value of length {len(value)}: {describe(response)}",
            hint="compare request.GET['done'] with the two allowed strings; reject anything else",
        )


@pytest.mark.points(2)
@pytest.mark.django_db(transaction=True)
def test_ties_and_offsets(app, read_json, describe):
    same = datetime.datetime(2025, 3, 1, 9, 30, 15, 123000, tzinfo=datetime.UTC)
    first = make_task("first of a tie", same)
    second = make_task("second of a tie", same)
    older = make_task("older", same - datetime.timedelta(days=400))
    response = app.get("/api/tasks/", via="wsgi")
    body = read_json(response)
    expect(
        response.status_code == 200 and listed_ids(body) == [second.id, first.id, older.id],
        expected="tasks with the same created_at are listed with the higher id first",
        got=f"task ids in order {listed_ids(body)}: the two with the same created_at are "
        f"{first.id} and {second.id}"
        if response.status_code == 200
        else describe(response),
        hint="order_by('-created_at', '-id')",
    )
    by_id = {task["id"]: task for task in body["tasks"]}
    for task in (first, older):
        shown = by_id[task.id].get("created_at")
        try:
            instant = datetime.datetime.fromisoformat(shown)
        except (TypeError, ValueError):
            instant = None
        expect(
            instant is not None
            and instant.utcoffset() is not None
            and abs(instant - task.created_at) < datetime.timedelta(milliseconds=1),
            expected="created_at is ISO 8601 with an offset and names the stored instant to the "
            "millisecond",
            got=f"created_at shown as {re.sub(r'[0-9]', '9', str(shown))!r} (digits masked)",
            hint="use the aware datetime's .isoformat() (any offset is fine); do not drop the "
            "offset or the milliseconds",
        )


@pytest.mark.points(2.5)
@pytest.mark.in_app_evidence
@pytest.mark.django_db(transaction=True)
def test_at_most_two_queries(app, read_json, describe):
    base = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
    for index in range(25):
        make_task(f"bulk {index}", base + datetime.timedelta(minutes=index), done=index % 2 == 0)
    for params in ({}, {"done": "true"}):
        with app.watch(queries=0, site="homework.db_views") as queries:  # the app counts them
            response = app.get("/api/tasks/", params, via="wsgi")
        body = read_json(response)
        expect(
            response.status_code == 200 and isinstance(body, dict) and body.get("count"),
            expected="GET /api/tasks/ answers 200 with many tasks",
            got=describe(response),
            hint="see the public tests of this part",
        )
        expect(
            queries.query_count <= 2,
            expected="at most 2 SQL queries to list the tasks, however many there are",
            got=f"{queries.query_count} queries for {body.get('count')} tasks",
            hint="one query for the list (count is len() of it, or one COUNT); never one query "
            "per task",
        )


@pytest.mark.points(1)
@pytest.mark.in_app_evidence
@pytest.mark.django_db(transaction=True)
def test_tasks_is_an_async_def(app, describe):
    response = app.get("/api/tasks/", via="wsgi")
    expect(
        response.status_code == 200,
        expected="GET /api/tasks/ answers 200",
        got=describe(response),
        hint="see the public tests of this part",
    )

    view = app.fact("coroutine_function", target="homework.db_views.tasks")
    view = view if isinstance(view, dict) else {}
    expect(
        # The app's word, and the grader's own reading of the source (never imported).
        view.get("is_coroutine_function") is True
        and defines_async("homework.db_views", "tasks") is not False,
        expected="homework.db_views.tasks is a coroutine function (`async def tasks(request)`)",
        got=f"{view.get('repr')}",
        hint="the exercise is ORM work moved to the thread pool from an async view: declare "
        "it `async def` and run the queries through sync_to_async (Django runs a plain def "
        "view in a thread for you, which is not what this part teaches)",
    )


@pytest.mark.points(2)
@pytest.mark.in_app_evidence
@pytest.mark.django_db(transaction=True)
def test_every_query_runs_off_the_event_loop(app, describe):
    from homework.models import Task

    make_task("existing")
    app.settings(ROOT_URLCONF=PROBES)
    app.get("/api/tasks/")  # imports the view: not part of what is measured
    # Every query from now on takes 0.6 s; the app reports the threads the queries ran
    # on and the longest time its event loop stood still.
    with app.watch(heartbeat=0.005, queries=0.6, site="homework.db_views") as loop:
        posting = app.submit("POST", "/api/tasks/", data={"title": "while slow"})
        loop_was_free = app.answered_while(posting)
        created = posting.result()
        listed = app.get("/api/tasks/", {"done": "false"})
    expect(
        created.status_code == 201 and listed.status_code == 200,
        expected="POST answers 201 and GET ?done=false answers 200 while the database is slow",
        got=f"POST: {describe(created)}; GET: {describe(listed)}",
        hint="a SynchronousOnlyOperation error means the ORM ran on the event loop",
    )
    expect(
        loop.query_count >= 2 and loop.loop_thread not in loop.query_threads,
        expected="every query (the insert too) runs in a worker thread, not on the event loop",
        got=f"{loop.query_count} queries; some ran on the event loop's thread: "
        f"{loop.loop_thread in loop.query_threads}",
        hint="await sync_to_async(Task.objects.create)(...) or await Task.objects.acreate(...)",
        trap="orm_on_loop",
        where=", ".join(loop.queries_on_loop),
    )
    expect(
        loop.max_gap < 0.3 and loop_was_free,
        expected="the event loop keeps running during slow queries (POST and GET): another "
        "request is answered while the POST's insert is under way",
        got=f"the event loop was frozen for {loop.max_gap:.2f} s at a time; another request "
        f"was answered {'before' if loop_was_free else 'only after'} the POST",
        hint="never call the ORM directly from async code, not even with DJANGO_ALLOW_ASYNC_UNSAFE",
    )
    expect(
        Task.objects.filter(title="while slow").count() == 1,
        expected="the POSTed task is saved",
        got="it is not in the database",
        hint="create it with sync_to_async(Task.objects.create) or Task.objects.acreate",
    )


@pytest.mark.points(1.5)
@pytest.mark.django_db(transaction=True)
def test_post_strips_and_accepts_255_characters(app, read_json, describe):
    from homework.models import Task

    for raw, stored in (
        ("  \tWater the plants \n", "Water the plants"),
        (" " + "x" * 255 + " ", "x" * 255),
    ):
        response = app.post("/api/tasks/", {"title": raw}, via="wsgi")
        body = read_json(response)
        saved = Task.objects.filter(title=stored).first()
        expect(
            response.status_code == 201
            and isinstance(body, dict)
            and body.get("title") == stored
            and saved is not None
            and body.get("id") == saved.id
            and set(body) == {"id", "title", "done", "created_at"},
            expected="POST stores the title stripped of surrounding spaces (1 to 255 "
            "characters after stripping) and answers 201 with the task's JSON",
            got=f"for a title of {len(stored)} character(s) after stripping: {describe(response)}",
            hint="title.strip() before checking the length and saving",
        )


BAD_BODIES = {
    "not_json": b"title=Buy milk",
    "json_list": json.dumps(["Buy milk"]).encode(),
    "json_string": json.dumps("Buy milk").encode(),
    "title_missing": json.dumps({"name": "Buy milk"}).encode(),
    "title_not_a_string": json.dumps({"title": 42}).encode(),
    "title_blank": json.dumps({"title": " \t "}).encode(),
    "title_too_long": json.dumps({"title": "y" * 256}).encode(),
}


@pytest.mark.points(0.5)
@pytest.mark.parametrize("case", list(BAD_BODIES))
@pytest.mark.django_db(transaction=True)
def test_bad_post_body_is_400_and_saves_nothing(case, app, read_json, describe):
    from homework.models import Task

    make_task("already there")
    response = app.post(
        "/api/tasks/", BAD_BODIES[case], content_type="application/json", via="wsgi"
    )
    body = read_json(response)
    what = case.replace("_", " ")
    expect(
        response.status_code == 400
        and isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and Task.objects.count() == 1,
        expected=f'400 with {{"error": "..."}} and nothing saved for a body with {what}',
        got=f"{describe(response)}; tasks in the database: {Task.objects.count()} (1 before)",
        hint="validate before saving: valid JSON, an object, a string title, 1-255 "
        "characters after strip()",
    )
