"""The fork server ("zygote"): pay pytest's and Django's import cost once, fork per part.

``python -m grader.host.zygote FD`` is started once per grader process by
``grader.host.forkserver``; ``FD`` is its end of a Unix ``SOCK_SEQPACKET`` socket
pair. It imports the modules in ``PRELOAD`` (pytest and the grading plugins,
httpx, respx, Django's modules that need no settings, Celery, freezegun...),
checks that it is still single-threaded (forking a process that runs other
threads copies locks they may hold), says ``ready`` and then serves requests.

A request is one message: a JSON ``grader.host.forkrequest.ForkRequest``
(pytest's arguments, the scrubbed environment, the workspace, the limits),
checked field by field before anything is forked, with five descriptors attached
(``SCM_RIGHTS``): the output file, the result channel, the channel's key pipe,
the harness socket and a *status pipe* whose other end the grader keeps. The zygote forks; the
child does exactly what ``python -m grader.host.launch`` does after ``exec``:
a new session (its own process group), every other descriptor closed, the
pids cgroup or NPROC limit, memory/file/core limits, stdin from ``/dev/null``
and stdout/stderr to the output file, the workspace as its directory and
``sys.path[0]``, the scrubbed environment, the channel and key taken before
pytest runs (which is when the first answer file is imported). The zygote
writes ``pid N`` to the status pipe, reaps the child when its pidfd says it
ended and writes ``exit CODE`` (negative: the signal) before closing the pipe.

Nothing flows back from a child to the zygote: the child is a copy-on-write
copy; it holds none of the zygote's descriptors and cannot change the zygote's
memory or its siblings'. When the grader goes away (the socket reaches EOF)
the zygote kills every child's process group and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

from grader.host.forkrequest import ForkRequest, RequestError
from grader.judge import PYTEST_PLUGINS

# Modules a grading process imports anyway, importable before Django is configured
# (none reads settings at import: those that do raise ImproperlyConfigured, and
# were left out) and without starting a thread (checked at start-up). Student
# code is never here: the workspace is not on sys.path until the child runs.
PRELOAD = (
    "pytest",
    "_pytest.python",
    "_pytest.fixtures",
    "_pytest.runner",
    *PYTEST_PLUGINS,
    "grader.appside.server",
    "grader.host.launch",
    "grader.host.nsenter",
    "httpx",
    "respx",
    "asgiref.sync",
    "django",
    "django.core.handlers.asgi",
    "django.db.models",
    "django.http",
    "django.urls",
    "django.views",
    "django.test",
    "django.core.cache",
    "django.core.management",
    "django.db.backends.sqlite3.base",
    "django.middleware.clickjacking",
    "django.middleware.common",
    "django.middleware.security",
    "django.template.loaders.app_directories",
    "django.template.loaders.filesystem",
    # The apps' configurations, not their models (models need settings).
    "django.contrib.admin.apps",
    "django.contrib.auth.apps",
    "django.contrib.contenttypes.apps",
    "django.contrib.messages.apps",
    "django.contrib.sessions.apps",
    "django.contrib.staticfiles.apps",
    "dj_database_url",
    "anyio._backends._asyncio",
    "unittest.async_case",
    "celery",
    "celery.app.amqp",
    "celery.app.task",
    "celery.app.trace",
    "celery.backends.filesystem",
    "celery.contrib.django",
    "celery.fixups.django",
    "celery.loaders.app",
    "celery.schedules",
    "kombu",
    "kombu.transport.filesystem",
    "dateutil.rrule",
    "freezegun",
)
FDS_PER_REQUEST = 5  # output, channel, key pipe, the harness socket, status pipe
MAX_REQUEST = 1024 * 1024


def preload(names: tuple[str, ...] = PRELOAD) -> list[str]:
    """Import ``names``; the ones that failed (a missing optional package) are returned."""
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # a module we cannot preload is imported by the child
            failed.append(name)
    return failed


def task_count() -> int:
    """Threads of this process as the kernel sees them (C threads included)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def main(argv: list[str] | None = None) -> int:
    """Preload, report ``ready`` (or why not) on the control socket, then serve."""
    args = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(args[0]))
    try:
        failed = preload()
        threads, tasks = threading.active_count(), task_count()
        if threads != 1 or tasks != 1:
            _say(control, {"ready": False, "error": f"{threads} threads, {tasks} tasks"})
            return 1
        # Into the permanent generation: a child's collections skip them (less
        # work, and fewer shared pages dirtied by the collector).
        gc.freeze()
        sys.stdout.flush()
        sys.stderr.flush()
        _say(control, {"ready": True, "pid": os.getpid(), "not_preloaded": failed})
    except Exception as exc:  # the grader falls back to spawning
        _say(control, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    serve(control)
    return 0


def _say(control: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        control.send(json.dumps(message).encode())


def serve(control: socket.socket) -> None:
    """Fork one child per request; report each child's pid and exit status on its pipe."""
    poller = select.poll()
    poller.register(control.fileno(), select.POLLIN)
    children: dict[int, tuple[int, int]] = {}  # pidfd -> (pid, status pipe)
    while True:
        for fd, _events in poller.poll():
            if fd == control.fileno():
                try:
                    data, fds, _flags, _address = socket.recv_fds(
                        control, MAX_REQUEST, FDS_PER_REQUEST
                    )
                except OSError:
                    data, fds = b"", []
                if not data:
                    _close_all(fds)
                    _shutdown(children)
                    return
                child = _fork(data, fds, control, children)
                if child is not None:
                    children[child[0]] = child[1:]
                    poller.register(child[0], select.POLLIN)
            elif fd in children:
                pid, status_fd = children.pop(fd)
                poller.unregister(fd)
                _pid, status = os.waitpid(pid, 0)
                _write(status_fd, f"exit {os.waitstatus_to_exitcode(status)}\n")
                _close_all([status_fd, fd])


def _fork(
    data: bytes, fds: list[int], control: socket.socket, children: dict[int, tuple[int, int]]
) -> tuple[int, int, int] | None:
    """Fork the child for one request: ``(pidfd, pid, status pipe)``, or None."""
    if len(fds) != FDS_PER_REQUEST:
        _close_all(fds)
        return None
    output, channel, key, harness, status = fds
    try:
        request = ForkRequest.from_json(data)
        pid = os.fork()
    except (RequestError, OSError) as exc:
        _write(status, f"error {type(exc).__name__}: {exc}\n")
        _close_all(fds)
        return None
    if pid == 0:  # the child: never returns into the loop
        _child(request, output, channel, key, harness)
    _close_all([output, channel, key, harness])
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as exc:  # cannot watch it: it must not run unwatched
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        _write(status, f"error pidfd_open: {exc}\n")
        _close_all([status])
        return None
    _write(status, f"pid {pid}\n")
    return pidfd, pid, status


def _child(request: ForkRequest, output: int, channel: int, key: int, harness: int) -> NoReturn:
    """In the forked child: become what ``grader.host.launch`` is after ``exec``, run pytest (or
    the app server, ``program="app"``), exit."""
    code = 1
    try:
        os.setsid()  # its own session and process group, as start_new_session
        _close_other_fds({0, 1, 2, output, channel, key, harness})
        _confine(request, output)
        if request.program == "app":  # the channel is the app's end of the harness
            from grader.host.launch import run_app

            _close_all([channel, key])
            sys.argv = ["grader.appside"]
            code = run_app(harness)
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(BaseException):
                    stream.flush()
            os._exit(code & 0xFF)  # threads still held by the student's code do not count
        code = _run_pytest(request, channel, key, harness)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # as the interpreter would: print and exit 1
        with contextlib.suppress(Exception):
            traceback.print_exc()
        code = 1
    finally:
        _finish(code)


def _confine(request: ForkRequest, output: int) -> None:
    """Limits, then the sandbox (as the unprivileged uid), then the standard streams, the
    workspace and the scrubbed environment: all before any workspace code can run."""
    from grader.host.launch import apply_limits

    apply_limits(
        memory=request.memory,
        file_size=request.file_size,
        cgroups=[Path(group) for group in request.cgroups],
        nproc=request.nproc,
    )
    if request.sandbox:
        from grader.host import nsenter

        nsenter.enter(request.sandbox["pid"])
        nsenter.split()
        nsenter.drop_privileges(request.sandbox["uid"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    _close_all([devnull, output])
    os.chdir(request.cwd)
    os.environ.clear()  # os.environ also updates the C environment (subprocesses)
    os.environ.update(request.env)
    time.tzset()
    tempfile.tempdir = None  # TMPDIR is the part's home now
    sys.path[0] = request.cwd  # what ``python -m`` puts first when started there


def _run_pytest(request: ForkRequest, channel: int, key: int, harness: int) -> int:
    """The trusted pytest, with the channel taken (and its key read) before pytest starts."""
    from grader.host.launch import HARNESS_FD_ENV, run_pytest_main
    from grader.judge.channel import ENV_VAR, ChannelWriter

    os.environ[ENV_VAR] = f"{channel},{key}"
    if request.harness:
        os.environ[HARNESS_FD_ENV] = str(harness)
    else:
        _close_all([harness])
    sys.argv = ["grader.host.launch", *request.args]
    writer = ChannelWriter.from_environment()
    return run_pytest_main(list(request.args), writer)


def _finish(code: int) -> NoReturn:
    """End the child as an interpreter ends: wait for threads, run atexit, flush, exit."""
    with contextlib.suppress(BaseException):
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code & 0xFF)  # as sys.exit(-1) gives 255


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    with contextlib.suppress(Exception):
        print(value, file=sys.stderr)
    return 1


def _close_other_fds(keep: set[int]) -> None:
    """Close every descriptor but ``keep``: the control socket, siblings' pipes and pidfds."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _shutdown(children: dict[int, tuple[int, int]]) -> None:
    """The grader is gone: no child outlives it."""
    for pidfd, (pid, status_fd) in children.items():
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
        _close_all([pidfd, status_fd])


def _write(fd: int, text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, text.encode())


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
