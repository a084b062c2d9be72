"""The static scan, the signed channel and the process bound, each on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.engine.integrity import scan_files, scan_source
from grader.host.containment import contain
from grader.judge.channel import ChannelWriter, open_signed_channel, read_signed
from tests.support import ROOT


def whats(source: str) -> list[str]:
    return [f.what for f in scan_source(source, "homework/x.py")]


def test_scan_flags_framework_processes_files_and_environment() -> None:
    found = whats(
        "import _pytest.runner\n"
        "from grader import pytest_plugin\n"
        "import os, sys as system, gc\n"
        "os.environ['A'] = '1'\n"
        "system.modules.clear()\n"
        "os.fork()\n"
        "open('/etc/passwd')\n"
        "f.__code__ = g.__code__\n"
        "exec('1')\n"
    )
    for expected in (
        "imports _pytest.runner",
        "imports grader",
        "imports gc",
        "uses os.environ",
        "uses sys.modules",
        "uses os.fork",
        "opens a file outside the project ('/etc/passwd')",
        "uses __code__",
        "calls exec()",
    ):
        assert any(w.startswith(expected) for w in found), (expected, found)


def test_scan_is_quiet_on_the_reference_and_the_alternatives() -> None:
    folders = [ROOT / "assignment/solution/homework"]
    folders += sorted((ROOT / "assignment/alternatives").glob("*/homework"))
    for folder in folders:
        files = [(f"homework/{p.name}", p) for p in sorted(folder.glob("*.py"))]
        assert [str(f) for f in scan_files(files)] == [], folder


def test_scan_survives_a_syntax_error() -> None:
    assert whats("def broken(:\n") == []


def test_signed_channel_keeps_genuine_records_and_reports_forgeries(tmp_path: Path) -> None:
    with open_signed_channel(tmp_path, {"digests": {}}) as channel:
        key_fd = channel.fds[1]
        writer = ChannelWriter(os.dup(channel.fds[0]), bytes(32), None)
        # The child's side: the key comes out of the pipe.
        os.environ["GRADER_CHANNEL_FD"] = f"{os.dup(channel.fds[0])},{os.dup(key_fd)}"
        child = ChannelWriter.from_environment()
        assert child is not None and child.payload == {"digests": {}}
        child.send({"event": "result", "nodeid": "t1", "outcome": "failed"})
        child.send({"event": "result", "nodeid": "t1", "outcome": "passed"})
        writer.send({"event": "result", "nodeid": "t2", "outcome": "passed"})  # wrong key
        forged = json.dumps({"event": "result", "nodeid": "t3", "outcome": "passed"})
        os.write(channel.fds[0], (forged + "\n").encode())
        child.close()
        writer.close()
        records, problems = read_signed(channel.path, channel.key)
    assert [(r["nodeid"], r["outcome"]) for r in records] == [("t1", "failed")]
    assert "two results for t1" in problems
    assert any("2 line(s)" in p and "not written by the grader" in p for p in problems)


def test_a_replayed_line_is_an_integrity_problem(tmp_path: Path) -> None:
    with open_signed_channel(tmp_path) as channel:
        os.environ["GRADER_CHANNEL_FD"] = f"{os.dup(channel.fds[0])},{os.dup(channel.fds[1])}"
        child = ChannelWriter.from_environment()
        assert child is not None
        child.send({"event": "start", "nodeid": "t1"})
        child.close()
        line = channel.path.read_bytes()
        os.write(channel.fds[0], line)
        records, problems = read_signed(channel.path, channel.key)
    assert len(records) == 1
    assert any("out of sequence or twice" in p for p in problems)


FORKS = """
import os, sys
from grader.host import containment
if sys.argv[1] == "cgroup":
    containment.join(__import__("pathlib").Path(sys.argv[2]))
else:
    containment.limit_processes(int(sys.argv[2]))
made = 0
for _ in range(400):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        import time
        os.close(1), os.close(2)  # let the caller stop reading
        time.sleep(60)
        os._exit(0)
    made += 1
print(made)
"""


def test_a_fork_loop_is_capped_and_every_process_is_killed() -> None:
    with contain(limit=32) as bound:
        if bound.kind == "none":
            pytest.skip("root without a writable pids cgroup: no count bound (see SECURITY.md)")
        where = str(bound.cgroup) if bound.cgroup else str(bound.nproc)
        done = subprocess.run(
            [sys.executable, "-c", FORKS, bound.kind, where],
            capture_output=True,
            text=True,
            timeout=120,
        )
        made = int(done.stdout.strip() or -1)
        assert 0 < made < 400, done.stderr
        if bound.cgroup is not None:
            assert made < 32
            members = (bound.cgroup / "cgroup.procs").read_text().split()
            assert len(members) == made  # the sleeping children, still there
    if bound.cgroup is not None:
        assert not bound.cgroup.exists()  # emptied and removed
