"""PUBLIC self-check tests, part 4 (daily_stats): the Celery task and its schedule.

These public tests are a subset of what grading checks: counting one local day
and the beat entry at 00:05. Grading runs more (hidden) tests: the default day,
day boundaries, DST days, re-runs, bad days and more; see INSTRUCTIONS.md,
part 4.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest

from grader.feedback import expect

TAIPEI = ZoneInfo("Asia/Taipei")


def at(day, hour, minute=0, zone=TAIPEI):
    year, month, dom = day
    return datetime.datetime(year, month, dom, hour, minute, tzinfo=zone)


@pytest.mark.points(3)
@pytest.mark.django_db
def test_counts_one_local_day(celery_eager):
    from homework.models import DailyStats, Task
    from homework.tasks import compute_daily_stats

    Task.objects.create(title="created that day", created_at=at((2025, 1, 15), 9))
    Task.objects.create(
        title="created and completed that day",
        created_at=at((2025, 1, 15), 10),
        completed_at=at((2025, 1, 15), 18),
        done=True,
    )
    Task.objects.create(title="created the day before", created_at=at((2025, 1, 14), 12))
    Task.objects.create(title="created the day after", created_at=at((2025, 1, 16), 12))

    result = compute_daily_stats.delay("2025-01-15").get()
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


@pytest.mark.points(3)
def test_beat_runs_it_daily_at_0005():
    from celery.schedules import crontab
    from homework.schedule import BEAT_SCHEDULE

    entries = [
        entry
        for entry in (BEAT_SCHEDULE.values() if isinstance(BEAT_SCHEDULE, dict) else [])
        if isinstance(entry, dict) and entry.get("task") == "homework.tasks.compute_daily_stats"
    ]
    expect(
        len(entries) == 1,
        expected='exactly one BEAT_SCHEDULE entry whose "task" is '
        '"homework.tasks.compute_daily_stats"',
        got=f"{len(entries)} such entr(y/ies) in {BEAT_SCHEDULE!r}"[:400],
        hint='BEAT_SCHEDULE = {"daily-stats": {"task": "homework.tasks.compute_daily_stats", '
        '"schedule": crontab(...)}}',
    )
    schedule = entries[0].get("schedule")
    expect(
        isinstance(schedule, crontab)
        and schedule.hour == {0}
        and schedule.minute == {5}
        and schedule.day_of_week == set(range(7))
        and schedule.day_of_month == set(range(1, 32))
        and schedule.month_of_year == set(range(1, 13)),
        expected="a celery.schedules.crontab firing every day at 00:05 (project time)",
        got=f"schedule {schedule!r}",
        hint="crontab(hour=0, minute=5): crontab hours are in CELERY_TIMEZONE, which is the "
        "project's TIME_ZONE",
    )
