"""PUBLIC self-check tests, part 5 (middleware): ``TimingMiddleware``.

These public tests are a subset of what grading checks: the ``Server-Timing``
header under Django's sync test client (WSGI) and its async client (ASGI), and
the middleware following the mode of what it wraps (``markcoroutinefunction``).
Grading runs more (hidden) tests: every kind of response, milliseconds, and
Django running the middleware without an adapter; see INSTRUCTIONS.md, part 5.

The requests go to two small views defined here (one sync, one async).
"""

import asyncio
import re

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import HttpResponse
from django.urls import path

from grader.feedback import expect

HEADER = re.compile(r"app;dur=\d+(\.\d+)?")


def sync_view(request):
    return HttpResponse("sync")


async def async_view(request):
    return HttpResponse("async")


urlpatterns = [path("sync/", sync_view), path("async/", async_view)]


def duration(response):
    value = response.headers.get("Server-Timing")
    match = re.fullmatch(r"app;dur=(\d+(\.\d+)?)", value) if value is not None else None
    return value, (float(match.group(1)) if match else None)


def check_header(response, where):
    value = response.headers.get("Server-Timing")
    expect(
        value is not None and HEADER.fullmatch(value),
        expected=f"a Server-Timing header app;dur=<milliseconds> on {where}",
        got=f"Server-Timing: {value!r}",
        hint='response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}" (no spaces)',
    )


@pytest.mark.points(2)
def test_header_under_the_sync_client(client, settings):
    settings.ROOT_URLCONF = __name__
    for url in ("/sync/", "/async/"):
        response = client.get(url)
        check_header(response, f"a response to a WSGI (sync) request to a {url.strip('/')} view")


@pytest.mark.points(2)
@pytest.mark.asyncio
async def test_header_under_the_async_client(async_client, settings):
    settings.ROOT_URLCONF = __name__
    for url in ("/async/", "/sync/"):
        response = await async_client.get(url)
        check_header(response, f"a response to an ASGI (async) request to a {url.strip('/')} view")


@pytest.mark.points(1.5)
def test_follows_the_mode_of_the_chain():
    from homework.middleware import TimingMiddleware

    def sync_get_response(request):
        return HttpResponse("inner sync")

    async def async_get_response(request):
        return HttpResponse("inner async")

    from django.test import RequestFactory

    request = RequestFactory().get("/")
    sync_instance = TimingMiddleware(sync_get_response)
    sync_result = sync_instance(request)
    value, dur = duration(sync_result) if isinstance(sync_result, HttpResponse) else (None, None)
    expect(
        not iscoroutinefunction(sync_instance) and dur is not None,
        expected="wrapping a sync get_response, the middleware is sync: calling it returns the "
        "response (with the header), not a coroutine",
        got=f"calling it returned {type(sync_result).__name__}; Server-Timing: {value!r}",
        hint="check iscoroutinefunction(get_response) in __init__ and pick the sync path",
    )
    async_instance = TimingMiddleware(async_get_response)
    outcome = async_instance(request)
    result = async_to_sync(_await)(outcome) if asyncio.iscoroutine(outcome) else outcome
    value, dur = duration(result) if isinstance(result, HttpResponse) else (None, None)
    expect(
        iscoroutinefunction(async_instance) and asyncio.iscoroutine(outcome) and dur is not None,
        expected="wrapping an async get_response, the middleware instance is a coroutine "
        "function for Django (asgiref's iscoroutinefunction) and its call gives the response "
        "with the header",
        got=f"iscoroutinefunction: {iscoroutinefunction(async_instance)}; the call returned "
        f"{type(outcome).__name__}; Server-Timing: {value!r}",
        hint="markcoroutinefunction(self) in __init__ when get_response is async, and await "
        "get_response in that path",
    )


async def _await(awaitable):
    return await awaitable
