"""Reference answer, part 1 (async_view).

The whole point: ``await asyncio.sleep`` hands the event loop back while this
request "waits", so one worker serves many such requests at once. A
``time.sleep`` here would freeze every request on the loop.
"""

import asyncio

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET



async def hello(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(settings.ASYNC_DEMO_DELAY)
    return JsonResponse({"message": "This is an async view!"})
