"""Part 4 — when Celery beat runs the daily statistics (with tasks.py).

``config/celery.py`` takes the beat schedule from ``BEAT_SCHEDULE`` below. Add an
entry that runs ``"homework.tasks.compute_daily_stats"`` every day at 00:05
project time (``celery.schedules.crontab``), with no arguments.

See INSTRUCTIONS.md, part 4.
"""

BEAT_SCHEDULE: dict = {}
