"""Every report format carries the same scores, from the one result object."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

import pytest
import xmlschema

from grader.model.results import GradeResult, PartResult, TestResult
from grader.reports import classroom, gradescope, json_report, junit, markdown, terminal
from tests.support import VENDOR


def sample() -> GradeResult:
    """A result with every status, fractional points and an ungraded part."""
    aggregator = PartResult(
        id="aggregator",
        title="Multi-API aggregator",
        max_score=7.5,
        files={"homework/aggregator.py": True},
        tests=[
            TestResult("public/test_aggregator.py::test_ok", "passed", 5, 5, "", 0.25, 10),
            TestResult(
                "hidden/test_aggregator.py::test_404",
                "failed",
                0,
                2.5,
                "Expected: 404\nGot: 502 | oops\nHint: look at ```users```",
                0.5,
                20,
            ),
        ],
    )
    middleware = PartResult(
        id="middleware",
        title="Middleware",
        max_score=4,
        files={"homework/middleware.py": False},
        notes=["homework/middleware.py is not in your submission: graded with the starter stub"],
        tests=[
            TestResult("public/test_middleware.py::test_a", "error", 0, 1, "KeyError: 'x'", 0.1, 3),
            TestResult("hidden/test_middleware.py::test_b", "timeout", 0, 1.5, "too slow", 10, 4),
            TestResult("hidden/test_middleware.py::test_c", "skipped", 0, 1.5, "not today", 0, 5),
        ],
    )
    ungraded = PartResult(id="daily_stats", title="Daily stats", graded=False, notes=["x"])
    return GradeResult(
        title="Asynchronous Django",
        suite="all",
        parts=[aggregator, middleware, ungraded],
        duration=12.5,
    )


def scores_in_every_format(result: GradeResult) -> dict[str, tuple[float, float]]:
    data = json_report.to_dict(result)
    found = {"json": (data["score"], data["max_score"])}
    found["json parts"] = (
        sum(p["score"] for p in data["parts"]),
        sum(p["max_score"] for p in data["parts"]),
    )
    found["json tests"] = (
        sum(t["score"] for p in data["parts"] for t in p["tests"]),
        sum(t["max_score"] for p in data["parts"] for t in p["tests"]),
    )
    decoded = json.loads(base64.b64decode(classroom.encoded(result)))
    found["classroom"] = (sum(t["score"] for t in decoded["tests"]), decoded["max_score"])
    scope = gradescope.to_dict(result)
    found["gradescope"] = (scope["score"], sum(t["max_score"] for t in scope["tests"]))
    found["gradescope tests"] = (
        sum(t["score"] for t in scope["tests"]),
        sum(t["max_score"] for t in scope["tests"]),
    )
    root = ET.fromstring(junit.render(result).split("\n", 1)[1])
    suites = [
        {p.get("name"): p.get("value") for p in suite.iter("property")}
        for suite in root.iter("testsuite")
    ]
    found["junit"] = (
        sum(float(s["score"] or 0) for s in suites),
        sum(float(s["max_score"] or 0) for s in suites),
    )
    per_test = [
        v.split("/") for s in suites for k, v in s.items() if k and v and k.startswith("points ")
    ]
    found["junit tests"] = (
        sum(float(earned) for earned, _ in per_test),
        sum(float(possible) for _, possible in per_test),
    )
    heading = re.search(r"^## .*: ([\d.]+) / ([\d.]+) points$", markdown.render(result), re.M)
    assert heading is not None
    found["markdown"] = (float(heading.group(1)), float(heading.group(2)))
    total = re.search(r"Total\s+│\s+([\d.]+) / ([\d.]+)", terminal.render(result))
    assert total is not None
    found["terminal"] = (float(total.group(1)), float(total.group(2)))
    return found


def test_every_format_agrees_on_the_score() -> None:
    result = sample()
    assert (result.score, result.max_score) == (5, 11.5)
    found = scores_in_every_format(result)
    assert set(found.values()) == {(5, 11.5)}, found


def test_json_report_follows_the_contract() -> None:
    data = json_report.to_dict(sample())
    assert data["score"] == 5 and data["max_score"] == 11.5
    assert [p["id"] for p in data["parts"]] == ["aggregator", "middleware", "daily_stats"]
    test = data["parts"][0]["tests"][1]
    assert {"name", "status", "score", "max_score", "message"} <= set(test)
    assert test["status"] == "failed" and test["max_score"] == 2.5
    assert isinstance(data["parts"][0]["score"], int)  # 5, not 5.0
    assert json.loads(json_report.render(sample())) == data


def test_classroom_result_matches_the_reporters_shape() -> None:
    lines = classroom.output_lines(sample()).splitlines()
    outputs = dict(line.split("=", 1) for line in lines)
    assert outputs["runners"] == "aggregator5pt,aggregator2p5pt,middleware1pt,middleware1p5pt"
    data = json.loads(base64.b64decode(outputs["result"]))
    assert data["version"] == 1
    assert data["status"] == "fail"
    # Every lost test is "fail": the reporter prints an "error" without the test's name.
    statuses = [t["status"] for t in data["tests"]]
    assert statuses == ["pass", "fail", "fail", "fail", "fail"]
    assert [t["name"].rsplit(" ", 1)[-1] for t in data["tests"][2:]] == [
        "(error)",
        "(timeout)",
        "(skipped)",
    ]
    assert "warnings" not in data  # instructor-only
    runner = json.loads(base64.b64decode(outputs["middleware1p5pt"]))
    assert runner["max_score"] == 3 and len(runner["tests"]) == 2
    first = data["tests"][0]
    assert set(first) == {
        "name",
        "status",
        "score",
        "message",
        "test_code",
        "filename",
        "line_no",
        "duration",
    }
    assert first["duration"] == 250  # milliseconds
    assert first["line_no"] == 10


@pytest.mark.parametrize(
    ("problems", "full", "status"),
    [([], True, "pass"), (["bad points"], True, "error"), ([], False, "fail")],
)
def test_classroom_overall_status(problems: list[str], full: bool, status: str) -> None:
    result = sample()
    if full:
        result.parts = result.parts[:1]
        result.parts[0].tests = result.parts[0].tests[:1]
        result.parts[0].max_score = 5
    result.problems = problems
    assert classroom.to_dict(result)["status"] == status


def test_gradescope_statuses_and_output() -> None:
    result = sample()
    result.parts[0].warnings = ["imports gc"]
    data = gradescope.to_dict(result)
    assert [t["status"] for t in data["tests"]] == ["passed"] + ["failed"] * 4
    assert data["tests"][1]["output"].startswith("failed: Expected: 404")
    assert "not in your submission" in data["output"]
    assert "max_score" not in data  # not in Gradescope's spec
    assert data["extra_data"]["warnings"] == ["aggregator: imports gc"]
    assert "imports gc" not in json.dumps({k: v for k, v in data.items() if k != "extra_data"})


def test_junit_counts_and_messages() -> None:
    root = ET.fromstring(junit.render(sample()).split("\n", 1)[1])
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "2")
    suites = root.findall("testsuite")
    # Rubric order, even for readers that sort suites by name.
    names = [s.attrib["name"] for s in suites]
    assert names == ["1. aggregator", "2. middleware", "3. daily_stats"] == sorted(names)
    failure = suites[0].findall("testcase")[1].find("failure")
    assert failure is not None and failure.text is not None
    # The whole message, in the attribute too (all some readers show).
    assert failure.get("message") == sample().parts[0].tests[1].message
    assert "Hint: look at" in (failure.get("message") or "") and "Hint: look at" in failure.text
    points = {p.get("name"): p.get("value") for p in suites[1].iter("property")}
    assert points["points hidden/test_middleware.py::test_b"] == "0/1.5"
    assert (points["score"], points["max_score"]) == ("0", "4")


JUNIT_XSD = VENDOR / "junit" / "junit-10.xsd"


def test_junit_is_valid_against_the_jenkins_schema() -> None:
    schema = xmlschema.XMLSchema(JUNIT_XSD)
    result = sample()
    result.parts[1].warnings = ["reads the grader's files"]
    schema.validate(junit.render(result))


def test_the_schema_rejects_what_the_old_junit_had() -> None:
    """Control: a ``skipped`` attribute on ``<testsuites>`` and properties under a testcase."""
    schema = xmlschema.XMLSchema(JUNIT_XSD)
    text = junit.render(sample())
    assert not schema.is_valid(text.replace("<testsuites ", '<testsuites skipped="1" ', 1))
    case_props = '<testcase name="x"><properties><property name="a" value="1"/></properties>'
    assert not schema.is_valid(text.replace("<testcase ", case_props + "</testcase><testcase ", 1))


def test_markdown_escapes_tables_and_fences() -> None:
    text = markdown.render(sample())
    assert "| Multi-API aggregator | 5 / 7.5 | 1 / 2 |" in text
    assert "\\`\\`\\`users\\`\\`\\`" in text  # backticks in a message stay text
    assert "not graded" in text


def test_terminal_shows_each_lost_test_with_its_message() -> None:
    text = terminal.render(sample())
    for needle in ("test_404", "Expected: 404", "KeyError: 'x'", "too slow", "not today"):
        assert needle in text
    assert "test_ok" not in text  # passed tests are in the counts, not listed


def test_problems_show_in_every_human_format() -> None:
    result = sample()
    result.problems = ["part x: its tests are worth 3 points, the rubric says 4"]
    assert "the rubric says 4" in terminal.render(result)
    assert "the rubric says 4" in markdown.render(result)
    assert json_report.to_dict(result)["problems"] == result.problems
