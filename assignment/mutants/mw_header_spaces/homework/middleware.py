"""Reference answer, part 5 (middleware).

Django asks each middleware whether it can run sync, async or both
(``sync_capable`` / ``async_capable``). One that is both is called the same
way as the chain around it, so Django never wraps it in an adapter (which
costs a thread hop per request). ``markcoroutinefunction`` tells Django that
this instance is async when the chain below it is.

The lesson's ``MiddlewareMixin`` subclass with ``async def __call__`` breaks
under WSGI (its ``__call__`` then returns a coroutine where Django expects a
response).
"""

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class TimingMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        return self.add_header(response, started)

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        return self.add_header(response, started)

    @staticmethod
    def add_header(response, started):
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app; dur={elapsed_ms:.1f}"
        return response
