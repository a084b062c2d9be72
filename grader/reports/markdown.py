"""Markdown for people: ``--markdown FILE`` and ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from grader.results import GradeResult, number

_ICON = {"passed": "✅", "failed": "❌", "error": "💥", "timeout": "⏱️", "skipped": "⏭️"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    return "```text\n" + text.replace("```", "'''") + "\n```"


def render(result: GradeResult) -> str:
    """A heading with the total, the parts table, then each lost test's message."""
    lines = [
        f"## {result.title}: {number(result.score)} / {number(result.max_score)} points",
        "",
        f"Suite: `{result.suite}`",
        "",
        "| Part | Points | Tests passed |",
        "| --- | ---: | ---: |",
    ]
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
    for part in result.parts:
        lost = [t for t in part.tests if t.status != "passed"]
        if not lost and not part.notes:
            continue
        lines += ["", f"### {part.title} ({number(part.score)} / {number(part.max_score)})", ""]
        lines += [f"> {_cell(note)}" for note in part.notes]
        for test in lost:
            lines += [
                "",
                f"{_ICON[test.status]} **{test.status}** `{test.name}` "
                f"(0 / {number(test.max_score)})",
                "",
                _fence(test.message or "(no message)"),
            ]
    if result.warnings:
        lines += ["", "### 🔍 Integrity warnings for the instructor (not penalties)", ""]
        lines += [f"- {_cell(warning)}" for warning in result.warnings]
    if result.problems:
        lines += ["", "### ⚠️ Instructor errors in the assignment", ""]
        lines += [f"- {_cell(problem)}" for problem in result.problems]
    return "\n".join(lines) + "\n"
