"""Rosters for the roster-report tests: real submission folders, and synthetic results.

* ``mixed_roster``: 50 folders — reference copies, mutants laid over the reference,
  hostile cases from tests/hostile/cases, starters, and two near-copies of an original
  solution (the alternatives) that differ only in names and whitespace;
* ``synthetic_submissions``: gradebook records with results shaped like the engine's,
  for the report's figures without grading anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.roster import ORIGINAL  # an original solution: one alternative per answer file
from grader.instructor.mutants import materialize
from grader.instructor.roster.records import Submission
from grader.instructor.roster.stats import PartInfo, RosterStats, compute
from grader.model.rubric import load_rubric
from tests.support import ROOT, SOLUTION
from tests.support.hostile import CASES as HOSTILE
from tests.support.hostile import lay_case
from tests.support.submissions import answers_in, lay_answers

RUBRIC = load_rubric(ROOT)
ALTERNATIVES = ROOT / "assignment" / "alternatives"
MUTANTS = ROOT / "assignment" / "mutants"
# What the second near-copy renames (whole words, in every answer file).
RENAMES = {
    "get_json": "fetch_payload",
    "user_task": "who_job",
    "posts_task": "writing_job",
    "todos_task": "chores_job",
    "response": "reply",
    "base": "root_url",
    "queryset": "rows",
    "items": "entries",
    "start": "began",
    "raw_done": "done_text",
}


def reference_copy(target: Path) -> Path:
    lay_answers(target, answers_in(SOLUTION))
    return target


def mutant(target: Path, name: str) -> Path:
    """The reference with one mutant's edits: a whole submission."""
    lay_answers(target, answers_in(SOLUTION))
    materialize(MUTANTS / name, SOLUTION, target)
    return target


def hostile(target: Path, name: str) -> Path:
    """The reference with one hostile case's answer files over it."""
    lay_answers(target, answers_in(SOLUTION))
    lay_case(HOSTILE / name, target)
    return target


def starter(target: Path) -> Path:
    lay_answers(target, answers_in(RUBRIC.starter))
    return target


def original(target: Path) -> Path:
    """A solution written apart from the reference: the alternatives together."""
    for name in ORIGINAL:
        lay_answers(target, answers_in(ALTERNATIVES / name))
    return target


def disguise(text: str) -> str:
    """The same code with other names and other whitespace."""
    for old, new in RENAMES.items():
        text = re.sub(rf"\b{old}\b", new, text)
    lines = []
    for line in text.splitlines():
        lines.append(line.rstrip() + ("   " if line.strip() else ""))
        if line.strip().startswith(("return", "def ", "async def")):
            lines.append("")
    return "\n".join(lines) + "\n\n\n"


def near_copy(source: Path, target: Path) -> Path:
    for path in sorted((source / "homework").glob("*.py")):
        destination = target / "homework" / path.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(disguise(path.read_text(encoding="utf-8")), encoding="utf-8")
    return target


NEAR_COPIES = ("original_a", "original_b")
REFERENCE_COPIES = tuple(f"reference_{i:02d}" for i in range(10))
HOSTILE_CASES = (
    "os_exit",
    "segfault",
    "sys_exit",
    "sleep_at_import",
    "print_flood",
    "files_and_secrets",
    "patch_report_outcome",
    "kill_self",
)


def mixed_roster(base: Path) -> Path:
    """50 submission folders (see the module docstring)."""
    roster = base / "roster"
    for name in REFERENCE_COPIES:
        reference_copy(roster / name)
    mutants = sorted(p.name for p in MUTANTS.iterdir() if (p / "mutant.toml").is_file())
    for name in mutants[:28]:
        mutant(roster / f"mutant_{name}", name)
    for name in HOSTILE_CASES:
        hostile(roster / f"hostile_{name}", name)
    starter(roster / "starter_1")
    starter(roster / "starter_2")
    original(roster / NEAR_COPIES[0])
    near_copy(roster / NEAR_COPIES[0], roster / NEAR_COPIES[1])
    assert len(list(roster.iterdir())) == 50
    return roster


# ----------------------------------------------------------------------------- synthetic

PART_TESTS = {
    part.id: [f"hidden/test_{part.id}.py::test_{i}" for i in range(2)] for part in RUBRIC.parts
}


def result(
    name: str,
    statuses: Mapping[str, Sequence[str]],
    *,
    messages: Mapping[str, str] | None = None,
    warnings: Mapping[str, Sequence[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON result (``json_report.to_dict``'s shape): statuses per part, in test order."""
    parts: list[dict[str, Any]] = []
    for part in RUBRIC.parts:
        each = part.points / len(PART_TESTS[part.id])
        tests: list[dict[str, Any]] = []
        for test_name, status in zip(PART_TESTS[part.id], statuses[part.id], strict=True):
            message = "" if status == "passed" else (messages or {}).get(test_name, "wrong")
            tests.append(
                {
                    "name": test_name,
                    "status": status,
                    "score": each if status == "passed" else 0,
                    "max_score": each,
                    "message": message,
                    "duration": 0.1,
                    "line_no": 1,
                }
            )
        parts.append(
            {
                "id": part.id,
                "title": part.title,
                "score": sum(t["score"] for t in tests),
                "max_score": part.points,
                "graded": True,
                "files": {},
                "notes": [],
                "warnings": list((warnings or {}).get(part.id, [])),
                "duration": 1.0,
                "tests": tests,
            }
        )
    data: dict[str, Any] = {
        "title": RUBRIC.title,
        "suite": "all",
        "problems": [],
        "score": sum(p["score"] for p in parts),
        "max_score": sum(p["max_score"] for p in parts),
        "parts": parts,
        "submission": name,
    }
    data.update(extra or {})
    return data


def submission(
    name: str, data: Mapping[str, Any] | None, *, status: str = "graded", reason: str = ""
) -> Submission:
    if data is None or status != "graded":
        return Submission(name, status, None, None, {}, reason, None, f"feedback/{name}.md")
    points: dict[str, float | None] = {p["id"]: float(p["score"]) for p in data["parts"]}
    return Submission(
        name,
        status,
        float(data["score"]),
        float(data["max_score"]),
        points,
        reason,
        data,
        f"feedback/{name}.md",
    )


def all_passed(name: str, **kwargs: Any) -> Submission:
    return submission(
        name, result(name, {p.id: ["passed", "passed"] for p in RUBRIC.parts}, **kwargs)
    )


PARTS = [PartInfo(p.id, p.title, p.points) for p in RUBRIC.parts]
HOSTILE_NAME = '<script>alert("name")</script>'
HOSTILE_MESSAGE = "<img src=x onerror=alert(1)> expected 200, got 500"


def mixed_stats() -> RosterStats:
    """Ten submissions with known figures (see the assertions)."""
    everything_lost = {p.id: ["failed", "failed"] for p in RUBRIC.parts}
    half = {p.id: ["passed", "failed"] for p in RUBRIC.parts}
    aggregator_test = PART_TESTS["aggregator"][1]
    subs = [all_passed(f"full_{i}") for i in range(4)]
    subs += [
        submission(
            f"half_{i}", result(f"half_{i}", half, messages={aggregator_test: HOSTILE_MESSAGE})
        )
        for i in range(3)
    ]
    subs.append(submission("zero", result("zero", everything_lost)))
    timeouts = dict(half, aggregator=["timeout", "timeout"])
    subs.append(
        submission(
            HOSTILE_NAME,
            result(
                HOSTILE_NAME,
                timeouts,
                messages=dict.fromkeys(PART_TESTS["aggregator"], "Your code did not finish"),
                warnings={"middleware": ["homework/middleware.py:3: imports ctypes"]},
            ),
        )
    )
    crashed = dict(half, orm_threadpool=["error", "error"])
    subs.append(
        submission(
            "crashed",
            result(
                "crashed",
                crashed,
                messages=dict.fromkeys(
                    PART_TESTS["orm_threadpool"],
                    "The test process was killed by SIGSEGV before this test finished.",
                ),
                extra={"unsandboxed": True},
            ),
        )
    )
    subs.append(submission("empty", None, status="error", reason="no answer file in empty"))
    return compute(RUBRIC.title, PARTS, sorted(subs, key=lambda s: s.name))
