"""The one result object every report is rendered from.

Scoring lives here too, so that it has exactly one definition: a test that
passed earns its full points, any other outcome earns nothing, a part's score
is the sum of its tests' scores and the grade is the sum of the parts'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from grader.model.errors import GraderError

Status = Literal["passed", "failed", "error", "timeout", "skipped"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "timeout", "skipped")
Suite = Literal["public", "hidden", "all"]
SUITES: tuple[Suite, ...] = ("public", "hidden", "all")


def suite_named(name: str) -> Suite:
    """The suite called ``name``; any other name raises ``GraderError``.

    The one check of a suite name, for every caller that takes one from a person
    (``grade``, ``grader batch``): argparse's ``choices`` only guards the command line.
    """
    for suite in SUITES:
        if name == suite:
            return suite
    raise GraderError(f"unknown suite {name!r}: use public, hidden or all")


def tidy(points: float) -> float:
    """Round away float noise (0.1 + 0.2) so sums compare and print cleanly."""
    value = round(points, 6)
    return value + 0.0  # turns -0.0 into 0.0


def number(points: float) -> int | float:
    """``10.0`` as ``10``, ``2.5`` as ``2.5``: how points are written in reports."""
    value = tidy(points)
    return int(value) if value.is_integer() else value


@dataclass
class TestResult:
    """One grading test's outcome.

    ``name`` is the test's id below the suites folder, e.g.
    ``hidden/test_aggregator.py::test_timeout``; ``message`` is written for the
    student (never hidden-test source); ``duration`` is in seconds;
    ``line_no`` is the test's line in its file (0 when unknown).
    """

    __test__ = False  # not a pytest test class

    name: str
    status: Status
    score: float
    max_score: float
    message: str = ""
    duration: float = 0.0
    line_no: int = 0
    # The verdict rests on what the app reported about itself (its event loop, its
    # queries), not only on what the trusted side saw: counted apart in the reports.
    in_app_evidence: bool = False

    @property
    def suite(self) -> str:
        """``public`` or ``hidden``: the folder the test comes from."""
        return self.name.split("/", 1)[0]


@dataclass
class PartResult:
    """One rubric part: its tests and what happened to its answer files.

    ``graded`` is false for a part left out of this run (``parts=`` or a suite
    with no test for it); ``notes`` are student-facing remarks about the part
    as a whole (an answer file missing, the test process dying).
    """

    id: str
    title: str
    tests: list[TestResult] = field(default_factory=list)
    max_score: float = 0.0
    graded: bool = True
    files: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    # For the instructor, never a penalty in themselves: suspicious code in the
    # answer files (grader.engine.integrity) and forged or tampered results
    # (channel.read_signed, grader.judge.guard). See grader/SECURITY.md.
    warnings: list[str] = field(default_factory=list)

    @property
    def in_app_points(self) -> float:
        """The points whose tests rest on evidence the app reports about itself."""
        return tidy(sum(t.max_score for t in self.tests if t.in_app_evidence))

    @property
    def score(self) -> float:
        """The points earned: the sum of the tests' scores."""
        return tidy(sum(test.score for test in self.tests))


@dataclass
class GradeResult:
    """A whole grade: every rubric part, in rubric order, graded or not.

    ``problems`` lists instructor errors found while grading (a test without
    a ``points`` marker, a part whose tests do not add up to its points):
    they are the assignment's fault, never the student's, and every report
    shows them.
    """

    title: str
    suite: Suite
    parts: list[PartResult]
    submission: str = ""
    duration: float = 0.0
    problems: list[str] = field(default_factory=list)
    # Why graded code ran without the OS sandbox (grader.host.sandbox); empty when it ran inside.
    unsandboxed: str = ""

    @property
    def score(self) -> float:
        """The points earned in every part together."""
        return tidy(sum(part.score for part in self.parts))

    @property
    def max_score(self) -> float:
        """The points that could be earned in this run."""
        return tidy(sum(part.max_score for part in self.parts))

    @property
    def in_app_points(self) -> float:
        """The points, over every part, that rest on evidence the app reports about itself."""
        return tidy(sum(part.in_app_points for part in self.parts))

    @property
    def full_marks(self) -> bool:
        """True when nothing was lost (and something was graded)."""
        return self.max_score > 0 and self.score >= self.max_score

    @property
    def warnings(self) -> list[str]:
        """Every part's integrity warnings, each prefixed with its part id."""
        return [f"{part.id}: {warning}" for part in self.parts for warning in part.warnings]

    def tests(self) -> list[TestResult]:
        """Every test of every part, in report order."""
        return [test for part in self.parts for test in part.tests]


def in_app_note(result: GradeResult) -> str:
    """One line on the points that rest on in-app evidence ("" when none do)."""
    points = result.in_app_points
    if not points:
        return ""
    return (
        f"{number(points)} of {number(result.max_score)} points rest on evidence the graded "
        "app reports about itself (its event loop, its queries); the rest on what the grader saw."
    )


def score_for(status: Status, max_score: float) -> float:
    """The scoring rule: all the points for a pass, none for anything else."""
    return tidy(max_score) if status == "passed" else 0.0
