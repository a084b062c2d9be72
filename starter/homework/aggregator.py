"""Part 2 — an async view that calls several APIs at once (30 points).

Write ``async def dashboard(request, user_id)``, served at
``GET /api/users/<user_id>/dashboard/``. With one ``httpx.AsyncClient``
(``timeout=settings.UPSTREAM_TIMEOUT``) request these three *at the same time*:

* ``{settings.UPSTREAM_API_URL}/users/{user_id}``
* ``{settings.UPSTREAM_API_URL}/posts?userId={user_id}``
* ``{settings.UPSTREAM_API_URL}/todos?userId={user_id}``

and merge them into::

    {"user":  {"id": 1, "name": "...", "email": "..."},
     "posts": {"count": 10, "latest": ["newest title", "next", "third"]},
     "todos": {"total": 20, "completed": 11},
     "errors": {}}

The error rules (404, 502, a failed section becoming null) are in
INSTRUCTIONS.md, part 2.
"""

from django.http import HttpRequest, HttpResponse


async def dashboard(request: HttpRequest, user_id: int) -> HttpResponse:
    raise NotImplementedError("Part 2 (aggregator): write the async view dashboard()")
