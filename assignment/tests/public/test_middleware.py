"""PUBLIC self-check tests, part 5 (middleware): ``TimingMiddleware``.

These public tests are a subset of what grading checks: the ``Server-Timing``
header under Django's sync test client (WSGI) and its async client (ASGI).
Grading runs more (hidden) tests: every kind of response, milliseconds, and
Django running the middleware without an adapter; see INSTRUCTIONS.md, part 5.

The requests go to two small views defined here (one sync, one async).
"""

import re

import pytest
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
