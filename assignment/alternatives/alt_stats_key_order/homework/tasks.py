"""Alternative: the task returns the same keys in another (alphabetical) order."""

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


@shared_task
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
    # The same three keys, in alphabetical order: the contract asks for no order.
    return {"completed": completed, "created": created, "date": date.isoformat()}
