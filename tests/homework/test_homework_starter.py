"""The starter project as given: Django checks, migrations, demo data, the given view.

Everything runs in a copy of ``starter/`` (Django settings are process-global
and a database file must never appear in ``starter/`` itself).
"""

from __future__ import annotations

import datetime
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.homework_project import local_day, make_project, manage, project_env

TRIGGER_CASES = Path(__file__).with_name("scripts") / "trigger_view_cases.py"


@pytest.fixture
def starter_copy(tmp_path: Path) -> Path:
    """The starter with its stubs only."""
    return make_project(tmp_path / "project", answers=())


def test_django_system_checks_are_clean(starter_copy: Path) -> None:
    result = manage(starter_copy, "check", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout


def test_the_migrations_match_the_models(starter_copy: Path) -> None:
    result = manage(starter_copy, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, (
        "models and migrations differ (run makemigrations in starter/):\n"
        + result.stdout
        + result.stderr
    )


def demo_rows(project: Path) -> list[tuple[str, bool, str, str | None]]:
    with sqlite3.connect(project / "db.sqlite3") as db:
        return db.execute(
            "SELECT title, done, created_at, completed_at FROM homework_task ORDER BY id"
        ).fetchall()


def test_load_demo_data_spreads_tasks_over_local_days_and_is_idempotent(
    starter_copy: Path,
) -> None:
    assert manage(starter_copy, "migrate", "--no-input", "-v", "0").returncode == 0
    first = manage(starter_copy, "load_demo_data")
    assert first.returncode == 0, first.stderr
    rows = demo_rows(starter_copy)

    created_days = Counter(local_day(created) for _, _, created, _ in rows)
    completed = [row for row in rows if row[3] is not None]
    assert len(created_days) >= 5, f"demo tasks on too few local days: {created_days}"
    assert completed and len(completed) < len(rows), "some, not all, tasks should be done"
    assert all(bool(done) == (finished is not None) for _, done, _, finished in rows)
    now = datetime.datetime.now(datetime.UTC)
    assert all(
        datetime.datetime.fromisoformat(c).replace(tzinfo=datetime.UTC) <= now
        for _, _, c, _ in rows
    ), "no demo task may be created in the future"
    # Some tasks sit between local and UTC midnight: a UTC-day count differs.
    utc_days = Counter(datetime.datetime.fromisoformat(c).date() for _, _, c, _ in rows)
    assert utc_days != created_days, "the demo data should tell local days from UTC days"
    # The command prints the per-day counts it loaded.
    for day, count in created_days.items():
        assert day is not None
        assert f"{day.isoformat()}  {count:7d}" in first.stdout, first.stdout

    again = manage(starter_copy, "load_demo_data")
    assert again.returncode == 0, again.stderr
    assert len(demo_rows(starter_copy)) == len(rows), "a second run must not add more"


def test_load_demo_data_keeps_other_tasks_unless_reset(starter_copy: Path) -> None:
    assert manage(starter_copy, "migrate", "--no-input", "-v", "0").returncode == 0
    with sqlite3.connect(starter_copy / "db.sqlite3") as db:
        db.execute(
            "INSERT INTO homework_task (title, done, created_at) "
            "VALUES ('mine', 0, '2025-01-01 00:00:00')"
        )
    assert manage(starter_copy, "load_demo_data", "--days", "2").returncode == 0
    assert "mine" in [row[0] for row in demo_rows(starter_copy)]
    assert manage(starter_copy, "load_demo_data", "--reset", "--days", "2").returncode == 0
    assert "mine" not in [row[0] for row in demo_rows(starter_copy)]
    refused = manage(starter_copy, "load_demo_data", "--days", "0")
    assert refused.returncode != 0 and "--days" in refused.stderr


def test_the_given_trigger_view(tmp_path: Path) -> None:
    """POST /api/stats/run/: 202 with a task id, the date reaching the task; 400/405 otherwise.

    Runs the cases in ``scripts/trigger_view_cases.py`` with pytest in a copy
    of the starter that has the reference ``tasks.py`` and stubs elsewhere.
    """
    project = make_project(tmp_path / "project", answers=("homework/tasks.py",))
    shutil.copyfile(TRIGGER_CASES, project / "test_trigger_view.py")
    (project / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = config.settings\npythonpath = .\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "pytest_django.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_trigger_view.py",
        ],
        cwd=project,
        env=project_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout
