"""The table a person reads in a terminal or a CI log (rich)."""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.model.results import GradeResult, TestResult, in_app_note, number

_STYLE = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "timeout": "yellow",
    "skipped": "dim",
}


def renderable(result: GradeResult) -> RenderableType:
    """The parts table, then each lost test with its message, then the total."""
    table = Table(title=f"{result.title} — {result.suite} tests", expand=False)
    table.add_column("Part")
    table.add_column("Points", justify="right")
    table.add_column("Tests passed", justify="right")
    for part in result.parts:
        if not part.graded:
            table.add_row(part.title, "—", Text("not graded", style="dim"))
            continue
        passed = sum(1 for t in part.tests if t.status == "passed")
        style = "green" if part.score >= part.max_score else "red"
        table.add_row(
            part.title,
            Text(f"{number(part.score)} / {number(part.max_score)}", style=style),
            f"{passed} / {len(part.tests)}",
        )
    table.add_section()
    total_style = "bold green" if result.full_marks else "bold red"
    table.add_row(
        Text("Total", style="bold"),
        Text(f"{number(result.score)} / {number(result.max_score)}", style=total_style),
        "",
    )
    blocks: list[RenderableType] = [table]
    note = in_app_note(result)
    if note:
        blocks.append(Text(note, style="dim"))
    for part in result.parts:
        lost = [t for t in part.tests if t.status != "passed"]
        if not lost and not part.notes:
            continue
        lines = Text()
        for note in part.notes:
            lines.append(f"• {note}\n", style="italic")
        for test in lost:
            _lost(lines, test)
        blocks.append(Panel(lines, title=part.title, title_align="left", border_style="red"))
    if result.warnings:
        blocks.append(
            Panel(
                Text("\n".join(f"• {w}" for w in result.warnings)),
                title="Integrity warnings for the instructor (not penalties)",
                border_style="yellow",
            )
        )
    if result.problems:
        text = Text("\n".join(f"• {p}" for p in result.problems))
        blocks.append(
            Panel(text, title="Instructor errors in the assignment", border_style="bold magenta")
        )
    return Group(*blocks)


def _lost(lines: Text, test: TestResult) -> None:
    lines.append(f"{test.status:8}", style=_STYLE[test.status])
    lines.append(f"{'0 / ' + str(number(test.max_score)):>9}  ")
    lines.append(f"{test.name}\n", style="bold")
    for line in (test.message or "(no message)").splitlines():
        lines.append(f"    {line}\n")


def print_result(result: GradeResult, console: Console | None = None) -> None:
    """Print the report to ``console`` (standard output by default)."""
    (console or Console()).print(renderable(result))


def render(result: GradeResult, width: int = 100) -> str:
    """The report as plain text (no colours), for files and tests."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(renderable(result))
    return console.export_text()
