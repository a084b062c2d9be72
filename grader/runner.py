"""Run one pytest process over a workspace, within limits, and collect its records.

Each process gets: plugin autoloading off and the plugins named explicitly,
the grader's ``pytest.ini`` (``-c``) and rootdir, plain asserts, no network
but Unix sockets, a per-test timeout (pytest-timeout, signal method), a
wall-clock budget (the whole process group is killed when it runs out),
memory and file-size limits, its output in a file of which only the tail is
read, and an environment holding no secret.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import grader
from grader import forkserver, portable
from grader.channel import ENV_VAR, HANDOFF, SignedChannel, open_signed_channel, read_signed
from grader.containment import Containment, contain
from grader.guard import digests
from grader.sandbox import HOME as SANDBOX_HOME
from grader.sandbox import Sandbox
from grader.workspace import TESTS_DIR

# Module paths of the plugins (their pytest11 entry points), not package names:
# ``-p pytest_django`` would register the package, whose __init__ has no hooks.
PLUGINS = (
    "pytest_django.plugin",
    "pytest_asyncio.plugin",
    "pytest_timeout",
    "pytest_socket",
    "respx.plugin",
    "grader.pytest_plugin",
)
MEMORY_LIMIT = 2 * 1024**3
FILE_SIZE_LIMIT = 256 * 1024**2
OUTPUT_TAIL = 64 * 1024
# Inside a workspace, what graded code must not change: shown read-only in the sandbox.
PROTECTED = (TESTS_DIR, "pytest.ini")

# SYSTEMROOT, WINDIR, PATHEXT, COMSPEC: what Python itself needs on Windows.
_ALLOWED_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "SYSTEMROOT",
    "WINDIR",
    "PATHEXT",
    "COMSPEC",
)
_SECRET = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE|^AWS_|^GH_|^GITHUB_"
)


@dataclass
class RunOutcome:
    """What one pytest process left behind.

    ``returncode`` is the process's (negative: killed by that signal);
    ``timed_out`` says the grader killed it when its wall-clock budget ran
    out; ``output`` is the tail of its stdout and stderr, for instructors
    (it may quote test source: never show it to students).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    returncode: int = 0
    timed_out: bool = False
    duration: float = 0.0
    output: str = ""
    integrity: list[str] = field(default_factory=list)  # for the instructor (channel.read_signed)
    # How the process was started: ``forkserver``, ``spawn``, ``sandbox`` (a fresh interpreter
    # in bubblewrap) or ``sandbox-forkserver`` (forked into a held sandbox).
    launcher: str = ""

    def events(self, name: str) -> list[dict[str, Any]]:
        """The records of one kind (``collected``, ``result``, ``finish``...)."""
        return [r for r in self.records if r.get("event") == name]


def child_environment(home: Path) -> dict[str, str]:
    """A minimal environment: an allowlist, then anything secret-looking dropped."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in _ALLOWED_ENV and not _SECRET.search(key.upper())
    }
    env.setdefault("LANG", "C.UTF-8")
    env.update(
        HOME=str(home),
        TMPDIR=str(home),
        TEMP=str(home),
        TMP=str(home),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    found_by_path = _grader_import_path()
    if found_by_path is not None:
        env["PYTHONPATH"] = found_by_path
    return env


def _grader_import_path() -> str | None:
    """The folder holding the ``grader`` package when this process found it through
    ``sys.path`` (``PYTHONPATH``, as Gradescope's ``run_autograder`` does) rather than
    an installed distribution: children must import the same copy. In the sandbox
    that folder shows the grader package and nothing else."""
    parent = os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__)))
    on_path = {os.path.abspath(entry) for entry in sys.path if entry}
    return parent if parent in on_path else None


def pytest_command(
    workspace: Path,
    test_paths: list[str],
    *,
    test_timeout: float,
    collect_only: bool = False,
    launch_args: list[str] | None = None,
) -> list[str]:
    """The full command line of one grading process (``launch_args``: process bounds)."""
    return [
        sys.executable,
        "-m",
        "grader.launch",
        "--memory",
        str(MEMORY_LIMIT),
        "--file-size",
        str(FILE_SIZE_LIMIT),
        *(launch_args or []),
        "--",
        *pytest_arguments(
            workspace, test_paths, test_timeout=test_timeout, collect_only=collect_only
        ),
    ]


def pytest_arguments(
    workspace: Path, test_paths: list[str], *, test_timeout: float, collect_only: bool = False
) -> list[str]:
    """pytest's own arguments in a grading process (spawned or forked alike)."""
    args = [
        "-c",
        str(workspace / "pytest.ini"),
        "--rootdir",
        str(workspace),
        "-p",
        "no:cacheprovider",
    ]
    for plugin in PLUGINS:
        args += ["-p", plugin]
    args += [
        "--assert=plain",
        "--import-mode=importlib",
        "--disable-socket",
        "--allow-unix-socket",
        f"--timeout={test_timeout:g}",
        "-q",
        "--tb=short",
        "--no-header",
    ]
    if collect_only:
        args.append("--collect-only")
    return args + test_paths


class _Process(Protocol):
    """What the runner needs of a grading process: ``Popen`` or ``ForkedProcess``."""

    pid: int

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass(frozen=True)
class _Launch:
    """One grading process to start: what every way of starting it needs."""

    workspace: Path
    test_paths: list[str]
    env: dict[str, str]
    output: int
    channel: SignedChannel
    bound: Containment
    test_timeout: float
    collect_only: bool

    def arguments(self) -> list[str]:
        """pytest's arguments (forked processes)."""
        return pytest_arguments(
            self.workspace,
            self.test_paths,
            test_timeout=self.test_timeout,
            collect_only=self.collect_only,
        )

    def command(self, launch_args: list[str]) -> list[str]:
        """The whole command line (spawned processes)."""
        return pytest_command(
            self.workspace,
            self.test_paths,
            test_timeout=self.test_timeout,
            collect_only=self.collect_only,
            launch_args=launch_args,
        )

    def fork(
        self, server: forkserver.ForkServer, env: dict[str, str], box: dict[str, int] | None
    ) -> forkserver.ForkedProcess:
        """Ask the fork server for it (``box``: the held sandbox to enter)."""
        return server.spawn(
            self.arguments(),
            env=env,
            cwd=self.workspace,
            output_fd=self.output,
            channel_fds=self.channel.fds,
            memory=MEMORY_LIMIT,
            file_size=FILE_SIZE_LIMIT,
            cgroups=self.bound.cgroups,
            nproc=self.bound.nproc,
            sandbox=box,
        )


def _start(
    launch: _Launch, sandbox: Sandbox | None, cleanups: list[Callable[[], None]]
) -> tuple[_Process, str]:
    """Start it in the sandbox; else fork it from the fork server, or spawn it.

    In the sandbox, as root, the process is forked by the fork server and
    enters a held sandbox (``Sandbox.hold``, ``grader.nsenter``); otherwise a
    fresh interpreter starts inside bubblewrap. ``cleanups`` gets what must
    run once the process has ended (closing the held sandbox).
    """
    if sandbox is not None and sandbox.can_hold:
        forked = _fork_sandboxed(launch, sandbox, cleanups)
        if forked is not None:
            return forked, "sandbox-forkserver"
    if sandbox is not None:
        return _start_sandboxed(launch, sandbox), "sandbox"
    server = _fork_server()
    if server is not None:
        try:
            return launch.fork(server, launch.env, None), "forkserver"
        except forkserver.ForkServerError:
            pass  # spawn this one; a broken server is not asked again
    command = launch.command(launch.bound.launch_args())
    return _spawn(command, launch), "spawn"


def _fork_server() -> forkserver.ForkServer | None:
    """This grader process's fork server, started with a grading process's environment."""
    return forkserver.shared(child_environment(Path(tempfile.gettempdir())))


def _spawn(command: list[str], launch: _Launch) -> subprocess.Popen[bytes]:
    """Start ``command`` handing it the channel by descriptor, or on stdin where a child
    cannot inherit descriptors (Windows): the same records either way."""
    channel = launch.channel
    try:
        return subprocess.Popen(
            command,
            cwd=launch.workspace,
            env={**launch.env, ENV_VAR: channel.env_value},
            stdin=subprocess.DEVNULL,
            stdout=launch.output,
            stderr=subprocess.STDOUT,
            pass_fds=channel.fds,
            start_new_session=True,
        )
    except (ValueError, AssertionError, TypeError):  # no pass_fds on this platform
        pass
    process = subprocess.Popen(
        command,
        cwd=launch.workspace,
        env={**launch.env, ENV_VAR: HANDOFF},
        stdin=subprocess.PIPE,
        stdout=launch.output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdin is not None
    with contextlib.suppress(OSError):  # a child that died at once: its exit says why
        process.stdin.write(channel.handoff())
    with contextlib.suppress(OSError):
        process.stdin.close()
    return process


def _fork_sandboxed(
    launch: _Launch, sandbox: Sandbox, cleanups: list[Callable[[], None]]
) -> _Process | None:
    """Fork the process from the fork server into a held sandbox; None: spawn instead."""
    server = _fork_server()
    if server is None or sandbox.uid is None:
        return None
    _hand_over(launch.workspace, sandbox.uid)
    try:
        holder = sandbox.hold(workspace=launch.workspace, protected=PROTECTED)
    except OSError:
        return None
    cleanups.append(holder.close)
    env = {**launch.env, "HOME": SANDBOX_HOME, "TMPDIR": SANDBOX_HOME}
    try:
        return launch.fork(server, env, {"pid": holder.pid, "uid": sandbox.uid})
    except forkserver.ForkServerError:
        return None


def _start_sandboxed(launch: _Launch, sandbox: Sandbox) -> subprocess.Popen[bytes]:
    """``python -m grader.launch`` inside bubblewrap, in the part's cgroups."""
    if sandbox.uid is not None:
        _hand_over(launch.workspace, sandbox.uid)
    nproc = launch.bound.nproc
    command = sandbox.wrap(
        launch.command(["--nproc", str(nproc)] if nproc is not None else []),
        workspace=launch.workspace,
        protected=PROTECTED,
        cgroups=launch.bound.cgroups,
    )
    return _spawn(command, launch)


def _unwrap_status(returncode: int) -> int:
    """bubblewrap exits 128 + N when what it ran was killed by signal N: as ``Popen`` says it."""
    if 128 < returncode < 128 + 65:
        return -(returncode - 128)
    return returncode


def _hand_over(workspace: Path, uid: int) -> None:
    """Let the sandbox's unprivileged uid write its workspace (the tests stay read-only)."""
    os.chown(workspace, uid, uid)
    for path in workspace.rglob("*"):
        if path.is_symlink():
            continue
        os.chown(path, uid, uid)


def run_pytest(
    workspace: Path,
    test_paths: list[str],
    *,
    scratch: Path,
    test_timeout: float,
    budget: float,
    collect_only: bool = False,
    expected_files: dict[str, str] | None = None,
    sandbox: Sandbox | None = None,
) -> RunOutcome:
    """Run pytest in ``workspace`` once and return its records, killing it after ``budget`` s.

    ``scratch`` is a private directory (created if needed) for the process's
    home, its output file and the result channel. ``expected_files``: the
    digests of the grading files (``grading_files``), checked by the plugin
    after collection; taken from the workspace now when not given. The
    channel is signed (``channel.read_signed``) and the process bounded by
    ``grader.containment``; what looked forged is in ``RunOutcome.integrity``.
    """
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = child_environment(home)
    if expected_files is None:
        expected_files = grading_files(workspace)
    log = scratch / "output.log"
    outcome = RunOutcome()
    started = time.monotonic()
    cleanups: list[Callable[[], None]] = []
    with (
        contain(memory=MEMORY_LIMIT) as bound,
        open_signed_channel(scratch, {"digests": expected_files}) as channel,
        log.open("wb") as output,
    ):
        launch = _Launch(
            workspace=workspace,
            test_paths=test_paths,
            env=env,
            output=output.fileno(),
            channel=channel,
            bound=bound,
            test_timeout=test_timeout,
            collect_only=collect_only,
        )
        process, outcome.launcher = _start(launch, sandbox, cleanups)
        try:
            outcome.returncode = process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            outcome.timed_out = True
            _kill_group(process.pid)
            bound.kill_all()
            outcome.returncode = process.wait()
        finally:
            # Whatever the student's code started in the group (and cgroup) goes too.
            _kill_group(process.pid)
            for cleanup in cleanups:
                cleanup()
            bound.kill_all()
    outcome.duration = time.monotonic() - started
    if outcome.launcher == "sandbox":  # bubblewrap's own exit status
        outcome.returncode = _unwrap_status(outcome.returncode)
    outcome.records, outcome.integrity = read_signed(channel.path, channel.key)
    outcome.output = _tail(log)
    return outcome


def grading_files(workspace: Path) -> dict[str, str]:
    """Digests of the workspace's grading tests and pytest.ini, relative to ``workspace``."""
    files = [workspace / "pytest.ini", *sorted((workspace / TESTS_DIR).rglob("*.py"))]
    return digests(workspace, [f for f in files if f.is_file()])


def run_resuming(
    build: Callable[[Path], list[str]],
    *,
    scratch: Path,
    test_timeout: float,
    budget: float,
    sandbox: Sandbox | None = None,
) -> RunOutcome:
    """Run the tests, and run again whatever a crash or a hang left unfinished.

    A test that kills its process (``os._exit``, a segfault, the memory
    limit) is reported as an ``error`` naming how the process ended; a test
    that timed out stops its session (the plugin sees to it, since the
    interrupted code may still hold a thread). Either way the tests after it
    run in a fresh process, so one bad test costs only its own points. All
    runs share the one wall-clock ``budget``; a run that starts no test ends
    the loop.

    ``build`` writes a workspace into the folder it is given and returns the
    test paths: each run gets a fresh one, so nothing a crashed run wrote
    there (a ``conftest.py``, an edited test) reaches the next.
    """
    deadline = time.monotonic() + budget
    merged = RunOutcome()
    expected_files: dict[str, str] | None = None
    expected: list[str] | None = None
    args: list[str] | None = None
    for attempt in itertools.count(1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            merged.timed_out = True
            break
        run_scratch = scratch / f"run-{attempt}"
        workspace = run_scratch / "ws"
        paths = build(workspace)
        if expected_files is None:
            # Taken before any student code ran: every run is checked against the same.
            expected_files = grading_files(workspace)
        outcome = run_pytest(
            workspace,
            paths if args is None else args,
            scratch=run_scratch,
            test_timeout=test_timeout,
            budget=remaining,
            expected_files=expected_files,
            sandbox=sandbox,
        )
        merged.integrity += outcome.integrity
        merged.duration += outcome.duration
        merged.returncode = outcome.returncode
        merged.output = outcome.output
        merged.timed_out = outcome.timed_out
        merged.launcher = outcome.launcher
        merged.records += [r for r in outcome.records if r.get("event") != "collected"]
        if expected is None:
            collected = outcome.events("collected")
            if not collected:
                merged.records += outcome.records
                break
            expected = [str(t.get("nodeid")) for t in collected[-1].get("tests", [])]
            merged.records.insert(0, collected[-1])
        if outcome.timed_out:
            break
        finished = {str(r.get("nodeid")) for r in merged.events("result")}
        started = [str(r.get("nodeid")) for r in outcome.events("start")]
        crashed = [n for n in started if n not in finished]
        for nodeid in crashed:
            merged.records.append(
                {
                    "event": "result",
                    "nodeid": nodeid,
                    "outcome": "error",
                    "message": f"The test process {describe_exit(outcome.returncode)} "
                    "while this test was running.",
                    "duration": 0.0,
                }
            )
            finished.add(nodeid)
        args = [n for n in expected if n not in finished]
        if not args or not started:
            break
    return merged


def _kill_group(pgid: int) -> None:
    """Kill the process group ``pgid`` (its leader's pid); only the leader where the OS
    has no process groups (Windows)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if portable.can_kill_group():
            os.killpg(pgid, portable.kill_signal())
        else:
            os.kill(pgid, portable.kill_signal())


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - OUTPUT_TAIL))
            return stream.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def describe_exit(returncode: int) -> str:
    """A process's end in plain words, for a student."""
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        fatal = {getattr(signal, n, None) for n in ("SIGKILL", "SIGSEGV")} - {None}
        extra = " (often: out of memory, or the process killed itself)" if number in fatal else ""
        return f"was stopped by {name}{extra}"
    return f"exited early with exit code {returncode}"
