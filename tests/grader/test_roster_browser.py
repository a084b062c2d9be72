"""report.html in a real browser: Debian's headless Chromium, driven by Playwright.

No console error, every plot drawn, the roster table sorts when a header is clicked.
Skipped with a reason where Chromium (Debian package ``chromium``, installed by
``.ci/run``) or Playwright is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.instructor.roster import html
from grader.instructor.roster.report import run_similarity
from tests.support.roster import RUBRIC, mixed_stats, near_copy, original, reference_copy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install -y chromium; .ci/run does it)",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    roster = base / "roster"
    reference_copy(roster / "copied")
    original(roster / "alice")
    near_copy(roster / "alice", roster / "bob")
    similarity = run_similarity(sorted(roster.iterdir()), RUBRIC)
    assert similarity.student_pairs and similarity.reference_matches
    path = base / "report.html"
    path.write_text(html.render(mixed_stats(), similarity), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, report: Path) -> Iterator[tuple[Any, list[str]]]:
    opened = browser.new_page()
    problems: list[str] = []
    opened.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    opened.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    opened.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    opened.goto(report.as_uri())
    opened.wait_for_load_state("load")
    yield opened, problems
    opened.close()


def test_no_console_error(page: tuple[Any, list[str]]) -> None:
    opened, problems = page
    opened.locator("#roster-table thead button").first.click()  # the script runs too
    assert problems == []


def test_every_plot_is_drawn(page: tuple[Any, list[str]]) -> None:
    opened, _ = page
    figures = opened.locator("figure.plot")
    assert figures.count() == 1 + len(RUBRIC.parts)
    for index in range(figures.count()):
        svg = figures.nth(index).locator("svg")
        assert svg.count() == 1, figures.nth(index).inner_text()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
        assert svg.locator("path, rect, use").count() > 5  # bars and axes, not an empty frame


def _column(opened: Any, header: str) -> list[str]:
    index = opened.locator("#roster-table thead th").all_inner_texts().index(header)
    cells = opened.locator(f"#roster-table tbody tr td:nth-child({index + 1})")
    return [str(value) for value in cells.evaluate_all("cs => cs.map(c => c.dataset.value)")]


def _numbers(values: list[str]) -> list[float]:
    return [float(v) if v else float("-inf") for v in values]


def test_the_roster_sorts_when_a_header_is_clicked(page: tuple[Any, list[str]]) -> None:
    opened, problems = page
    before = _column(opened, "Total")
    assert _numbers(before) != sorted(_numbers(before))  # the page starts sorted by name
    total = opened.locator("#roster-table thead th", has_text="Total")
    total.locator("button").click()
    assert _numbers(_column(opened, "Total")) == sorted(_numbers(before))
    assert total.get_attribute("aria-sort") == "ascending"
    total.locator("button").click()
    assert _numbers(_column(opened, "Total")) == sorted(_numbers(before), reverse=True)
    assert total.get_attribute("aria-sort") == "descending"
    opened.locator("#roster-table thead th", has_text="Submission").locator("button").click()
    names = _column(opened, "Submission")
    assert names == sorted(names, key=str.lower)
    assert problems == []


def test_the_side_by_side_view_opens(page: tuple[Any, list[str]]) -> None:
    opened, _ = page
    first = opened.locator("details.pair").first
    assert first.get_attribute("open") is not None
    assert first.locator("mark").count() > 3 and first.locator("mark").first.is_visible()
