"""``App``: the trusted side's handle on the app server, over one multiplexed channel.

Every call is a frame with an id; the answers come back in any order, so
requests made together (``submit``) run together in the app. A reader
thread matches answers to waiting futures; upstream requests the app makes
arrive on the same channel and are answered on the harness's own event loop
by whatever the test installed (``upstream``, a respx router), so a test's
respx side effects may hold a request open while others come in.

All that comes from the app is untrusted: answers are type-checked where
they are read, and a broken or silent app only ever fails the test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json as jsonlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from grader.appside import wire

START_TIMEOUT = 60.0
UpstreamHandler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class UnmarkedEvidence(RuntimeError):
    """A test asked for in-app evidence without the ``in_app_evidence`` marker: the
    reports would count its points as the grader's own observation."""


class AppGone(RuntimeError):
    """The app process ended (or broke the protocol): nothing more can be asked of it."""


class AppError(RuntimeError):
    """An exception in the app: its ``type_name``, ``message``, the answer-file line
    ``where`` it happened and the known ``trap`` it shows (see ``grader.messages.hints``).

    Raised in the test as Django's test client re-raises a view's exception; the
    grader's plugin reports it as ``Type: message (at homework/x.py:12)``.
    """

    def __init__(self, type_name: str, message: str, where: str = "", trap: str = "") -> None:
        # As a plain pytest run prints it: what, and the line of the answer file.
        super().__init__(f"{type_name}: {message}" + (f" (at {where})" if where else ""))
        self.type_name = type_name
        self.message = message
        self.where = where
        self.trap = trap

    @classmethod
    def from_wire(cls, raw: Any) -> AppError:
        error: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return cls(
            str(error.get("type", "Error"))[:100],
            str(error.get("message", ""))[:1000],
            str(error.get("where", ""))[:300],
            str(error.get("trap", ""))[:50],
        )


@dataclass(frozen=True)
class AppResponse:
    """An HTTP answer of the app: what a test client's response gives, checked on arrival."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    exception: AppError | None = None  # what Django caught and turned into this 500

    @classmethod
    def from_wire(cls, value: Any) -> AppResponse:
        if not isinstance(value, dict):
            raise AppGone("the app answered an HTTP request with something else")
        status, headers, body = value.get("status"), value.get("headers"), value.get("body")
        if not isinstance(status, int) or not isinstance(body, bytes):
            raise AppGone("the app answered an HTTP request with a malformed response")
        pairs = [
            (str(pair[0]), str(pair[1]))
            for pair in headers or []
            if isinstance(pair, list) and len(pair) == 2
        ]
        caught = value.get("exception")
        return cls(
            status,
            httpx.Headers(pairs),
            body,
            AppError.from_wire(caught) if caught is not None else None,
        )

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


@dataclass(frozen=True)
class TaskOutcome:
    """What a task call gave: ``value``, or the exception it raised (``raised`` names it)."""

    value: Any = None
    raised: str | None = None
    raised_mro: tuple[str, ...] = ()
    message: str = ""
    where: str = ""
    trap: str = ""

    def raised_a(self, name: str) -> bool:
        """Whether it raised an exception of class ``name`` or a subclass of it."""
        return name in self.raised_mro


@dataclass
class Evidence:
    """What the app reported about itself during a ``watch`` (in-app evidence)."""

    max_gap: float = 0.0
    ticks: int = 0
    loop_thread: int = 0
    query_count: int = 0
    query_threads: list[int] = field(default_factory=list)
    queries_on_loop: list[str] = field(default_factory=list)

    def fill(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise AppGone("the app answered a watch with something else")
        self.max_gap = float(value.get("max_gap", 0.0))
        self.ticks = int(value.get("ticks", 0))
        self.loop_thread = int(value.get("loop_thread", 0))
        self.query_count = int(value.get("query_count", 0))
        self.query_threads = [int(t) for t in value.get("query_threads") or []]
        self.queries_on_loop = [str(s) for s in value.get("queries_on_loop") or []]


class App:
    """A connection to one app server (``launch`` one, or ``attach`` to a descriptor)."""

    def __init__(self, read_fd: int, write_fd: int, process: subprocess.Popen[bytes] | None = None):
        self._read_fd = read_fd
        self._write_fd = write_fd
        self.process = process
        self._numbers = itertools.count(1)
        self._pending: dict[int, concurrent.futures.Future[Any]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._upstream_tasks: dict[int, asyncio.Task[None]] = {}
        self.upstream_handler: UpstreamHandler | None = None
        # Whether the running test may ask for in-app evidence (it carries the marker).
        self.evidence_allowed = True
        self.gone: str | None = None
        self.start_error: str | None = None
        self._hello: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="harness-loop", daemon=True).start()
        threading.Thread(target=self._read, name="harness-reader", daemon=True).start()
        try:
            hello = self._hello.result(START_TIMEOUT)
        except concurrent.futures.TimeoutError:
            hello = {"error": f"the app did not start within {START_TIMEOUT:g} s"}
        except AppGone as exc:
            hello = {"error": str(exc)}
        if hello.get("error"):
            self.start_error = str(hello["error"])[:1000]

    # ------------------------------------------------------------------ starting
    @classmethod
    def attach(cls, fd: int) -> App:
        """The app the grader started in the sandbox, on descriptor ``fd``."""
        return cls(fd, fd)

    @classmethod
    def launch(cls, project: Path, env: dict[str, str], log: Any = None) -> App:
        """Start ``python -m grader.appside`` in ``project`` (no sandbox: the student's own
        machine) talking over its stdin and stdout, which works on every platform."""
        # The app imports the very grader package this process uses (a student's template
        # keeps it in .grader/, on pytest's pythonpath but not on the interpreter's).
        here = str(Path(wire.__file__).resolve().parents[2])
        path = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH", "")]))
        process = subprocess.Popen(
            [sys.executable, "-m", "grader.appside"],
            cwd=project,
            env={**env, "PYTHONPATH": path, wire.APP_FD_ENV: wire.STDIO},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log if log is not None else None,
        )
        assert process.stdin is not None and process.stdout is not None
        return cls(process.stdout.fileno(), process.stdin.fileno(), process)

    def close(self) -> None:
        """Close the channel (the app exits) and stop the harness loop."""
        for fd in {self._read_fd, self._write_fd}:
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.process is not None:
            with contextlib.suppress(Exception):
                self.process.wait(5)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.loop.call_soon_threadsafe(self.loop.stop)

    @property
    def alive(self) -> bool:
        return self.gone is None

    # ------------------------------------------------------------------ the channel
    def _send(self, message: dict[str, Any]) -> None:
        try:
            with self._write_lock:
                wire.write_frame(self._write_fd, message)
        except OSError as exc:
            self._lost(f"the channel broke: {exc}")
            raise AppGone(self.gone or "the app is gone") from None

    def _read(self) -> None:
        try:
            while True:
                message = wire.read_frame(self._read_fd)
                if message.get("from") == "app":
                    self.loop.call_soon_threadsafe(self._from_app, message)
                elif message.get("op") == "hello":
                    if not self._hello.done():
                        self._hello.set_result(message)
                else:
                    self._settle(message)
        except (wire.ChannelClosed, OSError):
            self._lost("the app process ended")
        except wire.ProtocolError as exc:
            self._lost(f"the app broke the protocol ({exc})")

    def _settle(self, message: dict[str, Any]) -> None:
        number = message.get("id")
        with self._lock:
            future = self._pending.pop(number, None) if isinstance(number, int) else None
        if future is None or future.done():
            return  # an id nobody asked for: ignored
        if message.get("ok") is True:
            future.set_result(message.get("value"))
            return
        future.set_exception(AppError.from_wire(message.get("error")))

    def _lost(self, why: str) -> None:
        with self._lock:
            if self.gone is None:
                self.gone = why
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(AppGone(why))
        if not self._hello.done():
            self._hello.set_exception(AppGone(why))

    def send_op(self, op: str, **args: Any) -> concurrent.futures.Future[Any]:
        """Ask the app for ``op``; the future holds its value (``AppError``/``AppGone``)."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self.start_error is not None:
            future.set_exception(AppError("ProjectDoesNotStart", self.start_error))
            return future
        with self._lock:
            if self.gone is not None:
                future.set_exception(AppGone(self.gone))
                return future
            number = next(self._numbers)
            self._pending[number] = future
        self._send({"id": number, "op": op, "args": args})
        return future

    def ask(self, op: str, **args: Any) -> Any:
        """``send_op`` and wait for the value."""
        return self.send_op(op, **args).result()

    # ------------------------------------------------------------------ upstream
    def _from_app(self, message: dict[str, Any]) -> None:
        number = message.get("id")
        if not isinstance(number, int):
            return
        if message.get("op") == "upstream.cancel":
            task = self._upstream_tasks.pop(number, None)
            if task is not None:
                task.cancel()
        elif message.get("op") == "upstream":
            task = self.loop.create_task(self._upstream(number, message.get("request")))
            self._upstream_tasks[number] = task
            task.add_done_callback(lambda _t: self._upstream_tasks.pop(number, None))

    async def _upstream(self, number: int, raw: Any) -> None:
        answer: dict[str, Any]
        try:
            request = _upstream_request(raw)
            if self.upstream_handler is None:
                raise httpx.ConnectError("no upstream is reachable in this test", request=request)
            response = await self.upstream_handler(request)
            body = await response.aread()
            answer = {
                "response": {
                    "status": response.status_code,
                    "headers": [[k, v] for k, v in response.headers.multi_items()],
                    "body": body,
                }
            }
        except asyncio.CancelledError:
            return
        except httpx.TransportError as exc:
            answer = {"error": {"type": type(exc).__name__, "message": str(exc)}}
        except Exception as exc:  # no route matched, or a side effect that failed
            answer = {"error": {"type": "ConnectError", "message": f"{type(exc).__name__}"}}
        with contextlib.suppress(AppGone):
            self._send({"op": "upstream.answer", "id": number, **answer})

    # ------------------------------------------------------------------ what tests use
    def submit(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        data: Any = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        via: str = "asgi",
        raise_request_exception: bool = True,
    ) -> concurrent.futures.Future[AppResponse]:
        """Start one request (through ``ASGIHandler``, or ``WSGIHandler`` with ``via="wsgi"``)
        and return at once: the future holds the ``AppResponse``.

        As with Django's test client, an exception the view raised is raised here
        (``AppError``) unless ``raise_request_exception=False``: then the 500 page
        Django made of it is the answer."""
        path, _, query = path.partition("?")
        if params:
            query = "&".join(filter(None, [query, urlencode(params, doseq=True)]))
        if isinstance(data, bytes):
            body = data
        elif data is None:
            body = b""
        else:
            body = jsonlib.dumps(data).encode()
            content_type = content_type or "application/json"
        pairs = [[k, v] for k, v in (headers or {}).items()]
        if content_type:
            pairs.append(["content-type", content_type])
        raw = self.send_op(
            "http", method=method, path=path, query=query, headers=pairs, body=body, via=via
        )
        answer: concurrent.futures.Future[AppResponse] = concurrent.futures.Future()

        def convert(done: concurrent.futures.Future[Any]) -> None:
            try:
                response = AppResponse.from_wire(done.result())
                if raise_request_exception and response.exception is not None:
                    raise response.exception
                answer.set_result(response)
            except Exception as exc:
                answer.set_exception(exc)

        raw.add_done_callback(convert)
        return answer

    def request(self, method: str, path: str, *args: Any, **kwargs: Any) -> AppResponse:
        """One request, waited for."""
        return self.submit(method, path, *args, **kwargs).result()

    def get(self, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> AppResponse:
        return self.request("GET", path, params, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> AppResponse:
        return self.request("POST", path, data=data, **kwargs)

    def together(self, *requests: tuple[str, str]) -> list[AppResponse]:
        """Send every ``(method, path)`` at once; their answers, in order."""
        futures = [self.submit(method, path) for method, path in requests]
        return [future.result() for future in futures]

    def answered_while(
        self,
        slow: concurrent.futures.Future[AppResponse],
        path: str = "/__probe__/async/",
        *,
        head_start: float = 0.15,
    ) -> bool:
        """Whether a request to ``path`` (a view that waits on nothing) is answered, 200,
        while ``slow`` is still running: seen from outside, the app's event loop was free.

        Decided by the order the two answers arrive in, not by how long they took;
        ``head_start`` lets ``slow`` reach the work it is slow in first."""
        time.sleep(head_start)
        order: list[str] = []
        lock = threading.Lock()

        def arrived(name: str) -> Callable[[concurrent.futures.Future[AppResponse]], None]:
            def note(_future: concurrent.futures.Future[AppResponse]) -> None:
                with lock:
                    order.append(name)

            return note

        slow.add_done_callback(arrived("slow"))
        probe = self.submit("GET", path)
        probe.add_done_callback(arrived("probe"))
        concurrent.futures.wait([slow, probe])
        return (
            order[:1] == ["probe"]
            and probe.exception() is None
            and (probe.result().status_code == 200)
        )

    def settings(self, **values: Any) -> None:
        """Override Django settings in the app until the end of the test."""
        self.ask("settings", values=values)

    def freeze(self, at: str | None) -> None:
        """Freeze the app's clock at ``at`` (ISO 8601, freezegun); ``None`` thaws it."""
        self.ask("clock", at=at)

    @contextlib.contextmanager
    def frozen(self, at: str) -> Iterator[None]:
        self.freeze(at)
        try:
            yield
        finally:
            self.freeze(None)

    def task(self, target: str, *args: Any, delay: bool = False) -> TaskOutcome:
        """Call the task ``target`` (dotted path) with ``args``: as a function, or with
        ``delay=True`` through ``.delay(...).get()`` (Celery is eager in the app)."""
        value = self.ask("task", target=target, args=list(args), mode="delay" if delay else "call")
        if not isinstance(value, dict):
            raise AppGone("the app answered a task call with something else")
        raised = value.get("raised")
        if isinstance(raised, dict):
            return TaskOutcome(
                raised=str(raised.get("type")),
                raised_mro=tuple(str(name) for name in raised.get("mro") or []),
                message=str(raised.get("message", ""))[:1000],
                where=str(raised.get("where", ""))[:300],
                trap=str(raised.get("trap", ""))[:50],
            )
        return TaskOutcome(value=value.get("value"))

    def _in_app(self, what: str) -> None:
        if not self.evidence_allowed:
            raise UnmarkedEvidence(
                f"{what} is evidence the app reports about itself: mark the test "
                "@pytest.mark.in_app_evidence so that the reports count its points apart"
            )

    def call(self, target: str, *args: Any) -> Any:
        """Call the function ``target`` (dotted path) in the app and return its value, as
        calling it here would; an exception it raises is raised here (``AppError``)."""
        outcome = self.task(target, *args)
        if outcome.raised is not None:
            raise AppError(outcome.raised, outcome.message, outcome.where, outcome.trap)
        return outcome.value

    def fact(self, name: str, **args: Any) -> Any:
        """A fact that exists only in the app (``grader.appside.facts``): in-app evidence."""
        self._in_app(f"app.fact({name!r})")
        return self.ask("fact", name=name, args=args)

    @contextlib.contextmanager
    def watch(
        self,
        *,
        heartbeat: float | None = None,
        queries: float | None = None,
        site: str | None = None,
    ) -> Iterator[Evidence]:
        """In-app evidence over the block: the loop's heartbeat (a tick every ``heartbeat``
        seconds) and/or every SQL query (each delayed ``queries`` seconds)."""
        self._in_app("app.watch()")
        evidence = Evidence()
        number = self.ask("watch.start", heartbeat=heartbeat, queries=queries, site=site)
        try:
            yield evidence
        finally:
            evidence.fill(self.ask("watch.stop", watch=number))

    def reset(self) -> None:
        """Undo the test's settings, clock and watches (between tests)."""
        self.upstream_handler = None
        self.ask("reset")


def _upstream_request(raw: Any) -> httpx.Request:
    """The app's upstream request as an ``httpx.Request`` (checked: it comes from the app)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise ValueError("a malformed upstream request")
    body = raw.get("body") if isinstance(raw.get("body"), bytes) else b""
    headers = [
        (str(pair[0]), str(pair[1]))
        for pair in raw.get("headers") or []
        if isinstance(pair, list) and len(pair) == 2
    ]
    raw_timeout = raw.get("timeout")
    timeout: dict[str, Any] = raw_timeout if isinstance(raw_timeout, dict) else {}
    return httpx.Request(
        str(raw.get("method", "GET")),
        raw["url"],
        headers=headers,
        content=body,
        extensions={
            "timeout": {k: v for k, v in timeout.items() if isinstance(v, (int, float))},
            "grader_client": str(raw.get("client", "")),
            "grader_site": str(raw.get("site", ""))[:300],
        },
    )
