"""Hidden grading tests, part 4 (daily_stats): the Celery task and its schedule.

Covers the contract beyond the public tests: exact local-day boundaries,
completed counted by completed_at, the default day (yesterday in the project's
zone, under a frozen clock), a 23-hour DST day in another zone, re-runs that
update the row, a JSON-serializable result, ValueError for bad days, the task's
registered name through the given API view, and the beat entry being due at
00:05 and not at 00:04.
"""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest

from grader.messages.feedback import expect

from ..helpers import returned

TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = ZoneInfo("America/New_York")
TASK_NAME = "homework.tasks.compute_daily_stats"


def local(year, month, day, hour=0, minute=0, second=0, micro=0, zone=TAIPEI):
    return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)


def add_task(created_at, completed_at=None):
    from homework.models import Task

    return Task.objects.create(
        title="t", created_at=created_at, completed_at=completed_at, done=completed_at is not None
    )


def counts(result):
    """``created=2, completed=1`` for a message, or what the task returned instead."""
    if isinstance(result, dict) and {"created", "completed"} <= set(result):
        text = f"created={result['created']!r}, completed={result['completed']!r}"
        if not isinstance(result.get("date"), str):
            kind = "a date object, " if isinstance(result.get("date"), datetime.date) else ""
            text += f", and its date is {kind}not a string"
        return text
    return f"{result!r}"[:200]


def fitting(result, hint, expected):
    """``hint`` for wrong counts, the date hint for a date that is not a string, or both."""
    if not isinstance(result, dict) or isinstance(result.get("date"), str):
        return hint
    right = all(result.get(key) == expected[key] for key in ("created", "completed"))
    return DATE_HINT if right else f"{hint}; and {DATE_HINT}"


DATE_HINT = 'return the date as a "YYYY-MM-DD" string: day.isoformat(), not the date object'


def call(app, *day, delay=False):
    """Call the task in the app (as a function, or through .delay().get()): its outcome."""
    return app.task(TASK_NAME, *day, delay=delay)


def run(app, *day, delay=False):
    """``compute_daily_stats(*day)`` in the app: what it returned."""
    return returned(call(app, *day, delay=delay))


@pytest.mark.points(2)
@pytest.mark.django_db(transaction=True)
def test_window_is_the_local_calendar_day(app):
    inside = [
        local(2025, 2, 1),  # local midnight
        local(2025, 2, 1, 7, 30),  # still January 31 in UTC
        local(2025, 2, 1, 23, 59, 59, 999000),
    ]
    outside = [local(2025, 1, 31, 23, 59, 59, 999000), local(2025, 2, 2), local(2025, 2, 2, 5)]
    for moment in inside + outside:
        add_task(moment)
    for moment in inside[:2] + outside[:2]:
        add_task(local(2025, 1, 20), completed_at=moment)
    result = run(app, "2025-02-01")
    expect(
        isinstance(result, dict) and result.get("created") == 3 and result.get("completed") == 2,
        expected="created=3, completed=2: only what falls between local midnight and the "
        "next local midnight in settings.TIME_ZONE (midnight itself included, the next "
        "midnight excluded)",
        got=counts(result),
        hint=(
            "the window is local: build it with datetime.combine(day, time.min, "
            "tzinfo=ZoneInfo(settings.TIME_ZONE)), not in UTC; use >= start and < end"
            if not isinstance(result, dict) or result.get("created") != 3
            else "completed counts the tasks whose completed_at falls in the window, whatever "
            "done says and whenever they were created"
        ),
    )


@pytest.mark.points(1.5)
@pytest.mark.django_db(transaction=True)
def test_completed_is_counted_by_completed_at(app):
    add_task(local(2025, 4, 1, 9), completed_at=local(2025, 4, 3, 9))
    add_task(local(2025, 4, 2, 9), completed_at=local(2025, 4, 3, 23))
    add_task(local(2025, 4, 3, 9), completed_at=local(2025, 4, 4, 1))
    add_task(local(2025, 4, 3, 10))
    result = run(app, "2025-04-03")
    expect(
        result == {"date": "2025-04-03", "created": 2, "completed": 2},
        expected="created=2, completed=2: completed counts tasks whose completed_at falls in "
        "the day, whenever they were created; created counts by created_at",
        got=counts(result),
        hint=fitting(
            result,
            "two separate counts: one on created_at, one on completed_at",
            {"created": 2, "completed": 2},
        ),
    )


def which_day(result, today=datetime.date(2025, 3, 10)):
    """The day a result names, relative to the frozen local today (never the date itself)."""
    try:
        day = datetime.date.fromisoformat(str(result.get("date")))
    except (AttributeError, TypeError, ValueError):
        return "a day it did not return as YYYY-MM-DD"
    names = {1: "yesterday (local)", 0: "today (local)", 2: "the day before yesterday (local)"}
    return names.get((today - day).days, f"a day {(today - day).days} days before today")


@pytest.mark.points(2.5)
@pytest.mark.django_db(transaction=True)
def test_default_day_is_yesterday_in_the_project_zone(app):
    from homework.models import DailyStats

    add_task(local(2025, 3, 9, 12))
    add_task(local(2025, 3, 9, 23), completed_at=local(2025, 3, 9, 23, 30))
    add_task(local(2025, 3, 8, 12))
    # 00:30 in Taipei is still the previous day in UTC (and on a UTC server).
    with app.frozen(local(2025, 3, 10, 0, 30).isoformat()):
        result = run(app)
        queued = run(app, delay=True)
    expected = {"date": "2025-03-09", "created": 2, "completed": 1}
    expect(
        result == expected and queued == expected,
        expected="without a day, the task summarizes yesterday in settings.TIME_ZONE, "
        "whatever the server's own time zone: created=2, completed=1 for that day",
        got=f"called just after local midnight, it summarized {which_day(result)}: "
        f"{counts(result)}",
        hint=fitting(
            result,
            "yesterday = django.utils.timezone.localdate() - timedelta(days=1)",
            {"created": 2, "completed": 1},
        ),
        trap="date_today"
        if isinstance(result, dict) and result.get("date") != "2025-03-09"
        else None,
        module="homework.tasks",
    )
    expect(
        DailyStats.objects.filter(date=datetime.date(2025, 3, 9)).count() == 1,
        expected="the DailyStats row of yesterday is saved",
        got=f"{DailyStats.objects.count()} row(s), none for yesterday",
        hint="save the row under the date you computed",
    )


@pytest.mark.points(2)
@pytest.mark.django_db(transaction=True)
def test_a_23_hour_dst_day_in_another_zone(app):
    app.settings(TIME_ZONE="America/New_York")
    # 2025-03-09 in New York lasts 23 hours (clocks jump from 02:00 to 03:00).
    inside = [local(2025, 3, 9, 0, 0, zone=NEW_YORK), local(2025, 3, 9, 23, 30, zone=NEW_YORK)]
    outside = [local(2025, 3, 8, 23, 30, zone=NEW_YORK), local(2025, 3, 10, 0, 30, zone=NEW_YORK)]
    for moment in inside + outside:
        add_task(moment)
    result = run(app, "2025-03-09")
    expect(
        result == {"date": "2025-03-09", "created": 2, "completed": 0},
        expected="created=2, completed=0: on a 23-hour daylight-saving day the window is still "
        "local midnight to local midnight (in whatever settings.TIME_ZONE is)",
        got=counts(result),
        hint=fitting(
            result,
            "read settings.TIME_ZONE when the task runs; build both ends with "
            "datetime.combine(day, time.min, tzinfo=zone) instead of adding 24 hours",
            {"created": 2, "completed": 0},
        ),
    )


@pytest.mark.points(2)
@pytest.mark.django_db(transaction=True)
def test_rerun_updates_the_row(app):
    from homework.models import DailyStats

    DailyStats.objects.create(date=datetime.date(2025, 5, 19), created=7, completed=7)
    add_task(local(2025, 5, 20, 8))
    first = run(app, "2025-05-20")
    add_task(local(2025, 5, 20, 9), completed_at=local(2025, 5, 20, 10))
    second = run(app, "2025-05-20")
    rows = list(DailyStats.objects.order_by("date").values_list("date", "created", "completed"))
    expect(
        isinstance(first, dict)
        and second == {"date": "2025-05-20", "created": 2, "completed": 1}
        and rows == [(datetime.date(2025, 5, 19), 7, 7), (datetime.date(2025, 5, 20), 2, 1)],
        expected="running the task again for a day updates that day's row (one row per date) "
        "and leaves other days alone",
        got=f"second run returned {counts(second)} (expected created=2, completed=1); "
        f"{len(rows)} row(s) (expected 2: the day and an older one left as it was)",
        hint=fitting(
            second,
            "DailyStats.objects.update_or_create(date=day, defaults={...})",
            {"created": 2, "completed": 1},
        ),
    )
    run(app, "2025-05-20")
    expect(
        DailyStats.objects.count() == 2,
        expected="a third run still leaves one row for the day",
        got=f"{DailyStats.objects.count()} rows",
        hint="update_or_create, not create",
    )


@pytest.mark.points(0.5)
@pytest.mark.django_db(transaction=True)
def test_result_is_json_serializable(app):
    result = run(app, "2025-06-01")
    try:
        text = json.dumps(result)
    except (TypeError, ValueError) as exc:
        text = f"not serializable: {exc}"
        decoded = None
    else:
        decoded = json.loads(text)
    expect(
        isinstance(result, dict)
        and decoded == {"date": "2025-06-01", "created": 0, "completed": 0},
        expected='the task returns plain JSON data: {"date": "YYYY-MM-DD", "created": n, '
        '"completed": m} with the date as a string (any key order)',
        got=text,
        hint="Celery stores results as JSON: return day.isoformat(), not a date object",
    )


BAD_DAYS = {
    "one-digit month and day": "2025-2-1",
    "no dashes": "20250201",
    "a day that does not exist": "2025-02-30",
    "a month that does not exist": "2025-13-01",
    "slashes": "2025/02/01",
    "a time after the date": "2025-02-01T00:00",
    "a two-digit year": "25-02-01",
}


@pytest.mark.points(2)
@pytest.mark.django_db(transaction=True)
def test_bad_days_raise_value_error(app):
    wrong = []
    for kind, day in BAD_DAYS.items():
        outcome = call(app, day)
        if outcome.raised_a("ValueError"):
            continue
        if outcome.raised:  # a different error is wrong too
            wrong.append(f"{kind}: {outcome.raised}")
        else:
            wrong.append(f"{kind}: accepted")
    expect(
        not wrong,
        expected="ValueError for a day that is not a real date written exactly YYYY-MM-DD "
        "(four, two and two digits)",
        got="; ".join(wrong),
        hint="check the format with re.fullmatch(r'\\d{4}-\\d{2}-\\d{2}', day), then "
        "date.fromisoformat(day) (which also rejects February 30); strptime accepts "
        "one-digit months",
    )


@pytest.mark.points(0.5)
@pytest.mark.in_app_evidence
@pytest.mark.django_db(transaction=True)
def test_registered_name_and_the_api_view(app, read_json, describe):
    from homework.models import DailyStats

    add_task(local(2025, 7, 4, 12))
    registered = app.fact("celery_tasks", prefix="homework")  # after importing homework.tasks
    registered = registered if isinstance(registered, list) else []
    expect(
        TASK_NAME in registered,
        expected=f"a Celery task registered as {TASK_NAME}",
        got=f"registered homework tasks: {registered}"[:400],
        hint="decorate compute_daily_stats with @shared_task in homework/tasks.py",
    )
    response = app.post("/api/stats/run/", {"date": "2025-07-04"}, via="wsgi")
    rows = list(DailyStats.objects.values_list("date", "created"))
    expect(
        response.status_code == 202 and rows == [(datetime.date(2025, 7, 4), 1)],
        expected="POST /api/stats/run/ queues the task, which then saves that day's row",
        got=f"{describe(response)}; {len(rows)} row(s) saved"
        + ("" if rows == [(datetime.date(2025, 7, 4), 1)] else ", not the one expected"),
        hint="the given view calls compute_daily_stats.delay(date): the task must accept the "
        "date as its only argument",
    )


@pytest.mark.points(1)
@pytest.mark.in_app_evidence
def test_beat_entry_is_due_at_0005_not_0004(app):
    last_run = local(2025, 8, 1, 0, 5)
    moments = [local(2025, 8, 2, 0, 4, 1), local(2025, 8, 2, 0, 5, 1)]
    answer = app.fact(
        "beat_entries",
        task=TASK_NAME,
        last_run=last_run.isoformat(),
        at=[moment.isoformat() for moment in moments],
    )
    answer = answer if isinstance(answer, dict) else {}
    failure = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    error = (
        f" (importing homework.schedule failed: {failure.get('type')}: {failure.get('message')})"
        if failure
        else ""
    )
    expect(
        answer.get("entries") == 1,
        expected=f'one BEAT_SCHEDULE entry whose "task" is "{TASK_NAME}"',
        got=f"{answer.get('entries')} such entries{error}"[:400],
        hint="see the public test of the schedule",
        trap=failure.get("trap"),
        where=str(failure.get("where", "")),
    )
    found = answer.get("due")
    due = {4: found[0], 5: found[1]} if isinstance(found, list) and len(found) == 2 else {}
    expect(
        due == {4: False, 5: True},
        expected="the entry is not due at 00:04 project time and is due at 00:05 the next day",
        got=f"due at 00:04: {due.get(4)}, due at 00:05: {due.get(5)}",
        hint="crontab(hour=0, minute=5) counts in CELERY_TIMEZONE (the project's zone); "
        "do not convert 00:05 to UTC yourself",
    )
    expect(
        answer.get("has_arguments") is False,
        expected="the entry passes no arguments (so the task computes yesterday)",
        got=f"args={answer.get('args')}, kwargs={answer.get('kwargs')}",
        hint="leave out args and kwargs",
    )
