"""Part 3 — the ORM in a thread pool (25 points).

Write ``async def tasks(request)``, served at ``GET, POST /api/tasks/``:

* GET lists the tasks, newest first: ``{"count": n, "tasks": [{"id", "title",
  "done", "created_at"}, ...]}``; ``?done=true`` / ``?done=false`` filters.
* POST ``{"title": "..."}`` creates a task and answers 201 with it.

Django's ORM is synchronous: run every query in the thread pool with
``asgiref.sync.sync_to_async`` (or Django's async ORM methods such as
``acreate`` and ``async for``), so the event loop keeps serving other requests
while the database works. The exact rules are in INSTRUCTIONS.md, part 3.
"""

from django.http import HttpRequest, HttpResponse


async def tasks(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError("Part 3 (orm_threadpool): write the async view tasks()")
