"""Gradescope's ``results.json`` (``--gradescope FILE`` and the Gradescope autograder).

Format: https://gradescope-autograders.readthedocs.io/en/latest/specs/ —
a top-level ``score`` (no top-level ``max_score``: Gradescope takes the
assignment's points from its own settings), ``output`` and ``tests`` with
``score``, ``max_score``, ``status`` (``passed``/``failed``) and ``output``.

What students see: ``output`` and each test. What only the instructor sees:
``extra_data`` (stored, never shown) and the autograder's standard output
(``stdout_visibility: hidden``), where the integrity warnings go.
"""

from __future__ import annotations

import json
from typing import Any

from grader.model.results import GradeResult, number

NOT_GRADED = "The autograder could not grade this submission"


def to_dict(result: GradeResult) -> dict[str, Any]:
    """The results as Gradescope reads them."""
    notes = [f"{part.title}: {note}" for part in result.parts for note in part.notes]
    return {
        "score": number(result.score),
        "execution_time": round(result.duration),
        "output": "\n".join(
            [f"{result.title}: {number(result.score)} / {number(result.max_score)} points", *notes]
        ),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"warnings": result.warnings, "problems": list(result.problems)},
        "tests": [
            {
                "name": f"{part.title}: {test.name}",
                "score": number(test.score),
                "max_score": number(test.max_score),
                "status": "passed" if test.status == "passed" else "failed",
                "output": test.message
                if test.status == "passed"
                else f"{test.status}: {test.message}",
                "output_format": "text",
                "visibility": "visible",
            }
            for part in result.parts
            for test in part.tests
        ],
    }


def not_graded(reason: str) -> dict[str, Any]:
    """The results of a submission that could not be graded at all: 0 points, and why."""
    return {
        "score": 0,
        "output": f"{NOT_GRADED}: {reason}",
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"error": reason},
        "tests": [],
    }


def render(result: GradeResult) -> str:
    """The JSON text of ``results.json``."""
    return dumps(to_dict(result))


def dumps(data: dict[str, Any]) -> str:
    """``results.json`` text."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
