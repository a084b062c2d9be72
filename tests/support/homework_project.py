"""Throw-away copies of the student project, and the processes that run them.

Django settings are process-global, so every test that runs the homework does
it in a copy of ``starter/`` (never in ``starter/`` itself: a ``db.sqlite3``
or ``.celery/`` left there would be copied into every grading workspace) and
in processes of its own, started in their own session so that a test can stop
them, and everything they started, even when it fails: ``bench.procs``'
``launch`` and ``stop_group``, the benchmark's own (``free_port`` too).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from grader.model.rubric import load_rubric
from tests.support import SOLUTION
from tests.support.submissions import answers_in, student_repository

# Every answer file, from the one source of them (the rubric).
ANSWER_FILES = tuple(file for part in load_rubric().parts for file in part.files)
# Environment variables that would change what the project does.
PROJECT_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "UPSTREAM_API_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_DEBUG",
    "PYTHONPATH",
)

# The project's TIME_ZONE: the day a task was created or done is the day in Taipei.
TAIPEI = ZoneInfo("Asia/Taipei")

T = TypeVar("T")


def make_project(dest: Path, answers: Iterable[str] = ANSWER_FILES) -> Path:
    """The starter at ``dest`` with the reference version of ``answers``."""
    return student_repository(dest, answers_in(SOLUTION, answers))


def project_env(**extra: str) -> dict[str, str]:
    """This process's environment without the project's variables, plus ``extra``.

    Loopback calls never go through a proxy that the machine may configure.
    """
    env = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES}
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


def manage(
    project: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python manage.py ARGS`` in ``project``; the caller checks the result."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=dict(env) if env is not None else project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll ``check`` until it returns something other than None (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def tail(path: Path, limit: int = 4000) -> str:
    """The end of a log file, for an assertion message."""
    text = path.read_text(errors="replace") if path.exists() else "(no log)"
    return text[-limit:]


def local_day(stored: str | None) -> datetime.date | None:
    """The Taipei calendar day of a datetime as Django stores it in SQLite (UTC text)."""
    if stored is None:
        return None
    moment = datetime.datetime.fromisoformat(stored).replace(tzinfo=datetime.UTC)
    return moment.astimezone(TAIPEI).date()
