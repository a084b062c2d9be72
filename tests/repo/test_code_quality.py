"""Lint, format and type checks, run as tests so that the README's one test command covers them."""

from __future__ import annotations

import ast
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


# A function should fit on a screen: longer ones in the grader or the benchmarks have always
# mixed two jobs (logic with rendering, or one step with the next).
MAX_FUNCTION_LINES = 60


def long_functions(source: str, where: str) -> list[str]:
    """Every function in ``source`` longer than ``MAX_FUNCTION_LINES`` (def to last line)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{where}:{node.lineno} {node.name}() is {length} lines")
    return found


def test_no_function_in_the_grader_or_the_bench_is_longer_than_a_screen() -> None:
    found = [
        line
        for package in ("grader", "bench")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not found, "\n".join(found)


def test_the_length_check_sees_a_long_function() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}", "x.py") == [
        f"x.py:1 f() is {MAX_FUNCTION_LINES + 1} lines"
    ]
    assert long_functions(f"def f():\n{body[: body.rindex('    x')]}", "x.py") == []
