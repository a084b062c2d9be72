"""``grader batch DIR --out CSV [--jobs N] [--feedback-dir D] [--suite S] [--force] ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from grader.commands.argtypes import positive_int
from grader.instructor.batch import BatchSummary, Row, default_batch_jobs, run_batch
from grader.model.results import SUITES
from grader.model.rubric import load_rubric
from grader.model.text import clean

__all__ = ["ProgressBar", "add_parser", "render", "run"]


class ProgressBar:
    """``run_batch``'s progress as a rich bar: graded of total, elapsed, the last row."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("[bold]grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
        )
        self._task = self._bar.add_task("", total=0)

    def start(self, total: int) -> None:
        self._bar.update(self._task, total=total)
        self._bar.start()

    def graded(self, row: Row) -> None:
        description = f"{clean(row.submission)}: {row.status}"
        self._bar.update(self._task, advance=1, description=description)

    def done(self) -> None:
        self._bar.stop()


def render(summary: BatchSummary, out: Path) -> None:
    """One line of counts on stdout; then, on stderr, why each failed submission failed."""
    print(
        f"{len(summary.rows)} submissions: {len(summary.graded)} graded now, "
        f"{len(summary.skipped)} unchanged (kept), {len(summary.errors)} could not be graded"
        f" -> {out}"
    )
    reasons = {row.submission: row.reason for row in summary.rows}
    for name in summary.errors:
        print(f"  could not grade {name}: {reasons[name]}", file=sys.stderr)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``grader batch``."""
    parser = subparsers.add_parser(
        "batch",
        help="grade a folder of submissions into a CSV gradebook and feedback files",
        description=(
            "Grade every subdirectory of DIR (one submission each) in parallel. Writes the "
            "CSV gradebook, one Markdown feedback file per submission and a resume state "
            "next to the CSV: a submission whose answer files (and the grader) have not "
            "changed since its last grade is not graded again. Exit 0: every submission "
            "graded; 1: some could not be graded (status 'error'); 2: the batch could not run."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="one subdirectory each")
    parser.add_argument("--out", type=Path, required=True, metavar="CSV", help="gradebook CSV")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="submissions graded at the same time (default: four per core); each gets "
        "its share of one `grader grade`'s pytest processes, at least one",
    )
    parser.add_argument(
        "--feedback-dir",
        type=Path,
        metavar="D",
        help="where the Markdown feedback files go (default: feedback/ next to the CSV)",
    )
    parser.add_argument("--suite", choices=SUITES, default="all", help="default: all")
    parser.add_argument("--force", action="store_true", help="ignore the state: regrade all")
    parser.add_argument(
        "--root", type=Path, metavar="DIR", help="the assignment's repository (default: this one)"
    )
    parser.add_argument(
        "--unsandboxed",
        action="store_true",
        help="grade even where no OS sandbox can be made (the CSV and feedback say so); "
        "students' code then sees this machine as you do",
    )
    parser.add_argument(
        "--similarity",
        action="store_true",
        help="also look for pairs of submissions alike (and like the reference solution): "
        "in report.html and similarity.csv beside the CSV",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the batch with a progress bar; 0 every submission graded, 1 some could not be."""
    console = Console(stderr=True)
    summary = run_batch(
        args.directory,
        args.out,
        feedback_dir=args.feedback_dir,
        jobs=args.jobs or default_batch_jobs(),
        suite=args.suite,
        force=args.force,
        unsandboxed=args.unsandboxed,
        rubric=load_rubric(args.root),
        similarity=args.similarity,
        console=console,
        progress=ProgressBar(console),
    )
    render(summary, args.out)
    return 1 if summary.errors else 0
