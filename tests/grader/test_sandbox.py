"""``grader.host.sandbox``: when a sandbox can be made, what it shows graded code, and
what the grader does where it cannot (the attacks themselves are in
``test_sandbox_attacks.py``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from grader.host import sandbox
from grader.instructor.batch import run_batch
from grader.model.errors import GraderError
from grader.model.rubric import load_rubric
from grader.model.text import clean, csv_cell
from tests.support.unprivileged import TEST_UID, as_unprivileged

RUBRIC = load_rubric()
BOX = sandbox.detect()


def test_turned_off_by_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sandbox.ENV_SWITCH, "0")
    assert sandbox.detect() == "turned off by $GRADER_SANDBOX=0"


def test_no_bubblewrap_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sandbox.ENV_SWITCH, raising=False)
    monkeypatch.setattr("grader.host.sandbox.shutil.which", lambda name: None)
    reason = sandbox.detect()
    assert isinstance(reason, str) and "apt-get install bubblewrap" in reason


def test_a_refused_sandbox_is_a_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.delenv(sandbox.ENV_SWITCH, raising=False)
    monkeypatch.setattr("grader.host.sandbox.shutil.which", lambda name: str(fake))
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
            "import sys; from grader.commands.cli import main; sys.exit(main())",
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
                "import sys; from grader.commands.cli import main; sys.exit(main())",
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


PROBE = """
import json, os

def _facts():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    tmp = os.statvfs("/tmp")
    tests = []  # any grading test in sight: the workspace, its parents, the whole tree
    for folder, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr")]
        names = ("test_async_view.py", "rubric.toml")
        tests += [os.path.join(folder, f) for f in files if f in names]
        tests += [os.path.join(folder, d) for d in dirs if d == "grading_tests"]
        if len(tests) >= 3:  # enough to fail on; unsandboxed the whole machine is in sight
            break
    return {
        "uid": os.getuid(),
        "cap_eff": status["CapEff"].strip(),
        "no_new_privs": status["NoNewPrivs"].strip(),
        "tmp_bytes": tmp.f_blocks * tmp.f_frsize,
        "tests": [path[-120:] for path in tests[:3]],  # the tail holds the name
        "workspace": sorted(os.listdir(".")),
        # The largest pid, not the list: unsandboxed, every pid of the machine would not
        # fit in the test's message.
        "pid_max": max(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "hostname": os.uname().nodename,
        "interfaces": [l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]],
        "home": os.path.exists(os.path.expanduser("~/.bashrc")),
    }

async def hello(request):
    raise RuntimeError("FACTS" + json.dumps(_facts()) + "FACTS")
"""


@pytest.mark.skipif(isinstance(BOX, str), reason=f"no sandbox here: {BOX}")
@pytest.mark.parametrize("who", ["grader's user", "unprivileged", "unsandboxed"])
def test_what_graded_code_sees_from_inside(who: str) -> None:
    """The SECURITY.md table, asked from inside a graded process, as root and not; and,
    as a control that the probe can fail, unsandboxed (where the tests are in sight)."""
    if who == "unprivileged" and (os.geteuid() != 0 or shutil.which("bwrap") is None):
        pytest.skip("running as another user needs root and bubblewrap")
    base = Path(tempfile.mkdtemp(prefix="probe-"))
    try:
        (base / "sub" / "homework").mkdir(parents=True)
        (base / "sub" / "homework" / "async_views.py").write_text(PROBE)
        report = base / "r.json"
        command = [
            sys.executable,
            "-c",
            "import sys; from grader.commands.cli import main; sys.exit(main())",
            "grade",
            str(base / "sub"),
            "--part",
            "async_view",
            "--json",
            str(report),
        ]
        if who == "unprivileged":
            subprocess.run(["chown", "-R", f"{TEST_UID}:{TEST_UID}", str(base)], check=True)
            command = as_unprivileged(command, readable=(str(RUBRIC.root),))
        env = {**os.environ, sandbox.ENV_SWITCH: "0" if who == "unsandboxed" else "1"}
        subprocess.run(command, capture_output=True, check=False, cwd=base, env=env)
        facts = _facts(report)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if who == "unsandboxed":
        assert facts["tests"], (
            "unsandboxed, the probe must see the tests (the trusted folder's or the repository's)"
        )
        return
    if os.geteuid() == 0 and who != "unprivileged":
        assert facts["uid"] == sandbox.UNPRIVILEGED_UID
    assert int(facts["cap_eff"], 16) == 0 and facts["no_new_privs"] == "1"
    assert facts["tmp_bytes"] <= sandbox.TMP_SIZE
    # No grading test anywhere in sight: the app's workspace is the scaffold and the
    # answer files; the tests stay with the trusted side, outside the sandbox.
    assert facts["tests"] == []
    assert facts["workspace"] == ["config", "db.sqlite3", "homework", "manage.py"]
    assert facts["pid_max"] < 50  # its own PID namespace: a handful of processes
    assert facts["hostname"] == "grader"
    assert facts["interfaces"] == ["lo"]  # a network namespace of its own
    assert facts["home"] is False


def _facts(report: Path) -> dict[str, Any]:
    messages = [t["message"] for p in json.loads(report.read_text())["parts"] for t in p["tests"]]
    raw = next(m for m in messages if "FACTS" in m).split("FACTS")[1]
    facts: dict[str, Any] = json.loads(raw)
    return facts
