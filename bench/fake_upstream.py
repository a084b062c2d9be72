"""A local stand-in for JSONPlaceholder that answers after a fixed latency.

The aggregator under load must wait on something real (a socket on loopback),
not on a mock, or the benchmark would measure the mock. This is a bare ASGI
app (no framework, so its own CPU cost stays small) served by uvicorn in its
own process: ``uvicorn bench.fake_upstream:app``. The latency comes from the
environment variable ``BENCH_UPSTREAM_LATENCY`` (seconds, default 0.2), read
once at import.

Routes (JSONPlaceholder shapes): ``/users/{id}`` (ids 1-10, else 404),
``/posts?userId={id}`` (10 posts), ``/todos?userId={id}`` (20 todos, 11 done).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LATENCY_ENV = "BENCH_UPSTREAM_LATENCY"
DEFAULT_LATENCY = 0.2
USER_IDS = range(1, 11)
READY_PATH = "/__ready__"  # answered at once: the readiness probe should not wait


def latency_from_env() -> float:
    """The configured answer delay in seconds (``BENCH_UPSTREAM_LATENCY``)."""
    return float(os.environ.get(LATENCY_ENV, DEFAULT_LATENCY))


def user(user_id: int) -> dict[str, Any]:
    """A JSONPlaceholder-shaped user, with more keys than the dashboard keeps."""
    return {
        "id": user_id,
        "name": f"User {user_id}",
        "username": f"user{user_id}",
        "email": f"user{user_id}@example.com",
        "phone": "1-770-736-8031",
        "website": "example.com",
    }


def posts(user_id: int) -> list[dict[str, Any]]:
    """Ten posts of ``user_id``, ids not in order (the view must sort them)."""
    ids = [3, 1, 10, 7, 2, 9, 4, 8, 6, 5]
    return [
        {"userId": user_id, "id": (user_id - 1) * 10 + i, "title": f"post {i}", "body": "..."}
        for i in ids
    ]


def todos(user_id: int) -> list[dict[str, Any]]:
    """Twenty todos of ``user_id``, eleven of them completed."""
    return [
        {
            "userId": user_id,
            "id": (user_id - 1) * 20 + i,
            "title": f"todo {i}",
            "completed": i <= 11,
        }
        for i in range(1, 21)
    ]


def route(path: str, query: str) -> tuple[int, Any]:
    """Status and JSON body for one request."""
    params = parse_qs(query)
    parts = [p for p in path.split("/") if p]
    if len(parts) == 2 and parts[0] == "users" and parts[1].isdigit():
        user_id = int(parts[1])
        return (200, user(user_id)) if user_id in USER_IDS else (404, {})
    if len(parts) == 1 and parts[0] in ("posts", "todos"):
        raw = params.get("userId", ["0"])[0]
        user_id = int(raw) if raw.isdigit() else 0
        if user_id not in USER_IDS:
            return 200, []
        return 200, posts(user_id) if parts[0] == "posts" else todos(user_id)
    return 404, {}


class FakeUpstream:
    """The ASGI app: every HTTP request is answered after ``latency`` seconds."""

    def __init__(self, latency: float) -> None:
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        status, payload = route(scope["path"], scope.get("query_string", b"").decode("latin-1"))
        if self.latency > 0 and scope["path"] != READY_PATH:
            await asyncio.sleep(self.latency)
        body = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


app = FakeUpstream(latency_from_env())
