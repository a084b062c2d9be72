"""The CONTRACT's JSON report (``grader grade --json FILE``)."""

from __future__ import annotations

import json
from typing import Any

from grader.model.results import GradeResult, PartResult, TestResult, number


def to_dict(result: GradeResult) -> dict[str, Any]:
    """The whole result as plain data: every part in rubric order, every test."""
    return {
        "title": result.title,
        "suite": result.suite,
        "score": number(result.score),
        "max_score": number(result.max_score),
        "duration": result.duration,
        "problems": list(result.problems),
        "warnings": result.warnings,  # an extension of the CONTRACT's JSON (grader/SECURITY.md)
        # Extensions too: whether graded code ran in the OS sandbox, and why not.
        "sandboxed": not result.unsandboxed,
        "unsandboxed_reason": result.unsandboxed,
        # An extension: the points whose verdict rests on what the graded app reports
        # about itself (its event loop, its queries) rather than on what the grader saw.
        "in_app_points": number(result.in_app_points),
        "parts": [_part(part) for part in result.parts],
    }


def _part(part: PartResult) -> dict[str, Any]:
    return {
        "id": part.id,
        "title": part.title,
        "score": number(part.score),
        "max_score": number(part.max_score),
        "graded": part.graded,
        "files": dict(part.files),
        "notes": list(part.notes),
        "warnings": list(part.warnings),
        "duration": part.duration,
        "in_app_points": number(part.in_app_points),
        "tests": [_test(test) for test in part.tests],
    }


def _test(test: TestResult) -> dict[str, Any]:
    return {
        "name": test.name,
        "status": test.status,
        "score": number(test.score),
        "max_score": number(test.max_score),
        "message": test.message,
        "duration": test.duration,
        "line_no": test.line_no,
        "in_app_evidence": test.in_app_evidence,
    }


def render(result: GradeResult) -> str:
    """The JSON text written by ``--json``."""
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
