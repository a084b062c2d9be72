"""``grader release OUT``."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.instructor.release import (
    AUTOGRADER_DIR,
    GRADESCOPE_DIR,
    STUDENT_DIR,
    Artefacts,
    release,
)

__all__ = ["add_parser", "render", "run"]


def render(artefacts: Artefacts, out: Path) -> None:
    """One line per tree written: where, how many files, how many bytes."""
    trees = (
        (STUDENT_DIR, artefacts.student),
        (AUTOGRADER_DIR, artefacts.autograder),
        (GRADESCOPE_DIR, artefacts.gradescope),
    )
    for name, tree in trees:
        size = sum(len(entry.content) for entry in tree.values())
        print(f"{out / name}: {len(tree)} files, {size} bytes")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``grader release OUT``."""
    parser = subparsers.add_parser(
        "release",
        help="build the student template and the private autograder bundle",
        description=(
            "Write OUT/student (the GitHub Classroom template: starter, public tests, "
            "instructions, workflow), OUT/autograder (grader, rubric, scaffold, public "
            "and hidden suites) and OUT/gradescope/autograder.zip (the same bundle with "
            "Gradescope's setup.sh and run_autograder). All are replaced if they exist. None "
            "holds the reference solution or the mutants; the student tree holds no hidden test."
        ),
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="output directory")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Release to ``args.out``; print what was written."""
    render(release(args.out), args.out)
    return 0
