"""A broken answer file costs only its own part, in the project students run.

The contract promises that a stub, a syntax error or an exception at import in
one answer file breaks only its own part's routes and tasks. The grader makes
that true by grading each part alone; these tests check that the project
itself keeps the promise too (lazy routing in ``homework/answers.py``, the
lazy task import in the given view, the lazy beat schedule in
``config/celery.py``), so a student with one broken file can still run and
try every other part.

One exception, by nature: ``homework/middleware.py`` wraps every request, so
when it cannot be imported no request is answered at all (INSTRUCTIONS.md
says so). The Celery task and the beat schedule still work then.

Each case runs ``scripts/part_checks.py`` in its own process in a copy of the
project with the reference answers except one broken file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import STARTER
from tests.support.homework_project import ANSWER_FILES, make_project, manage, project_env

CHECKER = Path(__file__).with_name("scripts") / "part_checks.py"

# What each answer file's breakage may break (names of scripts/part_checks.CHECKS).
OWN_CHECKS = {
    "homework/async_views.py": {"async_view"},
    "homework/aggregator.py": {"aggregator"},
    "homework/db_views.py": {"orm_threadpool"},
    "homework/tasks.py": {"daily_stats", "stats_route"},
    "homework/schedule.py": {"daily_stats"},
}
HTTP_CHECKS = {"async_view", "aggregator", "orm_threadpool", "stats_route", "middleware"}
ALL_CHECKS = HTTP_CHECKS | {"daily_stats"}

BREAKAGES = {
    "syntax-error": lambda source: source + "\n\ndef broken(:\n    pass\n",
    "raise-at-import": lambda source: 'raise RuntimeError("broken at import")\n' + source,
    "stub": None,  # the starter's own stub
}


def expected_failures(file: str, breakage: str) -> set[str]:
    """The checks a broken ``file`` is allowed (and expected) to break."""
    if file == "homework/middleware.py":
        # The stub passes every request through but adds no header; a file
        # that cannot be imported stops every request.
        return {"middleware"} if breakage == "stub" else HTTP_CHECKS
    return OWN_CHECKS[file]


@pytest.fixture(scope="module")
def migrated_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with every reference answer and a migrated SQLite database."""
    project = make_project(tmp_path_factory.mktemp("isolation") / "project")
    result = manage(project, "migrate", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    shutil.copyfile(CHECKER, project / CHECKER.name)
    return project


def run_checks(project: Path) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, CHECKER.name],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"the checker crashed:\n{result.stdout}\n{result.stderr}"
    verdicts: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(verdicts) == ALL_CHECKS, verdicts
    return verdicts


def test_the_reference_passes_every_check(migrated_project: Path) -> None:
    """The baseline: with no broken file, every check passes (so a failure below is real)."""
    verdicts = run_checks(migrated_project)
    assert all(v == "ok" for v in verdicts.values()), verdicts


@pytest.mark.parametrize("breakage", BREAKAGES)
@pytest.mark.parametrize("file", ANSWER_FILES)
def test_a_broken_answer_file_breaks_only_its_own_part(
    migrated_project: Path, tmp_path: Path, file: str, breakage: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(migrated_project, project)
    break_file = BREAKAGES[breakage]
    if break_file is None:
        shutil.copyfile(STARTER / file, project / file)
    else:
        target = project / file
        target.write_text(break_file(target.read_text()))

    verdicts = run_checks(project)

    failed = {name for name, verdict in verdicts.items() if verdict != "ok"}
    expected = expected_failures(file, breakage)
    assert failed == expected, (
        f"with a {breakage} in {file}, expected exactly {sorted(expected)} to fail; "
        f"verdicts: {json.dumps(verdicts, indent=1)}"
    )
