"""Alternative: the function form, decorated with @sync_and_async_middleware."""

import time

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware


@sync_and_async_middleware
def TimingMiddleware(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            start = time.monotonic()
            response = await get_response(request)
            response["Server-Timing"] = f"app;dur={round((time.monotonic() - start) * 1000)}"
            return response

    else:

        def middleware(request):
            start = time.monotonic()
            response = get_response(request)
            response["Server-Timing"] = f"app;dur={round((time.monotonic() - start) * 1000)}"
            return response

    return middleware
