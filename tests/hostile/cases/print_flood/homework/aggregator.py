"""Hostile: the reference aggregator, plus 50 MB printed when imported."""

import sys

sys.stdout.write("x" * (50 * 1024 * 1024))



import asyncio
from typing import Any

import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

# One TLS context for the whole process, built once at import. Without ``verify=``
# httpx builds a new one for every AsyncClient, loading the CA bundle (20-25 ms of
# CPU, even for http:// URLs): with a client per request, at 100 concurrent
# clients that CPU, not the upstream, decides the latency (measured by
# ``grader bench``). An SSLContext is safe to share between clients and threads.
SSL_CONTEXT = httpx.create_ssl_context()


class UpstreamError(Exception):
    """An upstream call failed; ``reason`` is the short text shown in ``errors``."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


async def fetch_json(client: httpx.AsyncClient, path: str, params: dict | None = None) -> Any:
    """GET one upstream resource and decode it, turning every failure into UpstreamError."""
    try:
        # httpx's timeout limits each phase (connect, each read...); this bounds the whole call.
        async with asyncio.timeout(settings.UPSTREAM_TIMEOUT):
            response = await client.get(path, params=params)
    except (httpx.TimeoutException, TimeoutError):
        raise UpstreamError("timeout") from None
    except httpx.HTTPError as exc:
        raise UpstreamError(f"transport error: {type(exc).__name__}") from None
    if not response.is_success:
        raise UpstreamError(f"HTTP {response.status_code}", status=response.status_code)
    try:
        return response.json()
    except ValueError:
        raise UpstreamError("invalid JSON") from None


def summarize_posts(posts: list[dict]) -> dict:
    newest_first = sorted(posts, key=lambda post: post["id"], reverse=True)
    return {"count": len(posts), "latest": [post["title"] for post in newest_first[:3]]}


def summarize_todos(todos: list[dict]) -> dict:
    return {"total": len(todos), "completed": sum(1 for todo in todos if todo.get("completed"))}


@require_GET
async def dashboard(request: HttpRequest, user_id: int) -> HttpResponse:
    async with httpx.AsyncClient(
        base_url=settings.UPSTREAM_API_URL, timeout=settings.UPSTREAM_TIMEOUT, verify=SSL_CONTEXT
    ) as client:
        # return_exceptions=True: every call finishes, failures come back as values.
        user, posts, todos = await asyncio.gather(
            fetch_json(client, f"/users/{user_id}"),
            fetch_json(client, "/posts", {"userId": user_id}),
            fetch_json(client, "/todos", {"userId": user_id}),
            return_exceptions=True,
        )

    if isinstance(user, UpstreamError):
        if user.status == 404:
            return JsonResponse({"error": "user not found"}, status=404)
        return JsonResponse({"error": f"users API failed: {user.reason}"}, status=502)
    if isinstance(user, BaseException):
        raise user
    if not isinstance(user, dict):
        return JsonResponse({"error": "users API failed: unexpected body"}, status=502)

    body: dict[str, Any] = {
        "user": {key: user.get(key) for key in ("id", "name", "email")},
        "errors": {},
    }
    for section, value, summarize in (
        ("posts", posts, summarize_posts),
        ("todos", todos, summarize_todos),
    ):
        if isinstance(value, UpstreamError):
            body[section], body["errors"][section] = None, value.reason
        elif isinstance(value, BaseException):
            raise value
        elif not isinstance(value, list):
            body[section], body["errors"][section] = None, "unexpected body: not a list"
        else:
            body[section] = summarize(value)
    # Keep the documented key order: user, posts, todos, errors.
    return JsonResponse({key: body[key] for key in ("user", "posts", "todos", "errors")})
