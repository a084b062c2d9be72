"""GitHub Classroom: the reporter's printed totals equal the points it posts, for any grade.

Two readers of our step outputs: a model of autograding-grading-reporter v1 written from its
source (``src/main.js``, ``console-results.js``, ``aggregate-results.js``,
``notify-classroom.js``, ``helpers/test-helpers.js``), and the real reporter
(``tests/vendor/autograding-grading-reporter-v1/dist/main.js``, run with node when node is
installed). Grades are built on the real assignment's test weights, so a new weight in the
suites is covered without editing this file.
"""

from __future__ import annotations

import base64
import json
import random
import re

import pytest

from grader.instructor.release import graded_test_weights, student_workflow
from grader.model.results import GradeResult, PartResult, Status, TestResult, score_for
from grader.model.rubric import load_rubric
from grader.reports import classroom
from tests.support import ROOT
from tests.support.classroom_reporter import NODE, Report, model_reporter, real_report, run_reporter

RUBRIC = load_rubric(ROOT)
STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "timeout", "skipped")


@pytest.fixture(scope="module")
def weights() -> list[tuple[str, float]]:
    return graded_test_weights(RUBRIC)


def make_result(
    weights: list[tuple[str, float]], statuses: list[Status], message: str = "Expected: x"
) -> GradeResult:
    parts: dict[str, PartResult] = {}
    for index, ((part_id, points), status) in enumerate(zip(weights, statuses, strict=True)):
        part = parts.setdefault(part_id, PartResult(id=part_id, title=RUBRIC.part(part_id).title))
        part.tests.append(
            TestResult(
                f"hidden/test_{part_id}.py::test_{index}",
                status,
                score_for(status, points),
                points,
                "" if status == "passed" else message,
            )
        )
        part.max_score += points
    return GradeResult(title=RUBRIC.title, suite="all", parts=list(parts.values()))


def step_outputs(result: GradeResult) -> dict[str, str]:
    lines = classroom.output_lines(result).splitlines()
    return dict(line.split("=", 1) for line in lines)


def reporter_env(runners: list[str], outputs: dict[str, str]) -> dict[str, str]:
    """What the workflow's reporter step receives: ``<RUNNER>_RESULTS`` per runner."""
    return {f"{r.upper()}_RESULTS": outputs[r] for r in runners}


def released_runners(weights: list[tuple[str, float]]) -> list[str]:
    return classroom.runner_ids(weights)


def check_consistent(result: GradeResult, report: Report) -> None:
    assert report.posted == result.score, (report.posted, result.score)
    assert report.posted_max == result.max_score
    assert report.table_total == report.posted, "the table's total is not the grade"
    for runner, line in report.runner_lines.items():
        assert line.split("/")[0] == f"{report.runner_totals[runner]:.2f}", runner
    for test in result.tests():
        assert any(test.name in line for line in report.log), f"{test.name} lost its name"


def random_statuses(count: int, seed: int) -> list[Status]:
    rng = random.Random(seed)
    return [rng.choice(STATUSES) for _ in range(count)]


def test_runner_groups_weigh_their_tests_equally(weights: list[tuple[str, float]]) -> None:
    groups = classroom.group_keys(weights)
    assert sorted(i for _runner, indexes in groups for i in indexes) == list(range(len(weights)))
    for runner, indexes in groups:
        assert re.fullmatch(r"[a-zA-Z0-9]+", runner), runner  # the reporter's own input check
        assert len({weights[i] for i in indexes}) == 1, runner


@pytest.mark.parametrize("seed", range(40))
def test_model_reporter_totals_equal_the_points_posted(
    weights: list[tuple[str, float]], seed: int
) -> None:
    statuses = random_statuses(len(weights), seed)
    if seed == 0:
        statuses = ["passed"] * len(weights)
    elif seed == 1:
        statuses = ["error"] * len(weights)
    result = make_result(weights, statuses)
    runners = released_runners(weights)
    report = model_reporter(runners, reporter_env(runners, step_outputs(result)))
    check_consistent(result, report)


def test_the_model_sees_the_old_single_runner_disagree(weights: list[tuple[str, float]]) -> None:
    """Control: one runner for the whole grade (the shape before) prints another total."""
    result = make_result(weights, random_statuses(len(weights), 7))
    report = model_reporter(["grade"], {"GRADE_RESULTS": classroom.encoded(result)})
    assert report.posted == result.score
    assert report.table_total != report.posted
    # Sent with status "error" (as before), a failed test loses its name in the log.
    old = json.loads(base64.b64decode(classroom.encoded(result)))
    old["tests"] = [dict(t, status="error") for t in old["tests"] if t["score"] == 0]
    named = model_reporter(["grade"], {"GRADE_RESULTS": classroom.encode(old)})
    lost = [t["name"] for t in old["tests"]]
    assert lost and not any(name in line for name in lost for line in named.log)


def hostile(weights: list[tuple[str, float]]) -> GradeResult:
    """Every test errors with an enormous message of escapes, emoji and Chinese text."""
    message = ('\x01"\\ 💥 超長的例外訊息 ' * 20_000)[:100_000]
    return make_result(weights, ["error"] * len(weights), message)


def test_each_runner_stays_far_below_the_environment_limit(
    weights: list[tuple[str, float]],
) -> None:
    outputs = step_outputs(hostile(weights))
    runners = released_runners(weights)
    sizes = {runner: len(outputs[runner]) for runner in runners}
    assert max(sizes.values()) <= classroom.RUNNER_BUDGET, sizes
    # The whole environment the reporter starts with (every variable) stays small too.
    assert sum(sizes.values()) < 1024 * 1024
    # Control: the messages uncapped would not even fit one variable.
    uncapped = json.dumps([t.message for t in hostile(weights).tests()], ensure_ascii=False)
    assert len(base64.b64encode(uncapped.encode())) > classroom.ENV_LIMIT


def test_a_large_group_gets_shorter_messages() -> None:
    """64 tests of equal weight in one part: one runner, still within the budget."""
    result = make_result([("aggregator", 1.0)] * 64, ["error"] * 64, "💥\x01" * 50_000)
    ((runner, data),) = classroom.runners(result)
    assert len(data["tests"]) == 64
    assert len(step_outputs(result)[runner]) <= classroom.RUNNER_BUDGET


def test_a_group_whose_totals_would_be_inexact_is_split() -> None:
    """(31 / 60) * 30 is not 15.5 in floating point: sixty 0.5-point tests become 60 runners."""
    assert (31 / 60) * 30 != 15.5
    ids = classroom.runner_ids([("aggregator", 0.5)] * 60)
    assert len(ids) == 60 and ids[0] == "aggregator0p5ptn1"
    result = make_result([("aggregator", 0.5)] * 60, random_statuses(60, 1))
    report = model_reporter(ids, reporter_env(ids, step_outputs(result)))
    check_consistent(result, report)


def test_a_capped_message_keeps_its_start_and_says_it_was_cut() -> None:
    assert classroom.capped("short") == "short"
    long = "Expected: 200\n" + "x" * 5000
    cut = classroom.capped(long)
    assert cut.startswith("Expected: 200\n") and cut.endswith(classroom.TRUNCATED)
    assert len(json.dumps(cut, ensure_ascii=False).encode()) <= classroom.MESSAGE_BYTES


def test_the_released_workflow_lists_exactly_these_runners(
    weights: list[tuple[str, float]],
) -> None:
    source = (ROOT / ".github" / "classroom" / "classroom.yml").read_text(encoding="utf-8")
    runners = released_runners(weights)
    text = student_workflow(source, runners)
    (line,) = [line for line in text.splitlines() if line.strip().startswith("runners:")]
    assert line.split(":", 1)[1].strip().split(",") == runners
    for runner in runners:
        assert f"{runner.upper()}_RESULTS: ${{{{ steps.grade.outputs.{runner} }}}}" in text
    # Every runner the grader writes is one the workflow reads, and no other.
    outputs = step_outputs(make_result(weights, random_statuses(len(weights), 3)))
    assert outputs["runners"].split(",") == runners


# ---------------------------------------------------------------------------- the real reporter


needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed (.ci/run installs it: apt-get install nodejs)"
)


@needs_node
@pytest.mark.parametrize("seed", [0, 5, 11])
def test_real_reporter_prints_the_points_it_posts(
    weights: list[tuple[str, float]], seed: int
) -> None:
    statuses: list[Status] = (
        random_statuses(len(weights), seed) if seed else ["passed"] * len(weights)
    )
    result = make_result(weights, statuses)
    runners = released_runners(weights)
    done = run_reporter(runners, reporter_env(runners, step_outputs(result)))
    report = real_report(done.stdout + done.stderr)
    assert report.posted == result.score and report.posted_max == result.max_score
    assert report.table_total == report.posted
    assert sum(report.runner_totals.values()) == report.posted
    for runner, line in report.runner_lines.items():
        assert float(line.split("/")[0]) == round(report.runner_totals[runner], 2)
    for test in result.tests():
        assert any(test.name in line for line in report.log), f"{test.name} lost its name"


@needs_node
def test_real_reporter_disagrees_with_the_old_single_runner(
    weights: list[tuple[str, float]],
) -> None:
    """Control: the same grade as one runner prints a total other than the points posted."""
    result = make_result(weights, random_statuses(len(weights), 5))
    done = run_reporter(["grade"], {"GRADE_RESULTS": classroom.encoded(result)})
    report = real_report(done.stdout + done.stderr)
    assert report.posted == result.score
    assert report.table_total != report.posted


@needs_node
def test_real_reporter_runs_on_the_hostile_result(weights: list[tuple[str, float]]) -> None:
    result = hostile(weights)
    runners = released_runners(weights)
    done = run_reporter(runners, reporter_env(runners, step_outputs(result)))
    report = real_report(done.stdout + done.stderr)
    assert (report.posted, report.posted_max) == (0, result.max_score)
