"""``grader check`` inside a released student template, in a fresh virtual environment.

The venv gets this venv's third-party packages through a ``.pth`` line (fast, offline)
and the template itself with ``pip install --no-deps -e .``, as a student would; the
grader it runs must then be the template's own copy under ``.grader/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.commands.check import BANNER
from grader.instructor.release import BUNDLE_DIR, STUDENT_DIR, release
from grader.model.rubric import load_rubric
from tests.support import ROOT
from tests.support.unprivileged import TEST_UID, as_unprivileged

RUBRIC = load_rubric(ROOT)

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="module")
def template() -> Iterator[tuple[Path, Path]]:
    """A released template with its own venv and ``pip install -e .`` done.

    In a folder anyone may enter (not pytest's, which only its owner may), so that
    an unprivileged user can run it too.
    """
    base = Path(tempfile.mkdtemp(prefix="template-"))
    base.chmod(0o755)
    try:
        yield _release_template(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _release_template(base: Path) -> tuple[Path, Path]:
    release(base / "out", rubric=RUBRIC)
    student = base / "out" / STUDENT_DIR
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=base,
        ).stdout.strip()
    )
    # Third-party packages from this venv (no network); NOT its editable `grader`.
    (site / "course-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", "."], student)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return student, env_dir


def test_the_students_grader_offers_only_their_commands(template: tuple[Path, Path]) -> None:
    student, env_dir = template
    shown = run(
        [
            str(
                env_dir / "bin" / "grader",
            ),
            "--help",
        ],
        student,
    )
    assert shown.returncode == 0, shown.stderr
    for command in ("verify", "batch", "release"):
        assert command not in shown.stdout, shown.stdout
    assert "check" in shown.stdout and "grade" in shown.stdout
    graded = run([str(env_dir / "bin" / "grader"), "grade", "."], student)
    assert graded.returncode == 1, graded.stdout + graded.stderr
    assert "INSTRUCTOR ERROR" not in graded.stderr and "Instructor errors" not in graded.stdout
    assert "public tests" in graded.stdout


def _reference_work(student: Path, work: Path) -> Path:
    shutil.copytree(student, work, ignore=shutil.ignore_patterns(".grader"))
    for path in (ROOT / "assignment" / "solution").rglob("*.py"):
        target = work / path.relative_to(ROOT / "assignment" / "solution")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return work


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("bwrap") is None,
    reason="running as another user needs root and bubblewrap",
)
def test_an_unprivileged_student_gets_full_public_marks(template: tuple[Path, Path]) -> None:
    student, env_dir = template
    base = Path(tempfile.mkdtemp(prefix="student-"))
    try:
        work = _reference_work(student, base / "work")
        subprocess.run(["chown", "-R", f"{TEST_UID}:{TEST_UID}", str(base)], check=True)
        report = base / "check.json"
        result = run(
            as_unprivileged(
                [str(env_dir / "bin" / "grader"), "check", str(work), "--json", str(report)]
            ),
            base,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        data = json.loads(report.read_text(encoding="utf-8"))
        assert data["suite"] == "public" and data["score"] == data["max_score"] > 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_template_runs_its_own_grader(template: tuple[Path, Path]) -> None:
    student, env_dir = template
    where = run(
        [str(env_dir / "bin" / "python"), "-c", "import grader; print(grader.__file__)"], student
    )
    assert Path(where.stdout.strip()).is_relative_to(student / BUNDLE_DIR), where


def test_check_on_the_stubs_scores_zero_labelled_public(
    template: tuple[Path, Path], tmp_path: Path
) -> None:
    student, env_dir = template
    report = tmp_path / "check.json"
    result = run([str(env_dir / "bin" / "grader"), "check", "--json", str(report)], student)
    assert result.returncode == 1, result.stdout + result.stderr
    output = " ".join(result.stdout.split())  # the terminal may wrap long lines
    assert BANNER in output
    assert "public tests" in output
    assert "hidden tests grade more than this" in output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["suite"] == "public"
    assert data["score"] == 0 and data["max_score"] > 0
    names = [t["name"] for part in data["parts"] for t in part["tests"]]
    assert names and all(name.startswith("public/") for name in names)


def test_check_gives_full_public_marks_to_the_reference(
    template: tuple[Path, Path], tmp_path: Path
) -> None:
    student, env_dir = template
    work = _reference_work(student, tmp_path / "work")
    report = tmp_path / "check.json"
    result = run(
        [str(env_dir / "bin" / "grader"), "check", str(work), "--json", str(report)], tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["suite"] == "public" and data["score"] == data["max_score"] > 0


def test_check_cannot_grade_a_missing_directory(template: tuple[Path, Path]) -> None:
    student, env_dir = template
    result = run([str(env_dir / "bin" / "grader"), "check", "no-such-dir"], student)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no-such-dir" in result.stderr
