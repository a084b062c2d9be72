"""The roster report (``grader batch``'s report.html): its figures, its escaping, bad input,
and similarity on a 50-submission mixed roster. Nothing is graded here (see
test_roster_batch.py for a real batch): the results are built as the engine shapes them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from grader.instructor.roster import html
from grader.instructor.roster.report import run_similarity, similarity_csv
from grader.instructor.roster.similarity import REFERENCE, SimilarityResult
from grader.instructor.roster.stats import compute, is_unsandboxed
from tests.support.roster import (
    HOSTILE_MESSAGE,
    HOSTILE_NAME,
    NEAR_COPIES,
    PART_TESTS,
    PARTS,
    REFERENCE_COPIES,
    RUBRIC,
    all_passed,
    mixed_roster,
    mixed_stats,
    submission,
)


def test_distributions_hold_every_graded_score() -> None:
    stats = mixed_stats()
    assert stats.graded == 10 and stats.errors == 1
    half_total = sum(p.points for p in RUBRIC.parts) / 2
    assert sorted(stats.total.values) == sorted(
        [100.0] * 4 + [half_total] * 3 + [0.0] + [half_total - 15, half_total - 12.5]
    )
    aggregator = next(d for d in stats.by_part if d.key == "aggregator")
    assert sorted(aggregator.values) == sorted([30.0] * 4 + [15.0] * 4 + [0.0] * 2)
    assert all(d.plottable for d in (stats.total, *stats.by_part))


def test_pass_rates_and_the_commonest_failure_message() -> None:
    stats = mixed_stats()
    by_name = {t.name: t for t in stats.tests}
    assert len(by_name) == 2 * len(RUBRIC.parts)
    first = by_name[PART_TESTS["async_view"][0]]
    assert (first.passed, first.ran) == (9, 10)  # only "zero" failed it
    second = by_name[PART_TESTS["aggregator"][1]]
    assert (second.passed, second.ran) == (4, 10)
    assert second.top_message == HOSTILE_MESSAGE and second.top_count == 3
    assert stats.tests[0].rate <= stats.tests[-1].rate  # hardest first


def test_submissions_to_look_at() -> None:
    stats = mixed_stats()
    flags = {f.name: f for f in stats.flags}
    assert set(flags) == {HOSTILE_NAME, "crashed", "empty"}
    assert flags[HOSTILE_NAME].kinds == ("integrity", "timeout")
    assert flags["crashed"].kinds == ("unsandboxed", "crash")
    assert flags["empty"].kinds == ("not graded",)
    assert "half_0" not in flags  # a plain failure is in the tests table, not here


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, False),
        ({"unsandboxed": True}, True),
        ({"sandboxed": False}, True),
        ({"sandboxed": True}, False),
        ({"parts": [{"unsandboxed": True}]}, True),
        ({"parts": ["junk", {"sandboxed": False}]}, True),
        ({"unsandboxed": "yes"}, False),
    ],
)
def test_the_sandbox_flag_is_read_defensively(data: dict[str, object], expected: bool) -> None:
    assert is_unsandboxed(data) is expected


def test_everything_a_submission_controls_is_escaped() -> None:
    page = html.render(mixed_stats())
    assert HOSTILE_NAME not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert len(re.findall(r"<script>", page)) == 1  # ours, the table sorter


def test_the_page_is_self_contained() -> None:
    page = html.render(mixed_stats())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page
    assert page.count('<figure class="plot"') == 1 + len(RUBRIC.parts)
    assert page.count("<svg") == 1 + len(RUBRIC.parts)
    assert 'href="feedback/full_0.md"' in page


def test_one_submission_gives_a_readable_report_with_notes() -> None:
    stats = compute(RUBRIC.title, PARTS, [all_passed("only")])
    page = html.render(stats)
    assert "<svg" not in page
    assert page.count('class="note plot-note"') == 1 + len(RUBRIC.parts)
    assert "Only one graded submission (100 points): no distribution to plot." in page
    assert "only" in page


def test_identical_submissions_give_a_note_not_a_plot() -> None:
    stats = compute(RUBRIC.title, PARTS, [all_passed(f"same_{i}") for i in range(5)])
    page = html.render(stats)
    assert "<svg" not in page
    assert "All 5 graded submissions scored 100 points: no spread to plot." in page


def test_no_graded_submission_at_all() -> None:
    stats = compute(RUBRIC.title, PARTS, [submission("x", None, status="error", reason="r")])
    page = html.render(stats)
    assert "No submission was graded: nothing to plot." in page
    assert "No test results to show." in page


def test_rendering_is_deterministic() -> None:
    assert html.render(mixed_stats()) == html.render(mixed_stats())


# ----------------------------------------------------------------------------- similarity


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return sorted(mixed_roster(tmp_path_factory.mktemp("similarity")).iterdir())


@pytest.fixture(scope="module")
def similarity(folders: list[Path]) -> SimilarityResult:
    return run_similarity(folders, RUBRIC)


def test_the_rough_filter_loses_no_pair(
    folders: list[Path],
    similarity: SimilarityResult,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every pair compared in detail finds exactly the pairs the filtered pass found."""
    from grader.instructor.roster import similarity as module

    monkeypatch.setattr(module, "_rough", lambda _a, _b: 1.0)
    everything = run_similarity(folders, RUBRIC)
    assert everything.detailed > similarity.detailed
    assert [(p.a, p.b, p.share_a, p.share_b) for p in everything.pairs] == [
        (p.a, p.b, p.share_a, p.share_b) for p in similarity.pairs
    ]


def test_the_near_copies_are_the_top_pair(similarity: SimilarityResult) -> None:
    top = similarity.student_pairs[0]
    assert {top.a, top.b} == set(NEAR_COPIES)
    assert top.score > 0.9
    # Everything else between students is far below: copies of the reference are
    # explained by the reference, and two mutants share one edited line at most.
    assert all(p.score < top.score or p.overlap < top.overlap for p in similarity.student_pairs[1:])
    assert len(similarity.student_pairs) == 1


def test_reference_copies_are_flagged_as_matching_the_reference(
    similarity: SimilarityResult,
) -> None:
    matched = {p.a: p for p in similarity.reference_matches}
    assert all(p.b == REFERENCE for p in similarity.reference_matches)
    for name in REFERENCE_COPIES:
        assert matched[name].share_a == pytest.approx(1.0)
    assert not set(NEAR_COPIES) & set(matched)  # written apart from the reference
    assert not {"starter_1", "starter_2"} & set(matched)  # stubs are boilerplate


def test_pairs_in_the_report_and_the_csv(similarity: SimilarityResult) -> None:
    stats = compute(RUBRIC.title, PARTS, [all_passed("a"), all_passed("b")])
    page = html.render(stats, similarity)
    assert "Evidence to read, not a verdict." in page
    assert page.count("<mark>") > 10  # the matching regions, side by side
    assert 'id="pair-0"' in page and "original_a" in page
    rows = list(csv.DictReader(io.StringIO(similarity_csv(similarity))))
    assert {rows[0]["submission_a"], rows[0]["submission_b"]} & set(NEAR_COPIES) or any(
        {r["submission_a"], r["submission_b"]} == set(NEAR_COPIES) for r in rows
    )
    assert sum(r["with_reference"] == "yes" for r in rows) == len(similarity.reference_matches)


def test_marked_regions_escape_the_code() -> None:
    text = "x = '<b>'\ny = 1\n"
    assert str(html.marked(text, [(0, 9)])) == "<mark>x = &#39;&lt;b&gt;&#39;</mark>\ny = 1\n"
    assert str(html.marked(text, [])) == "x = &#39;&lt;b&gt;&#39;\ny = 1\n"


def test_a_folder_name_is_not_a_spreadsheet_formula() -> None:
    found = SimilarityResult(pairs=[], compared=0, texts={})
    assert similarity_csv(found).splitlines() == [
        "submission_a,submission_b,share_a_pct,share_b_pct,overlap_chars,with_reference"
    ]
    from grader.instructor.roster.report import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("ok") == "ok"


def test_report_files_are_written_beside_the_gradebook(tmp_path: Path) -> None:
    from grader.instructor.roster.report import report_path

    assert report_path(tmp_path / "grades" / "gradebook.csv") == (
        tmp_path / "grades" / "report.html"
    )


def test_the_progress_bar_covers_the_whole_similarity_pass(tmp_path: Path) -> None:
    from tests.support.roster import near_copy, original, reference_copy, starter

    roster = tmp_path / "roster"
    reference_copy(roster / "copied")
    original(roster / "alice")
    near_copy(roster / "alice", roster / "bob")
    starter(roster / "untouched")
    (roster / "nothing").mkdir()  # no answer file: compared with nothing
    seen: list[int] = []
    steps: list[int] = []

    def start(total: int) -> Callable[[], None]:
        steps.append(total)
        return lambda: seen.append(1)

    run_similarity(sorted(roster.iterdir()), RUBRIC, progress=start)
    assert steps == [len(seen)] and len(seen) == 2 * 4


def test_without_the_report_extra_the_batch_says_so_and_goes_on(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from grader.instructor.roster import report

    def missing(*_args: object, **_kwargs: object) -> None:
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(report, "write_report", missing)
    out = io.StringIO()
    written = report.after_batch(
        tmp_path,
        tmp_path / "gradebook.csv",
        [],
        RUBRIC,
        feedback_dir=tmp_path,
        similarity=False,
        console=Console(file=out, width=200),
    )
    assert written is None
    assert "report.html not written: matplotlib is missing" in out.getvalue()
    assert "pip install -e '.[report]'" in out.getvalue()


def test_a_report_failure_is_one_line_not_a_failed_batch(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from grader.instructor.roster import report

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(report, "write_report", broken)
    out = io.StringIO()
    assert (
        report.after_batch(
            tmp_path,
            tmp_path / "gradebook.csv",
            [],
            RUBRIC,
            feedback_dir=tmp_path,
            similarity=False,
            console=Console(file=out, width=200),
        )
        is None
    )
    assert out.getvalue().strip() == "report.html not written: RuntimeError: boom"
