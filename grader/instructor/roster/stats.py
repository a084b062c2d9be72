"""What the roster report shows, computed from the submissions as plain data.

Pure functions: the same submissions always give the same ``RosterStats``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.host.runner import APP_ENDED, TESTS_ENDED
from grader.instructor.roster.records import Submission

__all__ = [
    "Distribution",
    "Flag",
    "PartInfo",
    "RosterStats",
    "TestStat",
    "compute",
    "is_unsandboxed",
]

MESSAGE_CHARS = 400  # a failure message longer than this is cut in the summary


@dataclass(frozen=True)
class PartInfo:
    """A rubric part as the report names it."""

    id: str
    title: str
    points: float


@dataclass(frozen=True)
class Distribution:
    """The scores of one part (or the totals) of every graded submission.

    ``note`` is one line saying why there is nothing to plot (empty when there is).
    """

    key: str
    title: str
    max_score: float
    values: tuple[float, ...]
    note: str = ""

    @property
    def plottable(self) -> bool:
        """True when the values have a spread worth a plot."""
        return not self.note

    @property
    def mean(self) -> float | None:
        """The mean score, None without values."""
        return statistics.fmean(self.values) if self.values else None

    @property
    def median(self) -> float | None:
        """The median score, None without values."""
        return statistics.median(self.values) if self.values else None


@dataclass(frozen=True)
class TestStat:
    """One grading test across the roster: how many ran it and passed, and the failure
    message seen most often (``top_count`` submissions saw it)."""

    __test__ = False  # not a pytest test class

    name: str
    part: str
    max_score: float
    ran: int
    passed: int
    statuses: Mapping[str, int]
    top_message: str = ""
    top_count: int = 0

    @property
    def rate(self) -> float:
        """The share of submissions that passed it (0 when none ran it)."""
        return self.passed / self.ran if self.ran else 0.0


@dataclass(frozen=True)
class Flag:
    """A submission to look at: the kinds of trouble and one line per detail."""

    name: str
    feedback: str
    kinds: tuple[str, ...]
    details: tuple[str, ...]


@dataclass(frozen=True)
class RosterStats:
    """Everything the report shows but similarity."""

    title: str
    submissions: tuple[Submission, ...]
    parts: tuple[PartInfo, ...]
    total: Distribution
    by_part: tuple[Distribution, ...]
    tests: tuple[TestStat, ...]
    flags: tuple[Flag, ...]
    missing_results: tuple[str, ...] = field(default_factory=tuple)

    @property
    def graded(self) -> int:
        """How many submissions have a grade."""
        return sum(1 for s in self.submissions if s.graded)

    @property
    def errors(self) -> int:
        """How many could not be graded."""
        return sum(1 for s in self.submissions if not s.graded)


def _fmt(value: float) -> str:
    return f"{value:g}"


def distribution(key: str, title: str, max_score: float, values: Sequence[float]) -> Distribution:
    """The distribution, with a one-line note when it has nothing to plot."""
    note = ""
    if not values:
        note = "No submission was graded: nothing to plot."
    elif len(values) == 1:
        note = f"Only one graded submission ({_fmt(values[0])} points): no distribution to plot."
    elif len(set(values)) == 1:
        note = (
            f"All {len(values)} graded submissions scored {_fmt(values[0])} points: "
            "no spread to plot."
        )
    return Distribution(key, title, max_score, tuple(values), note)


def is_unsandboxed(result: Mapping[str, Any]) -> bool:
    """True when the result says it was graded without the sandbox.

    Read defensively: ``"unsandboxed": true`` or ``"sandboxed": false`` on the result or on
    any of its parts (the field is added by the sandbox work; older results lack it).
    """
    scopes: list[Any] = [result, *(result.get("parts") or [])]
    for scope in scopes:
        if not isinstance(scope, Mapping):
            continue
        if scope.get("unsandboxed") is True or scope.get("sandboxed") is False:
            return True
    return False


def _tests(result: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for part in result.get("parts") or []:
        if not isinstance(part, Mapping) or part.get("graded") is False:
            continue
        for test in part.get("tests") or []:
            if isinstance(test, Mapping):
                yield str(part.get("id", "")), test


def test_stats(submissions: Iterable[Submission]) -> list[TestStat]:
    """Every test's pass rate and most frequent failure message, hardest first."""
    ran: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    statuses: dict[str, Counter[str]] = {}
    messages: dict[str, Counter[str]] = {}
    info: dict[str, tuple[str, float]] = {}
    for submission in submissions:
        if submission.result is None:
            continue
        for part_id, test in _tests(submission.result):
            name = str(test.get("name", ""))
            status = str(test.get("status", ""))
            if status == "skipped":
                continue
            info.setdefault(name, (part_id, float(test.get("max_score") or 0)))
            ran[name] += 1
            statuses.setdefault(name, Counter())[status] += 1
            if status == "passed":
                passed[name] += 1
            else:
                message = " ".join(str(test.get("message") or "(no message)").split())
                messages.setdefault(name, Counter())[message[:MESSAGE_CHARS]] += 1
    found = []
    for name, (part_id, max_score) in info.items():
        top = messages.get(name, Counter()).most_common(1)
        found.append(
            TestStat(
                name=name,
                part=part_id,
                max_score=max_score,
                ran=ran[name],
                passed=passed[name],
                statuses=dict(statuses[name]),
                top_message=top[0][0] if top else "",
                top_count=top[0][1] if top else 0,
            )
        )
    found.sort(key=lambda t: (t.rate, t.part, t.name))
    return found


# The engine's words for a test that never reported because a process died under it
# (grader.host.runner; tests/grader/test_roster_batch.py grades a crashing submission).
CRASH_MESSAGES = (f"{APP_ENDED} ", f"{TESTS_ENDED} ")


def _kind(test: Mapping[str, Any]) -> str:
    """``timeout``, ``crash`` (the test process died under it) or its plain status."""
    status = str(test.get("status", ""))
    if status == "error" and str(test.get("message", "")).startswith(CRASH_MESSAGES):
        return "crash"
    return status


def flag(submission: Submission) -> Flag | None:
    """Why an instructor should look at this submission, or None.

    Not graded, graded without the sandbox, instructor errors, integrity warnings,
    timeouts and crashes; a test that merely raised an exception is in the tests table.
    """
    kinds: list[str] = []
    details: list[str] = []
    if not submission.graded:
        kinds.append("not graded")
        details.append(submission.reason or "could not be graded")
    result = submission.result or {}
    if result and is_unsandboxed(result):
        kinds.append("unsandboxed")
        details.append("graded without the sandbox")
    for problem in result.get("problems") or []:
        kinds.append("instructor error")
        details.append(str(problem))
    warnings = [
        f"{part.get('id', '')}: {warning}"
        for part in result.get("parts") or []
        if isinstance(part, Mapping)
        for warning in part.get("warnings") or []
    ]
    if warnings:
        kinds.append("integrity")
        details += warnings
    tests = list(_tests(result))
    for kind, what in (("timeout", "timed out"), ("crash", "ended with the test process")):
        hit = [(part_id, test) for part_id, test in tests if _kind(test) == kind]
        if hit:
            kinds.append(kind)
            by_part = Counter(part_id for part_id, _ in hit)
            first = " ".join(str(hit[0][1].get("message") or "").split())[:200]
            details.append(
                f"{len(hit)} test(s) {what} "
                f"({', '.join(f'{p}: {n}' for p, n in sorted(by_part.items()))})"
                + (f": {first}" if first else "")
            )
    if not kinds:
        return None
    return Flag(submission.name, submission.feedback, tuple(dict.fromkeys(kinds)), tuple(details))


def compute(
    title: str, parts: Sequence[PartInfo], submissions: Sequence[Submission]
) -> RosterStats:
    """All the report's figures from the roster (similarity aside)."""
    graded = [s for s in submissions if s.graded]
    max_total = sum(part.points for part in parts)
    totals = [s.total for s in graded if s.total is not None]
    by_part = []
    for part in parts:
        values = [v for s in graded if (v := s.points.get(part.id)) is not None]
        by_part.append(distribution(part.id, part.title, part.points, values))
    flags = [found for s in submissions if (found := flag(s)) is not None]
    return RosterStats(
        title=title,
        submissions=tuple(submissions),
        parts=tuple(parts),
        total=distribution("total", "Total", max_total, totals),
        by_part=tuple(by_part),
        tests=tuple(test_stats(submissions)),
        flags=tuple(flags),
        missing_results=tuple(s.name for s in graded if s.result is None),
    )
