"""Every HTTP request the app's code makes with httpx goes to the trusted side.

The sandbox has no network; httpx's own transports are replaced (for every
client, async or not) by one that sends the request over the channel and
waits for the answer the trusted side's respx routes give. The wait is
bounded here by the request's own read timeout, as a real transport bounds
it: ``httpx.ReadTimeout`` when nothing came back in time.

Each forwarded request says which client sent it (one id per transport
object) and the line of the answer file that was running when it was made.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
from collections.abc import Callable
from typing import Any

import httpx

from grader.appside.evidence import call_site

Send = Callable[[dict[str, Any]], None]


class Forwarder:
    """Sends upstream requests out and matches the answers that come back."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._numbers = itertools.count(1)
        self._clients = itertools.count(1)
        self._pending: dict[int, concurrent.futures.Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def install(self) -> None:
        """Replace httpx's transports (class-wide: every client, however made)."""
        forwarder = self

        async def handle_async_request(
            transport: httpx.AsyncBaseTransport, request: httpx.Request
        ) -> httpx.Response:
            body = await request.aread()
            future, number = forwarder._start(transport, request, body)
            try:
                answer = await asyncio.wait_for(asyncio.wrap_future(future), _read_timeout(request))
            except TimeoutError:
                forwarder._cancel(number)
                raise httpx.ReadTimeout("timed out", request=request) from None
            except asyncio.CancelledError:
                forwarder._cancel(number)
                raise
            return _response(answer, request)

        def handle_request(
            transport: httpx.BaseTransport, request: httpx.Request
        ) -> httpx.Response:
            body = request.read()
            future, number = forwarder._start(transport, request, body)
            try:
                answer = future.result(_read_timeout(request))
            except concurrent.futures.TimeoutError:
                forwarder._cancel(number)
                raise httpx.ReadTimeout("timed out", request=request) from None
            return _response(answer, request)

        httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[assignment,method-assign]
        httpx.HTTPTransport.handle_request = handle_request  # type: ignore[assignment,method-assign]

    def _start(
        self, transport: object, request: httpx.Request, body: bytes
    ) -> tuple[concurrent.futures.Future[dict[str, Any]], int]:
        number = next(self._numbers)
        future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        with self._lock:
            self._pending[number] = future
            # Numbered, not id(): an id can come back for a client made after another is freed.
            client = getattr(transport, "_grader_client", None)
            if client is None:
                client = next(self._clients)
                transport._grader_client = client  # type: ignore[attr-defined]
        timeout = request.extensions.get("timeout") or {}
        self._send(
            {
                "from": "app",
                "id": number,
                "op": "upstream",
                "request": {
                    "method": request.method,
                    "url": str(request.url),
                    "headers": [[k, v] for k, v in request.headers.multi_items()],
                    "body": body,
                    "timeout": {k: v for k, v in timeout.items() if isinstance(v, (int, float))},
                    "client": client,
                    "site": call_site(),
                },
            }
        )
        return future, number

    def _cancel(self, number: int) -> None:
        with self._lock:
            self._pending.pop(number, None)
        self._send({"from": "app", "id": number, "op": "upstream.cancel"})

    def answer(self, message: dict[str, Any]) -> None:
        """The trusted side's answer to upstream request ``message["id"]`` (reader thread)."""
        with self._lock:
            future = self._pending.pop(int(message.get("id", 0)), None)
        if future is not None and not future.done():
            future.set_result(message)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = (request.extensions.get("timeout") or {}).get("read")
    return float(timeout) if isinstance(timeout, (int, float)) else None


_ERRORS: dict[str, type[httpx.TransportError]] = {
    "ConnectError": httpx.ConnectError,
    "ConnectTimeout": httpx.ConnectTimeout,
    "ReadTimeout": httpx.ReadTimeout,
    "ReadError": httpx.ReadError,
    "RemoteProtocolError": httpx.RemoteProtocolError,
}


def _response(answer: dict[str, Any], request: httpx.Request) -> httpx.Response:
    error = answer.get("error")
    if isinstance(error, dict):
        kind = _ERRORS.get(str(error.get("type")), httpx.ConnectError)
        raise kind(str(error.get("message") or "upstream failure"), request=request)
    reply = answer.get("response") or {}
    return httpx.Response(
        int(reply.get("status", 502)),
        headers=[(str(k), str(v)) for k, v in reply.get("headers") or []],
        content=reply.get("body") or b"",
        request=request,
    )
