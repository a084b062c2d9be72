"""Hostile: writes fake "passed" results to every descriptor that looks like the channel."""

import json
import os

from celery import shared_task

NODES = [
    f"grading_tests/{suite}/test_daily_stats.py::{name}"
    for suite in ("public", "hidden")
    for name in ("test_x",)
]


def _forge():
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "channel" in target:
            with open(f"/proc/self/fd/{fd}", "a") as stream:  # reopens the file itself
                for node in NODES:
                    stream.write(json.dumps({"event": "result", "nodeid": node,
                                             "outcome": "passed", "message": ""}) + "\n")
            line = json.dumps({"event": "result", "nodeid": NODES[0], "outcome": "passed"})
            os.write(fd, (line + "\n").encode())


_forge()


@shared_task
def compute_daily_stats(day=None):
    _forge()
    raise NotImplementedError("stub")
