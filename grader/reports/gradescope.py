"""Gradescope's ``results.json`` (``--gradescope FILE``).

Format: https://gradescope-autograders.readthedocs.io/en/latest/specs/ —
a top-level ``score``, and one entry per test with ``score``,
``max_score``, ``status`` (``passed``/``failed``) and ``output``.
"""

from __future__ import annotations

import json
from typing import Any

from grader.results import GradeResult, number


def to_dict(result: GradeResult) -> dict[str, Any]:
    """The results as Gradescope reads them."""
    notes = [f"{part.title}: {note}" for part in result.parts for note in part.notes]
    if result.warnings:
        notes += ["", "Integrity warnings for the instructor (not penalties):", *result.warnings]
    return {
        "score": number(result.score),
        "max_score": number(result.max_score),
        "execution_time": round(result.duration),
        "output": "\n".join(
            [f"{result.title}: {number(result.score)} / {number(result.max_score)} points", *notes]
        ),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"warnings": result.warnings},
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


def render(result: GradeResult) -> str:
    """The JSON text of ``results.json``."""
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
