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


def check_header(response, where):
    value = response.headers.get("Server-Timing") if isinstance(response, HttpResponse) else None
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
    expect(
        not iscoroutinefunction(sync_instance) and isinstance(sync_result, HttpResponse),
        expected="wrapping a sync get_response, the middleware is sync: calling it returns the "
        "response, not a coroutine",
        got=f"iscoroutinefunction: {iscoroutinefunction(sync_instance)}; calling it returned "
        f"{type(sync_result).__name__}",
        hint="check iscoroutinefunction(get_response) in __init__ and take a plain (sync) path "
        "when it is false; an `async def __call__` (the lesson's MiddlewareMixin subclass) is "
        "always async",
    )
    check_header(sync_result, "the response of a middleware wrapping a sync get_response")
    async_instance = TimingMiddleware(async_get_response)
    outcome = async_instance(request)
    result = async_to_sync(_await)(outcome) if asyncio.iscoroutine(outcome) else outcome
    expect(
        iscoroutinefunction(async_instance) and asyncio.iscoroutine(outcome),
        expected="wrapping an async get_response, the middleware instance is a coroutine "
        "function for Django (asgiref's iscoroutinefunction) and calling it gives a coroutine",
        got=f"iscoroutinefunction: {iscoroutinefunction(async_instance)}; the call returned "
        f"{type(outcome).__name__}",
        hint="markcoroutinefunction(self) in __init__ when get_response is async"
        if asyncio.iscoroutine(outcome)
        else "when get_response is async, hand the request to an `async def` that awaits it, "
        "and markcoroutinefunction(self) in __init__",
    )
    check_header(result, "the response of a middleware wrapping an async get_response")


async def _await(awaitable):
    return await awaitable
