"""The GitHub Classroom grader result, read by autograding-grading-reporter.

The shape is the one GitHub's own graders (autograding-command-grader,
-python-grader) produce: ``{"version": 1, "status": "pass"|"fail"|"error",
"max_score": N, "tests": [{"name", "status", "score", "message",
"test_code", "filename", "line_no", "duration"}]}``, base64-encoded in the
step output ``result``. The reporter sums the tests' ``score`` for the
grade, so each test carries its own points; ``duration`` is in
milliseconds, as in GitHub's graders.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from grader.results import GradeResult, TestResult, number

_STATUS = {
    "passed": "pass",
    "failed": "fail",
    "skipped": "fail",
    "error": "error",
    "timeout": "error",
}


def to_dict(result: GradeResult) -> dict[str, Any]:
    """The grader result as data.

    Overall ``status``: ``pass`` at full marks, ``error`` when the
    assignment itself is broken (instructor errors), ``fail`` otherwise.
    """
    if result.problems:
        status = "error"
    elif result.full_marks:
        status = "pass"
    else:
        status = "fail"
    data: dict[str, Any] = {
        "version": 1,
        "status": status,
        "max_score": number(result.max_score),
        "tests": [_test(part.title, test) for part in result.parts for test in part.tests],
    }
    if result.warnings:  # integrity warnings; the reporter ignores keys it does not know
        data["warnings"] = result.warnings
    return data


def _test(part_title: str, test: TestResult) -> dict[str, Any]:
    return {
        "name": f"{part_title}: {test.name}",
        "status": _STATUS[test.status],
        "score": number(test.score),
        "message": test.message,
        "test_code": "",
        "filename": "",
        "line_no": test.line_no,
        "duration": round(test.duration * 1000),
    }


def encoded(result: GradeResult) -> str:
    """The base64 text of the JSON, as the reporter decodes it."""
    text = json.dumps(to_dict(result), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def output_line(result: GradeResult) -> str:
    """The line appended to ``$GITHUB_OUTPUT``: the step output ``result``."""
    return f"result={encoded(result)}\n"


def render(result: GradeResult) -> str:
    """The JSON text (not encoded), for files and people."""
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
