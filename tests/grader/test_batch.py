"""``grader batch``: a mixed roster graded into a CSV and feedback files, then resumed.

The roster holds the reference, the starter, partial work, broken and hostile
submissions and folders that cannot be graded at all; none of them may stop the
batch, and a second run must grade nothing that did not change.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from grader.instructor.batch import BatchSummary, run_batch, state_path
from grader.instructor.mutants import materialize
from grader.model.rubric import load_rubric
from tests.support import ROOT, SOLUTION
from tests.support.submissions import answers_in, lay_answers, student_repository

RUBRIC = load_rubric(ROOT)
MUTANT = ROOT / "assignment" / "mutants" / "av_time_sleep"
SUITE = "public"  # the same engine path as "all", at a fraction of the time

pytestmark = pytest.mark.slow


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_roster(base: Path) -> Path:
    roster = base / "roster"
    roster.mkdir()
    student_repository(roster / "reference")  # a whole student repository
    student_repository(roster / "starter", answers={})
    write(
        roster / "partial" / "homework" / "async_views.py",
        (SOLUTION / "homework" / "async_views.py").read_text(encoding="utf-8"),
    )
    write(
        roster / "flat" / "async_views.py",  # just the file, no homework/ folder
        (SOLUTION / "homework" / "async_views.py").read_text(encoding="utf-8"),
    )
    materialize(MUTANT, SOLUTION, roster / "mutant")  # just its edited file, like "partial"
    lay_answers(roster / "syntax_error", answers_in(SOLUTION))
    write(roster / "syntax_error" / "homework" / "aggregator.py", "async def dashboard(:\n")
    lay_answers(roster / "hostile", answers_in(SOLUTION))
    write(roster / "hostile" / "homework" / "middleware.py", "import os\nos._exit(0)\n")
    (roster / "empty").mkdir()
    write(roster / "missing_files" / "README.md", "I forgot to commit my work\n")
    write(roster / "missing_files" / "homework" / "notes.txt", "not an answer file\n")
    (roster / "linked").symlink_to(roster / "reference", target_is_directory=True)
    write(roster / "stray-file.txt", "not a submission folder\n")
    (roster / ".git").mkdir()
    return roster


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return {row["submission"]: row for row in csv.DictReader(stream)}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, BatchSummary]:
    base = tmp_path_factory.mktemp("batch")
    roster = make_roster(base)
    gradebook = base / "out" / "gradebook.csv"
    summary = run_batch(
        roster,
        gradebook,
        jobs=2,
        suite=SUITE,
        rubric=RUBRIC,
        console=Console(file=io.StringIO()),
    )
    return roster, gradebook, summary


EXPECTED = {
    "reference",
    "starter",
    "partial",
    "flat",
    "mutant",
    "syntax_error",
    "hostile",
    "empty",
    "missing_files",
    "linked",
}


def test_every_submission_folder_gets_a_row(first_run: tuple[Path, Path, BatchSummary]) -> None:
    _roster, gradebook, _summary = first_run
    rows = read_csv(gradebook)
    assert set(rows) == EXPECTED  # not the stray file, not .git
    header = gradebook.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [
        "submission",
        *[p.id for p in RUBRIC.parts],
        "total",
        "max_score",
        "status",
        "reason",
        "sandboxed",
    ]


def test_scores_in_the_gradebook(first_run: tuple[Path, Path, BatchSummary]) -> None:
    _roster, gradebook, _summary = first_run
    rows = read_csv(gradebook)
    reference = rows["reference"]
    assert reference["status"] == "graded"
    assert float(reference["total"]) == float(reference["max_score"]) > 0
    assert float(rows["starter"]["total"]) == 0
    for name in ("partial", "flat"):
        assert rows[name]["status"] == "graded"
        assert rows[name]["async_view"] == reference["async_view"], name
        assert float(rows[name]["total"]) == float(reference["async_view"]) > 0, name
    assert float(rows["mutant"]["async_view"]) < float(reference["async_view"])
    broken = rows["syntax_error"]
    assert broken["status"] == "graded" and float(broken["aggregator"]) == 0
    assert broken["async_view"] == reference["async_view"], "a broken file costs only its part"
    hostile = rows["hostile"]
    assert hostile["status"] == "graded"
    assert hostile["async_view"] == reference["async_view"]
    if reference["middleware"]:
        assert float(hostile["middleware"] or 0) == 0


def test_ungradable_submissions_are_error_rows(first_run: tuple[Path, Path, BatchSummary]) -> None:
    _roster, gradebook, summary = first_run
    rows = read_csv(gradebook)
    for name in ("empty", "missing_files"):
        assert rows[name]["status"] == "error"
        assert "no answer file" in rows[name]["reason"], rows[name]
        assert rows[name]["total"] == ""
    assert rows["linked"]["status"] == "error" and "link" in rows["linked"]["reason"]
    assert summary.errors == ["empty", "linked", "missing_files"]


def test_one_feedback_file_per_submission(first_run: tuple[Path, Path, BatchSummary]) -> None:
    _roster, gradebook, _summary = first_run
    feedback = gradebook.parent / "feedback"
    assert sorted(p.stem for p in feedback.glob("*.md")) == sorted(EXPECTED)
    rows = read_csv(gradebook)
    reference = (feedback / "reference.md").read_text(encoding="utf-8")
    assert f"{rows['reference']['total']} / {rows['reference']['max_score']}" in reference
    assert "could not be graded" in (feedback / "empty.md").read_text(encoding="utf-8")
    assert state_path(gradebook).is_file()


def test_second_run_resumes_and_regrades_only_what_changed(
    first_run: tuple[Path, Path, BatchSummary],
) -> None:
    roster, gradebook, _summary = first_run
    before = gradebook.read_bytes()
    # Through the CLI: nothing changed, so nothing is graded (and it is quick).
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from grader.commands.cli import main; raise SystemExit(main())",
            "batch",
            str(roster),
            "--out",
            str(gradebook),
            "--suite",
            SUITE,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "GRADER_ROOT"},
    )
    assert result.returncode == 1, result.stdout + result.stderr  # error rows remain
    # (If this fails while someone edits grader/ or the suites, that is the point: a changed
    # grader invalidates every stored grade.)
    assert "0 graded now" in result.stdout, result.stdout
    assert f"{len(EXPECTED)} unchanged" in result.stdout, result.stdout
    assert gradebook.read_bytes() == before

    # Fix one submission: only it is graded again.
    lay_answers(roster / "syntax_error", answers_in(SOLUTION))
    summary = run_batch(
        roster, gradebook, suite=SUITE, rubric=RUBRIC, console=Console(file=io.StringIO())
    )
    assert summary.graded == ["syntax_error"]
    assert len(summary.skipped) == len(EXPECTED) - 1
    rows = read_csv(gradebook)
    assert rows["syntax_error"]["total"] == rows["reference"]["total"]
