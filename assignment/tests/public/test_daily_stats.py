"""PUBLIC self-check tests, part 4 (daily_stats): the Celery task and its schedule.

These public tests are a subset of what grading checks: counting one local day
and the beat entry at 00:05. Grading runs more (hidden) tests: the default day,
day boundaries, DST days, re-runs, bad days and more; see INSTRUCTIONS.md,
part 4.

Your project runs in a process of its own (the ``app`` fixture) and shares the
database with the tests: the tests write their rows with the models and commit
them (``transaction=True``), then have the app run your task (Celery runs it
eagerly there) and read the database back.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest

from grader.messages.feedback import expect

from ..helpers import returned

TAIPEI = ZoneInfo("Asia/Taipei")
TASK_NAME = "homework.tasks.compute_daily_stats"


def at(day, hour, minute=0, second=0, zone=TAIPEI):
    year, month, dom = day
    return datetime.datetime(year, month, dom, hour, minute, second, tzinfo=zone)


@pytest.mark.points(3)
@pytest.mark.django_db(transaction=True)
def test_counts_one_local_day(app):
    from homework.models import DailyStats, Task

    Task.objects.create(title="created that day", created_at=at((2025, 1, 15), 9))
    Task.objects.create(
        title="created and completed that day",
        created_at=at((2025, 1, 15), 10),
        completed_at=at((2025, 1, 15), 18),
        done=True,
    )
    Task.objects.create(title="created the day before", created_at=at((2025, 1, 14), 12))
    Task.objects.create(title="created the day after", created_at=at((2025, 1, 16), 12))

    # compute_daily_stats.delay("2025-01-15").get(), in your project
    result = returned(app.task(TASK_NAME, "2025-01-15", delay=True))
    expected = {"date": "2025-01-15", "created": 2, "completed": 1}
    expect(
        result == expected,
        expected=f"compute_daily_stats('2025-01-15') returns {expected}",
        got=f"{result!r}",
        hint='return the date as a "YYYY-MM-DD" string: day.isoformat(), not the date object'
        if isinstance(result, dict) and not isinstance(result.get("date"), str)
        else "count Task rows whose created_at (and, for completed, completed_at) falls in "
        "that local day, from midnight to midnight in settings.TIME_ZONE",
    )
    rows = list(DailyStats.objects.values("date", "created", "completed"))
    expect(
        rows == [{"date": datetime.date(2025, 1, 15), "created": 2, "completed": 1}],
        expected="one DailyStats row for 2025-01-15 with created=2, completed=1",
        got=f"DailyStats rows: {rows}",
        hint="DailyStats.objects.update_or_create(date=..., defaults={...})",
    )


def beat_entries(app, last_run, moments):
    """How many BEAT_SCHEDULE entries run the task and whether the first one is due at
    each of ``moments`` after a run at ``last_run`` (asked in your project)."""
    answer = app.fact(
        "beat_entries",
        task=TASK_NAME,
        last_run=last_run.isoformat(),
        at=[moment.isoformat() for moment in moments],
    )
    return answer if isinstance(answer, dict) else {}


# Runs on these days (00:05 project time) check the next firing: every day of a week,
# the ends of months and of a year, and the middle of every month.
RUN_DAYS = [datetime.date(2025, 12, 25) + datetime.timedelta(days=n) for n in range(8)]
RUN_DAYS += [datetime.date(2025, 2, 28), datetime.date(2025, 4, 30)]
RUN_DAYS += [datetime.date(2025, month, 15) for month in range(1, 13)]


@pytest.mark.points(3)
@pytest.mark.in_app_evidence
def test_beat_runs_it_daily_at_0005(app):
    first = beat_entries(app, at((2025, 8, 1), 0, 5), [])
    failure = first.get("error") if isinstance(first.get("error"), dict) else {}
    error = (
        f" (importing homework.schedule failed: {failure.get('type')}: {failure.get('message')})"
        if failure
        else ""
    )
    expect(
        first.get("entries") == 1,
        expected='exactly one BEAT_SCHEDULE entry whose "task" is '
        '"homework.tasks.compute_daily_stats"',
        got=f"{first.get('entries')} such entr(y/ies){error}"[:400],
        hint='BEAT_SCHEDULE = {"daily-stats": {"task": "homework.tasks.compute_daily_stats", '
        '"schedule": crontab(...)}}',
        trap=failure.get("trap"),
        where=str(failure.get("where", "")),
    )
    wrong = []
    for day in RUN_DAYS:
        run = at((day.year, day.month, day.day), 0, 5)
        next_day = run + datetime.timedelta(days=1)
        moments = [
            next_day - datetime.timedelta(seconds=59),
            next_day + datetime.timedelta(seconds=1),
        ]
        due = beat_entries(app, run, moments).get("due")
        if due != [False, True]:
            wrong.append(
                f"after a run on {day} at 00:05, due the next day at 00:04:01 and at "
                f"00:05:01: {due}"
            )
    # Daily at 00:05 is not "every 24 hours": after a run at 13:00, the next is at 00:05.
    started = at((2025, 8, 1), 13)
    due = beat_entries(app, started, [at((2025, 8, 2), 0, 5, 1)]).get("due")
    if due != [True]:
        wrong.append(f"after a run at 13:00, due at 00:05:01 the next day: {due}")
    expect(
        not wrong,
        expected="a celery.schedules.crontab firing every day at 00:05 (project time)",
        got="; ".join(wrong[:3]) + (f"; and {len(wrong) - 3} more" if len(wrong) > 3 else ""),
        hint="crontab(hour=0, minute=5): crontab hours are in CELERY_TIMEZONE, which is the "
        "project's TIME_ZONE",
    )
