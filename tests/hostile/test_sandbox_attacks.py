"""Attacks on the sandbox, graded end to end by ``grader batch`` (the grade of record).

A roster of innocent submissions and attackers (``tests/hostile/sandbox/``, each
an answer file that replaces one of the reference's) is graded once as root
and once as an unprivileged user. The attackers try to read the instructor's
secrets and a classmate's work, reach the network, outlive the grade and then
forge the gradebook, plant a ``.pth`` in the grader's environment, rewrite the
repository's tests and git config, tamper with classmates, exhaust memory and
disk, and attack the reader's terminal, spreadsheet and Markdown viewer.

For each run: no canary reaches any output; the listeners hear nothing; no
process is left; nothing outside the workspaces changed (the grader's
environment, the repository and its ``.git``, the other submissions); every
innocent keeps its grade. Needs bubblewrap: skipped with the reason otherwise
(``GRADER_REQUIRE_SANDBOX=1``, set by ``.ci/run``, makes that a failure).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.host import sandbox
from grader.model.rubric import load_rubric
from tests.support.hostile import CASES as HOSTILE
from tests.support.hostile import TWINS, lay_case
from tests.support.unprivileged import TEST_UID, as_unprivileged

ATTACKS = Path(__file__).parent / "sandbox"
RUBRIC = load_rubric()
SOLUTION = RUBRIC.root / "assignment" / "solution"
# submission folder -> (attack file, the answer file it replaces)
ATTACKERS = {
    "mallory_spy": ("spy.py", "homework/aggregator.py"),
    "mallory_network": ("network.py", "homework/aggregator.py"),
    "mallory_outlive": ("outlive.py", "homework/middleware.py"),
    "mallory_resources": ("resources.py", "homework/db_views.py"),
    "-2+3+cmd|' -C calc'!A0": ("output.py", "homework/async_views.py"),
}
ATTACKED_PART = {
    "homework/aggregator.py": "aggregator",
    "homework/middleware.py": "middleware",
    "homework/db_views.py": "orm_threadpool",
    "homework/async_views.py": "async_view",
}
INNOCENT_FULL = ("alice", "=1+2")  # the reference: 100 whatever the attackers do
# Attacks on the split harness (tests/hostile/cases/<case>), laid over the reference together:
# each hostile part earns what the starter earns (0), the aggregator keeps its 30.
SPLIT_CASES = {
    "mallory_split": (
        "conftest_then_crash",
        "forge_via_frames",
        "patch_the_harness",
        "hunt_hidden_tests",
    ),
    # Invented answers on the channel: no more than the honest twin's answers earn.
    "mallory_invent": ("invent_answers",),
}
TWIN = ("twin_invent", TWINS / "invent_answers")
ANSWER_FILES = [file for part in RUBRIC.parts for file in part.files]

BOX = sandbox.detect()
needs_sandbox = pytest.mark.skipif(
    isinstance(BOX, str) and os.environ.get("GRADER_REQUIRE_SANDBOX") != "1",
    reason=f"no sandbox here: {BOX}",
)


class Listener:
    """A TCP and a unix-socket listener that record every connection they get."""

    def __init__(self, unix_path: Path) -> None:
        self.heard: list[str] = []
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(str(unix_path))
        os.chmod(unix_path, 0o777)
        self.unix.listen(16)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, args=(s,)) for s in self.sockets]
        for thread in self._threads:
            thread.start()

    @property
    def sockets(self) -> tuple[socket.socket, socket.socket]:
        return self.tcp, self.unix

    def _serve(self, server: socket.socket) -> None:
        server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            self.heard.append(f"{server.family.name}: {conn.recv(100)!r}")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for server in self.sockets:
            server.close()


@dataclass
class Arena:
    base: Path
    canary: str
    listener: Listener
    before: dict[str, str] = field(default_factory=dict)
    output: str = ""
    returncode: int = 0
    mark: str = field(default_factory=lambda: f"mark{secrets.token_hex(4)}")

    @property
    def repo(self) -> Path:
        return self.base / "repo"

    @property
    def roster(self) -> Path:
        return self.base / "roster"

    @property
    def out(self) -> Path:
        return self.base / "out"

    @property
    def home(self) -> Path:
        return self.base / "home"


def _fill(arena: Arena) -> None:
    """The instructor's home, a copy of the repository, the roster: canaries everywhere."""
    canary = arena.canary
    for name in (".ssh/id_rsa", ".netrc", ".bash_history"):
        path = arena.home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{canary}-{name}\n")
    for folder in ("assignment", "starter"):
        shutil.copytree(RUBRIC.root / folder, arena.repo / folder)
    subprocess.run(["git", "init", "-q", str(arena.repo)], check=True)
    with (arena.repo / ".git/config").open("a") as stream:
        stream.write(f"# {canary}-git\n")
    for path in (
        arena.repo / "assignment/solution/homework/aggregator.py",
        arena.repo / "assignment/tests/hidden/test_aggregator.py",
    ):
        path.write_text(path.read_text() + f"\n# {canary}-{path.name}\n")
    for name in (*INNOCENT_FULL, *ATTACKERS):
        for file in ANSWER_FILES:
            _copy(SOLUTION / file, arena.roster / name / file)
    alice = arena.roster / "alice/homework/aggregator.py"
    alice.write_text(alice.read_text() + f"\n# {canary}-alice\n")
    for file in ANSWER_FILES:  # bob: the starter's stubs
        _copy(RUBRIC.starter / file, arena.roster / "bob" / file)
    for name, cases in {**SPLIT_CASES, TWIN[0]: ()}.items():
        for file in ANSWER_FILES:
            _copy(SOLUTION / file, arena.roster / name / file)
        for case in cases:
            lay_case(HOSTILE / case, arena.roster / name)
    # The hunt replaces tasks.py only; with the starter's schedule the part's honest score is 0.
    _copy(
        RUBRIC.starter / "homework/schedule.py", arena.roster / "mallory_split/homework/schedule.py"
    )
    shutil.copytree(TWIN[1], arena.roster / TWIN[0], dirs_exist_ok=True)
    values = {
        "__HOME__": str(arena.home),
        "__REPO__": str(arena.repo),
        "__ROSTER__": str(arena.roster),
        "__OUT__": str(arena.out),
        "__PORT__": str(arena.listener.port),
        "__AGENT__": str(arena.base / "agent.sock"),
        "__VENV_SITE__": sysconfig.get_paths()["purelib"],
        "__MARK__": arena.mark,  # the attacker's own file names: not a secret
    }
    for name, (attack, file) in ATTACKERS.items():
        text = (ATTACKS / attack).read_text()
        for key, value in values.items():
            text = text.replace(key, value)
        (arena.roster / name / file).write_text(text)
    arena.out.mkdir()


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _snapshot(arena: Arena) -> dict[str, str]:
    """A digest of everything the attackers must not change."""
    digests: dict[str, str] = {}
    site = Path(sysconfig.get_paths()["purelib"])
    digests["site-packages listing"] = "\n".join(sorted(p.name for p in site.iterdir()))
    for root in (arena.repo, arena.roster, arena.home):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _processes_of(uid: int) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()
        if int(uids[1]) == uid:
            found.append(f"{proc.name} {status.splitlines()[0]}")
    return found


@pytest.fixture(scope="module", params=["root", "unprivileged"])
def arena(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Arena]:
    if isinstance(BOX, str):
        if os.environ.get("GRADER_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"no sandbox: {BOX}")
        pytest.skip(f"no sandbox here: {BOX}")
    who = str(request.param)
    if os.geteuid() != 0 and who == "root":
        pytest.skip("the root run needs root")
    # Not under pytest's temporary root, which only its owner may enter.
    base = Path(tempfile.mkdtemp(prefix=f"arena-{who}-"))
    base.chmod(0o755)
    listener = Listener(base / "agent.sock")
    arena = Arena(base=base, canary=f"CANARY{secrets.token_hex(8)}", listener=listener)
    try:
        _fill(arena)
        arena.before = _snapshot(arena)
        command = [
            str(Path(sys.executable).parent / "grader"),
            "batch",
            str(arena.roster),
            "--out",
            str(arena.out / "gradebook.csv"),
            "--root",
            str(arena.repo),
        ]
        sandboxed_uid = sandbox.UNPRIVILEGED_UID
        if who == "unprivileged" and os.geteuid() == 0:
            subprocess.run(["chown", "-R", f"{TEST_UID}:{TEST_UID}", str(base)], check=True)
            command = as_unprivileged(command)
            sandboxed_uid = TEST_UID
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(arena.home),
            "GITHUB_TOKEN": f"{arena.canary}-token",
            "LANG": "C.UTF-8",
            # The grader's own plotting cache (the roster report): not the attackers' doing.
            "MPLCONFIGDIR": str(base / "mplconfig"),
        }
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        arena.output = done.stdout + done.stderr
        arena.returncode = done.returncode
        time.sleep(3)  # a daemon that outlived the batch would strike now
        assert _processes_of(sandboxed_uid) == []
        # Resumed, the batch keeps every row it wrote: nothing forged its state.
        first = (arena.out / "gradebook.csv").read_bytes()
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        arena.output += again.stdout + again.stderr
        assert "11 unchanged (kept)" in again.stdout, again.stdout
        assert (arena.out / "gradebook.csv").read_bytes() == first
        yield arena
    finally:
        listener.close()
        (Path(sysconfig.get_paths()["purelib"]) / "zz_hostile.pth").unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=True)


def _rows(arena: Arena) -> dict[str, dict[str, str]]:
    import csv

    with (arena.out / "gradebook.csv").open(encoding="utf-8") as stream:
        return {row["submission"]: row for row in csv.DictReader(stream)}


@needs_sandbox
def test_the_batch_finishes_and_grades_everyone(arena: Arena) -> None:
    assert arena.returncode == 0, arena.output[-3000:]
    rows = _rows(arena)
    assert len(rows) == len(INNOCENT_FULL) + 1 + len(ATTACKERS) + len(SPLIT_CASES) + 1, list(rows)
    assert all(row["sandboxed"] == "yes" for row in rows.values()), rows


@needs_sandbox
def test_innocent_submissions_keep_their_grades(arena: Arena) -> None:
    rows = _rows(arena)
    for name in ("alice", "'=1+2"):
        assert rows[name]["total"] == "100", rows[name]
    assert rows["bob"]["total"] == "0", rows["bob"]


@needs_sandbox
def test_attackers_earn_only_their_honest_points(arena: Arena) -> None:
    rows = _rows(arena)
    for name, (_attack, file) in ATTACKERS.items():
        row = rows[f"'{name}" if name.startswith("-") else name]
        part = ATTACKED_PART[file]
        max_part = str(RUBRIC.part(part).points).removesuffix(".0")
        assert row[part] == "0", (name, row)
        assert float(row["total"]) == 100 - float(max_part), (name, row)


@needs_sandbox
def test_forging_the_split_harness_earns_nothing(arena: Arena) -> None:
    """Against the split harness, as root and unprivileged: the parts attacked through
    ``gc``, frames, a planted conftest, a patched app side and a hunt for the tests
    earn 0; invented channel answers earn no more than the same answers given honestly."""
    rows = _rows(arena)
    split = rows["mallory_split"]
    for part in ("async_view", "middleware", "orm_threadpool", "daily_stats"):
        assert split[part] == "0", (part, split)
    assert split["aggregator"] == "30", split
    assert float(rows["mallory_invent"]["aggregator"]) <= float(rows[TWIN[0]]["aggregator"])
    assert float(rows["mallory_invent"]["total"]) <= float(rows[TWIN[0]]["total"])


@needs_sandbox
def test_no_canary_reaches_any_output(arena: Arena) -> None:
    texts = {"terminal": arena.output}
    for path in arena.out.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    spy = (arena.out / "feedback" / "mallory_spy.md").read_text()
    assert "PermissionError" in spy or "FileNotFoundError" in spy, spy[:2000]  # it did try
    for where, text in texts.items():
        assert arena.canary not in text, where


@needs_sandbox
def test_the_network_hears_nothing(arena: Arena) -> None:
    assert arena.listener.heard == []
    feedback = (arena.out / "feedback" / "mallory_network.md").read_text()
    assert "raw socket" in feedback  # it did try


@needs_sandbox
def test_nothing_outside_the_workspaces_changed(arena: Arena) -> None:
    after = _snapshot(arena)
    changed = [k for k in arena.before.keys() | after.keys() if arena.before.get(k) != after.get(k)]
    assert changed == []
    assert not (Path(sysconfig.get_paths()["purelib"]) / "zz_hostile.pth").exists()
    assert not list(Path("/tmp").glob(f"hostile-fill-{arena.mark}"))
    assert not list(Path("/dev/shm").glob(f"hostile-fill-{arena.mark}"))


@needs_sandbox
def test_no_escape_sequence_or_formula_reaches_a_reader(arena: Arena) -> None:
    for path in [*arena.out.rglob("*")]:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, path
    assert "\x1b" not in arena.output and "\x9b" not in arena.output
    # The Markdown image beacon arrives as text, never as an image to fetch.
    feedback = (arena.out / "feedback" / "-2+3+cmd|' -C calc'!A0.md").read_text()
    assert "![beacon](" not in feedback and "\\!\\[beacon\\]" in feedback, feedback
    csv_text = (arena.out / "gradebook.csv").read_text()
    for line in csv_text.splitlines()[1:]:
        assert not line.startswith(("=", "+", "-", "@")), line


@needs_sandbox
def test_without_the_sandbox_the_same_attacks_succeed(tmp_path: Path) -> None:
    """The control: these checks can fail. Unsandboxed (``--unsandboxed``, the sandbox
    turned off) the spy reads the canaries and the network attack is heard. (Only
    the harmless attacks: the others would strike this machine.)"""
    base = tmp_path / "control"
    listener = Listener(tmp_path / "agent.sock")
    arena = Arena(base=base, canary=f"CANARY{secrets.token_hex(8)}", listener=listener)
    try:
        _fill(arena)
        for name in [*ATTACKERS, *SPLIT_CASES, TWIN[0]]:
            if name not in ("mallory_spy", "mallory_network"):
                shutil.rmtree(arena.roster / name)
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "grader"),
                "batch",
                str(arena.roster),
                "--out",
                str(arena.out / "gradebook.csv"),
                "--root",
                str(arena.repo),
                "--unsandboxed",
            ],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(arena.home),
                "GRADER_SANDBOX": "0",
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        spy = (arena.out / "feedback" / "mallory_spy.md").read_text()
        assert arena.canary in spy
        assert listener.heard, "the unsandboxed network attack was not heard"
        assert all(row["sandboxed"].startswith("no:") for row in _rows(arena).values())
    finally:
        listener.close()
