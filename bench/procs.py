"""Server subprocesses that never outlive the benchmark.

Every server runs in its own session (its own process group), so stopping it
stops its children too (gunicorn's workers); ``serve`` stops the group in a
``finally``, so a failed run leaves nothing behind. On Linux the child also
asks the kernel for SIGTERM when the benchmark process dies (``PR_SET_PDEATHSIG``),
which covers a benchmark killed with SIGKILL.

``Server.cpu_seconds`` reads ``/proc/<pid>/stat`` of every process in the
group: the CPU the server spent, to divide by the requests it served.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PR_SET_PDEATHSIG = 1
STARTUP_TIMEOUT = 60.0  # seconds; Django starts in ~2 s, far slower on a loaded machine


class ServerError(RuntimeError):
    """A server did not start; the message ends with the tail of its log."""


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and how to read its CPU time."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU of every process in the server's group (reaped children too)."""
        return group_cpu_seconds(self.process.pid)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def group_cpu_seconds(pgid: int) -> float:
    """Sum utime+stime+cutime+cstime over the processes whose group is ``pgid``."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name (field 2) may hold spaces and parentheses: split at the last ')'.
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[2]) != pgid:
            continue
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """In the child before exec: get SIGTERM if the benchmark process dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_group(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process group, wait up to ``grace`` s, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        break
    # The leader is gone; make sure no member of its group (a worker) survives it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(server: Server, path: str, timeout: float) -> None:
    """Poll ``path`` until the server answers anything; fail if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"{server.name} exited with status {server.process.returncode} before it "
                f"was ready; its log says:\n{_tail(server.log_path)}"
            )
        try:
            httpx.get(server.base_url + path, timeout=1.0)
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        return
    raise ServerError(
        f"{server.name} did not answer within {timeout:.0f} s; its log says:\n"
        f"{_tail(server.log_path)}"
    )


def launch(
    name: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    port: int,
    log_path: Path,
) -> Server:
    """Start ``argv`` in its own process group without waiting; pair with ``stop_group``."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return Server(name=name, process=process, port=port, log_path=log_path)


@contextlib.contextmanager
def serve(
    name: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    port: int,
    log_path: Path,
    ready_path: str = "/",
    timeout: float = STARTUP_TIMEOUT,
) -> Iterator[Server]:
    """Start ``argv`` in its own process group, wait until it answers, always stop it."""
    server = launch(name, argv, cwd=cwd, env=env, port=port, log_path=log_path)
    try:
        wait_ready(server, ready_path, timeout)
        yield server
    finally:
        stop_group(server.process)
