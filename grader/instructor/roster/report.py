"""Write ``report.html`` (and, with similarity, ``similarity.csv``) beside a gradebook.

The only module here that touches files: it reads what ``grader batch`` wrote (the
rows, the per-submission results), runs the pure parts and writes the outputs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from grader.instructor.roster import records
from grader.instructor.roster.records import RowLike
from grader.instructor.roster.similarity import SimilarityResult
from grader.instructor.roster.stats import PartInfo, compute
from grader.model.rubric import Rubric

__all__ = [
    "ReportFiles",
    "after_batch",
    "report_path",
    "run_similarity",
    "similarity_csv",
    "write_report",
]


@dataclass(frozen=True)
class ReportFiles:
    """What was written."""

    html: Path
    similarity_csv: Path | None = None


def report_path(csv_path: Path) -> Path:
    """``report.html`` beside the gradebook."""
    return csv_path.with_name("report.html")


def similarity_path(csv_path: Path) -> Path:
    """``similarity.csv`` beside the gradebook."""
    return csv_path.with_name("similarity.csv")


def run_similarity(
    submissions: Sequence[Path],
    rubric: Rubric,
    *,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> SimilarityResult:
    """Compare the submissions' answer files with each other and with the reference.

    ``progress(steps)`` returns the function called after each step (see ``find_pairs``).
    """
    from grader.instructor.roster.similarity import boilerplate_texts, documents, find_pairs

    docs = documents(submissions, rubric)
    return find_pairs(docs, boilerplate_texts(rubric), progress=progress)


def similarity_csv(result: SimilarityResult) -> str:
    """Every pair, strongest first (shares in percent)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "submission_a",
            "submission_b",
            "share_a_pct",
            "share_b_pct",
            "overlap_chars",
            "with_reference",
        ]
    )
    for pair in result.pairs:
        writer.writerow(
            [
                _cell(pair.a),
                _cell(pair.b),
                f"{pair.share_a * 100:.1f}",
                f"{pair.share_b * 100:.1f}",
                pair.overlap,
                "yes" if pair.with_reference else "no",
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A folder name as a spreadsheet will not run it as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_report(
    csv_path: Path,
    rows: Iterable[RowLike],
    rubric: Rubric,
    *,
    feedback_dir: Path,
    similarity: SimilarityResult | None = None,
) -> ReportFiles:
    """Build the report from the batch's rows and results; write it (and the pairs' CSV)."""
    from grader.instructor.roster import html

    target = report_path(csv_path)
    submissions = records.load(rows, records.results_dir(csv_path), feedback_dir, target.parent)
    parts = [PartInfo(part.id, part.title, part.points) for part in rubric.parts]
    stats = compute(rubric.title, parts, submissions)
    target.write_text(html.render(stats, similarity), encoding="utf-8")
    pairs_file = None
    if similarity is not None:
        pairs_file = similarity_path(csv_path)
        pairs_file.write_text(similarity_csv(similarity), encoding="utf-8")
    return ReportFiles(target, pairs_file)


def after_batch(
    directory: Path,
    csv_path: Path,
    rows: Sequence[RowLike],
    rubric: Rubric,
    *,
    feedback_dir: Path,
    similarity: bool,
    console: Console,
) -> ReportFiles | None:
    """What ``grader batch`` runs once every submission is graded: similarity (when asked,
    with a progress bar) and the report, then one line naming what was written. Never
    fails the batch: a problem is one line on the console and no report (the gradebook
    is already written)."""
    try:
        found = None
        if similarity:
            graded = [directory / row.submission for row in rows if row.status == "graded"]
            progress = Progress(
                TextColumn("[bold]similarity"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            with progress:

                def start(total: int) -> Callable[[], None]:
                    task = progress.add_task("", total=total)
                    return lambda: progress.update(task, advance=1)

                found = run_similarity(graded, rubric, progress=start)
        files = write_report(csv_path, rows, rubric, feedback_dir=feedback_dir, similarity=found)
    except ImportError as exc:
        console.print(
            f"report.html not written: {exc.name or exc} is missing; install the report "
            "extra (pip install -e '.[report]')",
            markup=False,
        )
        return None
    except Exception as exc:  # the gradebook is written: a report problem must not hide it
        console.print(f"report.html not written: {type(exc).__name__}: {exc}", markup=False)
        return None
    written = f"report: {files.html}"
    if files.similarity_csv is not None and found is not None:
        written += f"; {len(found.pairs)} similar pair(s): {files.similarity_csv}"
    console.print(written, markup=False, highlight=False)
    return files
