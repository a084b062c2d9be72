"""The ``grader`` command line.

``grade`` lives here. Every other subcommand lives in its own module, listed
in ``SUBCOMMAND_MODULES``, that exposes ``add_parser(subparsers)`` (which
calls ``parser.set_defaults(handler=run)``) and ``run(args) -> int``. A listed
module that is not installed is skipped: the student's copy of the grader has
no ``grader.instructor``, so its ``grader --help`` lists only what works there.

Errors have one printer, ``main``: a subcommand raises ``GraderError`` (a bad
argument too, through ``_Parser.error``) and ``main`` prints
``grader: error: <one line>`` on standard error and exits with status 2.

Exit status of ``grade``: 0 full marks, 1 points lost, 2 could not grade.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from grader.commands.argtypes import positive_int
from grader.commands.output import error_line, write_file
from grader.engine.grading import grade
from grader.engine.workspace import HIDDEN_DIR
from grader.model.errors import GraderError
from grader.model.results import SUITES, GradeResult
from grader.model.rubric import load_rubric

SUBCOMMAND_MODULES = (
    "grader.instructor.cli.verify",
    "grader.commands.check",
    "grader.instructor.cli.batch",
    "grader.instructor.cli.release",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is raised for ``main`` to print like any other."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("grader").strip()  # "grade" in "grader grade"
        raise GraderError(f"{command}: {message}" if command else message)


def build_parser() -> argparse.ArgumentParser:
    """The parser with ``grade`` and every installed subcommand module."""
    parser = _Parser(prog="grader", description="Grade the asynchronous-Django homework.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    _add_grade(subparsers)
    for name in SUBCOMMAND_MODULES:
        if not _installed(name):
            continue
        module = importlib.import_module(name)
        module.add_parser(subparsers)
    return parser


def _installed(name: str) -> bool:
    """Whether a command module is here: the student's copy has no ``grader.instructor``."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _add_grade(subparsers: Any) -> None:
    grade_parser = subparsers.add_parser(
        "grade",
        help="grade one submission",
        description="Grade a submission: a directory holding the answer files at their paths "
        "(a whole student repository, or just homework/*.py).",
    )
    grade_parser.add_argument("submission", type=Path, metavar="SUBMISSION")
    grade_parser.add_argument(
        "--suite",
        choices=SUITES,
        default=None,
        help="default: all (public where the hidden tests are not installed: a student's copy)",
    )
    grade_parser.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report")
    grade_parser.add_argument("--markdown", type=Path, metavar="FILE", help="write Markdown")
    grade_parser.add_argument(
        "--gradescope", type=Path, metavar="FILE", help="write Gradescope's results.json"
    )
    grade_parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    grade_parser.add_argument(
        "--part", action="append", metavar="ID", help="grade only this part (repeatable)"
    )
    grade_parser.add_argument(
        "--jobs", type=positive_int, metavar="N", help="pytest processes at once"
    )
    grade_parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="copy each part's workspace and pytest output into DIR, to investigate a grade "
        "(holds the hidden tests: for instructors only)",
    )
    grade_parser.add_argument(
        "--root", type=Path, metavar="DIR", help="the assignment's repository (default: this one)"
    )
    grade_parser.set_defaults(handler=run_grade)


def run_grade(args: argparse.Namespace) -> int:
    """Grade, print the table, write every report asked for; 0 full marks, 1 not."""
    rubric = load_rubric(args.root)
    suite = args.suite or ("all" if (rubric.tests / HIDDEN_DIR).is_dir() else "public")
    result = grade(
        args.submission,
        suite=suite,
        rubric=rubric,
        jobs=args.jobs,
        parts=args.part,
        keep=args.keep,
    )
    write_reports(result, args)
    return 0 if result.full_marks else 1


def write_reports(result: GradeResult, args: argparse.Namespace) -> None:
    """Every report of one result: the terminal table and the files and CI outputs."""
    from grader.reports import classroom, gradescope, json_report, junit, markdown, terminal

    terminal.print_result(result)
    if result.unsandboxed:
        print(f"grader: graded without the OS sandbox: {result.unsandboxed}", file=sys.stderr)
    if result.problems:
        for problem in result.problems:
            print(f"grader: INSTRUCTOR ERROR: {problem}", file=sys.stderr)
    outputs = {
        args.json: json_report.render,
        args.markdown: markdown.render,
        args.gradescope: gradescope.render,
        args.junit: junit.render,
    }
    for path, render in outputs.items():
        if path is not None:
            write_file(path, render(result))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as stream:
            stream.write(markdown.render(result))
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        with open(github_output, "a", encoding="utf-8") as stream:
            stream.write(classroom.output_lines(result))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grader`` command, and the one place an error is printed."""
    try:
        args = build_parser().parse_args(argv)
        status = args.handler(args)
    except GraderError as exc:
        print(f"grader: error: {error_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 2
    except Exception as exc:
        # A bug in the grader must never read as "graded, points lost" (an
        # uncaught exception exits with 1). GRADER_DEBUG=1 shows the traceback.
        if os.environ.get("GRADER_DEBUG"):
            raise
        print(
            f"grader: internal error: {type(exc).__name__}: {error_line(str(exc))}", file=sys.stderr
        )
        return 2
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
