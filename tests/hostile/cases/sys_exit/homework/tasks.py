"""Hostile: the task ends the interpreter with sys.exit."""

import sys

from celery import shared_task


@shared_task
def compute_daily_stats(day=None):
    sys.exit(3)
