"""The architecture in the package layout, checked with import-linter's contracts in
``pyproject.toml``:

* the trust boundary: ``grader.appside`` (what runs in the sandbox, beside the student's
  code) imports nothing from the rest of ``grader``;
* the layers: each of ``grader``'s subpackages imports only from the layers below it;
* the benchmarks (``bench``) are a client of the grader: ``grader`` never imports them.

A copy of the package with one forbidden import added shows each contract can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())",
            "--config",
            str(root / "pyproject.toml"),
        ],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def _copy(tmp_path: Path) -> None:
    """The packages and the contracts, in a folder where one import can be added."""
    for package in ("grader", "bench"):
        shutil.copytree(ROOT / package, tmp_path / package)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")


def test_every_contract_is_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "imports nothing from the trusted side KEPT" in result.stdout
    assert "The grader's layers KEPT" in result.stdout
    assert "The grader does not import the benchmarks KEPT" in result.stdout
    assert "3 kept, 0 broken" in result.stdout


def test_the_contract_catches_a_forbidden_import(tmp_path: Path) -> None:
    _copy(tmp_path)
    facts = tmp_path / "grader" / "appside" / "facts.py"
    facts.write_text(facts.read_text() + "\nimport grader.model.rubric  # noqa: E402,F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "grader.appside.facts -> grader.model.rubric" in result.stdout


def test_the_layers_catch_an_import_upwards(tmp_path: Path) -> None:
    _copy(tmp_path)
    results = tmp_path / "grader" / "model" / "results.py"
    results.write_text(
        results.read_text() + "\nimport grader.reports.terminal  # noqa: E402,F401\n"
    )
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "grader.model.results -> grader.reports.terminal" in result.stdout


def test_the_grader_may_not_import_the_benchmarks(tmp_path: Path) -> None:
    _copy(tmp_path)
    batch = tmp_path / "grader" / "instructor" / "batch.py"
    batch.write_text(batch.read_text() + "\nimport bench.targets  # noqa: E402,F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "grader.instructor.batch -> bench.targets" in result.stdout
