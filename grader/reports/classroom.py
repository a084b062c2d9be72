"""The GitHub Classroom grader results, read by autograding-grading-reporter (tag v1).

The shape is the one GitHub's own graders (autograding-command-grader,
-python-grader) produce: ``{"version": 1, "status": "pass"|"fail"|"error",
"max_score": N, "tests": [{"name", "status", "score", "message",
"test_code", "filename", "line_no", "duration"}]}``, base64-encoded. The
reporter reads one such result per *runner* from the environment variable
``<RUNNER>_RESULTS`` (the runner id upper-cased) and

* posts ``Points <sum of every test's score>/<sum of the runners' max_score>``
  (the line GitHub Classroom reads);
* prints, per runner, ``(tests passed / tests) * max_score`` as "Total points
  for <runner>" and in its table, which ignores unequal test weights;
* prints a test whose status is ``error`` as ``Error: <message>``, without its
  name, and the others as ``✅``/``❌`` and the name.

So the results are split into *runners*, one per group of tests of one part
worth the same points (``runners()``): within a runner every test weighs the
same, and the printed totals equal the points posted. ``grader release``
writes the same runner ids into the student workflow (``runner_ids()``); both
come from ``group_keys()``, so they cannot disagree. Every test that did not
pass is sent as ``fail`` (its name is printed) with its own status in the name.

One runner's result must stay far below Linux's 128 KiB limit on one
environment variable (``MAX_ARG_STRLEN``: beyond it node does not even
start), whatever the student's code prints: each message is cut to
``MESSAGE_BYTES`` of JSON text; the whole message stays in the JSON report
and the job summary.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from typing import Any

from grader.model.results import GradeResult, TestResult, number, tidy

# Linux: MAX_ARG_STRLEN = 32 pages = 128 KiB per environment variable.
ENV_LIMIT = 128 * 1024
# A runner's encoded result stays under a quarter of that (tested with hostile messages).
RUNNER_BUDGET = ENV_LIMIT // 4
# Each message, as JSON text (escapes included), is cut to this many bytes.
MESSAGE_BYTES = 1000
TRUNCATED = " … [cut: the whole message is in the job summary and report.json]"

_STATUS = {
    "passed": "pass",
    "failed": "fail",
    "skipped": "fail",
    "error": "fail",  # "error" would hide the test's name in the reporter's log
    "timeout": "fail",
}


# ----------------------------------------------------------------------------- runners


def _points_id(points: float) -> str:
    return str(number(points)).replace(".", "p")


def _exact(count: int, points: float) -> bool:
    """Whether the reporter's ``(passed / count) * max_score`` is the exact sum for any pass count.

    Python floats are IEEE doubles like JavaScript numbers, so this is the reporter's
    arithmetic: for every number of passed tests, the printed total must equal the sum
    of the passed tests' points, added one by one as the reporter adds them.
    """
    max_score = float(number(tidy(points * count)))
    total = 0.0
    for passed in range(count + 1):
        if (passed / count) * max_score != total:
            return False
        total += points
    return True


def group_keys(tests: Sequence[tuple[str, float]]) -> list[tuple[str, list[int]]]:
    """Runner ids and the indexes of their tests, from ``(part id, points)`` in report order.

    One runner per part and per test weight, in order of first appearance; ids are
    letters and digits only (the reporter's own check of its ``runners`` input), e.g.
    ``aggregator0p375pt``. A group whose totals would not be exact in floating point is
    split into one runner per test (``...ptn1``, ``...ptn2``).
    """
    groups: dict[tuple[str, float], list[int]] = {}
    for index, (part_id, points) in enumerate(tests):
        groups.setdefault((part_id, tidy(points)), []).append(index)
    runners: list[tuple[str, list[int]]] = []
    for (part_id, points), indexes in groups.items():
        base = f"{''.join(c for c in part_id if c.isalnum())}{_points_id(points)}pt"
        if _exact(len(indexes), points):
            runners.append((base, indexes))
        else:
            runners += [(f"{base}n{i}", [index]) for i, index in enumerate(indexes, 1)]
    return runners


def runner_ids(tests: Sequence[tuple[str, float]]) -> list[str]:
    """The runner ids for tests given as ``(part id, points)``: what the workflow lists."""
    return [runner for runner, _indexes in group_keys(tests)]


def _pairs(result: GradeResult) -> list[tuple[str, str, TestResult]]:
    return [(part.id, part.title, test) for part in result.parts for test in part.tests]


def runners(result: GradeResult) -> list[tuple[str, dict[str, Any]]]:
    """Each runner's id and result, in report order."""
    pairs = _pairs(result)
    keyed = group_keys([(part_id, test.max_score) for part_id, _title, test in pairs])
    found = []
    for runner, indexes in keyed:
        chosen = [pairs[i] for i in indexes]
        tests = [test for _part, _title, test in chosen]
        limit = MESSAGE_BYTES
        while True:  # a large group gets shorter messages: the runner stays in its budget
            data = _result(
                result,
                [_test(title, test, limit) for _part, title, test in chosen],
                max_score=tidy(sum(test.max_score for test in tests)),
                full=all(test.status == "passed" for test in tests),
            )
            if limit <= len(TRUNCATED) or len(encode(data)) <= RUNNER_BUDGET:
                break
            limit //= 2
        found.append((runner, data))
    return found


# ----------------------------------------------------------------------------- one result


def _result(
    result: GradeResult, tests: list[dict[str, Any]], *, max_score: float, full: bool
) -> dict[str, Any]:
    """Status ``error`` when the assignment itself is broken (instructor errors)."""
    if result.problems:
        status = "error"
    elif full and max_score > 0:
        status = "pass"
    else:
        status = "fail"
    return {"version": 1, "status": status, "max_score": number(max_score), "tests": tests}


def capped(message: str, limit: int = MESSAGE_BYTES) -> str:
    """``message`` cut so that its JSON text (quotes and escapes included) fits ``limit`` bytes."""

    def size(text: str) -> int:
        return len(json.dumps(text, ensure_ascii=False).encode("utf-8"))

    if size(message) <= limit:
        return message
    if size(TRUNCATED) > limit:
        return ""
    low, high = 0, len(message)
    while low < high:  # the longest prefix that fits with the marker
        middle = (low + high + 1) // 2
        if size(message[:middle] + TRUNCATED) <= limit:
            low = middle
        else:
            high = middle - 1
    return message[:low] + TRUNCATED


def _test(part_title: str, test: TestResult, limit: int = MESSAGE_BYTES) -> dict[str, Any]:
    shown = "" if test.status in ("passed", "failed") else f" ({test.status})"
    return {
        "name": f"{part_title}: {test.name}{shown}",
        "status": _STATUS[test.status],
        "score": number(test.score),
        "message": capped(test.message, limit),
        "test_code": "",
        "filename": "",
        "line_no": test.line_no,
        "duration": round(test.duration * 1000),
    }


def to_dict(result: GradeResult) -> dict[str, Any]:
    """The whole grade as one result (the step output ``result``, ``grader`` files)."""
    tests = [_test(title, test) for _part, title, test in _pairs(result)]
    return _result(result, tests, max_score=result.max_score, full=result.full_marks)


def encode(data: dict[str, Any]) -> str:
    """The base64 text of the JSON, as the reporter decodes it."""
    text = json.dumps(data, ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def encoded(result: GradeResult) -> str:
    """The whole grade, encoded."""
    return encode(to_dict(result))


def output_lines(result: GradeResult) -> str:
    """What is appended to ``$GITHUB_OUTPUT``.

    One output per runner (``<runner id>=<base64>``, read by the reporter), ``runners``
    (their ids, comma-separated, to check against the workflow) and ``result`` (the
    whole grade as one result, for other tools).
    """
    pairs = runners(result)
    lines = [f"{runner}={encode(data)}\n" for runner, data in pairs]
    lines.append(f"runners={','.join(runner for runner, _data in pairs)}\n")
    lines.append(f"result={encoded(result)}\n")
    return "".join(lines)


def render(result: GradeResult) -> str:
    """The JSON text (not encoded), for files and people."""
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"


def runner_env(ids: Iterable[str], step_id: str) -> list[tuple[str, str]]:
    """The reporter step's environment: ``<RUNNER>_RESULTS`` from the grade step's outputs."""
    return [
        (f"{runner.upper()}_RESULTS", f"${{{{ steps.{step_id}.outputs.{runner} }}}}")
        for runner in ids
    ]
