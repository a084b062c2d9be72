"""``grader verify [--repeat N] [--jobs N] [--only NAME] [--json FILE] [--root DIR]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.commands.argtypes import positive_int
from grader.commands.output import write_file
from grader.instructor.verify import DEFAULT_JOBS, VerifyReport, verify
from grader.model.rubric import load_rubric

__all__ = ["add_parser", "render", "run"]


def render(report: VerifyReport, console: Console) -> None:
    """The verdict as a rich table, then the tests only the starter fails."""
    styles = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    table = Table(title="grader verify", expand=False)
    for column in ("Subject", "Part", "Score", "Expectation", "Verdict", "Detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        table.add_row(  # Text(): test ids hold [brackets] that rich would read as markup
            Text(check.subject),
            Text(check.part),
            Text(check.score),
            Text(check.expectation),
            Text(check.level.upper(), style=styles[check.level]),
            Text(check.detail),
        )
    console.print(table)
    if report.starter_only:
        console.print(
            Text("Warning: no mutant fails these tests (only the starter does):", style="yellow")
        )
        for name in report.starter_only:
            console.print(Text(f"  {name}"))
    console.print(
        Text("verify: OK", style="bold green")
        if report.ok
        else Text("verify: FAILED", style="bold red")
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``grader verify``."""
    parser = subparsers.add_parser(
        "verify",
        help="check the assignment itself: reference, starter, mutants, alternatives",
        description=(
            "Reference full marks (N identical runs), starter zero, each mutant loses at least "
            "its points in its own part only, each alternative keeps full marks, and every "
            "grading test fails on some wrong answer. Exit 0 when all hold, 1 otherwise, "
            "2 when the assignment cannot be read."
        ),
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=3,
        metavar="N",
        help="grade the reference N times (default 3)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"gradings at once (default {DEFAULT_JOBS}: the tests mostly wait, 2 x cores)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this mutant/alternative (repeatable; skips coverage)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the verdict as JSON")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="the repository holding assignment/ (default: this one)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Verify, print the verdict: 0 all good, 1 a check failed (GraderError: cli.main's)."""
    console = Console(stderr=False)
    report = verify(
        load_rubric(args.root),
        repeat=args.repeat,
        jobs=args.jobs,
        only=args.only,
        progress=lambda message: console.print(f"[dim]… {message}[/dim]"),
    )
    render(report, console)
    if args.json:
        write_file(args.json, json.dumps(report.to_dict(), indent=2) + "\n")
    return 0 if report.ok else 1
