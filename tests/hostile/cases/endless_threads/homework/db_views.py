"""Hostile: the reference views, plus threads that never end (started at import)."""

import threading
import time

for _ in range(3):
    threading.Thread(target=time.sleep, args=(3600,)).start()



import json

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import Task

DONE_FILTERS = {"true": True, "false": False}


def task_json(task: Task) -> dict:
    return {
        "id": task.id,
        "title": task.title,
        "done": task.done,
        "created_at": task.created_at.isoformat(),
    }


def list_tasks(done: bool | None) -> list[dict]:
    """Runs in the thread pool: one query, evaluated here."""
    queryset = Task.objects.order_by("-created_at", "-id")
    if done is not None:
        queryset = queryset.filter(done=done)
    return [task_json(task) for task in queryset]


async def tasks(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        raw_done = request.GET.get("done")
        if raw_done is not None and raw_done not in DONE_FILTERS:
            return JsonResponse({"error": "done must be 'true' or 'false'"}, status=400)
        items = await sync_to_async(list_tasks)(DONE_FILTERS.get(raw_done) if raw_done else None)
        return JsonResponse({"count": len(items), "tasks": items})

    if request.method == "POST":
        try:
            body = json.loads(request.body)
        except ValueError:
            return JsonResponse({"error": "the body is not valid JSON"}, status=400)
        if not isinstance(body, dict):
            return JsonResponse(
                {"error": 'the body must be an object like {"title": "..."}'}, status=400
            )
        title = body.get("title")
        if not isinstance(title, str):
            return JsonResponse({"error": "title is required and must be a string"}, status=400)
        title = title.strip()
        if not 1 <= len(title) <= 255:
            return JsonResponse({"error": "title must be 1 to 255 characters"}, status=400)
        task = await sync_to_async(Task.objects.create)(title=title)
        return JsonResponse(task_json(task), status=201)

    response = JsonResponse({"error": "method not allowed"}, status=405)
    response["Allow"] = "GET, POST"
    return response
