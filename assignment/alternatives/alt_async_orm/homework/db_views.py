"""Alternative: Django's async ORM API instead of sync_to_async."""

import json

from django.http import HttpResponseNotAllowed, JsonResponse

from .models import Task


def as_json(task):
    return {
        "id": task.pk,
        "title": task.title,
        "done": task.done,
        "created_at": task.created_at.isoformat(),
    }


def bad_request(message):
    return JsonResponse({"error": message}, status=400)


async def tasks(request):
    if request.method == "GET":
        queryset = Task.objects.all()
        if "done" in request.GET:
            value = request.GET["done"]
            if value == "true":
                queryset = queryset.filter(done=True)
            elif value == "false":
                queryset = queryset.filter(done=False)
            else:
                return bad_request("done must be true or false")
        items = [as_json(task) async for task in queryset.order_by("-created_at", "-pk")]
        return JsonResponse({"count": len(items), "tasks": items})
    if request.method == "POST":
        try:
            data = json.loads(request.body.decode())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return bad_request("invalid JSON")
        if not isinstance(data, dict) or not isinstance(data.get("title"), str):
            return bad_request("a string title is required")
        title = data["title"].strip()
        if not title or len(title) > 255:
            return bad_request("title must have 1 to 255 characters")
        task = await Task.objects.acreate(title=title)
        return JsonResponse(as_json(task), status=201)
    return HttpResponseNotAllowed(["GET", "POST"])
