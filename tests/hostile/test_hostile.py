"""Hostile and broken answer files, graded end to end: the grader holds.

Each case in ``tests/hostile/cases/<case>/`` is one answer file that hangs,
crashes, floods, escapes or forges. To grade them in a few runs, cases for
different parts share one submission (``RUNS``); a part without a case in a
run gets the reference answer (a control that must keep full marks).

For every case: the hostile part earns no more than its honest behaviour
earns (the starter stub's score, or full marks when the code is correct
apart from the noise), the other parts are unaffected, the grade finishes
within the parts' budgets, and the student reads what happened.

The part budget is shortened to 40 s (the rubric's 10 s per test stays) so
the corpus grades in about a minute; the grader enforces both itself.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.engine.grading import grade
from grader.model.results import GradeResult, PartResult
from grader.model.rubric import Rubric, load_rubric
from grader.reports import classroom, gradescope, json_report, junit, markdown, terminal
from tests.support.hostile import CASES as HOSTILE
from tests.support.hostile import TWINS, lay_case
from tests.support.processes import processes_under
from tests.support.submissions import answers_in, lay_answers

TEST_TIMEOUT = 10.0
PART_TIMEOUT = 40.0
# Grading overhead on top of a part's budget (workspace copy, process start, kill).
SLACK = 30.0
HUNG = f"did not finish within {TEST_TIMEOUT:g} s"


@dataclass(frozen=True)
class Case:
    """What a hostile answer file must come to."""

    part: str
    # "starter": earns what the stub earns; "reference": full marks; "twin": what its
    # honest twin in tests/hostile/twins/<case> earns (the same answers, given honestly)
    honest: str
    says: tuple[str, ...] = ()  # each must appear in some test message or note of the part
    warns: tuple[str, ...] = ()  # each must appear in some integrity warning of the part


CASES: dict[str, Case] = {
    "loop_async_view": Case("async_view", "starter", (HUNG,)),
    "loop_sync_view": Case("orm_threadpool", "starter", (HUNG,)),
    "sleep_at_import": Case("middleware", "starter", (HUNG,)),
    "sys_exit": Case("daily_stats", "starter", ("SystemExit",), ("sys.exit",)),
    "os_exit": Case("async_view", "starter", ("exited early with exit code 0",), ("os._exit",)),
    "kill_self": Case("middleware", "starter", ("SIGKILL",), ("os.kill",)),
    "segfault": Case("orm_threadpool", "starter", ("SIGSEGV",), ("ctypes",)),
    "fork_loop": Case("daily_stats", "starter", (), ("os.fork",)),
    "memory_hog": Case("async_view", "starter", ("MemoryError",)),
    "print_flood": Case("aggregator", "reference"),
    "endless_threads": Case("orm_threadpool", "reference"),
    # The hidden tests are not in the sandbox: nothing to read, nothing to withhold.
    "files_and_secrets": Case(
        "aggregator",
        "starter",
        ("no hidden file",),
        ("os.remove", "shutil", "os.environ", "outside the project", "grading_tests"),
    ),
    "raw_socket_at_import": Case("middleware", "starter", ("SocketBlocked",), ("socket",)),
    # pytest runs in another process: patching it in the app changes nothing graded.
    "patch_call_and_report": Case("async_view", "starter", (), ("_pytest",)),
    "patch_report_outcome": Case("middleware", "starter", (), ("_pytest",)),
    "patch_reporter_send": Case("orm_threadpool", "starter", (), ("grader", "gc")),
    # In the sandbox as root the reopen is refused (the channel is the grader's file);
    # as an unprivileged grader it succeeds and the unsigned lines are flagged.
    "write_channel_fd": Case("daily_stats", "starter", (), ("/proc",)),
    "drop_config": Case("aggregator", "starter", (), ("grading_tests",)),
    # Against the split harness: the tests and every verdict are in another process.
    "conftest_then_crash": Case("async_view", "starter", ("SIGSEGV",), ("os.kill",)),
    "forge_via_frames": Case("middleware", "starter", (), ("gc",)),
    # Its invented answer is a constant 200 dashboard: it may earn what an honest view
    # answering that same constant earns (tests/hostile/twins/invent_answers), no more.
    "invent_answers": Case("aggregator", "twin", (), ("/proc",)),
    "patch_the_harness": Case("orm_threadpool", "starter", (), ("grader",)),
    "hunt_hidden_tests": Case("daily_stats", "starter", ("hunt: 0 found",), ()),
}

# Cases graded together: at most one per part; the other parts get the reference.
RUNS: dict[str, tuple[str, ...]] = {
    "hangs": ("loop_async_view", "loop_sync_view", "sleep_at_import", "sys_exit"),
    "crashes": ("os_exit", "kill_self", "segfault", "fork_loop", "print_flood"),
    "escapes": ("memory_hog", "endless_threads", "files_and_secrets", "raw_socket_at_import"),
    "forgery": (
        "patch_call_and_report",
        "patch_report_outcome",
        "patch_reporter_send",
        "write_channel_fd",
        "drop_config",
    ),
    "split": (
        "conftest_then_crash",
        "forge_via_frames",
        "invent_answers",
        "patch_the_harness",
        "hunt_hidden_tests",
    ),
}


def test_every_case_is_graded_in_exactly_one_run() -> None:
    graded = [case for cases in RUNS.values() for case in cases]
    assert sorted(graded) == sorted(CASES) == sorted(p.name for p in HOSTILE.iterdir())
    for cases in RUNS.values():
        parts = [CASES[case].part for case in cases]
        assert len(parts) == len(set(parts)), parts
    twins = sorted(p.name for p in TWINS.iterdir())
    assert twins == sorted(case for case, c in CASES.items() if c.honest == "twin")


@dataclass
class Graded:
    rubric: Rubric
    starter: GradeResult
    runs: dict[str, GradeResult]
    twins: dict[str, GradeResult]


def _submission(rubric: Rubric, cases: tuple[str, ...], dest: Path) -> Path:
    """The reference answers, with each case's hostile file(s) instead of its part's."""
    hostile_parts = {CASES[case].part for case in cases}
    reference = [f for part in rubric.parts if part.id not in hostile_parts for f in part.files]
    lay_answers(dest, answers_in(rubric.root / "assignment/solution", reference))
    for case in cases:
        lay_case(HOSTILE / case, dest)
    return dest


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    rubric = dataclasses.replace(
        load_rubric(), test_timeout=TEST_TIMEOUT, part_timeout=PART_TIMEOUT
    )
    os.environ["GITHUB_TOKEN"] = "ghp_hostile_corpus_must_not_see_this"
    try:
        with ThreadPoolExecutor(max_workers=len(RUNS) + 1) as pool:
            starter = pool.submit(grade, rubric.starter, rubric=rubric)
            futures = {
                name: pool.submit(
                    grade,
                    _submission(rubric, cases, tmp_path_factory.mktemp(name)),
                    rubric=rubric,
                )
                for name, cases in RUNS.items()
            }
            twins = {
                case: pool.submit(grade, twin, rubric=rubric, parts=[CASES[case].part])
                for case, twin in ((t.name, t) for t in sorted(TWINS.iterdir()))
            }
            runs = {name: future.result() for name, future in futures.items()}
            return Graded(
                rubric,
                starter.result(),
                runs,
                {case: future.result() for case, future in twins.items()},
            )
    finally:
        os.environ.pop("GITHUB_TOKEN", None)
        Path("/tmp/grader-hostile-was-here").unlink(missing_ok=True)


def _part(result: GradeResult, part_id: str) -> PartResult:
    return next(p for p in result.parts if p.id == part_id)


def _run_of(case: str) -> str:
    return next(name for name, cases in RUNS.items() if case in cases)


# Cases that attack the grader's own folders next to the workspace: without the sandbox
# they reach them (grader/SECURITY.md says so), so they are graded sandboxed only.
SANDBOX_ONLY = {"conftest_then_crash", "hunt_hidden_tests"}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_case(graded: Graded, case: str) -> None:
    expected = CASES[case]
    unsandboxed = next((r.unsandboxed for r in graded.runs.values() if r.unsandboxed), "")
    if case in SANDBOX_ONLY and unsandboxed:
        if os.environ.get("GRADER_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"{case} needs the sandbox: {unsandboxed}")
        pytest.skip(f"{case} needs the sandbox: {unsandboxed}")
    result = graded.runs[_run_of(case)]
    part = _part(result, expected.part)
    if expected.honest in ("starter", "twin"):
        honest = graded.starter if expected.honest == "starter" else graded.twins[case]
        ceiling = _part(honest, expected.part).score
        assert part.score <= ceiling, [(t.name, t.status, t.message) for t in part.tests]
    else:
        assert part.score == part.max_score > 0, [(t.name, t.message) for t in part.tests]
    text = "\n".join([*part.notes, *(t.message for t in part.tests)])
    for phrase in expected.says:
        assert phrase in text, text[:3000]
    warnings = "\n".join(part.warnings)
    for phrase in expected.warns:
        assert phrase in warnings, warnings
    # Finished within its budget (the first run plus resumed runs share it).
    assert part.duration <= PART_TIMEOUT + SLACK, part.duration
    # Nothing secret reached the student, nor the hidden tests' source.
    assert "ghp_hostile" not in text and "GITHUB_TOKEN" not in text
    assert "def test_" not in text


@pytest.mark.slow
@pytest.mark.parametrize("run", sorted(RUNS))
def test_parts_without_a_case_keep_full_marks(graded: Graded, run: str) -> None:
    hostile = {CASES[case].part for case in RUNS[run]}
    result = graded.runs[run]
    for part in result.parts:
        if part.id not in hostile:
            assert part.score == part.max_score > 0, (part.id, part.tests)
            assert part.warnings == []
    assert result.problems == []


@pytest.mark.slow
def test_the_warnings_reach_the_instructor_and_no_student(graded: Graded) -> None:
    """Instructor-only: the JSON, the terminal, JUnit and Gradescope's hidden extra_data;
    never the student-facing job summary, Classroom results or Gradescope output."""
    result = graded.runs["forgery"]
    assert result.warnings
    first = result.warnings[0]
    assert json_report.to_dict(result)["warnings"] == result.warnings
    assert "warnings" not in classroom.to_dict(result)
    assert first not in classroom.render(result)
    assert gradescope.to_dict(result)["extra_data"]["warnings"] == result.warnings
    assert first not in gradescope.to_dict(result)["output"]
    assert first.split(": ", 1)[1] in junit.render(result).replace("&quot;", '"')
    assert first not in markdown.render(result)
    assert "Integrity warnings" in terminal.render(result, width=400)


def processes_in_grading_workspaces() -> list[str]:
    """Every process whose working directory is a grading workspace."""
    return processes_under(os.path.join(tempfile.gettempdir(), "grader-"))


def test_the_stray_process_check_sees_a_process_left_in_a_workspace() -> None:
    with tempfile.TemporaryDirectory(prefix="grader-") as workspace:
        stray = subprocess.Popen(["sleep", "60"], cwd=workspace)
        try:
            listed = processes_in_grading_workspaces()
            assert any(line.startswith(f"{stray.pid} ") for line in listed), listed
        finally:
            stray.kill()
            stray.wait()


@pytest.mark.slow
def test_no_process_outlives_the_grade(graded: Graded) -> None:
    # Every grading process, spawned or forked by the zygote, runs inside a
    # workspace under the engine's "grader-" temporary folders: a process still
    # there (its folder now deleted) outlived its part.
    assert processes_in_grading_workspaces() == []
    for result in graded.runs.values():
        for part in result.parts:
            assert part.duration <= PART_TIMEOUT + SLACK
