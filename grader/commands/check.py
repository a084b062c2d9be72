"""``grader check [PATH]``: the student's self-check, on the public tests only.

It is ``grader grade --suite public`` with the same engine and the same
terminal report, framed so nobody mistakes it for the grade: the public tests
are a subset, and the hidden tests that grade the submission check more. In
the student template the grader, the rubric, the pristine scaffold and the
public suite live under ``.grader/`` (written by ``grader release``), so the
check never depends on files the student edits other than the answer files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from grader.commands.argtypes import positive_int
from grader.commands.output import write_file
from grader.engine.grading import grade
from grader.host import portable
from grader.model.results import GradeResult, number
from grader.reports import json_report, terminal

__all__ = ["BANNER", "add_parser", "footer", "run"]

BANNER = "Self-check: PUBLIC tests only. Hidden tests grade more than this."


def footer(result: GradeResult) -> str:
    """The last line: the public score, and why it is not the grade."""
    score = f"{number(result.score)} / {number(result.max_score)}"
    if result.full_marks:
        return (
            f"Public tests: {score}. All public tests pass — hidden tests grade more than "
            "this, so re-read INSTRUCTIONS.md for every rule before you submit."
        )
    return (
        f"Public tests: {score}. Fix the failures above first; hidden tests grade more than this."
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``grader check [PATH] [--json FILE] [--jobs N]``."""
    parser = subparsers.add_parser(
        "check",
        help="self-check: run the PUBLIC tests on your work (hidden tests grade more)",
        description=(
            "Grade PATH (default: the current directory) with the public tests only, "
            "exactly as `grader grade --suite public` would. Hidden tests grade more than "
            "this. Exit 0: every public test passes; 1: some fail; 2: could not check."
        ),
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=Path("."),
        metavar="PATH",
        help="your project (or a folder holding just the answer files); default: .",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the JSON report")
    parser.add_argument(
        "--jobs", type=positive_int, default=None, metavar="N", help="parts graded at once"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check ``args.path``; print the labelled report."""
    console = Console()
    console.print(f"[bold yellow]{BANNER}[/]", soft_wrap=True)
    result = grade(args.path, suite="public", jobs=args.jobs)  # GraderError: cli.main says it
    terminal.print_result(result, console)
    if result.unsandboxed:
        skipped = "; ".join(portable.skipped())
        console.print(
            f"Ran without a sandbox ({result.unsandboxed}): fine for checking your own code."
            + (f" Also done without here: {skipped}." if skipped else ""),
            soft_wrap=True,
            markup=False,
        )
    if args.json is not None:
        write_file(args.json, json_report.render(result))
    console.print(f"[bold]{footer(result)}[/]", soft_wrap=True)
    return 0 if result.full_marks else 1
