"""Views the trusted side may mount (``ROOT_URLCONF = "grader.appside.probes"``) to watch
the student's middleware and event loop: plain, slow and failing views, sync and
async, under ``/__probe__/``, with the project's own URLs after them."""

from __future__ import annotations

import asyncio
import time

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def _seconds(request: HttpRequest) -> float:
    try:
        return min(max(float(request.GET.get("seconds", "0")), 0.0), 10.0)
    except ValueError:
        return 0.0


def sync_view(request: HttpRequest) -> HttpResponse:
    time.sleep(_seconds(request))
    return HttpResponse("sync")


async def async_view(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(_seconds(request))
    return HttpResponse("async")


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("this view fails on purpose")


urlpatterns = [
    path("__probe__/sync/", sync_view),
    path("__probe__/async/", async_view),
    path("__probe__/broken/", broken_view),
    path("", include("config.urls")),
]
