"""The reference passes the public and the hidden tests on PostgreSQL too, not only on SQLite.

The settings read ``DATABASE_URL`` (dj-database-url), so a student or a CI
may run on PostgreSQL. The grading engine gives its pytest processes an
environment without ``DATABASE_URL`` (it keeps only an allowlist), so this
test builds the grading workspace and the grading command with the engine's
own functions and runs that command itself, with ``DATABASE_URL`` added.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from grader.engine.workspace import build_workspace, load_sources
from grader.host.runner import child_environment, pytest_command
from grader.model.rubric import load_rubric
from tests.support import SOLUTION
from tests.support.services import postgres_database

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.mark.parametrize("suite", ["public", "all"])
def test_the_reference_passes_the_grading_tests_on_postgresql(tmp_path: Path, suite: str) -> None:
    rubric = load_rubric()
    answers = {file: (SOLUTION / file).read_bytes() for part in rubric.parts for file in part.files}
    workspace = tmp_path / "workspace"
    test_paths = build_workspace(
        load_sources(rubric),
        workspace,
        answers=answers,
        test_files=[part.test_file for part in rubric.parts],
        suite=suite,
    )
    if not test_paths:
        pytest.skip(f"assignment/tests holds no {suite} test file yet")
    # --reuse-db keeps pytest-django's test database after the run, so that
    # the test can see the suite really ran on PostgreSQL.
    command = pytest_command(workspace, test_paths, test_timeout=rubric.test_timeout * 3)
    command.insert(command.index("--assert=plain"), "--reuse-db")

    with postgres_database() as database_url:
        env = child_environment(tmp_path / "home")
        env["DATABASE_URL"] = database_url
        (tmp_path / "home").mkdir()
        result = subprocess.run(
            command,
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=rubric.part_timeout * len(rubric.parts),
        )
        output = result.stdout[-8000:] + result.stderr[-4000:]
        assert result.returncode == 0, output
        assert " passed" in output and "skipped" not in output, output

        test_database = database_url.rsplit("/", 1)[0] + "/test_" + database_url.rsplit("/", 1)[1]
        with psycopg.connect(test_database, connect_timeout=3) as db:
            tables = {row[0] for row in db.execute("SELECT tablename FROM pg_tables")}
        assert {"homework_task", "homework_dailystats"} <= tables, tables
    assert not (workspace / "db.sqlite3").exists(), "the suite fell back to SQLite"
