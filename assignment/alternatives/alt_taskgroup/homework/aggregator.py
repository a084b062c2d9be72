"""Alternative aggregator: asyncio.TaskGroup; each call turns its failure into a value."""

import asyncio

import httpx
from django.conf import settings
from django.http import HttpResponseNotAllowed, JsonResponse


async def get_json(client, url, params=None):
    """Return ("ok", data) or ("error", reason, status)."""
    try:
        response = await asyncio.wait_for(client.get(url, params=params), settings.UPSTREAM_TIMEOUT)
    except (TimeoutError, httpx.TimeoutException):
        return ("error", "timeout", None)
    except httpx.RequestError as exc:
        return ("error", f"request failed ({exc.__class__.__name__})", None)
    if response.status_code >= 300:
        return ("error", f"status {response.status_code}", response.status_code)
    try:
        return ("ok", response.json())
    except ValueError:
        return ("error", "body is not JSON", None)


async def dashboard(request, user_id):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    base = settings.UPSTREAM_API_URL
    async with (
        httpx.AsyncClient(timeout=settings.UPSTREAM_TIMEOUT) as client,
        asyncio.TaskGroup() as group,
    ):
        user_task = group.create_task(get_json(client, f"{base}/users/{user_id}"))
        posts_task = group.create_task(get_json(client, f"{base}/posts", {"userId": user_id}))
        todos_task = group.create_task(get_json(client, f"{base}/todos", {"userId": user_id}))
    user, posts, todos = user_task.result(), posts_task.result(), todos_task.result()

    if user[0] == "error":
        if user[2] == 404:
            return JsonResponse({"error": "user not found"}, status=404)
        return JsonResponse({"error": f"users: {user[1]}"}, status=502)
    data = user[1]
    result = {
        "user": {"id": data["id"], "name": data["name"], "email": data["email"]},
        "posts": None,
        "todos": None,
        "errors": {},
    }
    if posts[0] == "ok" and isinstance(posts[1], list):
        top = sorted(posts[1], key=lambda p: p["id"], reverse=True)[:3]
        result["posts"] = {"count": len(posts[1]), "latest": [p["title"] for p in top]}
    else:
        result["errors"]["posts"] = posts[1] if posts[0] == "error" else "not a list"
    if todos[0] == "ok" and isinstance(todos[1], list):
        result["todos"] = {
            "total": len(todos[1]),
            "completed": len([t for t in todos[1] if t["completed"]]),
        }
    else:
        result["errors"]["todos"] = todos[1] if todos[0] == "error" else "not a list"
    return JsonResponse(result)
