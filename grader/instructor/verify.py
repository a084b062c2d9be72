"""``grader verify``: the assignment's own test.

A grading suite is only trustworthy if it tells right from wrong. This checks,
with the real engine:

* the reference solution gets full marks, ``--repeat N`` times with the very
  same per-test outcomes (a flaky test would grade students by luck), and the
  points of every part add up (no instructor problem);
* the starter scores zero in every part;
* every mutant (``assignment/mutants/<name>/mutant.toml``: ``part``,
  ``min_points_lost``, ``description`` and the ``[[edit]]`` find/replace edits
  that put ONE known bug into the CURRENT reference, see ``grader.instructor.mutants``)
  still applies to the reference (a ``find`` text gone or ambiguous is a failed
  check, never a silent skip), loses at least ``min_points_lost`` points in its
  part and nothing anywhere else;
* every alternative (``assignment/alternatives/<name>/``: valid answers another
  way plus ``alternative.toml``) keeps full marks;
* every grading test fails on at least one wrong answer (the starter or a
  mutant). A test that nothing fails is a failure; one that only the starter
  fails is reported as a warning (no realistic mistake is known to trip it).

A mutant or alternative is the reference's answer files with its own in their
place (a mutant's files are first materialized from its edits). Grading is per
part and a part sees only its own answer files, so a part whose files equal the
reference's would grade exactly like the reference: its result is reused and
only the changed parts run, which keeps the whole check to minutes, not hours.

This module is the logic: ``verify`` returns a ``VerifyReport``. The command
line and the table are ``grader.instructor.cli.verify``'s.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.engine.grading import grade
from grader.engine.workspace import Answer, find_answers, is_junk
from grader.host import portable
from grader.instructor.mutants import MUTANT_FILE, StaleEditError, load_mutant, materialize
from grader.model.errors import GraderError
from grader.model.results import GradeResult, PartResult, number
from grader.model.rubric import Rubric

__all__ = ["DEFAULT_JOBS", "Check", "Variant", "VerifyReport", "load_variants", "verify"]

SOLUTION_DIR = "assignment/solution"
MUTANTS_DIR = "assignment/mutants"
ALTERNATIVES_DIR = "assignment/alternatives"

DEFAULT_JOBS = portable.per_core(portable.PROCESSES_PER_CORE)  # gradings at once

Kind = Literal["mutant", "alternative"]
Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Variant:
    """A mutant (must lose points) or an alternative (must keep them)."""

    kind: Kind
    name: str
    path: Path
    description: str
    files: tuple[str, ...]  # answer files it holds or edits, e.g. ("homework/tasks.py",)
    part: str = ""  # mutants: the part it breaks
    min_points_lost: float = 0.0


@dataclass
class Check:
    """One line of the verdict."""

    subject: str
    part: str
    score: str
    expectation: str
    level: Level
    detail: str = ""


@dataclass
class VerifyReport:
    """Everything ``verify`` found; ``ok`` is false when any check failed."""

    checks: list[Check] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    starter_only: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(check.level == "fail" for check in self.checks)

    def add(self, check: Check) -> None:
        self.checks.append(check)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [check.__dict__ for check in self.checks],
            "uncovered_tests": self.uncovered,
            "tests_only_the_starter_fails": self.starter_only,
        }


# --------------------------------------------------------------------------
# Loading mutants and alternatives
# --------------------------------------------------------------------------


def load_variants(rubric: Rubric, kind: Kind) -> list[Variant]:
    """Read every ``<kind>s/<name>/`` folder; a malformed one raises GraderError.

    A mutant folder holds only ``mutant.toml`` (its edits); an alternative
    folder holds whole answer files plus ``alternative.toml``.
    """
    folder = rubric.root / (MUTANTS_DIR if kind == "mutant" else ALTERNATIVES_DIR)
    if not folder.is_dir():
        return []
    answer_files = {file for part in rubric.parts for file in part.files}
    variants = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        if kind == "mutant":
            variants.append(_load_mutant(rubric, path, answer_files))
            continue
        meta_path = path / f"{kind}.toml"
        try:
            meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise GraderError(f"{meta_path}: cannot be read ({exc})") from None
        files = tuple(
            sorted(
                file.relative_to(path).as_posix()
                for file in path.rglob("*.py")
                if not is_junk(file.relative_to(path))
            )
        )
        stray = [file for file in files if file not in answer_files]
        if not files or stray:
            raise GraderError(
                f"{path}: holds {list(files)}; a {kind} holds answer files only (stray: {stray})"
            )
        description = meta.get("description")
        if not isinstance(description, str) or not description.strip():
            raise GraderError(f"{meta_path}: needs a description")
        variants.append(Variant(kind, path.name, path, description.strip(), files))
    return variants


def _load_mutant(rubric: Rubric, path: Path, answer_files: set[str]) -> Variant:
    """A mutant's spec, checked against the rubric (known part, answer files only)."""
    spec = load_mutant(path)
    rubric.part(spec.part)  # raises GraderError for an unknown part id
    leftovers = sorted(
        file.relative_to(path).as_posix()
        for file in path.rglob("*")
        if file.is_file() and file.name != MUTANT_FILE and not is_junk(file.relative_to(path))
    )
    if leftovers:
        raise GraderError(
            f"{path}: holds {leftovers}; a mutant is its mutant.toml edits only "
            "(a copied answer file would not follow the reference)"
        )
    stray = [file for file in spec.files if file not in answer_files]
    if stray:
        raise GraderError(f"{path}/mutant.toml: edits {stray}; a mutant edits answer files only")
    return Variant(
        "mutant", spec.name, path, spec.description, spec.files, spec.part, spec.min_points_lost
    )


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------

Answers = dict[str, list[Answer]]  # part id -> its answer files, as grade() takes them


def _variant_answers(rubric: Rubric, folder: Path, reference: Answers) -> tuple[Answers, list[str]]:
    """The reference's answers with those ``folder`` holds in their place, and the parts
    whose bytes that changes.

    Files are found exactly as a student's are (``find_answers``), so the grade
    of a variant is the grade its files would get as a submission; nothing is copied.
    """
    answers: Answers = {}
    changed = []
    for part in rubric.parts:
        own = {answer.file: answer for answer in find_answers(folder, part) if answer.path}
        answers[part.id] = [own.get(answer.file, answer) for answer in reference[part.id]]
        if any(own[a.file].content != a.content for a in reference[part.id] if a.file in own):
            changed.append(part.id)
    return answers, changed


def _grade_variant(
    rubric: Rubric, variant: Variant, folder: Path, reference: GradeResult, answers: Answers
) -> tuple[GradeResult, list[str]]:
    """Grade only the parts ``folder`` changes; reuse the reference's result for the rest."""
    mine, changed = _variant_answers(rubric, folder, answers)
    if not changed:
        return reference, changed
    result = grade(folder, rubric=rubric, parts=changed, jobs=1, answers=mine)
    reused = {part.id: part for part in reference.parts}
    parts: list[PartResult] = [
        part if part.id in changed else reused[part.id] for part in result.parts
    ]
    merged = GradeResult(
        title=result.title,
        suite=result.suite,
        parts=parts,
        submission=str(variant.path),
        duration=result.duration,
        problems=result.problems,
    )
    return merged, changed


def _materialize_mutants(
    rubric: Rubric, mutants: list[Variant], dest: Path
) -> tuple[list[tuple[Variant, Path]], list[Check]]:
    """Each mutant's answer files under ``dest/<name>``, and a failed check per stale one.

    A stale mutant (its ``find`` text no longer occurs exactly once in the
    reference) is not graded: applying its bug elsewhere, or not at all,
    would test nothing. It fails verify with the reason instead.
    """
    built: list[tuple[Variant, Path]] = []
    stale: list[Check] = []
    for mutant in mutants:
        try:
            answers = materialize(mutant.path, rubric.root / SOLUTION_DIR, dest / mutant.name)
        except StaleEditError as exc:
            subject = f"mutant {mutant.name}"
            stale.append(Check(subject, mutant.part, "", "its edit applies", "fail", str(exc)))
            continue
        built.append((mutant, answers))
    return built, stale


@dataclass
class _Gradings:
    """Every grading verify judges: the reference runs, the starter, each variant's."""

    runs: list[GradeResult]
    starter: GradeResult
    graded: list[tuple[Variant, tuple[GradeResult, list[str]]]]
    stale: list[Check]

    @property
    def reference(self) -> GradeResult:
        return self.runs[0]


def _grade_reference(rubric: Rubric, repeat: int, jobs: int) -> list[GradeResult]:
    """The reference graded ``repeat`` times, side by side: a flaky test shows as a
    difference between runs, which one run cannot show."""
    with ThreadPoolExecutor(max_workers=max(1, min(repeat, jobs))) as pool:
        return list(
            pool.map(lambda _i: grade(rubric.root / SOLUTION_DIR, rubric=rubric), range(repeat))
        )


def _grade_wrong_answers(
    rubric: Rubric,
    reference: GradeResult,
    mutants: list[Variant],
    alternatives: list[Variant],
    jobs: int,
) -> tuple[GradeResult, list[tuple[Variant, tuple[GradeResult, list[str]]]], list[Check]]:
    """The starter and every variant, in parallel (each variant grades only its own parts,
    so many small gradings share the pool); stale mutants come back as failed checks."""
    reference_answers = {
        part.id: find_answers(rubric.root / SOLUTION_DIR, part) for part in rubric.parts
    }
    with (
        tempfile.TemporaryDirectory(prefix="verify-mutants-") as built,
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
    ):
        starter_future = pool.submit(lambda: grade(rubric.starter, rubric=rubric))
        sources, stale = _materialize_mutants(rubric, mutants, Path(built))
        sources += [(alternative, alternative.path) for alternative in alternatives]
        futures = [
            (
                variant,
                pool.submit(_grade_variant, rubric, variant, folder, reference, reference_answers),
            )
            for variant, folder in sources
        ]
        starter = starter_future.result()
        graded = [(variant, future.result()) for variant, future in futures]
    return starter, graded, stale


# --------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------


def _outcomes(result: GradeResult) -> dict[str, str]:
    return {test.name: test.status for test in result.tests()}


def _failing(result: GradeResult) -> set[str]:
    return {test.name for test in result.tests() if test.status != "passed"}


def _points(part: PartResult) -> str:
    return f"{number(part.score)} / {number(part.max_score)}"


def _first_line(result: GradeResult, name: str) -> str:
    for test in result.tests():
        if test.name == name:
            return (test.message or test.status).strip().splitlines()[0][:160]
    return ""


def _reference_checks(runs: list[GradeResult]) -> list[Check]:
    """The rubric adds up, every part at full marks, and every run alike."""
    reference = runs[0]
    checks = [Check("rubric", "", "", "points add up", "fail", p) for p in reference.problems]
    for part in reference.parts:
        missed = [t.name for t in part.tests if t.status != "passed"]
        checks.append(
            Check(
                "reference",
                part.id,
                _points(part),
                "full marks",
                "ok" if not missed and part.max_score > 0 else "fail",
                "; ".join(f"{name}: {_first_line(reference, name)}" for name in missed),
            )
        )
    first = _outcomes(reference)
    flaky = sorted(
        {
            name
            for run in runs[1:]
            for name, status in _outcomes(run).items()
            if first.get(name) != status
        }
    )
    scores = [number(run.score) for run in runs]
    checks.append(
        Check(
            f"reference ×{len(runs)}",
            "",
            # One figure when every run agrees; otherwise each run's score, in order.
            f"{scores[0]} every time" if len(set(scores)) == 1 else ", ".join(map(str, scores)),
            "identical outcomes",
            "fail" if flaky or len(set(scores)) > 1 else "ok",
            "outcome changed between runs: " + ", ".join(flaky) if flaky else "",
        )
    )
    return checks


def _starter_checks(starter: GradeResult) -> list[Check]:
    """Every part of the untouched starter scores zero: otherwise points are free."""
    return [
        Check(
            "starter",
            part.id,
            _points(part),
            "zero",
            "ok" if part.score == 0 else "fail",
            ", ".join(t.name for t in part.tests if t.status == "passed"),
        )
        for part in starter.parts
    ]


def _mutant_check(
    variant: Variant, result: GradeResult, changed: list[str], reference: GradeResult
) -> Check:
    """The mutant loses at least its points in its own part, and nothing elsewhere: a
    bug that costs points in another part means the parts' tests overlap."""
    reference_parts = {part.id: part for part in reference.parts}
    own = next(part for part in result.parts if part.id == variant.part)
    lost = reference_parts[variant.part].score - own.score
    elsewhere = [
        part.id
        for part in result.parts
        if part.id != variant.part and part.score < reference_parts[part.id].score
    ]
    ok = lost >= variant.min_points_lost and not elsewhere and changed == [variant.part]
    detail = variant.description
    if changed != [variant.part]:
        detail += f" | changes parts {changed}, expected only {variant.part}"
    if elsewhere:
        detail += f" | also loses points in {elsewhere}"
    return Check(
        f"mutant {variant.name}",
        variant.part,
        _points(own),
        f"loses ≥ {number(variant.min_points_lost)} (lost {number(lost)})",
        "ok" if ok else "fail",
        detail,
    )


def _alternative_check(variant: Variant, result: GradeResult, changed: list[str]) -> Check:
    """Another valid answer keeps full marks: otherwise the tests demand one way of doing it."""
    lost_tests = [t.name for t in result.tests() if t.status != "passed"]
    return Check(
        f"alternative {variant.name}",
        ",".join(changed),
        f"{number(result.score)} / {number(result.max_score)}",
        "full marks",
        "ok" if not lost_tests else "fail",
        variant.description + ("" if not lost_tests else " | lost: " + ", ".join(lost_tests)),
    )


def _coverage_check(report: VerifyReport, gradings: _Gradings) -> Check:
    """Every test fails on some wrong answer (fills ``report.uncovered`` and
    ``starter_only``): a test nothing fails grades nothing."""
    every_test = set(_outcomes(gradings.reference))
    caught_by_starter = _failing(gradings.starter)
    caught_by_mutants = {
        name
        for variant, (result, _changed) in gradings.graded
        if variant.kind == "mutant"
        for name in _failing(result)
    }
    report.uncovered = sorted(every_test - caught_by_starter - caught_by_mutants)
    report.starter_only = sorted((every_test & caught_by_starter) - caught_by_mutants)
    never = "never failed: " + ", ".join(report.uncovered) + ". " if report.uncovered else ""
    only = len(report.starter_only)
    return Check(
        "coverage",
        "",
        f"{len(every_test) - len(report.uncovered)} / {len(every_test)}",
        "every test fails on a wrong answer",
        "fail" if report.uncovered else ("warn" if report.starter_only else "ok"),
        never + (f"{only} test(s) fail only on the starter, on no mutant" if only else ""),
    )


def _judge(gradings: _Gradings, *, coverage: bool) -> VerifyReport:
    """The verdict on every grading, in the order the table shows it."""
    report = VerifyReport()
    for check in _reference_checks(gradings.runs):
        report.add(check)
    for check in _starter_checks(gradings.starter):
        report.add(check)
    for check in gradings.stale:
        report.add(check)
    for variant, (result, changed) in gradings.graded:
        if variant.kind == "mutant":
            report.add(_mutant_check(variant, result, changed, gradings.reference))
        else:
            report.add(_alternative_check(variant, result, changed))
    if coverage:
        report.add(_coverage_check(report, gradings))
    return report


def verify(
    rubric: Rubric,
    *,
    repeat: int = 3,
    jobs: int = 2,
    only: Iterable[str] = (),
    progress: Callable[[str], None] = lambda _message: None,
) -> VerifyReport:
    """Run every check (see the module docstring) and return the verdict.

    ``only`` names the mutants and alternatives to check; coverage is then not
    judged, since a test left uncaught may be caught by one left out.
    """
    wanted = set(only)
    mutants = [m for m in load_variants(rubric, "mutant") if not wanted or m.name in wanted]
    alternatives = [
        a for a in load_variants(rubric, "alternative") if not wanted or a.name in wanted
    ]
    progress(f"grading the reference solution ×{repeat}")
    runs = _grade_reference(rubric, repeat, jobs)
    progress(f"grading the starter, {len(mutants)} mutants, {len(alternatives)} alternatives")
    starter, graded, stale = _grade_wrong_answers(rubric, runs[0], mutants, alternatives, jobs)
    return _judge(_Gradings(runs, starter, graded, stale), coverage=not wanted)
