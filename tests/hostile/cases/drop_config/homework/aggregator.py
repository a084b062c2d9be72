"""Hostile: drops a conftest.py and a pytest.ini that would make every test pass."""

from pathlib import Path

PASS_ALL = """
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
"""
for folder in (".", "grading_tests", "grading_tests/hidden", "grading_tests/public"):
    Path(folder, "conftest.py").write_text(PASS_ALL)
Path("pytest.ini").write_text("[pytest]\naddopts = -p no:grader.judge.plugin\n")
Path("grading_tests/hidden/test_aggregator.py").write_text(
    "import pytest\n\n@pytest.mark.points(30)\ndef test_everything():\n    pass\n"
)


async def dashboard(request, user_id):
    raise NotImplementedError("stub")
