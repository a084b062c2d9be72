"""zizmor (the GitHub Actions static analyser, offline) finds nothing in our workflows.

Both workflow files of this repository and the workflow `grader release` writes into the
student template are audited at zizmor's default persona.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.instructor.release import STUDENT_DIR, WORKFLOW_TARGET, release
from grader.model.rubric import load_rubric
from tests.support import ROOT

ZIZMOR = Path(sys.executable).parent / "zizmor"
SOURCES = [
    ROOT / ".github" / "workflows" / "ci.yml",
    ROOT / ".github" / "classroom" / "classroom.yml",
]


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ZIZMOR), "--offline", "--no-progress", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release")
    release(out, rubric=load_rubric(ROOT))
    return out / STUDENT_DIR / WORKFLOW_TARGET


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_zizmor_finds_nothing_in_our_workflows(path: Path) -> None:
    done = zizmor(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_in_the_released_student_workflow(released: Path) -> None:
    done = zizmor(released)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_flags_an_unpinned_action(released: Path, tmp_path: Path) -> None:
    """Control: the same workflow with one action on a tag instead of a SHA is a finding."""
    text = released.read_text(encoding="utf-8")
    start = text.index("actions/checkout@") + len("actions/checkout@")
    broken = tmp_path / "classroom.yml"
    broken.write_text(text[:start] + "v7" + text[start + 40 :], encoding="utf-8")
    done = zizmor(broken)
    assert done.returncode != 0 and "unpinned-uses" in done.stdout + done.stderr
