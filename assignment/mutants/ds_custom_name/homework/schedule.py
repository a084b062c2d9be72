"""Reference answer, part 4 (daily_stats): the schedule.

``crontab`` hours are in ``CELERY_TIMEZONE`` (the project's zone), so this runs
at 00:05 Taipei time, just after the day it summarizes has ended.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "compute-daily-stats": {
        "task": "homework.tasks.compute_daily_stats",
        "schedule": crontab(hour=0, minute=5),
    },
}
