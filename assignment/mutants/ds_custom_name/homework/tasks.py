"""Reference answer, part 4 (daily_stats): the task.

"A day" is a local calendar day in ``settings.TIME_ZONE``: the window runs from
local midnight to the next local midnight, built with ``zoneinfo`` so that a
23- or 25-hour DST day is counted right. ``timezone.localdate()`` is the date
in the project's zone; ``date.today()`` is the server process's date and is
wrong whenever the server's zone differs (on UTC servers, before 08:00 Taipei).
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import DailyStats, Task

DAY_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(day: str | None) -> datetime.date:
    if day is None:
        return timezone.localdate() - datetime.timedelta(days=1)
    if not isinstance(day, str) or not DAY_FORMAT.fullmatch(day):
        raise ValueError(f"day must be written YYYY-MM-DD, got {day!r}")
    return datetime.date.fromisoformat(day)  # raises ValueError for 2025-02-30


@shared_task(name="compute_daily_stats")
def compute_daily_stats(day: str | None = None) -> dict:
    date = parse_day(day)
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(date, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        date + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )

    created = Task.objects.filter(created_at__gte=start, created_at__lt=end).count()
    completed = Task.objects.filter(completed_at__gte=start, completed_at__lt=end).count()
    DailyStats.objects.update_or_create(
        date=date, defaults={"created": created, "completed": completed}
    )
    return {"date": date.isoformat(), "created": created, "completed": completed}
