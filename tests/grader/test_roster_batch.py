"""``grader batch --similarity`` end to end on a small real roster: report.html and
similarity.csv beside the gradebook, built from what was graded, and rebuilt the same
by a resumed batch that grades nothing.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from rich.console import Console

from grader.instructor.batch import BatchSummary, run_batch
from grader.instructor.roster import records
from grader.instructor.roster.similarity import REFERENCE
from grader.instructor.roster.stats import PartInfo, compute
from tests.support.roster import (
    RUBRIC,
    hostile,
    mutant,
    near_copy,
    original,
    reference_copy,
    starter,
)

pytestmark = pytest.mark.slow
SUITE = "public"  # the same engine path as "all", at a fraction of the time


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, BatchSummary]:
    base = tmp_path_factory.mktemp("roster-batch")
    roster = base / "roster"
    reference_copy(roster / "copy_1")
    reference_copy(roster / "copy_2")
    mutant(roster / "mutant", "av_time_sleep")
    hostile(roster / "crash", "segfault")
    starter(roster / "starter")
    original(roster / "alice")
    near_copy(roster / "alice", roster / "bob")
    (roster / "empty").mkdir()
    gradebook = base / "grades" / "gradebook.csv"
    console = io.StringIO()
    summary = run_batch(
        roster,
        gradebook,
        jobs=4,
        suite=SUITE,
        rubric=RUBRIC,
        console=Console(file=console, width=300),
        similarity=True,
    )
    assert f"report: {gradebook.parent / 'report.html'}" in console.getvalue()
    assert "similarity" in console.getvalue()  # its progress bar
    return roster, gradebook, summary


def test_the_report_and_the_pairs_are_written_beside_the_gradebook(
    batch: tuple[Path, Path, BatchSummary],
) -> None:
    _roster, gradebook, summary = batch
    assert (gradebook.parent / "report.html").is_file()
    assert (gradebook.parent / "similarity.csv").is_file()
    kept = sorted(p.stem for p in records.results_dir(gradebook).glob("*.json"))
    assert kept == sorted(r.submission for r in summary.rows if r.status == "graded")


def test_the_report_shows_what_was_graded(batch: tuple[Path, Path, BatchSummary]) -> None:
    _roster, gradebook, summary = batch
    rows = {row["submission"]: row for row in read_csv(gradebook)}
    assert (
        float(rows["alice"]["total"])
        == float(rows["bob"]["total"])
        == float(rows["copy_1"]["total"])
        > 0
    ), "the near-copy still grades like its original"
    loaded = records.load(
        summary.rows,
        records.results_dir(gradebook),
        gradebook.parent / "feedback",
        gradebook.parent,
    )
    stats = compute(RUBRIC.title, [PartInfo(p.id, p.title, p.points) for p in RUBRIC.parts], loaded)
    graded = [row for row in rows.values() if row["status"] == "graded"]
    assert sorted(stats.total.values) == sorted(float(row["total"]) for row in graded)
    for dist in stats.by_part:
        assert sorted(dist.values) == sorted(float(row[dist.key]) for row in graded), dist.key
    flags = {flag.name: flag.kinds for flag in stats.flags}
    assert flags["empty"] == ("not graded",)
    assert "crash" in flags["crash"], flags
    assert {"copy_1", "copy_2", "alice", "bob"}.isdisjoint(flags)
    sleep_test = next(t for t in stats.tests if t.part == "async_view" and t.passed < t.ran)
    assert sleep_test.ran == len(graded) and sleep_test.top_count >= 1  # mutant and starter
    page = (gradebook.parent / "report.html").read_text(encoding="utf-8")
    for row in rows.values():
        assert f'href="feedback/{row["submission"]}.md"' in page
    assert "Evidence to read, not a verdict." in page


def test_the_near_copies_top_the_pairs_and_the_copies_match_the_reference(
    batch: tuple[Path, Path, BatchSummary],
) -> None:
    _roster, gradebook, _summary = batch
    pairs = read_csv(gradebook.parent / "similarity.csv")
    students = [p for p in pairs if p["with_reference"] == "no"]
    assert {students[0]["submission_a"], students[0]["submission_b"]} == {"alice", "bob"}
    matching = {p["submission_a"] for p in pairs if p["submission_b"] == REFERENCE}
    assert {"copy_1", "copy_2"} <= matching and not {"alice", "bob", "starter"} & matching


def test_a_resumed_batch_grades_nothing_and_writes_the_same_report(
    batch: tuple[Path, Path, BatchSummary],
) -> None:
    roster, gradebook, _summary = batch
    before = (gradebook.parent / "report.html").read_text(encoding="utf-8")
    again = run_batch(
        roster,
        gradebook,
        jobs=4,
        suite=SUITE,
        rubric=RUBRIC,
        console=Console(file=io.StringIO()),
        similarity=True,
    )
    assert again.graded == []
    assert (gradebook.parent / "report.html").read_text(encoding="utf-8") == before
