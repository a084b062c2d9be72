"""Drive the project through Django's real handlers: ``ASGIHandler`` and ``WSGIHandler``.

A request arrives from the trusted side as plain data (method, path, query,
headers, body) and leaves as plain data (status, headers, body). Each handler
is made once and made again whenever a setting changes (``override_settings``
sends ``setting_changed``), so it always runs the middleware of the current
settings, as a server started with those settings would.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from grader.appside.diagnose import describe

HOST = "testserver"
# The exceptions Django caught while it answered the current request (it turns them into a
# 500 page): sent along, as Django's test client re-raises them.
_CAUGHT: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "caught", default=None
)


def store_exception(sender: object, request: object = None, **kwargs: object) -> None:
    """``got_request_exception`` receiver: keep the exception for the current request."""
    caught = _CAUGHT.get()
    exc = sys.exc_info()[1]
    if caught is not None and exc is not None:
        caught.append(exc)


_HANDLERS: dict[str, Any] = {}  # "asgi"/"wsgi" -> the handler for the current settings


def _handler(kind: str) -> Any:
    handler = _HANDLERS.get(kind)
    if handler is None:
        from django.core.handlers.asgi import ASGIHandler
        from django.core.handlers.wsgi import WSGIHandler

        handler = ASGIHandler() if kind == "asgi" else WSGIHandler()
        _HANDLERS[kind] = handler
    return handler


def _forget_handlers(**kwargs: object) -> None:
    _HANDLERS.clear()


def listen() -> None:
    """Connect the receivers (once Django is set up)."""
    from django.core.signals import got_request_exception
    from django.test.signals import setting_changed

    got_request_exception.connect(store_exception, dispatch_uid="grader-appside")
    setting_changed.connect(_forget_handlers, dispatch_uid="grader-appside-handlers")


def _with_exception(answer: dict[str, Any], caught: list[BaseException]) -> dict[str, Any]:
    if caught:
        answer["exception"] = describe(caught[0])
    return answer


def _header_pairs(request: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(str(k), str(v)) for k, v in request.get("headers") or []]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("host", HOST))
    body = request.get("body") or b""
    if body and not any(name.lower() == "content-length" for name, _ in headers):
        headers.append(("content-length", str(len(body))))
    return headers


async def asgi(request: dict[str, Any]) -> dict[str, Any]:
    """Answer ``request`` through the ``ASGIHandler`` (its own ThreadSensitiveContext)."""
    path = str(request.get("path") or "/")
    body: bytes = request.get("body") or b""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": str(request.get("method") or "GET").upper(),
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": str(request.get("query") or "").encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in _header_pairs(request)],
        "server": (HOST, 80),
        "client": ("127.0.0.1", 50000),
    }
    done = asyncio.Event()
    sent_body = False
    caught: list[BaseException] = []
    _CAUGHT.set(caught)

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    answer: dict[str, Any] = {"status": 0, "headers": [], "body": b""}
    chunks: list[bytes] = []

    async def send(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = int(message["status"])
            answer["headers"] = [
                [bytes(k).decode("latin-1"), bytes(v).decode("latin-1")]
                for k, v in message.get("headers") or []
            ]
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body") or b""))
            if not message.get("more_body"):
                done.set()

    try:
        await _handler("asgi")(scope, receive, send)
    finally:
        done.set()
    answer["body"] = b"".join(chunks)
    return _with_exception(answer, caught)


def wsgi(request: dict[str, Any]) -> dict[str, Any]:
    """Answer ``request`` through the ``WSGIHandler`` (call it in a worker thread)."""
    path = str(request.get("path") or "/")
    body: bytes = request.get("body") or b""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(request.get("method") or "GET").upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, encoding="latin-1"),
        "QUERY_STRING": str(request.get("query") or ""),
        "SERVER_NAME": HOST,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in _header_pairs(request):
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    answer: dict[str, Any] = {"status": 0, "headers": [], "body": b""}
    caught: list[BaseException] = []
    _CAUGHT.set(caught)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"] = int(status.split(" ", 1)[0])
        answer["headers"] = [[str(k), str(v)] for k, v in headers]
        return lambda data: None

    result = _handler("wsgi")(environ, start_response)
    try:
        answer["body"] = b"".join(bytes(chunk) for chunk in result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return _with_exception(answer, caught)
