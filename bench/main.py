"""``python -m bench [SUBMISSION]``: the lesson under load, and how fast the grader grades.

Without SUBMISSION the reference solution is benchmarked; with one, the
submission's views are driven beside the reference's so a student sees their
figures next to what the lesson expects. Run it from the repository's root (the
``bench`` package is not installed; it uses the installed ``grader`` as a client).

Exit status: 0 ran and every judged target met; 1 ran, some target missed;
2 could not run (bad arguments, no answer file, a server that never started).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from rich.console import Console

from bench import report
from bench.lesson import LessonConfig, run_lesson
from bench.procs import ServerError
from bench.project import ProjectError
from bench.targets import Target, lesson_targets

JSON_VERSION = 1
# What stops the benchmark with exit status 2 (one line, no traceback): no answer
# file, a reference server that never started, a grader run that could not grade.
BenchError = (ProjectError, ServerError, RuntimeError)


def machine() -> dict[str, Any]:
    """Enough about the machine to read the figures in context."""
    return {
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def lesson_config(args: argparse.Namespace) -> LessonConfig:
    config = LessonConfig.quick() if args.quick else LessonConfig()
    changes: dict[str, Any] = {
        "upstream_latency": args.upstream_latency,
        "with_gunicorn": not args.no_gunicorn,
    }
    if args.runs is not None:
        changes["runs"] = args.runs
    return LessonConfig(**{**config.__dict__, **changes})


def run_bench(args: argparse.Namespace, console: Console) -> int:
    """Run, print, write JSON; exit 1 when a judged target is missed."""
    submission: Path | None = args.submission.resolve() if args.submission else None
    results: dict[str, Any] = {
        "version": JSON_VERSION,
        "quick": bool(args.quick),
        "submission": str(submission) if submission else None,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
    }
    targets: list[Target] = []
    judged = not args.quick

    def log(message: str) -> None:
        console.log(message)

    if args.only in (None, "lesson"):
        lesson = run_lesson(lesson_config(args), submission, log)
        results["lesson"] = lesson
        targets += lesson_targets(lesson, "reference", judged=judged)
        if submission is not None:
            targets += lesson_targets(lesson, "submission", judged=judged)
    if args.only in (None, "grading"):
        from bench.grading import GradingConfig, grading_targets, run_grading

        config = GradingConfig.quick() if args.quick else GradingConfig()
        if args.runs is not None:
            config = GradingConfig(**{**config.__dict__, "runs": args.runs})
        if not args.quick:
            config = GradingConfig(**{**config.__dict__, "batch_size": args.batch_size})
        if getattr(args, "baseline", None):
            config = GradingConfig(**{**config.__dict__, "baseline": args.baseline})
        grading = run_grading(config, submission, log)
        results["grading"] = grading
        targets += grading_targets(grading, judged=judged)
        from bench.roster import RosterConfig, roster_targets, run_roster

        roster = run_roster(RosterConfig.quick() if args.quick else RosterConfig(), log)
        grading["roster"] = roster
        grading["rows"].append(roster["row"])
        targets += roster_targets(roster, judged=judged)

    results["targets"] = [t.to_dict() for t in targets]
    out = Console(width=None if Console().is_terminal else 130)
    report.show(results, targets, out)
    report.write_json(results, args.json)
    console.print(f"wrote {args.json}")
    return 1 if any(t.met is False for t in targets) else 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m bench`` command line."""
    parser = _Parser(
        prog="python -m bench",
        description=(
            "Serve the submission with uvicorn (one worker) against a local fake upstream, "
            "drive concurrent clients at /api/users/1/dashboard/ and /async/, compare with "
            "sequential awaits and a sync gunicorn server, and time the grader. Prints tables "
            "and writes JSON. Results are medians of several runs: the machine is noisy. "
            "What each figure means, and the recorded ones: bench/BENCHMARKS.md."
        ),
    )
    parser.add_argument(
        "submission",
        nargs="?",
        type=Path,
        help="a directory holding the answer files (default: the reference)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("bench-results.json"),
        metavar="FILE",
        help="where to write the results (default: bench-results.json)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tiny load, one run: checks the bench works; judges no target",
    )
    parser.add_argument(
        "--only",
        choices=("lesson", "grading"),
        help="run only the load benchmark or only the grading-speed one",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="repetitions per measurement (default 3 under load, 5 for grading)",
    )
    add_lesson_options(parser)
    add_grading_options(parser)
    return parser


def add_lesson_options(parser: argparse.ArgumentParser) -> None:
    """The options of the load benchmark alone (bench/lesson.py)."""
    parser.add_argument(
        "--upstream-latency",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="how long the fake upstream takes to answer (default 0.2)",
    )
    parser.add_argument(
        "--no-gunicorn",
        action="store_true",
        help="skip the sync-server comparison (the slowest part)",
    )


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    """The options of the grading-speed benchmark alone (bench/grading.py)."""
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time a full grade with this git revision's grader and reference, "
        "interleaved in the same run (target: at most 1.3x)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50,
        help="submissions in the batch-throughput measurement (default 50)",
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through every ``finally`` that stops a server


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark the arguments ask for; see the module docstring for exit codes."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    if args.runs is not None and args.runs < 1:
        console.print("bench: --runs must be at least 1")
        return 2
    if args.submission is not None and not args.submission.is_dir():
        console.print(f"bench: {args.submission}: no such directory")
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        code = run_bench(args, console)
    except BenchError as exc:  # no answer file, a server that never started...
        console.print(f"bench: {exc}")
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print(f"bench took {time.monotonic() - started:.0f} s")
    return code
