"""``grader bench [SUBMISSION]``: the lesson under load, and how fast the grader grades.

Without SUBMISSION the reference solution is benchmarked; with one, the
submission's views are driven beside the reference's so a student sees their
figures next to what the lesson expects. The work is done by the ``bench``
package at the root of the repository (fake upstream, servers, load driver,
grading timers); this module is only the command line.

Exit status: 0 ran and every judged target met; 1 ran, some target missed;
2 could not run (bad arguments, the bench package or a server missing).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from rich.console import Console


def add_parser(subparsers: Any) -> None:
    """Register ``bench`` on the ``grader`` command line."""
    parser = subparsers.add_parser(
        "bench",
        help="benchmark a submission (default: the reference) under load, and grading speed",
        description=(
            "Serve the submission with uvicorn (one worker) against a local fake upstream, "
            "drive concurrent clients at /api/users/1/dashboard/ and /async/, compare with "
            "sequential awaits and a sync gunicorn server, and time the grader. Prints tables "
            "and writes JSON. Results are medians of several runs: the machine is noisy."
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
    parser.set_defaults(handler=run)


def _load_bench() -> ModuleType:
    """Import the ``bench`` package from the repository this grader belongs to."""
    try:
        return importlib.import_module("bench.main")
    except ImportError:
        from grader.model.rubric import default_root

        sys.path.insert(0, str(default_root()))
        return importlib.import_module("bench.main")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through every ``finally`` that stops a server


def run(args: argparse.Namespace) -> int:
    """Run the benchmark the arguments ask for; see the module docstring for exit codes."""
    console = Console(stderr=True)
    if args.runs is not None and args.runs < 1:
        console.print("grader bench: --runs must be at least 1")
        return 2
    if args.submission is not None and not args.submission.is_dir():
        console.print(f"grader bench: {args.submission}: no such directory")
        return 2
    try:
        main = _load_bench()
    except ImportError as exc:
        console.print(
            f"grader bench: the bench package is not available here ({exc}); "
            "run it from the instructors' repository"
        )
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        code: int = main.run_bench(args, console)
    except main.BenchError as exc:  # no answer file, a server that never started...
        console.print(f"grader bench: {exc}")
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print(f"bench took {time.monotonic() - started:.0f} s")
    return code


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.instructor.bench``: the same command without the ``grader`` front end."""
    parser = argparse.ArgumentParser(prog="grader")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["bench", *(argv if argv is not None else sys.argv[1:])])
    handler: Any = args.handler
    return int(handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
