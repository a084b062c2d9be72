"""What ``grader batch`` adds for the roster report: similarity and report.html, 200 submissions.

A few real grades (the reference, the starter, some mutants; public suite) are
repeated across ``size`` roster rows, so the report holds real results. The
submission folders are a mixed class: reference copies, mutants, starters, and a
quarter who share one unusual solution under different names (the alternatives,
renamed per student) — the costly case for similarity, every pair of them alike.
Timed: the similarity pass, then the report (plots, tables, side-by-side views),
in this process, imports included, as ``grader batch --similarity`` runs them.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import project
from bench.targets import Target

if TYPE_CHECKING:
    from grader.instructor.batch import Row

ALTERNATIVES = project.REPO_ROOT / "assignment" / "alternatives"
# An original solution: one alternative per answer file (the tests' roster uses it too).
ORIGINAL = (
    "alt_manual_405",
    "alt_taskgroup",
    "alt_thread_pool",
    "alt_date_lookup",
    "alt_function_middleware",
)
RENAMED = ("response", "queryset", "items", "start", "base", "data", "body")


@dataclass(frozen=True)
class RosterConfig:
    """Roster size, how many real grades to repeat, and the budget judged."""

    size: int = 200
    graded: int = 6
    budget_s: float = 30.0

    @classmethod
    def quick(cls) -> RosterConfig:
        return cls(size=12, graded=2)


def _write(dest: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text, encoding="utf-8")


def _reference() -> dict[str, str]:
    return {
        rel: data.decode("utf-8")
        for rel, data in project.submission_files(project.REFERENCE).items()
    }


def _original(student: int) -> dict[str, str]:
    """The alternatives together, with this student's own names."""
    files: dict[str, str] = {}
    for name in ORIGINAL:
        for path in sorted((ALTERNATIVES / name / "homework").glob("*.py")):
            text = path.read_text(encoding="utf-8")
            for word in RENAMED:
                text = re.sub(rf"\b{word}\b", f"{word}_{student}", text)
            files[f"homework/{path.name}"] = text
    return files


def make_roster(folder: Path, size: int) -> list[Path]:
    """``size`` submission folders: a mixed class (see the module docstring)."""
    reference = _reference()
    mutants = project.mutant_dirs()
    starter = {
        rel: (project.REPO_ROOT / "starter" / rel).read_text(encoding="utf-8") for rel in reference
    }
    made = []
    for i in range(size):
        dest = folder / f"s{i:03d}"
        kind = i % 4
        if kind == 0:
            files = {rel: f"# student {i}\n{text}" for rel, text in reference.items()}
        elif kind == 1 and mutants:
            files = {**reference, **project.mutant_answers(mutants[(i // 4) % len(mutants)])}
        elif kind == 2:
            files = _original(i)
        else:
            files = starter if i % 8 == 3 else {**starter, **_original(i)}
        _write(dest, files)
        made.append(dest)
    return made


def _grades(count: int, scratch: Path) -> list[Any]:
    """Real grades (public suite) of the reference, the starter and mutants."""
    from grader.engine.grading import grade

    mutants = project.mutant_dirs()
    folders = []
    for i in range(count):
        dest = scratch / f"graded{i}"
        if i == 0:
            _write(dest, _reference())
        elif i == 1:
            shutil.copytree(project.REPO_ROOT / "starter" / "homework", dest / "homework")
        else:
            _write(
                dest, {**_reference(), **project.mutant_answers(mutants[(i * 5) % len(mutants)])}
            )
        folders.append(dest)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda folder: grade(folder, suite="public"), folders))


def gradebook_rows(results: list[Any], folders: list[Path], gradebook: Path) -> list[Row]:
    """The gradebook a batch of ``folders`` would leave, from a few real ``results`` repeated.

    Each result is also kept where ``grader batch`` keeps it, since the report reads
    them back: the report is timed on the files a real batch leaves, not on a shortcut.
    """
    from grader.instructor.batch import Row
    from grader.instructor.roster import records
    from grader.model.results import number

    keep = records.recorder(records.results_dir(gradebook), lambda _result: "")
    rows = []
    for i, folder in enumerate(folders):
        result = results[i % len(results)]
        result.submission = str(folder)
        keep(result)
        rows.append(
            Row(
                folder.name,
                "graded",
                {p.id: str(number(p.score)) for p in result.parts},
                str(number(result.score)),
                str(number(result.max_score)),
            )
        )
    return rows


def run_roster(config: RosterConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Time the similarity pass and the report for ``config.size`` submissions."""
    from grader.instructor.roster.report import run_similarity, write_report
    from grader.model.rubric import load_rubric

    rubric = load_rubric(project.REPO_ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp:
        scratch = Path(tmp)
        log(f"roster: {config.graded} real grades, repeated over {config.size} submissions")
        results = _grades(config.graded, scratch)
        folders = make_roster(scratch / "roster", config.size)
        gradebook = scratch / "out" / "gradebook.csv"
        rows = gradebook_rows(results, folders, gradebook)
        log(f"roster: similarity and report.html for {config.size} submissions")
        started = time.perf_counter()
        similarity = run_similarity(folders, rubric)
        similarity_s = time.perf_counter() - started
        started = time.perf_counter()
        files = write_report(
            gradebook,
            rows,
            rubric,
            feedback_dir=scratch / "out" / "feedback",
            similarity=similarity,
        )
        report_s = time.perf_counter() - started
        size_kb = files.html.stat().st_size / 1024
    figures: dict[str, Any] = {
        "submissions": config.size,
        "similarity_s": similarity_s,
        "report_s": report_s,
        "total_s": similarity_s + report_s,
        "pairs": len(similarity.pairs),
        "candidates": similarity.candidates,
        "report_kb": round(size_kb, 1),
        "budget_s": config.budget_s,
    }
    figures["row"] = {
        "label": f"report + similarity: {config.size} submissions",
        "seconds": figures["total_s"],
        "runs": 1,
        "notes": f"similarity {similarity_s:.1f} s ({len(similarity.pairs)} pairs), "
        f"report {report_s:.1f} s ({size_kb:.0f} KiB)",
    }
    return figures


def roster_targets(figures: dict[str, Any], *, judged: bool) -> list[Target]:
    return [
        Target(
            "grading.roster_report",
            f"report + similarity for {figures['submissions']} submissions",
            figures["total_s"],
            "<=",
            figures["budget_s"],
            "s",
            judged,
        )
    ]


__all__ = ["RosterConfig", "make_roster", "roster_targets", "run_roster"]
