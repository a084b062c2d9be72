"""Part 4 — a scheduled Celery task: daily statistics (20 points, with schedule.py).

Write the Celery task ``compute_daily_stats(day=None)``:

* ``day`` is a ``"YYYY-MM-DD"`` string; ``None`` means *yesterday* in the
  project's time zone (use ``django.utils.timezone.localdate()``, never
  ``date.today()``);
* count the tasks created and the tasks completed during that local calendar
  day (midnight to midnight in ``settings.TIME_ZONE``);
* save them in ``DailyStats`` for that date (running it again updates the row);
* return ``{"date": "YYYY-MM-DD", "created": n, "completed": m}``;
* a ``day`` that is not a real date written ``YYYY-MM-DD`` raises ``ValueError``.

See INSTRUCTIONS.md, part 4.
"""

from celery import shared_task


@shared_task
def compute_daily_stats(day: str | None = None) -> dict:
    raise NotImplementedError("Part 4 (daily_stats): write the task compute_daily_stats()")
