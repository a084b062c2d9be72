"""Each submission's full result, kept beside the gradebook so the report can be rebuilt.

``grader batch`` writes ``<gradebook>-results/<submission>.json`` (the JSON report of
``grader grade --json``) whenever it grades a submission; a resumed batch keeps the
files of the submissions it did not grade again. ``load`` joins them with the
gradebook rows into ``Submission`` records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from grader.model.results import GradeResult

__all__ = ["RowLike", "Submission", "load", "recorder", "result_file", "results_dir"]


class RowLike(Protocol):
    """What is read of a gradebook row (``grader.instructor.batch.Row``)."""

    submission: str
    status: str
    points: dict[str, str]
    total: str
    max_score: str
    reason: str


@dataclass(frozen=True)
class Submission:
    """One roster line as the report sees it.

    ``points`` by part id (None: not graded); ``result`` is the JSON report (None when
    the submission could not be graded or its result file is missing); ``feedback``
    is the feedback file's URL relative to the report.
    """

    name: str
    status: str
    total: float | None
    max_score: float | None
    points: dict[str, float | None] = field(default_factory=dict)
    reason: str = ""
    result: Mapping[str, Any] | None = None
    feedback: str = ""

    @property
    def graded(self) -> bool:
        """True when the submission has a grade."""
        return self.status == "graded" and self.total is not None


def results_dir(csv_path: Path) -> Path:
    """Where the per-submission results live: ``gradebook-results/`` next to ``gradebook.csv``."""
    return csv_path.with_name(f"{csv_path.stem}-results")


def result_file(directory: Path, submission: str) -> Path:
    """The result file of one submission."""
    return directory / f"{submission}.json"


def to_data(result: GradeResult) -> dict[str, Any]:
    """The JSON report of ``result``, plus the sandbox flag when the result carries one."""
    from grader.reports import json_report

    data = json_report.to_dict(result)
    for name in ("unsandboxed", "sandboxed"):
        value = getattr(result, name, None)
        if isinstance(value, bool) and name not in data:
            data[name] = value
    return data


def recorder(directory: Path, render: Callable[[GradeResult], str]) -> Callable[[GradeResult], str]:
    """``render``, which first writes the result file of the result it renders.

    ``grader batch`` hands every result it grades to its feedback renderer; this
    wraps that renderer so the full result is kept too. Written atomically.
    """
    directory.mkdir(parents=True, exist_ok=True)

    def record_and_render(result: GradeResult) -> str:
        path = result_file(directory, Path(result.submission).name)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(to_data(result), ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
        return render(result)

    return record_and_render


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _read_result(path: Path) -> Mapping[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load(
    rows: Iterable[RowLike],
    directory: Path,
    feedback_dir: Path,
    report_dir: Path,
) -> list[Submission]:
    """The gradebook rows with their results and feedback links, by submission name."""
    feedback_base = Path(os.path.relpath(feedback_dir.resolve(), report_dir.resolve()))
    found = []
    for row in sorted(rows, key=lambda r: r.submission):
        graded = row.status == "graded"
        link = (feedback_base / f"{row.submission}.md").as_posix()
        found.append(
            Submission(
                name=row.submission,
                status=row.status,
                total=_number(row.total) if graded else None,
                max_score=_number(row.max_score) if graded else None,
                points={part: _number(value) for part, value in row.points.items()},
                reason=row.reason,
                result=_read_result(result_file(directory, row.submission)) if graded else None,
                feedback=quote(link),
            )
        )
    return found
