"""JUnit XML (``--junit FILE``): one ``testsuite`` per part, points as properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.results import GradeResult, PartResult, TestResult, number


def render(result: GradeResult) -> str:
    """The XML text: ``testsuites`` > ``testsuite`` (a part) > ``testcase``."""
    tests = result.tests()
    root = ET.Element(
        "testsuites",
        name=result.title,
        tests=str(len(tests)),
        failures=str(sum(t.status == "failed" for t in tests)),
        errors=str(sum(t.status in ("error", "timeout") for t in tests)),
        skipped=str(sum(t.status == "skipped" for t in tests)),
        time=f"{result.duration:.3f}",
    )
    _properties(root, result.score, result.max_score)
    for part in result.parts:
        _suite(root, part)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _properties(parent: ET.Element, score: float, max_score: float) -> None:
    properties = ET.SubElement(parent, "properties")
    ET.SubElement(properties, "property", name="score", value=str(number(score)))
    ET.SubElement(properties, "property", name="max_score", value=str(number(max_score)))


def _suite(root: ET.Element, part: PartResult) -> None:
    suite = ET.SubElement(
        root,
        "testsuite",
        name=part.id,
        tests=str(len(part.tests)),
        failures=str(sum(t.status == "failed" for t in part.tests)),
        errors=str(sum(t.status in ("error", "timeout") for t in part.tests)),
        skipped=str(sum(t.status == "skipped" for t in part.tests)),
        time=f"{part.duration:.3f}",
    )
    _properties(suite, part.score, part.max_score)
    properties = suite.find("properties")
    for warning in part.warnings:
        if properties is not None:
            ET.SubElement(properties, "property", name="integrity_warning", value=warning)
    for test in part.tests:
        _case(suite, part, test)


def _case(suite: ET.Element, part: PartResult, test: TestResult) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=part.id, name=test.name, time=f"{test.duration:.3f}"
    )
    _properties(case, test.score, test.max_score)
    first_line = (test.message.splitlines() or [test.status])[0]
    if test.status == "failed":
        ET.SubElement(case, "failure", message=first_line, type="failed").text = test.message
    elif test.status in ("error", "timeout"):
        ET.SubElement(case, "error", message=first_line, type=test.status).text = test.message
    elif test.status == "skipped":
        ET.SubElement(case, "skipped", message=first_line)
