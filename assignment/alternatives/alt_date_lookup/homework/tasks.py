"""Alternative: __date lookups (evaluated in the current time zone, here the project's)."""

import re
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from .models import DailyStats, Task


@shared_task
def compute_daily_stats(day=None):
    if day is None:
        date = timezone.localdate() - timedelta(days=1)
    else:
        if not isinstance(day, str) or re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", day) is None:
            raise ValueError("expected YYYY-MM-DD")
        date = datetime.strptime(day, "%Y-%m-%d").date()
    with timezone.override(timezone.get_default_timezone()):
        created = Task.objects.filter(created_at__date=date).count()
        completed = Task.objects.filter(completed_at__date=date).count()
    stats, _ = DailyStats.objects.get_or_create(date=date)
    stats.created = created
    stats.completed = completed
    stats.save()
    return {"date": str(date), "created": created, "completed": completed}
