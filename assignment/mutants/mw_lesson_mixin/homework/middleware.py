"""Follows the lesson: a MiddlewareMixin subclass with an async __call__."""

import time

from django.utils.deprecation import MiddlewareMixin


class TimingMiddleware(MiddlewareMixin):
    async def __call__(self, request):
        started = time.perf_counter()
        response = await super().__call__(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response
