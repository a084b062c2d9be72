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

A mutant or alternative is the reference with its files laid over it (a
mutant's files are first materialized from its edits). Grading
is per part and a part sees only its own answer files, so a part whose files
equal the reference's would grade exactly like the reference: its result is
reused and only the changed parts run. That keeps the whole check to a few
minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.commands.argtypes import positive_int
from grader.engine.grading import grade
from grader.engine.workspace import is_junk
from grader.host import portable
from grader.instructor.mutants import MUTANT_FILE, StaleEditError, load_mutant, materialize
from grader.model.errors import GraderError
from grader.model.results import GradeResult, PartResult, number
from grader.model.rubric import Rubric, load_rubric

__all__ = ["Variant", "VerifyReport", "add_parser", "load_variants", "run", "verify"]

SOLUTION_DIR = "assignment/solution"
MUTANTS_DIR = "assignment/mutants"
ALTERNATIVES_DIR = "assignment/alternatives"

DEFAULT_JOBS = portable.per_core(portable.PROCESSES_PER_CORE)

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


def _overlay(rubric: Rubric, answers: Path, dest: Path) -> Path:
    """The reference's answer files, then those under ``answers`` over them, in ``dest``."""
    solution = rubric.root / SOLUTION_DIR
    for part in rubric.parts:
        for file in part.files:
            source = answers / file
            if not source.is_file():
                source = solution / file
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return dest


def _changed_parts(rubric: Rubric, answers: Path) -> list[str]:
    """Parts whose answer files under ``answers`` differ from the reference's."""
    solution = rubric.root / SOLUTION_DIR
    changed = []
    for part in rubric.parts:
        for file in part.files:
            mine = answers / file
            if mine.is_file() and mine.read_bytes() != (solution / file).read_bytes():
                changed.append(part.id)
                break
    return changed


def _grade_variant(
    rubric: Rubric, variant: Variant, answers: Path, reference: GradeResult
) -> tuple[GradeResult, list[str]]:
    """Grade only the parts ``answers`` changes; reuse the reference for the rest."""
    changed = _changed_parts(rubric, answers)
    if not changed:
        return reference, changed
    with tempfile.TemporaryDirectory(prefix=f"verify-{variant.name}-") as tmp:
        result = grade(_overlay(rubric, answers, Path(tmp)), rubric=rubric, parts=changed, jobs=1)
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


def _outcomes(result: GradeResult) -> dict[str, str]:
    return {test.name: test.status for test in result.tests()}


def _failing(result: GradeResult) -> set[str]:
    return {test.name for test in result.tests() if test.status != "passed"}


def _points(part: PartResult) -> str:
    return f"{number(part.score)} / {number(part.max_score)}"


def verify(
    rubric: Rubric,
    *,
    repeat: int = 3,
    jobs: int = 2,
    only: Iterable[str] = (),
    progress: Callable[[str], None] = lambda _message: None,
) -> VerifyReport:
    """Run every check (see the module docstring) and return the verdict."""
    report = VerifyReport()
    wanted = set(only)
    mutants = [m for m in load_variants(rubric, "mutant") if not wanted or m.name in wanted]
    alternatives = [
        a for a in load_variants(rubric, "alternative") if not wanted or a.name in wanted
    ]

    # The reference, several times: full marks and identical outcomes each time.
    progress(f"grading the reference solution ×{repeat}")
    with ThreadPoolExecutor(max_workers=max(1, min(repeat, jobs))) as pool:
        runs = list(
            pool.map(lambda _i: grade(rubric.root / SOLUTION_DIR, rubric=rubric), range(repeat))
        )
    reference = runs[0]
    for problem in reference.problems:
        report.add(Check("rubric", "", "", "points add up", "fail", problem))
    for part in reference.parts:
        missed = [t.name for t in part.tests if t.status != "passed"]
        report.add(
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
        name
        for run in runs[1:]
        for name, status in _outcomes(run).items()
        if first.get(name) != status
    )
    scores = [number(run.score) for run in runs]
    report.add(
        Check(
            f"reference ×{repeat}",
            "",
            # One figure when every run agrees; otherwise each run's score, in order.
            f"{scores[0]} every time" if len(set(scores)) == 1 else ", ".join(map(str, scores)),
            "identical outcomes",
            "fail" if flaky or len(set(scores)) > 1 else "ok",
            "outcome changed between runs: " + ", ".join(sorted(set(flaky))) if flaky else "",
        )
    )

    # The starter, and every variant, in parallel.
    progress(f"grading the starter, {len(mutants)} mutants, {len(alternatives)} alternatives")

    def grade_starter() -> GradeResult:
        return grade(rubric.starter, rubric=rubric)

    with (
        tempfile.TemporaryDirectory(prefix="verify-mutants-") as built,
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
    ):
        starter_future = pool.submit(grade_starter)
        sources, stale = _materialize_mutants(rubric, mutants, Path(built))
        sources += [(alternative, alternative.path) for alternative in alternatives]
        variant_futures = [
            (variant, pool.submit(_grade_variant, rubric, variant, answers, reference))
            for variant, answers in sources
        ]
        starter = starter_future.result()
        graded = [(variant, future.result()) for variant, future in variant_futures]

    for part in starter.parts:
        report.add(
            Check(
                "starter",
                part.id,
                _points(part),
                "zero",
                "ok" if part.score == 0 else "fail",
                ", ".join(t.name for t in part.tests if t.status == "passed"),
            )
        )

    for check in stale:
        report.add(check)
    caught_by_mutants: set[str] = set()
    for variant, (result, changed) in graded:
        by_id = {part.id: part for part in result.parts}
        reference_parts = {part.id: part for part in reference.parts}
        if variant.kind == "mutant":
            own = by_id[variant.part]
            lost = reference_parts[variant.part].score - own.score
            elsewhere = [
                part.id
                for part in result.parts
                if part.id != variant.part and part.score < reference_parts[part.id].score
            ]
            failing = sorted(_failing(result))
            caught_by_mutants.update(failing)
            ok = lost >= variant.min_points_lost and not elsewhere and changed == [variant.part]
            detail = variant.description
            if changed != [variant.part]:
                detail += f" | changes parts {changed}, expected only {variant.part}"
            if elsewhere:
                detail += f" | also loses points in {elsewhere}"
            report.add(
                Check(
                    f"mutant {variant.name}",
                    variant.part,
                    _points(own),
                    f"loses ≥ {number(variant.min_points_lost)} (lost {number(lost)})",
                    "ok" if ok else "fail",
                    detail,
                )
            )
        else:
            lost_tests = [t.name for t in result.tests() if t.status != "passed"]
            report.add(
                Check(
                    f"alternative {variant.name}",
                    ",".join(changed),
                    f"{number(result.score)} / {number(result.max_score)}",
                    "full marks",
                    "ok" if not lost_tests else "fail",
                    variant.description
                    + ("" if not lost_tests else " | lost: " + ", ".join(lost_tests)),
                )
            )

    # Every test must fail on some wrong answer.
    if not wanted:
        every_test = set(first)
        caught_by_starter = _failing(starter)
        report.uncovered = sorted(every_test - caught_by_starter - caught_by_mutants)
        report.starter_only = sorted((every_test & caught_by_starter) - caught_by_mutants)
        report.add(
            Check(
                "coverage",
                "",
                f"{len(every_test) - len(report.uncovered)} / {len(every_test)}",
                "every test fails on a wrong answer",
                "fail" if report.uncovered else ("warn" if report.starter_only else "ok"),
                ("never failed: " + ", ".join(report.uncovered) + ". " if report.uncovered else "")
                + (
                    f"{len(report.starter_only)} test(s) fail only on the starter, on no mutant"
                    if report.starter_only
                    else ""
                ),
            )
        )
    return report


def _first_line(result: GradeResult, name: str) -> str:
    for test in result.tests():
        if test.name == name:
            return (test.message or test.status).strip().splitlines()[0][:160]
    return ""


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def render(report: VerifyReport, console: Console) -> None:
    """The verdict as a rich table, then the tests only the starter fails."""
    styles = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    table = Table(title="grader verify", expand=False)
    for column in ("Subject", "Part", "Score", "Expectation", "Verdict", "Detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        table.add_row(  # Text(): test ids hold [brackets] that rich would read as markup
            Text(check.subject),
            Text(check.part),
            Text(check.score),
            Text(check.expectation),
            Text(check.level.upper(), style=styles[check.level]),
            Text(check.detail),
        )
    console.print(table)
    if report.starter_only:
        console.print(
            Text("Warning: no mutant fails these tests (only the starter does):", style="yellow")
        )
        for name in report.starter_only:
            console.print(Text(f"  {name}"))
    console.print(
        Text("verify: OK", style="bold green")
        if report.ok
        else Text("verify: FAILED", style="bold red")
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``grader verify [--repeat N] [--jobs N] [--only NAME] [--json FILE]``."""
    parser = subparsers.add_parser(
        "verify",
        help="check the assignment itself: reference, starter, mutants, alternatives",
        description=(
            "Reference full marks (N identical runs), starter zero, each mutant loses at least "
            "its points in its own part only, each alternative keeps full marks, and every "
            "grading test fails on some wrong answer. Exit 0 when all hold, 1 otherwise, "
            "2 when the assignment cannot be read."
        ),
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=3,
        metavar="N",
        help="grade the reference N times (default 3)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"gradings at once (default {DEFAULT_JOBS}: the tests mostly wait, 2 x cores)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this mutant/alternative (repeatable; skips coverage)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the verdict as JSON")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="the repository holding assignment/ (default: this one)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``verify`` and print the verdict: 0 all good, 1 a check failed, 2 unusable."""
    console = Console(stderr=False)
    rubric = load_rubric(args.root)
    report = verify(
        rubric,
        repeat=args.repeat,
        jobs=args.jobs,
        only=args.only,
        progress=lambda message: console.print(f"[dim]… {message}[/dim]"),
    )  # a GraderError (an unusable assignment) is cli.main's to say, in one line
    render(report, console)
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    return 0 if report.ok else 1
