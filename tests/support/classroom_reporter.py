"""GitHub Classroom's reporter (autograding-grading-reporter v1), as a model and for real.

The model is written from the reporter's source (``src/main.js``, ``console-results.js``,
``aggregate-results.js``, ``notify-classroom.js``, ``helpers/test-helpers.js``); the real
one is ``tests/vendor/autograding-grading-reporter-v1/dist/main.js``, run with node when
node is installed. Both read our step outputs and say what they print and post (``Report``).
Used by ``tests/grader/test_classroom_reporter.py`` and ``tests/repo/test_workflows.py``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from tests.support import VENDOR

REPORTER_JS = VENDOR / "autograding-grading-reporter-v1" / "dist" / "main.js"
NODE = shutil.which("node")


@dataclass
class Report:
    """What the reporter prints and posts."""

    runner_totals: dict[str, float] = field(default_factory=dict)  # table "Test Score"
    runner_lines: dict[str, str] = field(default_factory=dict)  # "Total points for X: a/b"
    table_total: float = 0.0
    posted: float = 0.0
    posted_max: float = 0.0
    log: list[str] = field(default_factory=list)


def model_reporter(runners: list[str], env: dict[str, str]) -> Report:
    """autograding-grading-reporter v1, as its source reads and adds (IEEE doubles, like JS)."""
    report = Report()
    total_points = 0.0
    for runner in runners:
        encoded = env[f"{runner.strip().upper()}_RESULTS"]  # a missing one throws in node
        results: dict[str, Any] = json.loads(base64.b64decode(encoded).decode("utf-8"))
        max_score = results.get("max_score") or 0
        tests = results["tests"]
        passed = sum(1 for t in tests if t["status"] == "pass")
        score = (passed / len(tests)) * max_score  # getTestScore
        for test in tests:
            if test["status"] == "error":
                report.log.append(f"Error: {test['message'] or test['name']}")
            else:
                report.log.append(("✅ " if test["status"] == "pass" else "❌ ") + test["name"])
        if max_score:
            report.runner_lines[runner] = f"{score:.2f}/{max_score}"
            report.posted_max += max_score
            for test in tests:  # NotifyClassroom: the sum of the tests' scores
                total_points += test["score"]
        report.runner_totals[runner] = score
        report.table_total += score
    report.posted = total_points
    return report


def run_reporter(runners: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    clean.update(env, INPUT_RUNNERS=",".join(runners))
    return subprocess.run(
        [NODE, str(REPORTER_JS)], env=clean, capture_output=True, text=True, timeout=60
    )


def real_report(output: str) -> Report:
    report = Report()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    for runner, score, max_score in re.findall(r"Total points for (\w+): ([\d.]+)/([\d.]+)", plain):
        report.runner_lines[runner] = f"{score}/{max_score}"
    # A long decimal is cut by the reporter's table ("18.1818181…"): the digits shown count.
    for runner, score in re.findall(r"│ (\w+)\s+│ ([\d.]+)…?\s+│", plain):
        if runner in report.runner_lines:  # not the table's header or total row
            report.runner_totals[runner] = float(score)
    total = re.search(r"│ Total:\s+│ ([\d.]+)…?\s+│ ([\d.]+)", plain)
    assert total is not None, plain[-2000:]
    report.table_total = float(total.group(1))
    posted = re.search(r"::notice title=Autograding complete::Points ([\d.]+)/([\d.]+)", plain)
    assert posted is not None, plain[-2000:]
    report.posted, report.posted_max = float(posted.group(1)), float(posted.group(2))
    report.log = plain.splitlines()
    return report
