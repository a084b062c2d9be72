"""Hidden grading tests, part 5 (middleware): ``TimingMiddleware``.

Covers the contract beyond the public tests: the header on every response
(404 and 500 too), a duration in milliseconds, Django loading the middleware
without a sync/async adapter under both ASGI and WSGI.
"""

import asyncio
import logging
import re
import time

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.urls import path

from grader.feedback import expect

HEADER = re.compile(r"app;dur=(\d+(\.\d+)?)")
SLOW = 0.25
FORMAT_HINT = 'write the value exactly app;dur=<number>, no spaces: f"app;dur={elapsed_ms:.1f}"'


def sync_view(request):
    return HttpResponse("sync")


async def async_view(request):
    return HttpResponse("async")


def slow_sync_view(request):
    time.sleep(SLOW)
    return HttpResponse("slow sync")


async def slow_async_view(request):
    await asyncio.sleep(SLOW)
    return HttpResponse("slow async")


def broken_view(request):
    raise RuntimeError("this view fails on purpose")


urlpatterns = [
    path("sync/", sync_view),
    path("async/", async_view),
    path("slow-sync/", slow_sync_view),
    path("slow-async/", slow_async_view),
    path("broken/", broken_view),
]


def duration(response):
    value = response.headers.get("Server-Timing")
    match = HEADER.fullmatch(value) if value is not None else None
    return value, (float(match.group(1)) if match else None)


@pytest.mark.points(1)
def test_header_on_every_response(settings):
    from django.test import AsyncClient, Client

    settings.ROOT_URLCONF = __name__
    sync_client = Client(raise_request_exception=False)
    async_client = AsyncClient(raise_request_exception=False)
    for url, status in (("/no-such-page/", 404), ("/broken/", 500), ("/sync/", 200)):
        responses = {
            "WSGI": sync_client.get(url),
            "ASGI": async_to_sync(async_client.get)(url),
        }
        for mode, response in responses.items():
            value, dur = duration(response)
            expect(
                response.status_code == status and dur is not None,
                expected=f"Server-Timing: app;dur=<ms> on every response, {status} included "
                f"({mode})",
                got=f"HTTP {response.status_code}, Server-Timing: {value!r}",
                hint=FORMAT_HINT
                if value is not None
                else "set the header on whatever get_response returns; Django turns exceptions "
                "and 404s into responses before they reach your middleware",
            )


@pytest.mark.points(1.5)
def test_duration_is_in_milliseconds(settings):
    from django.test import AsyncClient, Client

    settings.ROOT_URLCONF = __name__
    responses = {
        "a sync view under WSGI": Client().get("/slow-sync/"),
        "an async view under ASGI": async_to_sync(AsyncClient().get)("/slow-async/"),
    }
    for where, response in responses.items():
        value, dur = duration(response)
        expect(
            dur is not None and dur >= SLOW * 1000 * 0.95,
            expected=f"dur in milliseconds: at least {SLOW * 1000:.0f} for a view that takes "
            f"{SLOW} s ({where})",
            got=f"Server-Timing: {value!r}",
            hint=FORMAT_HINT
            if value is not None and dur is None
            else "(time.perf_counter() - started) * 1000, measured around get_response",
        )


@pytest.mark.points(2)
def test_django_needs_no_adapter(settings, caplog):
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    settings.DEBUG = True  # Django logs each adapter it adds only in DEBUG
    for name, handler_class in (("ASGI", ASGIHandler), ("WSGI", WSGIHandler)):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="django.request"):
            handler_class()
        adapted = [
            record.getMessage()
            for record in caplog.records
            if "adapted" in record.getMessage() and "TimingMiddleware" in record.getMessage()
        ]
        expect(
            not adapted,
            expected=f"Django loads TimingMiddleware under {name} without wrapping it in a "
            "sync/async adapter",
            got="; ".join(adapted),
            hint="declare sync_capable = True and async_capable = True on the class and "
            "support both modes (see the middleware section of INSTRUCTIONS.md)",
        )
