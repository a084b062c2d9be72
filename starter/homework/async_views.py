"""Part 1 — an async view (15 points).

Write ``async def hello(request)``, served at ``GET /async/``:

* it waits ``settings.ASYNC_DEMO_DELAY`` seconds *without blocking the event
  loop* (``await asyncio.sleep(...)``, never ``time.sleep``), pretending to do
  slow I/O, then
* answers 200 with the JSON ``{"message": "This is an async view!"}``;
* any method other than GET answers 405.

See INSTRUCTIONS.md, part 1.
"""

from django.http import HttpRequest, HttpResponse


async def hello(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError("Part 1 (async_view): write the async view hello()")
