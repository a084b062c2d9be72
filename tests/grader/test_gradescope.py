"""Gradescope: the released autograder.zip grades in a simulated Gradescope root.

Gradescope unzips the autograder into ``/autograder/source``, runs ``setup.sh`` once and
``run_autograder`` per submission, which must write ``/autograder/results/results.json``
(https://gradescope-autograders.readthedocs.io/en/latest/specs/). Here a temporary folder
stands for ``/autograder`` (``GRADESCOPE_ROOT``) and this test run's Python for the venv
``setup.sh`` would build (``GRADESCOPE_PYTHON``); the grader code, rubric and suites come
from the zip (``run_autograder`` puts ``source`` first on ``PYTHONPATH``).

Not run here: ``setup.sh`` itself (it needs Gradescope's Ubuntu 22.04 image); it is only
checked for syntax and for what it installs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader.instructor.release import GRADESCOPE_DIR, GRADESCOPE_ZIP, release
from grader.model.rubric import load_rubric
from tests.support import ROOT, SOLUTION

RUBRIC = load_rubric(ROOT)

# The spec's keys (results.json top level and each test); anything else is ours to avoid.
TOP_KEYS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
TEST_KEYS = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release")
    release(out, rubric=RUBRIC)
    return out / GRADESCOPE_DIR / GRADESCOPE_ZIP


def gradescope_root(archive: Path, tmp_path: Path) -> Path:
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            target = root / "source" / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bundle.read(info))
            target.chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_ROOT", "PYTHONPATH")}
    env.update(GRADESCOPE_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable)
    done = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    return done, results


def check_spec(results: dict[str, Any]) -> None:
    assert set(results) <= TOP_KEYS, set(results) - TOP_KEYS
    assert "max_score" not in results
    assert isinstance(results["score"], int | float)
    assert results.get("output_format", "text") in FORMATS
    assert results.get("visibility", "visible") in VISIBILITIES
    assert results.get("stdout_visibility") == "hidden"
    for test in results.get("tests", []):
        assert set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["score"], int | float) and isinstance(test["max_score"], int | float)
        assert test.get("visibility", "visible") in VISIBILITIES
    if results.get("tests"):
        assert results["score"] == sum(test["score"] for test in results["tests"])


def test_zip_holds_setup_run_and_the_bundle(archive: Path) -> None:
    with zipfile.ZipFile(archive) as bundle:
        names = set(bundle.namelist())
        modes = {i.filename: i.external_attr >> 16 & 0o777 for i in bundle.infolist()}
        setup = bundle.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "pyproject.toml", "assignment/rubric.toml"} <= names
    assert any(n.startswith("assignment/tests/hidden/") for n in names)
    assert not any(n.startswith(("assignment/solution", "assignment/mutants")) for n in names)
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert "python install 3.11" in setup and "--python 3.11" in setup
    syntax = subprocess.run(["bash", "-n"], input=setup, capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


@pytest.mark.slow
def test_run_autograder_grades_a_submission(archive: Path, tmp_path: Path) -> None:
    """Two parts answered, one of them with code that earns an integrity warning."""
    root = gradescope_root(archive, tmp_path)
    homework = root / "submission" / "homework"
    homework.mkdir()
    shutil.copy2(SOLUTION / "homework" / "async_views.py", homework)
    middleware = (SOLUTION / "homework" / "middleware.py").read_text(encoding="utf-8")
    (homework / "middleware.py").write_text("import gc  # suspicious\n" + middleware)
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stderr
    check_spec(results)
    async_view, middleware_part = RUBRIC.part("async_view"), RUBRIC.part("middleware")
    assert results["score"] == async_view.points + middleware_part.points
    assert sum(t["max_score"] for t in results["tests"]) == RUBRIC.max_score
    # The instructor-only warning: in extra_data and the hidden stdout, nowhere students look.
    assert any("gc" in w for w in results["extra_data"]["warnings"])
    assert "gc" in done.stdout and "Integrity" in done.stdout
    shown = results["output"] + "".join(t["output"] + t["name"] for t in results["tests"])
    assert "ntegrity" not in shown and "garbage collector" not in shown


@pytest.mark.slow
def test_an_ungradable_submission_still_gets_results(archive: Path, tmp_path: Path) -> None:
    root = gradescope_root(archive, tmp_path)
    (root / "submission" / "notes.txt").write_text("no answer file here\n")
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stderr
    check_spec(results)
    assert results["score"] == 0 and results["tests"] == []
    assert "could not grade" in results["output"] and "no answer file" in results["output"]


def test_a_missing_python_still_gets_results(archive: Path, tmp_path: Path) -> None:
    root = gradescope_root(archive, tmp_path)
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADESCOPE_PYTHON": str(tmp_path / "no")}
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_spec(results)
    assert results["score"] == 0 and "setup.sh failed" in results["output"]


def test_a_grader_that_cannot_start_still_gets_results(archive: Path, tmp_path: Path) -> None:
    """Python is there but the grader does not import (a dependency missing, say)."""
    root = gradescope_root(archive, tmp_path)
    (root / "source" / "grader" / "instructor" / "gradescope_autograder.py").write_text(
        "import no_such_module\n"
    )
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stderr
    check_spec(results)
    assert results["score"] == 0 and "could not start" in results["output"]
    assert "without writing results" in done.stdout


def test_the_spec_check_rejects_a_top_level_max_score() -> None:
    """Control: what the results had before (a top-level max_score) fails the check."""
    with pytest.raises(AssertionError):
        check_spec({"score": 1, "max_score": 2, "stdout_visibility": "hidden", "tests": []})
