"""The starter calls answer views as Django does, and a broken schedule.py is loud.

* ``homework/answers.py`` awaits an ``async def`` view on the event loop and
  runs a plain ``def`` view in a worker thread, as Django's handler would if
  the route pointed at the view itself: a sync view may use the ORM.
* A ``homework/schedule.py`` that cannot be imported leaves beat with nothing
  to run: ``config/celery.py`` logs it at error level with the file and line,
  and the grader's feedback names the file and line too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from grader.engine.grading import grade
from grader.messages.hints import TRAPS
from grader.model.rubric import load_rubric
from tests.support import ROOT
from tests.support.homework_project import make_project, manage

SYNC_VIEW = """
from django.http import JsonResponse

from .models import Task


def tasks(request):
    Task.objects.create(title="made by a sync view")
    return JsonResponse({"count": Task.objects.count()})
"""

ASK = """
import asyncio
from django.test import AsyncClient

async def main():
    response = await AsyncClient().get("/api/tasks/")
    print(response.status_code, response.content.decode())

asyncio.run(main())
"""

BROKEN_SCHEDULE = 'from celery.schedules import crontab\n\nBEAT_SCHEDULE = {"x": undefined_name}\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "project")
    migrated = manage(project, "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return project


def test_a_sync_answer_view_runs_in_a_thread_and_may_use_the_orm(project: Path) -> None:
    (project / "homework" / "db_views.py").write_text(SYNC_VIEW, encoding="utf-8")
    result = manage(project, "shell", "-c", ASK)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == '200 {"count": 1}', (
        result.stdout + result.stderr
    )


def test_a_broken_schedule_is_an_error_in_the_beat_log_with_file_and_line(project: Path) -> None:
    (project / "homework" / "schedule.py").write_text(BROKEN_SCHEDULE, encoding="utf-8")
    code = "from config.celery import app; app.finalize(); print(dict(app.conf.beat_schedule))"
    result = manage(project, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert "homework/schedule.py is broken, so beat schedules NOTHING" in result.stderr
    assert re.search(
        r"NameError: name 'undefined_name' is not defined \(at .*schedule\.py:3\)", result.stderr
    ), result.stderr
    assert result.stdout.strip().endswith("{}")


@pytest.mark.slow
def test_a_broken_schedule_is_named_with_its_line_in_the_grade(tmp_path: Path) -> None:
    submission = tmp_path / "submission"
    shutil.copytree(ROOT / "assignment" / "solution", submission)
    (submission / "homework" / "schedule.py").write_text(BROKEN_SCHEDULE, encoding="utf-8")
    result = grade(submission, rubric=load_rubric(ROOT), parts=["daily_stats"], suite="public")
    [part] = [p for p in result.parts if p.id == "daily_stats"]
    messages = [t.message for t in part.tests if t.status != "passed"]
    assert any("homework/schedule.py:3" in m and TRAPS["broken_import"] in m for m in messages), (
        messages
    )
