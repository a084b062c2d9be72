"""The app server: the student's project, served over the channel.

``python -m grader.appside`` (or the fork server's child) runs ``main``: it
takes the channel named by ``$GRADER_APP_FD`` (see ``wire``), sets Django up
in the current directory (the part's workspace), makes Celery eager, sends
httpx's requests out through the channel (``upstream``) and serves the
trusted side's requests, each in its own task, until the channel closes.

Operations (``op``): ``http``, ``task``, ``settings``, ``clock``, ``fact``,
``watch.start``, ``watch.stop``, ``reset``. Each answer is ``{"id", "ok":
true, "value"}`` or ``{"id", "ok": false, "error": {"type", "message"}}``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from grader.appside import facts, http, wire
from grader.appside.diagnose import describe
from grader.appside.evidence import Watch
from grader.appside.upstream import Forwarder

WORKERS = 32


class AppServer:
    """Serves one channel: a reader thread feeds the event loop, answers go out locked."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self._write_lock = threading.Lock()
        self.forwarder = Forwarder(self.send)
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="app-worker")
        self._overrides: list[Any] = []
        self._clock: Any = None
        self._watches: dict[int, Watch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, message: dict[str, Any]) -> None:
        with self._write_lock:
            wire.write_frame(self.write_fd, message)

    # ------------------------------------------------------------------ serving
    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        closed = asyncio.Event()

        def read() -> None:
            try:
                while True:
                    message = wire.read_frame(self.read_fd)
                    if message.get("op") == "upstream.answer":
                        self.forwarder.answer(message)
                    else:
                        loop.call_soon_threadsafe(self._dispatch, message)
            except (wire.ChannelClosed, wire.ProtocolError, OSError):
                loop.call_soon_threadsafe(closed.set)

        threading.Thread(target=read, name="channel-reader", daemon=True).start()
        self.send({"op": "hello", "pid": os.getpid()})
        await closed.wait()

    def _dispatch(self, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._answer(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: dict[str, Any]) -> None:
        number = message.get("id")
        op = str(message.get("op"))
        handler = getattr(self, "op_" + op.replace(".", "_"), None)
        try:
            if handler is None:
                raise LookupError(f"no operation {op!r}")
            value = await handler(message.get("args") or {})
            answer = {"id": number, "ok": True, "value": value}
        except (Exception, SystemExit) as exc:  # sys.exit() in a view fails that request
            answer = {"id": number, "ok": False, "error": describe(exc)}
        try:
            self.send(answer)
        except (ValueError, TypeError) as exc:  # a value that cannot be sent
            self.send(
                {"id": number, "ok": False, "error": {"type": "ProtocolError", "message": str(exc)}}
            )

    # ------------------------------------------------------------------ operations
    async def op_http(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("via") == "wsgi":
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.pool, _closing, http.wsgi, args)
        return await http.asgi(args)

    async def op_task(self, args: dict[str, Any]) -> dict[str, Any]:
        """Call a task (``mode`` ``call``: as a function; ``delay``: ``.delay(...).get()``)."""
        target = str(args["target"])
        call_args = list(args.get("args") or [])
        delay = args.get("mode") == "delay"

        def run() -> dict[str, Any]:
            try:
                function = facts.resolve(target)
                value = function.delay(*call_args).get() if delay else function(*call_args)
            except (Exception, SystemExit) as exc:
                return {"raised": {**describe(exc), "mro": [c.__name__ for c in type(exc).__mro__]}}
            return {"value": value}

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, _closing, run)

    async def op_settings(self, args: dict[str, Any]) -> None:
        from django.test import override_settings

        override = override_settings(**dict(args.get("values") or {}))
        override.enable()
        self._overrides.append(override)

    async def op_clock(self, args: dict[str, Any]) -> None:
        from freezegun import freeze_time

        if self._clock is not None:
            self._clock.stop()
            self._clock = None
        if args.get("at"):
            self._clock = freeze_time(str(args["at"]), real_asyncio=True)
            self._clock.start()

    async def op_fact(self, args: dict[str, Any]) -> Any:
        function = facts.FACTS[str(args["name"])]
        return await function(**dict(args.get("args") or {}))

    async def op_watch_start(self, args: dict[str, Any]) -> int:
        watch = Watch(
            period=args.get("heartbeat"),
            query_delay=args.get("queries"),
            site_module=args.get("site"),
        )
        await watch.start()
        number = len(self._watches) + 1
        self._watches[number] = watch
        return number

    async def op_watch_stop(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._watches.pop(int(args["watch"])).stop()

    async def op_reset(self, args: dict[str, Any]) -> None:
        """Undo what the last test asked for: watches, clock, settings, open connections."""
        for watch in self._watches.values():
            watch.unhook()
        self._watches.clear()
        await self.op_clock({})
        while self._overrides:
            self._overrides.pop().disable()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.pool, _close_connections)


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def _closing(function: Any, *args: Any) -> Any:
    """Run ``function`` in a worker thread and close the thread's database connections
    after it, so the trusted side's own connection never waits on a lock."""
    try:
        return function(*args)
    finally:
        _close_connections()


def _channel() -> tuple[int, int]:
    """Take the channel out of the environment: ``(read fd, write fd)``."""
    spec = os.environ.pop(wire.APP_FD_ENV, wire.STDIO)
    if spec == wire.STDIO:
        write_fd = os.dup(1)
        os.dup2(2, 1)  # print() in the student's code goes to the log, not the channel
        sys.stdout = sys.stderr
        return 0, write_fd
    fd = int(spec)
    return fd, fd


def block_network() -> None:
    """No socket but Unix ones (and the database's host, when it is a server): the
    sandbox has no network anyway; without one, a student's code gets pytest-socket's
    clear error instead of reaching out."""
    import pytest_socket

    url = os.environ.get("DATABASE_URL", "")
    host = urlsplit(url).hostname if "://" in url and not url.startswith("sqlite") else None
    if host:
        pytest_socket.socket_allow_hosts([host], allow_unix_socket=True)
    else:
        pytest_socket.disable_socket(allow_unix_socket=True)


def setup_project() -> None:
    """Django from the workspace's settings, Celery eager, the workspace importable."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # as under Django's test runner and pytest-django
    http.listen()
    try:
        celery_app = importlib.import_module("config.celery").app
    except ModuleNotFoundError:  # no Celery in this project: task calls work as functions
        return
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)


def main() -> int:
    """Serve the channel until the trusted side closes it."""
    read_fd, write_fd = _channel()
    block_network()
    server = AppServer(read_fd, write_fd)
    server.forwarder.install()
    try:
        setup_project()
    except Exception as exc:
        traceback.print_exc()
        server.send({"op": "hello", "error": f"{type(exc).__name__}: {exc}"[:1000]})
        return 1
    asyncio.run(server.serve())
    return 0
