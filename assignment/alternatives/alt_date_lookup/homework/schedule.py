from celery.schedules import crontab

BEAT_SCHEDULE = {
    "nightly": {
        "task": "homework.tasks.compute_daily_stats",
        "schedule": crontab(minute="5", hour="0", day_of_week="*"),
        "args": (),
    },
}
