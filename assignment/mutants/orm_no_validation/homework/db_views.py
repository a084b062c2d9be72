"""Reference answer, part 3 (orm_threadpool).

Django's ORM is synchronous: called straight from an async view it raises
``SynchronousOnlyOperation``, and if it were allowed it would block the event
loop for the whole query. ``sync_to_async`` runs the query in a worker thread
while the loop goes on serving other requests. A QuerySet is lazy, so it must
be *evaluated* (``list(...)``) inside that thread, not later in the view.
"""

from __future__ import annotations

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
        title = json.loads(request.body)["title"].strip()
        task = await sync_to_async(Task.objects.create)(title=title)
        return JsonResponse(task_json(task), status=201)

    response = JsonResponse({"error": "method not allowed"}, status=405)
    response["Allow"] = "GET, POST"
    return response
