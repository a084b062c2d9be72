"""The honest twin of tests/hostile/cases/invent_answers: a view that answers, through Django,
the very constant dashboard that the hostile file writes into the harness's channel."""

import json

from django.http import HttpResponse

BODY = json.dumps(
    {"user": {"id": 1, "name": "Leanne Graham", "email": "x@example.org"},
     "posts": {"count": 10, "latest": ["a", "b", "c"]},
     "todos": {"total": 20, "completed": 11}, "errors": {}}
).encode()


async def dashboard(request, user_id):
    return HttpResponse(BODY, content_type="application/json")
