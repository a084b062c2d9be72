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

import pytest

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


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("grader/appside/facts.py", "grader.model.rubric", "the app side imports nothing"),
        ("grader/model/results.py", "grader.reports.terminal", "an import upwards"),
        ("grader/instructor/batch.py", "bench.targets", "the grader imports no benchmark"),
    ],
)
def test_each_contract_catches_its_forbidden_import(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    """A copy of the packages with one forbidden import added breaks ``contract``."""
    _copy(tmp_path)
    source = tmp_path / module
    source.write_text(source.read_text() + f"\nimport {forbidden}  # noqa: E402,F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0, contract
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {forbidden}" in result.stdout, contract
