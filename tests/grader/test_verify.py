"""``grader verify`` on the real assignment, and its loader's refusals.

The full run is the assignment's own acceptance test: reference full marks
(twice, identical), starter zero, every mutant caught in its own part only,
every alternative at full marks, every grading test failing on some wrong
answer. It grades about 45 submissions (one part each), a couple of minutes on
two cores.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.instructor.verify import load_variants
from grader.model.errors import GraderError
from grader.model.rubric import load_rubric
from tests.support import ROOT


@pytest.mark.slow
def test_verify_passes_on_the_assignment(tmp_path: Path) -> None:
    report_path = tmp_path / "verify.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "verify",
            "--repeat",
            "2",
            "--json",
            str(report_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["ok"] is True
    assert report["uncovered_tests"] == []
    subjects = [check["subject"] for check in report["checks"]]
    rubric = load_rubric(ROOT)
    mutants = load_variants(rubric, "mutant")
    alternatives = load_variants(rubric, "alternative")
    # At least four mutants per part, three alternatives, and each of them checked.
    for part in rubric.parts:
        assert sum(m.part == part.id for m in mutants) >= 4, part.id
    assert len(alternatives) >= 3
    for variant in [*mutants, *alternatives]:
        assert f"{variant.kind} {variant.name}" in subjects
    assert subjects.count("starter") == len(rubric.parts)


def _copy_assignment(tmp_path: Path) -> Path:
    """A throw-away copy of the repository's assignment (rubric, starter, solution)."""
    root = tmp_path / "repo"
    (root / "assignment").mkdir(parents=True)
    shutil.copytree(ROOT / "starter", root / "starter")
    for name in ("rubric.toml",):
        shutil.copy(ROOT / "assignment" / name, root / "assignment" / name)
    for name in ("solution", "tests"):
        shutil.copytree(ROOT / "assignment" / name, root / "assignment" / name)
    return root


EDIT = '[[edit]]\nfile = "homework/tasks.py"\nfind = "return"\nreplace = "return None or"\n'


def _mutant(root: Path, text: str) -> Path:
    """``assignment/mutants/bad/mutant.toml`` holding ``text``; returns the mutant folder."""
    folder = root / "assignment" / "mutants" / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mutant.toml").write_text(text)
    return folder


def test_a_mutant_may_edit_answer_files_only(tmp_path: Path) -> None:
    root = _copy_assignment(tmp_path)
    _mutant(
        root,
        'part = "daily_stats"\nmin_points_lost = 1\ndescription = "d"\n'
        + EDIT.replace("homework/tasks.py", "homework/models.py"),
    )
    with pytest.raises(GraderError, match="edits answer files only"):
        load_variants(load_rubric(root), "mutant")


def test_a_mutant_holding_a_copied_answer_file_is_refused(tmp_path: Path) -> None:
    """A file copy would not follow the reference: a mutant is its edits only."""
    root = _copy_assignment(tmp_path)
    folder = _mutant(root, 'part = "daily_stats"\nmin_points_lost = 1\ndescription = "d"\n' + EDIT)
    (folder / "homework").mkdir()
    (folder / "homework" / "tasks.py").write_text("x = 1\n")
    with pytest.raises(GraderError, match=r"mutant\.toml edits only"):
        load_variants(load_rubric(root), "mutant")


def test_a_mutant_needs_a_known_part_and_positive_points(tmp_path: Path) -> None:
    root = _copy_assignment(tmp_path)
    _mutant(root, 'part = "nope"\nmin_points_lost = 1\ndescription = "d"\n' + EDIT)
    with pytest.raises(GraderError, match="unknown part"):
        load_variants(load_rubric(root), "mutant")
    _mutant(root, 'part = "daily_stats"\nmin_points_lost = 0\ndescription = "d"\n' + EDIT)
    with pytest.raises(GraderError, match="min_points_lost"):
        load_variants(load_rubric(root), "mutant")
