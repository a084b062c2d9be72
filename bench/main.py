"""The whole benchmark: run the parts asked for, judge the targets, show and save the figures."""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

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
