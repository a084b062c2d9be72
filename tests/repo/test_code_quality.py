"""Lint, format and type checks, run as tests so that the README's one test command covers them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

BIN = Path(sys.executable).parent


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    result = run_tool(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_the_python_unchanged() -> None:
    # The grader, the benchmarks and the tests; [tool.ruff] extend-exclude keeps out what is
    # not ours to format (migrations, the hostile submissions the tests grade).
    result = run_tool(str(BIN / "ruff"), "format", "--check", "grader", "bench", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_on_the_grader_bench_and_tests_packages() -> None:
    # [tool.mypy] names the packages and excludes the hostile submissions the tests grade.
    result = run_tool(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
