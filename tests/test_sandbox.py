"""``grader.sandbox``: when a sandbox can be made, what it shows graded code, and
what the grader does where it cannot (the attacks themselves are in
``test_sandbox_attacks.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import sandbox
from grader.batch import run_batch
from grader.errors import GraderError
from grader.rubric import load_rubric
from grader.text import clean, csv_cell

RUBRIC = load_rubric()
BOX = sandbox.detect()


def test_turned_off_by_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sandbox.ENV_SWITCH, "0")
    assert sandbox.detect() == "turned off by $GRADER_SANDBOX=0"


def test_no_bubblewrap_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sandbox.ENV_SWITCH, raising=False)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    reason = sandbox.detect()
    assert isinstance(reason, str) and "apt-get install bubblewrap" in reason


def test_a_refused_sandbox_is_a_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.delenv(sandbox.ENV_SWITCH, raising=False)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: str(fake))
    reason = sandbox.detect()
    assert isinstance(reason, str) and "Permission denied" in reason


def test_the_repository_is_never_shown(tmp_path: Path) -> None:
    box = sandbox.Sandbox(bwrap="bwrap", setpriv=None, readonly=sandbox.runtime_paths())
    argv = box.wrap(["true"], workspace=tmp_path)
    shown = {argv[i + 1] for i, arg in enumerate(argv) if arg in ("--ro-bind", "--bind")}
    assert str(RUBRIC.root) not in shown
    assert not any((Path(p) / "assignment").exists() for p in shown)
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--die-with-parent" in argv


def test_batch_refuses_without_a_sandbox(tmp_path: Path) -> None:
    (tmp_path / "roster" / "a").mkdir(parents=True)
    with pytest.raises(GraderError, match="--unsandboxed"):
        run_batch(tmp_path / "roster", tmp_path / "g.csv", sandbox="no bubblewrap here")


def test_batch_cli_refusal_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "roster" / "a").mkdir(parents=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from grader.cli import main; sys.exit(main())",
            "batch",
            str(tmp_path / "roster"),
            "--out",
            str(tmp_path / "g.csv"),
        ],
        env={**os.environ, sandbox.ENV_SWITCH: "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--unsandboxed" in done.stderr


@pytest.mark.skipif(isinstance(BOX, str), reason=f"no sandbox here: {BOX}")
def test_grade_json_says_whether_it_was_sandboxed(tmp_path: Path) -> None:
    solution = RUBRIC.root / "assignment" / "solution"
    for switch, expected in (("1", True), ("0", False)):
        report = tmp_path / f"r{switch}.json"
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from grader.cli import main; sys.exit(main())",
                "grade",
                str(solution),
                "--part",
                "async_view",
                "--json",
                str(report),
            ],
            env={**os.environ, sandbox.ENV_SWITCH: switch},
            capture_output=True,
            check=True,
        )
        data = json.loads(report.read_text())
        assert data["sandboxed"] is expected and data["score"] == 15, data


def test_clean_strips_control_characters_but_newline_and_tab() -> None:
    assert clean("a\x1b]52;c;x\x07b\tc\nd\x9b31m\u202ee") == "a]52;c;xb\tc\nd31me"


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-2+3+cmd|' -C calc'!A0", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(cell: str) -> None:
    assert csv_cell(cell).startswith("'")
