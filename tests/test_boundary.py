"""The trust boundary in the package layout: ``grader.appside`` (what runs in the sandbox,
beside the student's code) imports nothing from the rest of ``grader``.

Checked with import-linter's contract in ``pyproject.toml``; a copy of the package with
one forbidden import added shows the contract can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def test_the_app_side_imports_nothing_from_the_trusted_side() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_catches_a_forbidden_import(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "grader", tmp_path / "grader")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    facts = tmp_path / "grader" / "appside" / "facts.py"
    facts.write_text(facts.read_text() + "\nimport grader.rubric  # noqa: E402,F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "grader.appside.facts -> grader.rubric" in result.stdout
