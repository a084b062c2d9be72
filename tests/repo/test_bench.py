"""``python -m bench --quick`` runs end to end and writes every figure.

A smoke test only: a tiny load on real servers (uvicorn, gunicorn, the fake
upstream) and a tiny grading run. It checks that each figure is present and a
finite number, and that no server outlives the run; it asserts nothing about
speed — timings on a shared machine are not a test.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.support import ROOT
from tests.support.processes import processes_under

SCENARIO_FIGURES = (
    "p50_s",
    "p95_s",
    "p50_ratio",
    "p95_ratio",
    "rps",
    "rps_overall",
    "server_cpu_ms_per_request",
    "upstream_cpu_ms_per_request",
    "driver_cpu_ms_per_request",
)
EXPECTED_SCENARIOS = {
    f"{code}/{server}/{endpoint}/{clients}"
    for code, server, endpoints in (
        ("reference", "uvicorn", ("dashboard", "async")),
        ("reference", "gunicorn", ("dashboard", "async")),
        ("sequential", "uvicorn", ("dashboard",)),
    )
    for endpoint in endpoints
    for clients in (2,)
}


def finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    env = {**os.environ, "TMPDIR": str(tmp)}  # every temp dir of the run under tmp
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert not processes_under(tmp), "a process outlived python -m bench"
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.mark.slow
def test_quick_bench_writes_every_lesson_figure(quick_results: dict[str, Any]) -> None:
    lesson = quick_results["lesson"]
    scenarios = {s["id"]: s for s in lesson["scenarios"]}
    assert set(scenarios) == EXPECTED_SCENARIOS, lesson["probes"]
    for sid, scenario in scenarios.items():
        missing = [k for k in SCENARIO_FIGURES if not finite(scenario.get(k))]
        assert not missing, f"{sid}: no figure for {missing}"
        assert scenario["runs"] and all(run["completed"] > 0 for run in scenario["runs"]), sid
        assert scenario["non_2xx"] == 0, (sid, [run["statuses"] for run in scenario["runs"]])
    assert lesson["ideal_s"] == {"dashboard": 0.2, "async": 1.0}


@pytest.mark.slow
def test_quick_bench_writes_every_grading_figure(quick_results: dict[str, Any]) -> None:
    grading = quick_results["grading"]
    for key in ("grade", "plain", "per_test", "hanging"):
        assert finite(grading[key]["median_s"]) and grading[key]["median_s"] > 0, key
    assert grading["per_test"]["tests"] >= 1
    assert finite(grading["batch"]["per_submission_s"])
    assert grading["hanging"]["part_timeout_s"] == 10.0
    roster = grading["roster"]
    assert roster["submissions"] == 12 and roster["report_kb"] > 0
    assert finite(roster["similarity_s"]) and finite(roster["report_s"])
    assert roster["row"] in grading["rows"]  # printed in the grading table
    # The reference, graded on the slice the quick run grades: full marks.
    [[score, max_score]] = grading["grade"]["scores"]
    assert score == max_score > 0


@pytest.mark.slow
def test_quick_bench_lists_every_target_unjudged(quick_results: dict[str, Any]) -> None:
    targets = {t["id"]: t for t in quick_results["targets"]}
    assert set(targets) == {
        "reference.dashboard_p50_2",
        "sequential.dashboard_p50_2",
        "reference.dashboard_rps_2_vs_sync",
        "reference.async_p50_2",
        "grading.vs_plain",
        "grading.vs_per_test",
        "grading.batch",
        "grading.hanging",
        "grading.roster_report",
        *(
            ["grading.sandbox"]
            if quick_results["grading"]["unsandboxed"]["sandboxed_grades"] == [True]
            else []
        ),
    }
    for target in targets.values():
        assert finite(target["figure"]), target
        assert target["met"] is None, "a --quick run must not judge speed"
