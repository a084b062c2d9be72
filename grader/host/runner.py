"""Run one pytest process over a workspace, within limits, and collect its records.

Each process gets: plugin autoloading off and the plugins named explicitly,
the grader's ``pytest.ini`` (``-c``) and rootdir, plain asserts, no network
but Unix sockets, a per-test timeout (pytest-timeout, signal method), a
wall-clock budget (the whole process group is killed when it runs out),
memory and file-size limits, its output in a file of which only the tail is
read, and an environment holding no secret.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import grader
from grader.host import forkserver, portable
from grader.host.containment import Containment, contain
from grader.host.launch import HARNESS_FD_ENV
from grader.host.sandbox import HOME as SANDBOX_HOME
from grader.host.sandbox import Sandbox
from grader.judge import PYTEST_PLUGINS
from grader.judge.channel import ENV_VAR, HANDOFF, SignedChannel, open_signed_channel, read_signed
from grader.judge.guard import digests
from grader.judge.records import Collected, GradingDigests, Record, Result, Start, parse_records
from grader.model.rubric import TESTS_DIR

PLUGINS = PYTEST_PLUGINS  # named to every grading pytest with ``-p``
MEMORY_LIMIT = 2 * 1024**3
FILE_SIZE_LIMIT = 256 * 1024**2
OUTPUT_TAIL = 64 * 1024

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


_R = TypeVar("_R", bound=Record)


@dataclass
class RunOutcome:
    """What one pytest process left behind.

    ``returncode`` is the process's (negative: killed by that signal);
    ``timed_out`` says the grader killed it when its wall-clock budget ran
    out; ``output`` is the tail of its stdout and stderr, for instructors
    (it may quote test source: never show it to students).
    """

    records: list[Record] = field(default_factory=list)
    returncode: int = 0
    timed_out: bool = False
    duration: float = 0.0
    output: str = ""
    integrity: list[str] = field(default_factory=list)  # for the instructor (channel.read_signed)
    # How the process was started: ``forkserver``, ``spawn``, ``sandbox`` (a fresh interpreter
    # in bubblewrap) or ``sandbox-forkserver`` (forked into a held sandbox); ``app:...``
    # when the grader started the app in the sandbox beside it.
    launcher: str = ""
    app_ended: bool = False  # the run stopped because the app's process ended

    def events(self, kind: type[_R]) -> list[_R]:
        """The records of one kind (``Collected``, ``Result``, ``Finish``...)."""
        return [r for r in self.records if isinstance(r, kind)]


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


def launch_command(launch_args: list[str]) -> list[str]:
    """``python -m grader.host.launch`` with the memory and file limits and ``launch_args``."""
    return [
        sys.executable,
        "-m",
        "grader.host.launch",
        "--memory",
        str(MEMORY_LIMIT),
        "--file-size",
        str(FILE_SIZE_LIMIT),
        *launch_args,
    ]


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
        *launch_command(launch_args or []),
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
    channel: SignedChannel | None  # None: the app, which reports nothing to the grader
    bound: Containment
    test_timeout: float
    collect_only: bool
    program: str = "pytest"  # or "app": the app server (``grader.appside``) on ``harness_fd``
    harness_fd: int | None = None

    @property
    def fds(self) -> tuple[int, ...]:
        """The descriptors the process inherits (beyond its standard streams)."""
        own = self.channel.fds if self.channel is not None else ()
        return (*own, *(() if self.harness_fd is None else (self.harness_fd,)))

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
        if self.program == "app":
            return [*launch_command(launch_args), "--app", str(self.harness_fd)]
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
            channel_fds=self.channel.fds if self.channel is not None else None,
            memory=MEMORY_LIMIT,
            file_size=FILE_SIZE_LIMIT,
            cgroups=self.bound.cgroups,
            nproc=self.bound.nproc,
            sandbox=box,
            program=self.program,
            harness_fd=self.harness_fd,
        )


def _start(
    launch: _Launch, sandbox: Sandbox | None, cleanups: list[Callable[[], None]]
) -> tuple[_Process, str]:
    """Start it in the sandbox; else fork it from the fork server, or spawn it.

    In the sandbox, as root, the process is forked by the fork server and
    enters a held sandbox (``Sandbox.hold``, ``grader.host.nsenter``); otherwise a
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
    env = dict(launch.env)
    if channel is not None:
        env[ENV_VAR] = channel.env_value
    if launch.harness_fd is not None and launch.program == "pytest":
        env[HARNESS_FD_ENV] = str(launch.harness_fd)
    try:
        return subprocess.Popen(
            command,
            cwd=launch.workspace,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=launch.output,
            stderr=subprocess.STDOUT,
            pass_fds=launch.fds,
            start_new_session=True,
        )
    except (ValueError, AssertionError, TypeError):  # no pass_fds on this platform
        if channel is None or launch.harness_fd is not None:
            raise  # the harness channel needs descriptors: only the sandbox (Linux) uses it
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
        holder = sandbox.hold(workspace=launch.workspace)
    except OSError:
        return None
    cleanups.append(holder.close)
    env = {**launch.env, "HOME": SANDBOX_HOME, "TMPDIR": SANDBOX_HOME}
    try:
        return launch.fork(server, env, {"pid": holder.pid, "uid": sandbox.uid})
    except forkserver.ForkServerError:
        return None


def _start_sandboxed(launch: _Launch, sandbox: Sandbox) -> subprocess.Popen[bytes]:
    """``python -m grader.host.launch`` inside bubblewrap, in the part's cgroups."""
    if sandbox.uid is not None:
        _hand_over(launch.workspace, sandbox.uid)
    nproc = launch.bound.nproc
    command = sandbox.wrap(
        launch.command(["--nproc", str(nproc)] if nproc is not None else []),
        workspace=launch.workspace,
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


# How a message about a process that ended under a test begins (one place: the roster
# report recognises crashes by it).
APP_ENDED = "Your project's process"
TESTS_ENDED = "The test process"
APP_GONE_EXIT = 76  # the trusted pytest's exit when the app it drives has ended (harness)
APP_EXIT_FILE_ENV = "GRADER_APP_EXIT_FILE"


@dataclass(frozen=True)
class AppSpec:
    """The app side of a run: the part's workspace (scaffold and answer files only), and
    where the trusted side may keep the migrated database to copy for later runs."""

    workspace: Path
    database_template: Path | None = None

    def database_url(self) -> str:
        """The database both sides open: a SQLite file in the app's workspace."""
        return f"sqlite:///{(self.workspace / 'db.sqlite3').as_posix()}"


def _harness_env(
    env: dict[str, str], app: AppSpec, sandbox: Sandbox | None, exit_file: Path
) -> dict[str, str]:
    """The trusted pytest's environment: where the app is and which database it shares."""
    extra = {
        "GRADER_DATABASE_URL": app.database_url(),
        **({"GRADER_DB_TEMPLATE": str(app.database_template)} if app.database_template else {}),
        "GRADER_STUDENT_DIR": str(app.workspace / "homework"),
        APP_EXIT_FILE_ENV: str(exit_file),
    }
    if not _grader_starts_app(sandbox):
        extra["GRADER_APP_PROJECT"] = str(app.workspace)  # the harness starts the app itself
    elif sandbox is not None and sandbox.uid is not None:
        extra["GRADER_APP_UID"] = str(sandbox.uid)
    return {**env, **extra}


def _grader_starts_app(sandbox: Sandbox | None) -> bool:
    """Whether the grader starts the app and hands its channel to pytest: always in the
    sandbox; elsewhere where a child inherits descriptors (not Windows, where the
    harness starts the app itself and talks to it over its standard streams)."""
    return sandbox is not None or portable.can_pass_fds()


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
    app: AppSpec | None = None,
) -> RunOutcome:
    """Run the trusted pytest in ``workspace`` once, and the app beside it; return its records.

    ``workspace`` is the trusted folder (pristine scaffold, suites, pytest.ini):
    nothing graded runs there. ``app``: the part's workspace, served by
    ``grader.appside`` in the sandbox (started here, its channel handed to
    pytest) or, without a sandbox, started by the harness itself. pytest is
    killed after ``budget`` s, and the app with it.

    ``scratch`` is a private directory (created if needed) for the processes'
    homes, their output files and the result channel. ``expected_files``: the
    digests of the grading files (``grading_files``), checked by the plugin
    after collection; taken from the workspace now when not given. The
    channel is signed (``channel.read_signed``) and the processes bounded by
    ``grader.host.containment``; what looked forged is in ``RunOutcome.integrity``.
    """
    home = _home(scratch)
    digests = GradingDigests(grading_files(workspace) if expected_files is None else expected_files)
    exit_file, outcome, started = scratch / "app-exit", RunOutcome(), time.monotonic()
    cleanups: list[Callable[[], None]] = []
    with (
        contain(memory=MEMORY_LIMIT) as bound,
        open_signed_channel(scratch, digests.to_json()) as channel,
        (scratch / "output.log").open("wb") as output,
        (scratch / "app.log").open("wb") as app_output,
    ):
        launch = _Launch(
            workspace=workspace,
            test_paths=test_paths,
            env=child_environment(home),
            output=output.fileno(),
            channel=channel,
            bound=bound,
            test_timeout=test_timeout,
            collect_only=collect_only,
        )
        process, app_process, outcome.launcher = _start_both(
            launch, app, sandbox, app_output.fileno(), home, exit_file, cleanups
        )
        try:
            _wait(process, budget, bound, outcome)
        finally:
            _reap(process, app_process, bound, cleanups)
            app_code = _app_exit(app_process, exit_file)
    outcome.duration = time.monotonic() - started
    _conclude(outcome, app_process is not None, app_code)
    _read_channel(outcome, channel)
    outcome.output = _tail(scratch / "output.log") + _tail(scratch / "app.log")
    return outcome


def _home(scratch: Path) -> Path:
    """The processes' home folder in ``scratch``: never the instructor's own home."""
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    return home


def _conclude(outcome: RunOutcome, app_started: bool, app_code: int | None) -> None:
    """Say how the run ended from the app's side too: pytest's ``APP_GONE_EXIT`` means the
    app ended first, and then the app's own status is the one worth telling."""
    if app_started:
        outcome.launcher = f"app:{outcome.launcher}"
    if outcome.returncode == APP_GONE_EXIT and app_code is not None:
        outcome.app_ended = True
        outcome.returncode = app_code


def _start_both(
    launch: _Launch,
    app: AppSpec | None,
    sandbox: Sandbox | None,
    app_output: int,
    home: Path,
    exit_file: Path,
    cleanups: list[Callable[[], None]],
) -> tuple[_Process, _Process | None, str]:
    """Start the app when the grader is the one to start it, then the trusted pytest.

    The app comes first so that pytest can be handed the trusted end of the
    app's channel; without a sandbox on a platform that cannot pass
    descriptors, the harness starts the app itself from what its
    environment says. ``exit_file``: where the harness writes the app's exit
    status when it started the app. Returns pytest's process, the app's
    (None when the grader did not start it) and how pytest was started.
    """
    app_process: _Process | None = None
    trusted_end: int | None = None
    if app is not None:
        launch = dataclasses.replace(launch, env=_harness_env(launch.env, app, sandbox, exit_file))
        if _grader_starts_app(sandbox):
            app_process, trusted_end = _start_app(
                app, sandbox, launch.bound, app_output, home, cleanups
            )
            launch = dataclasses.replace(launch, harness_fd=trusted_end)
    try:
        process, how = _start(launch, None, cleanups)
    finally:
        if trusted_end is not None:
            os.close(trusted_end)  # pytest holds its own copy now
    return process, app_process, how


def _wait(process: _Process, budget: float, bound: Containment, outcome: RunOutcome) -> None:
    """Wait for pytest for at most ``budget`` s; past it, kill its group and its cgroup."""
    try:
        outcome.returncode = process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        outcome.timed_out = True
        _kill_group(process.pid)
        bound.kill_all()
        outcome.returncode = process.wait()


def _reap(
    process: _Process,
    app_process: _Process | None,
    bound: Containment,
    cleanups: list[Callable[[], None]],
) -> None:
    """Kill whatever is left: what the student's code started in either process's group
    (and cgroup) must not outlive the run, however pytest ended."""
    _kill_group(process.pid)
    if app_process is not None:
        _kill_group(app_process.pid)
    for cleanup in cleanups:
        cleanup()
    bound.kill_all()


def _read_channel(outcome: RunOutcome, channel: SignedChannel) -> None:
    """The run's typed records: signed lines in sequence, each checked for its shape.

    What was forged, replayed or malformed is dropped and goes to
    ``outcome.integrity`` for the instructor.
    """
    raw, outcome.integrity = read_signed(channel.path, channel.key)
    outcome.records, malformed = parse_records(raw)
    outcome.integrity += malformed


def _start_app(
    app: AppSpec,
    sandbox: Sandbox | None,
    bound: Containment,
    output: int,
    home: Path,
    cleanups: list[Callable[[], None]],
) -> tuple[_Process, int]:
    """Start the app server (in the sandbox when there is one; forked by the fork server
    when it can be): return it and the trusted side's end of its channel."""
    import socket

    ours, theirs = socket.socketpair()
    env = {**child_environment(home), "DATABASE_URL": app.database_url()}
    launch = _Launch(
        workspace=app.workspace,
        test_paths=[],
        env=env,
        output=output,
        channel=None,
        bound=bound,
        test_timeout=0,
        collect_only=False,
        program="app",
        harness_fd=theirs.fileno(),
    )
    try:
        process, _how = _start(launch, sandbox, cleanups)
    finally:
        theirs.close()  # the app holds its own copy
    return process, ours.detach()


def _app_exit(process: _Process | None, exit_file: Path) -> int | None:
    """How the app ended: its own status (started here) or what the harness wrote."""
    if process is not None:
        return _unwrap_status(process.wait())
    try:
        return int(exit_file.read_text().strip())
    except (OSError, ValueError):
        return None


_TEMPLATES: list[Path] = []  # this process's folder of migrated databases, made once


def database_template(trusted: Path) -> Path:
    """Where the migrated database of this scaffold is kept for this grader process.

    Keyed by the trusted folder's scaffold (its models and migrations), so parts and
    submissions graded by one process migrate once; written by the trusted side only,
    and each app gets a copy."""
    if not _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="grader-db-"))
        atexit.register(shutil.rmtree, folder, True)
        _TEMPLATES.append(folder)
    digest = hashlib.sha256()
    for path in sorted(trusted.rglob("*.py")):
        relative = path.relative_to(trusted)
        if relative.parts[0] == TESTS_DIR:
            continue
        digest.update(f"{relative.as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return _TEMPLATES[0] / f"{digest.hexdigest()[:20]}.sqlite3"


def grading_files(workspace: Path) -> dict[str, str]:
    """Digests of the workspace's grading tests and pytest.ini, relative to ``workspace``."""
    files = [workspace / "pytest.ini", *sorted((workspace / TESTS_DIR).rglob("*.py"))]
    return digests(workspace, [f for f in files if f.is_file()])


def run_resuming(
    build_app: Callable[[Path], None],
    *,
    trusted: Path,
    test_paths: list[str],
    scratch: Path,
    test_timeout: float,
    budget: float,
    sandbox: Sandbox | None = None,
) -> RunOutcome:
    """Run the tests, and run again whatever a crash or a hang left unfinished.

    ``trusted`` is the folder pytest runs in (written once: no graded code
    ever reaches it); ``build_app`` writes an app workspace into the folder it
    is given. A test during which the app's process ends (``os._exit``, a
    segfault, the memory limit) is reported as an ``error`` naming how it
    ended; a test that timed out stops its session (the app may be stuck).
    Either way the tests after it run against a fresh app in a fresh
    workspace, so one bad test costs only its own points and nothing a
    crashed run wrote reaches the next. All runs share the one wall-clock
    ``budget``; a run that starts no test ends the loop.
    """
    deadline = time.monotonic() + budget
    merged = RunOutcome()
    # Taken before any student code ran: every run is checked against the same.
    expected_files = grading_files(trusted)
    template = database_template(trusted)
    expected: list[str] | None = None
    args = test_paths
    for attempt in itertools.count(1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            merged.timed_out = True
            break
        run_scratch = scratch / f"run-{attempt}"
        build_app(run_scratch / "ws")
        outcome = run_pytest(
            trusted,
            args,
            scratch=run_scratch,
            test_timeout=test_timeout,
            budget=remaining,
            expected_files=expected_files,
            sandbox=sandbox,
            app=AppSpec(run_scratch / "ws", template),
        )
        _merge(merged, outcome)
        if expected is None:
            expected = _take_collected(merged, outcome)
            if expected is None:
                break  # nothing was collected: there is nothing to resume
        if outcome.timed_out:
            break
        merged.records += _results_of_crashed(merged, outcome)
        finished = {result.nodeid for result in merged.events(Result)}
        args = [nodeid for nodeid in expected if nodeid not in finished]
        if not args or not outcome.events(Start):
            break
    return merged


def _merge(merged: RunOutcome, outcome: RunOutcome) -> None:
    """Add one run to the merged outcome: its records but the collection (only the first
    run's counts), its time and integrity problems; its exit and output replace the
    previous run's, since the last run is the one that says how the part ended."""
    merged.integrity += outcome.integrity
    merged.duration += outcome.duration
    merged.returncode = outcome.returncode
    merged.output = outcome.output
    merged.timed_out = outcome.timed_out
    merged.launcher = outcome.launcher
    merged.records += [r for r in outcome.records if not isinstance(r, Collected)]


def _take_collected(merged: RunOutcome, outcome: RunOutcome) -> list[str] | None:
    """The first run's collection, put first in the merged records; its test ids are the
    ones every later run resumes from (None: the run collected nothing)."""
    collected = outcome.events(Collected)
    if not collected:
        return None
    merged.records.insert(0, collected[-1])
    return [test.nodeid for test in collected[-1].tests]


def _results_of_crashed(merged: RunOutcome, outcome: RunOutcome) -> list[Result]:
    """An ``error`` for each test that started in this run and never reported: the process
    ended under it. The message says whose process (the app's or pytest's) and how."""
    finished = {result.nodeid for result in merged.events(Result)}
    who = APP_ENDED if outcome.app_ended else TESTS_ENDED
    message = f"{who} {describe_exit(outcome.returncode)} while this test was running."
    crashed = dict.fromkeys(s.nodeid for s in outcome.events(Start) if s.nodeid not in finished)
    return [Result(nodeid, "error", message, duration=0.0) for nodeid in crashed]


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
