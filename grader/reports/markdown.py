"""Markdown for students: ``--markdown FILE``, ``$GITHUB_STEP_SUMMARY``, batch feedback.

Written for GitHub's renderer (GitHub-flavoured Markdown in a 1012 px column):

* Messages are escaped text with hard line breaks in a quote, not code blocks, so
  long hint lines wrap instead of running off the right edge; leading spaces are
  kept as non-breaking spaces (tracebacks stay indented).
* Every piece of free text (messages, notes, titles) is escaped, so ``__code__``
  stays ``__code__`` and a message cannot start a table, a list, a heading, a link,
  HTML or math. Test names are code spans.
* Lost tests of one part with the same status and message are one entry: "the
  same error in 11 tests", with their names.
* The instructor-only integrity warnings are never here (the JSON report, the
  terminal report and Gradescope's hidden output have them).
"""

from __future__ import annotations

import re

from grader.model.results import GradeResult, PartResult, TestResult, in_app_note, number

_ICON = {"passed": "✅", "failed": "❌", "error": "💥", "timeout": "⏱️", "skipped": "⏭️"}
_WORD = {"failed": "failure", "error": "error", "timeout": "timeout", "skipped": "skip"}
_SUITE_NOTE = {
    "public": "Public tests only: the hidden tests grade more than this.",
    "hidden": "Hidden tests only.",
}

# ASCII punctuation that means something to GitHub's Markdown anywhere in a line
# (emphasis, code, links, HTML, tables, strikethrough, math, mentions, entities).
_INLINE = re.compile(r"([\\`*_{}\[\]<>|~$@&!])")
# ... and at the start of a line (headings, lists, quotes, setext and thematic breaks).
_LINE_START = re.compile(r"^([#+\-=>]|\d+[.)])")


def escape(text: str) -> str:
    """One line of free text, escaped: GitHub shows exactly these characters."""
    escaped = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], escaped)


def _line(text: str) -> str:
    stripped = text.rstrip()
    body = stripped.lstrip(" ")
    indent = len(stripped) - len(body)
    return "&nbsp;" * indent + escape(body.replace("\t", "    "))


def quote(text: str) -> list[str]:
    """Free text as a quote: escaped lines joined by hard breaks, blank lines kept."""
    lines: list[str] = []
    paragraph: list[str] = []
    for raw in [*(text or "(no message)").splitlines(), ""]:
        if raw.strip():
            paragraph.append(_line(raw))
            continue
        if paragraph:
            if lines:
                lines.append(">")
            lines += [f"> {line}\\" for line in paragraph[:-1]] + [f"> {paragraph[-1]}"]
            paragraph = []
    return lines


def code(text: str) -> str:
    """A code span that holds ``text`` whatever backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return escape(text.replace("\n", " "))


def _groups(tests: list[TestResult]) -> list[list[TestResult]]:
    """Lost tests by (status, message), in order of first appearance."""
    groups: dict[tuple[str, str], list[TestResult]] = {}
    for test in tests:
        groups.setdefault((test.status, test.message), []).append(test)
    return list(groups.values())


def _lost(group: list[TestResult]) -> list[str]:
    first = group[0]
    lost = number(sum(test.max_score for test in group))
    icon = _ICON[first.status]
    if len(group) == 1:
        head = f"{icon} **{first.status}** {code(first.name)} (0 / {lost})"
        return ["", head, "", *quote(first.message)]
    head = f"{icon} **the same {_WORD[first.status]} in {len(group)} tests** (0 / {lost})"
    lines = ["", head, "", *quote(first.message), "", "In these tests:", ""]
    return lines + [f"- {code(test.name)} (0 / {number(test.max_score)})" for test in group]


def _part(part: PartResult) -> list[str]:
    lost = [t for t in part.tests if t.status != "passed"]
    if not lost and not part.notes:
        return []
    lines = ["", f"### {escape(part.title)} ({number(part.score)} / {number(part.max_score)})"]
    for note in part.notes:
        lines += ["", *quote(note)]
    for group in _groups(lost):
        lines += _lost(group)
    return lines


def render(result: GradeResult) -> str:
    """A heading with the total, the parts table, then the lost tests of each part."""
    lines = [
        f"## {escape(result.title)}: {number(result.score)} / {number(result.max_score)} points",
        "",
    ]
    if result.suite in _SUITE_NOTE:
        lines += [_SUITE_NOTE[result.suite], ""]
    lines += ["| Part | Points | Tests passed |", "| --- | ---: | ---: |"]
    for part in result.parts:
        if not part.graded:
            lines.append(f"| {_cell(part.title)} | — | not graded |")
            continue
        passed = sum(1 for t in part.tests if t.status == "passed")
        lines.append(
            f"| {_cell(part.title)} | {number(part.score)} / {number(part.max_score)} "
            f"| {passed} / {len(part.tests)} |"
        )
    lines.append(f"| **Total** | **{number(result.score)} / {number(result.max_score)}** | |")
    note = in_app_note(result)
    if note:
        lines += ["", f"<sub>{escape(note)}</sub>"]
    for part in result.parts:
        lines += _part(part)
    if result.problems:
        lines += ["", "### ⚠️ Instructor errors in the assignment (not your fault)", ""]
        lines += [f"- {_cell(problem)}" for problem in result.problems]
    return "\n".join(lines) + "\n"
