"""``python manage.py load_demo_data``: tasks spread over the last few local days.

Part of the scaffold (not graded). It gives the views something to list and the
daily statistics something to count: on each of the last ``--days`` local
calendar days (today included) a few tasks are created, about half of them are
completed, some only on a later day. Several tasks sit just after local
midnight (00:20 and 07:45 in Taipei are 16:20 and 23:45 UTC *the day before*),
so a statistics task that counts UTC days instead of local days gets different
numbers from the ones this command prints.

Running it again replaces the previous demo tasks (their titles start with
``[demo]``) and keeps every other row; ``--reset`` first deletes every task and
every daily statistic.
"""

from __future__ import annotations

import datetime
from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from homework.models import DailyStats, Task

DEMO_PREFIX = "[demo] "

# Local times of day at which demo tasks are created. The first two are after
# local midnight but before UTC midnight (in Asia/Taipei, UTC+8).
CREATION_TIMES = (
    datetime.time(0, 20),
    datetime.time(7, 45),
    datetime.time(10, 0),
    datetime.time(14, 30),
    datetime.time(18, 10),
    datetime.time(23, 40),
)
TITLES = (
    "Read the lesson on async views",
    "Try asyncio.sleep in a view",
    "Call three APIs at once",
    "Move a query into sync_to_async",
    "Start a Celery worker",
    "Write the daily statistics task",
    "Add a Server-Timing header",
    "Compare uvicorn with a sync server",
)


def demo_tasks(today: datetime.date, days: int, now: datetime.datetime) -> list[Task]:
    """Build (unsaved) demo tasks for the ``days`` local days ending ``today``.

    The pattern is fixed, so the same day always gets the same tasks; tasks
    that would be created or completed after ``now`` are left out or left open.
    """
    zone = timezone.get_current_timezone()
    tasks: list[Task] = []
    for offset in range(days - 1, -1, -1):
        day = today - datetime.timedelta(days=offset)
        # 2 to 6 tasks a day, varying from day to day.
        for number, at in enumerate(CREATION_TIMES[: 2 + (day.toordinal() % 5)], start=1):
            created_at = datetime.datetime.combine(day, at, tzinfo=zone)
            if created_at > now:
                continue
            completed_at = None
            if number % 2 == 0:
                # Finished 3, 6 or 9 hours later: sometimes on the next local day.
                finished = created_at + datetime.timedelta(hours=3 * (1 + number % 3))
                completed_at = finished if finished <= now else None
            title = TITLES[(day.toordinal() + number) % len(TITLES)]
            tasks.append(
                Task(
                    title=f"{DEMO_PREFIX}{day.isoformat()} #{number}: {title}",
                    done=completed_at is not None,
                    created_at=created_at,
                    completed_at=completed_at,
                )
            )
    return tasks


class Command(BaseCommand):
    help = (
        "Load demo tasks spread over the last few local days (some completed). "
        "Running it again replaces the previous demo tasks."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=7,
            help="how many local calendar days, today included, get demo tasks (default 7)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete EVERY task and daily statistic first, not only the demo tasks",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["days"]
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366")

        now = timezone.now()
        today = timezone.localdate(now)
        tasks = demo_tasks(today, days, now)
        with transaction.atomic():
            if options["reset"]:
                Task.objects.all().delete()
                DailyStats.objects.all().delete()
            else:
                Task.objects.filter(title__startswith=DEMO_PREFIX).delete()
            Task.objects.bulk_create(tasks)

        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(tasks)} demo tasks over {days} day(s) "
                f"({sum(task.done for task in tasks)} completed)."
            )
        )
        self.report(tasks, today, days)

    def report(self, tasks: list[Task], today: datetime.date, days: int) -> None:
        """Print, per local day, what compute_daily_stats should find in the demo tasks."""
        created = Counter(timezone.localdate(task.created_at) for task in tasks)
        completed = Counter(
            timezone.localdate(task.completed_at) for task in tasks if task.completed_at
        )
        self.stdout.write(
            f"Demo tasks per local day in {timezone.get_current_timezone_name()} "
            "(other tasks in the database add to these):"
        )
        self.stdout.write("  date         created  completed")
        for offset in range(days - 1, -1, -1):
            day = today - datetime.timedelta(days=offset)
            self.stdout.write(f"  {day.isoformat()}  {created[day]:7d}  {completed[day]:9d}")
        yesterday = (today - datetime.timedelta(days=1)).isoformat()
        self.stdout.write(
            "Try: curl -X POST http://127.0.0.1:8000/api/stats/run/ "
            f"-H 'Content-Type: application/json' -d '{{\"date\": \"{yesterday}\"}}'"
        )
