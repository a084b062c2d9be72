"""Reference answer, part 1 (async_view).

The whole point: ``await asyncio.sleep`` hands the event loop back while this
request "waits", so one worker serves many such requests at once. A
``time.sleep`` here would freeze every request on the loop.
"""

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET


@require_GET  # any other method: 405 (the decorator supports async views)
def hello(request: HttpRequest) -> HttpResponse:
    time.sleep(settings.ASYNC_DEMO_DELAY)
    return JsonResponse({"message": "This is an async view!"})
