"""Hostile: searches everything it can see for the grading tests (files, loaded modules)
and says what it found in the task's error, which the student reads."""

import os
import sys

from celery import shared_task

MARKS = (b"@pytest.mark.points", b"grading_tests", b"def test_")


def _hunt():
    found = [
        name
        for name in sys.modules
        if name.split(".")[-1].startswith("test_") or "grading_tests" in name
    ]
    for top in ("/",):
        for folder, dirs, files in os.walk(top):
            # The system's own files (/usr) hold many test_*.py and none of ours.
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr")]
            for name in files:
                if not (name.startswith("test_") and name.endswith(".py")) and name not in (
                    "conftest.py", "rubric.toml"
                ):
                    continue
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as stream:
                        head = stream.read(20_000)
                except OSError:
                    continue
                if any(mark in head for mark in MARKS[:2]) or name == "rubric.toml":
                    found.append(path)
    return found


FOUND = _hunt()


@shared_task
def compute_daily_stats(day=None):
    raise RuntimeError(f"hunt: {len(FOUND)} found {FOUND[:3]}")
