"""The grader's end of the fork server (``grader.host.zygote``): start it, ask it for processes.

Starting a grading process costs most of a second of CPU before the first
test (pytest and its plugins, Django, httpx/respx, Celery), several times per
submission. The zygote pays that once per grader process and forks a child
per part; ``ForkServer.spawn`` returns a ``ForkedProcess`` that the runner
waits on, times out and kills by process group exactly like a
``subprocess.Popen`` (its exit status comes from the zygote, which reaps it).

``shared()`` is the one fork server of this grader process, started on first
use by whichever thread needs it first, and stopped at exit. It is ``None``
when ``$GRADER_FORKSERVER`` is ``0`` (or ``off``/``no``/``false``), when the
platform has no ``fork``/``pidfd_open``/``send_fds``, or once the server failed
to start or broke: the runner then spawns ``python -m grader.host.launch`` as before,
so grading never depends on it. What it saves, measured: ``bench/BENCHMARKS.md``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from grader.host.forkrequest import ForkRequest

ENV_SWITCH = "GRADER_FORKSERVER"
START_TIMEOUT = 120.0  # the imports, on a loaded machine
FORK_TIMEOUT = 30.0


class ForkServerError(Exception):
    """The fork server could not start or serve a request (the caller spawns instead)."""


def enabled() -> bool:
    """False when ``$GRADER_FORKSERVER`` turns it off or the platform lacks what it needs."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "off", "no", "false"):
        return False
    return all(hasattr(os, name) for name in ("fork", "pidfd_open")) and hasattr(socket, "send_fds")


class ForkedProcess:
    """A child of the zygote, seen from the grader: ``pid`` and ``wait`` as ``Popen``'s."""

    def __init__(self, pid: int, status_fd: int, buffered: bytes, args: list[str]) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._fd = status_fd
        self._buffer = buffered
        self._args = args

    def wait(self, timeout: float | None = None) -> int:
        """The exit code (negative: the signal), or ``subprocess.TimeoutExpired``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            self._parse()
            if self.returncode is not None:
                break
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            poller = select.poll()
            poller.register(self._fd, select.POLLIN)
            if not poller.poll(None if remaining is None else int(remaining * 1000) + 1):
                raise subprocess.TimeoutExpired(self._args, timeout or 0.0)
            chunk = os.read(self._fd, 4096)
            if not chunk:  # the zygote died before reporting: make sure the child is gone
                for kill in (os.killpg, os.kill):
                    with contextlib.suppress(OSError):
                        kill(self.pid, signal.SIGKILL)
                self.returncode = -signal.SIGKILL
                break
            self._buffer += chunk
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = -1
        return self.returncode

    def _parse(self) -> None:
        for line in self._buffer.split(b"\n")[:-1]:
            word, _, value = line.decode().partition(" ")
            if word == "exit":
                self.returncode = int(value)

    def __del__(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)


class ForkServer:
    """One running zygote and the socket to it."""

    def __init__(self, process: subprocess.Popen[bytes], control: socket.socket, pid: int):
        self._process = process
        self._control = control
        self._lock = threading.Lock()
        self.pid = pid  # the zygote's: its children's parent
        self.broken = False

    @classmethod
    def start(cls, env: dict[str, str]) -> ForkServer:
        """Start the zygote with ``env`` (the interpreter flags its children inherit)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "grader.host.zygote", str(theirs.fileno())],
                cwd="/",
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None if os.environ.get("GRADER_DEBUG") else subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # a Ctrl-C at the terminal is the grader's to handle
            )
        except OSError as exc:
            ours.close()
            raise ForkServerError(f"cannot start: {exc}") from exc
        finally:
            theirs.close()
        ours.settimeout(START_TIMEOUT)
        try:
            hello = json.loads(ours.recv(65536) or b"{}")
        except (OSError, ValueError) as exc:
            hello = {"error": str(exc)}
        ours.settimeout(None)
        if not hello.get("ready"):
            ours.close()
            _stop(process)
            raise ForkServerError(f"not ready: {hello.get('error', 'it exited')}")
        return cls(process, ours, int(hello["pid"]))

    def spawn(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        output_fd: int,
        channel_fds: tuple[int, int] | None,
        memory: int,
        file_size: int,
        cgroups: list[Path],
        nproc: int | None,
        sandbox: dict[str, int] | None = None,
        program: str = "pytest",
        harness_fd: int | None = None,
    ) -> ForkedProcess:
        """Fork a grading process running ``pytest.main(args)`` in ``cwd`` (or, with
        ``program="app"``, the app server on ``harness_fd``).

        ``sandbox``: ``{"pid": the sandbox's init, "uid": the uid to run as}``:
        the child enters that sandbox (``grader.host.nsenter``) before it runs anything.
        ``harness_fd``: the pytest process's end of the harness channel (its app runs
        elsewhere), or the app's end.
        """
        request = ForkRequest(
            args=args,
            env=env,
            cwd=str(cwd),
            memory=memory,
            file_size=file_size,
            cgroups=[str(group) for group in cgroups],
            nproc=nproc,
            sandbox=sandbox,
            program=program,
            harness=harness_fd is not None,
        ).to_json()
        status_read = self._send(request, output_fd, channel_fds, harness_fd)
        pid, rest = self._read_pid(status_read)
        return ForkedProcess(pid, status_read, rest, ["grader.host.zygote", *args])

    def _send(
        self,
        request: bytes,
        output_fd: int,
        channel_fds: tuple[int, int] | None,
        harness_fd: int | None,
    ) -> int:
        """Send one request with its descriptors; return our end of the child's status pipe.

        The zygote expects ``FDS_PER_REQUEST`` descriptors in a fixed order, so
        the null device stands in for the ones this child lacks. A request the
        socket refuses marks the server broken: it is not asked again.
        """
        placeholder = os.open(os.devnull, os.O_RDONLY)
        fds = [
            output_fd,
            *(channel_fds or (placeholder, placeholder)),
            harness_fd if harness_fd is not None else placeholder,
        ]
        status_read, status_write = os.pipe()
        try:
            with self._lock:
                if self.broken:
                    raise ForkServerError("broken")
                socket.send_fds(self._control, [request], [*fds, status_write])
        except OSError as exc:
            self.broken = True
            os.close(status_read)
            raise ForkServerError(f"request failed: {exc}") from exc
        except ForkServerError:
            os.close(status_read)
            raise
        finally:
            os.close(status_write)  # the zygote holds its copy: EOF when it is gone
            os.close(placeholder)
        return status_read

    def _read_pid(self, status_read: int) -> tuple[int, bytes]:
        """The child's pid from its status pipe (``pid N``), and what followed it.

        A zygote that does not answer within ``FORK_TIMEOUT`` is stopped and
        not used again: the caller spawns instead.
        """
        buffered = b""
        deadline = time.monotonic() + FORK_TIMEOUT
        while b"\n" not in buffered:
            poller = select.poll()
            poller.register(status_read, select.POLLIN)
            left = deadline - time.monotonic()
            chunk = os.read(status_read, 4096) if left > 0 and poller.poll(left * 1000) else b""
            if not chunk:
                os.close(status_read)
                self.broken = True
                self.close()
                raise ForkServerError("no pid from the fork server")
            buffered += chunk
        first, _, rest = buffered.partition(b"\n")
        word, _, value = first.decode().partition(" ")
        if word != "pid":
            os.close(status_read)
            raise ForkServerError(f"fork failed: {value}")
        return int(value), rest

    def close(self) -> None:
        """Stop the zygote: it sees EOF, kills any child still running and exits."""
        with contextlib.suppress(OSError):
            self._control.close()
        _stop(self._process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Shared:
    """The grader process's one fork server, started on first use (see ``shared``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ForkServer | None = None
        self.failure = ""  # why there is none, once starting it failed

    def get(self, env: dict[str, str]) -> ForkServer | None:
        if not enabled():
            return None
        with self._lock:
            if self._server is not None and self._server.broken:
                self.failure = "it broke"
                self._server.close()
                self._server = None
            if self._server is None and not self.failure:
                try:
                    self._server = ForkServer.start(env)
                    atexit.register(self._server.close)
                except ForkServerError as exc:
                    self.failure = str(exc)
            return self._server


_SHARED = _Shared()


def shared(env: dict[str, str]) -> ForkServer | None:
    """This grader process's fork server, or None (disabled, unavailable or failed).

    ``env`` is used only to start it: the scrubbed environment of a grading
    process, so the zygote's interpreter runs with the same flags its children
    would have had (``PYTHONNOUSERSITE``, ``PYTHONDONTWRITEBYTECODE``...).
    """
    return _SHARED.get(env)


def failure() -> str:
    """Why this process has no fork server (empty when it has one, or never tried)."""
    return _SHARED.failure
