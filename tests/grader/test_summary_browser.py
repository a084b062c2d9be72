"""The job summary as GitHub shows it: GFM rendered by cmark-gfm, laid out by Chromium.

GitHub renders Markdown with cmark-gfm (``cmarkgfm`` is its Python binding) and shows a
job summary in a content column 1012 px wide, with the ``markdown-body`` styles that
matter here: text breaks long words, code blocks scroll instead of wrapping, tables are
as wide as their content up to the column and scroll beyond. Headless Chromium (Debian's
``chromium`` package; ``.ci/run`` installs it) lays the page out and reports every element
that is wider than the column or scrolls sideways. Without Chromium those tests skip with
the reason; the escaping tests need only the renderer.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import cmarkgfm
import pytest

from grader.model.results import GradeResult, PartResult, TestResult
from grader.reports import markdown

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM = next((found for name in BROWSERS if (found := shutil.which(name))), None)
COLUMN = 1012  # px: GitHub's content column

# The relevant rules of GitHub's markdown-body styles (github-markdown-css).
CSS = f"""
body {{ margin: 0; }}
.markdown-body {{ box-sizing: border-box; width: {COLUMN}px; font-size: 16px; line-height: 1.5;
  font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  word-wrap: break-word; }}
.markdown-body blockquote {{ margin: 0 0 16px; padding: 0 1em; border-left: .25em solid #ddd; }}
.markdown-body ul {{ padding-left: 2em; }}
.markdown-body code {{ padding: .2em .4em; font-size: 85%; white-space: break-spaces;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }}
.markdown-body pre {{ padding: 16px; overflow: auto; font-size: 85%; word-wrap: normal; }}
.markdown-body pre code {{ display: inline; padding: 0; white-space: pre; word-wrap: normal; }}
.markdown-body table {{ display: block; width: max-content; max-width: 100%; overflow: auto;
  border-spacing: 0; border-collapse: collapse; }}
.markdown-body td, .markdown-body th {{ padding: 6px 13px; border: 1px solid #ddd; }}
"""

# Every element wider than the column, or whose content is (it scrolls sideways).
SCRIPT = f"""
const column = document.querySelector('.markdown-body');
const left = column.getBoundingClientRect().left;
const wide = [];
for (const el of column.querySelectorAll('*')) {{
  const box = el.getBoundingClientRect();
  if (box.right - left > {COLUMN} + 0.5 || el.scrollWidth > el.clientWidth + 1 && el.clientWidth) {{
    wide.push(el.tagName + ' ' + Math.round(box.width) + '/' + el.scrollWidth + ' px: '
              + el.textContent.slice(0, 80));
  }}
}}
document.getElementById('report').textContent = JSON.stringify(wide);
"""

LONG_HINT = (
    "Hint: the dashboard must answer within UPSTREAM_TIMEOUT + 0.5 s even when an upstream "
    "never answers; give the client the configured timeout (settings.UPSTREAM_TIMEOUT) and "
    "do not wait for the slow section longer than that, then answer 200 with that section "
    "null and errors[section] == 'timeout' as INSTRUCTIONS.md describes in its aggregator part."
)
TRACEBACK = "\n".join(
    [
        "Expected: 200 with the merged JSON",
        "Got: 500",
        LONG_HINT,
        "",
        "Traceback (most recent call last):",
        '  File "homework/aggregator.py", line 12, in dashboard',
        "    return JsonResponse(merge(" + "x" * 240 + "))",
        "AttributeError: 'NoneType' object has no attribute '__code__' | see <script>alert(1)"
        "</script> and $x^2$ or *this* ~~that~~ [link](http://example.com)",
        "# not a heading",
        "- not a list",
        "=====",
        "| a | b |",
        "| --- | --- |",
        "http://example.com/" + "very-long-path-segment" * 20,
    ]
)


def sample() -> GradeResult:
    same = "NotImplementedError: Part 2 (aggregator): write the async view dashboard()"
    tests = [
        TestResult(f"hidden/test_aggregator.py::test_stub[{i}]", "error", 0, 1, same)
        for i in range(11)
    ]
    tests.append(
        TestResult("public/test_aggregator.py::test_long_hint", "failed", 0, 2.5, TRACEBACK)
    )
    tests.append(TestResult("public/test_aggregator.py::test_ok", "passed", 3, 3, ""))
    aggregator = PartResult(
        id="aggregator",
        title="Multi-API aggregator",
        max_score=16.5,
        tests=tests,
        notes=["homework/aggregator.py is not in your submission: graded with the __starter__"],
        warnings=["imports gc: the garbage collector (finds any live object)"],
    )
    return GradeResult(title="Asynchronous Django", suite="all", parts=[aggregator])


def to_html(text: str) -> str:
    html: str = cmarkgfm.github_flavored_markdown_to_html(text)  # cmarkgfm is untyped
    return html


def page(body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}</style></head>"
        f"<body><article class='markdown-body'>{body}</article>"
        f"<pre id='report'></pre><script>{SCRIPT}</script></body></html>"
    )


def too_wide(body: str, tmp_path: Path) -> list[str]:
    assert CHROMIUM is not None
    path = tmp_path / "summary.html"
    path.write_text(page(body), encoding="utf-8")
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--window-size={COLUMN + 200},2000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r"<pre id=\"report\">(.*?)</pre>", done.stdout, re.S)
    assert found and found.group(1), f"no report from chromium: {done.stderr[-2000:]}"
    wide: list[str] = json.loads(html.unescape(found.group(1)))
    return wide


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)


@needs_chromium
def test_the_summary_fits_githubs_column(tmp_path: Path) -> None:
    assert too_wide(to_html(markdown.render(sample())), tmp_path) == []


@needs_chromium
def test_the_browser_check_sees_a_hint_in_a_code_block(tmp_path: Path) -> None:
    """Control: the old layout (a message in a ```text block) runs off the column."""
    old = f"### Multi-API aggregator\n\n```text\n{LONG_HINT}\n```\n"
    assert too_wide(to_html(old), tmp_path)


def test_free_text_shows_as_written() -> None:
    text = markdown.render(sample())
    rendered = to_html(text)
    assert rendered.count("<table>") == 1  # ours; "| a | b |" in a message is text
    assert "<script>" not in rendered and "<h1>" not in rendered
    assert len(re.findall(r"<h[1-6]>", rendered)) == 2  # the title and the part
    assert "<strong>code</strong>" not in rendered and "<del>" not in rendered
    assert "<em>this</em>" not in rendered and '<a href="http://example.com">' not in rendered
    plain = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    for needle in (
        "'__code__'",
        "*this* ~~that~~",
        "[link](http://example.com)",
        "$x^2$",
        "# not a heading",
        "- not a list",
        "=====",
        "| a | b |",
        "graded with the __starter__",
        LONG_HINT,
    ):
        assert needle in plain, needle
    assert "    return JsonResponse(" in plain.replace("\xa0", " ")  # indentation kept


def test_identical_failures_are_grouped() -> None:
    text = markdown.render(sample())
    assert "the same error in 11 tests** (0 / 11)" in text
    assert text.count("NotImplementedError: Part 2") == 1
    assert all(f"test_stub[{i}]" in text for i in range(11))


def test_nothing_instructor_only_or_meaningless() -> None:
    text = markdown.render(sample())
    assert "garbage collector" not in text and "ntegrity" not in text
    assert "Suite" not in text and "```" not in text
    public = sample()
    public.suite = "public"
    assert "Public tests only" in markdown.render(public)
