"""PUBLIC self-check tests, part 5 (middleware): ``TimingMiddleware``.

These public tests are a subset of what grading checks: the ``Server-Timing``
header under Django's WSGI handler (sync, as gunicorn serves it) and its ASGI
handler (async, as uvicorn serves it), and the middleware following the mode
of what it wraps (``markcoroutinefunction``).
Grading runs more (hidden) tests: every kind of response, milliseconds, and
Django running the middleware without an adapter; see INSTRUCTIONS.md, part 5.

Your project runs in its own process; the ``app`` fixture sends it requests
(``via="wsgi"`` or ``via="asgi"``). They go to two small probe views the grader
mounts in front of your URLs: ``/__probe__/sync/`` (a plain ``def`` view) and
``/__probe__/async/`` (an ``async def`` view).
"""

import re

import pytest

from grader.messages.feedback import expect

from ..helpers import coroutine_trap, get, place

HEADER = re.compile(r"app;dur=\d+(\.\d+)?")
PROBES = "grader.appside.probes"
URLS = {"sync": "/__probe__/sync/", "async": "/__probe__/async/"}
TIMING = "homework.middleware.TimingMiddleware"
HANDLERS = {"wsgi": "WSGI (sync)", "asgi": "ASGI (async)"}


def describe(response, failure):
    if response is None:
        return f"the request failed inside Django: {failure}"
    # Django's debug page names the error in its first lines (the rest is the environment).
    first_lines = response.text.split("\n\n")[0]
    return f"HTTP {response.status_code} with body {first_lines[:200]!r}"


def check_header(response, failure, where):
    value = response.headers.get("Server-Timing") if response is not None else None
    expect(
        value is not None and HEADER.fullmatch(value),
        expected=f"a Server-Timing header app;dur=<milliseconds> on {where}",
        got=f"Server-Timing: {value!r}" if response is not None else describe(response, failure),
        hint='response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}" (no spaces)',
        trap=coroutine_trap(response, failure),
        where=place(response, failure),
    )


@pytest.mark.points(2)
def test_header_under_the_sync_client(app):
    app.settings(ROOT_URLCONF=PROBES)
    for kind in ("sync", "async"):
        response, failure = get(app, URLS[kind], "wsgi")
        check_header(response, failure, f"a response to a WSGI (sync) request to a {kind} view")


@pytest.mark.points(2)
def test_header_under_the_async_client(app):
    app.settings(ROOT_URLCONF=PROBES)
    for kind in ("async", "sync"):
        response, failure = get(app, URLS[kind], "asgi")
        check_header(response, failure, f"a response to an ASGI (async) request to a {kind} view")


# What "following the mode of the chain" means under each handler.
MODES = {
    "wsgi": {
        "expected": "wrapping a sync get_response, the middleware is sync: calling it returns the "
        "response, not a coroutine",
        "hint": "check iscoroutinefunction(get_response) in __init__ and take a plain (sync) path "
        "when it is false; an `async def __call__` (the lesson's MiddlewareMixin subclass) is "
        "always async",
    },
    "asgi": {
        "expected": "wrapping an async get_response, the middleware instance is a coroutine "
        "function for Django (asgiref's iscoroutinefunction) and calling it gives a coroutine",
        "hint": "when get_response is async, hand the request to an `async def` that awaits it, "
        "and markcoroutinefunction(self) in __init__",
    },
}


@pytest.mark.points(1.5)
@pytest.mark.in_app_evidence
def test_follows_the_mode_of_the_chain(app):
    # TimingMiddleware inside another middleware: Django's XFrameOptionsMiddleware (sync and
    # async capable, like yours) calls it in the mode it sees, and works on what it returns.
    outer = "django.middleware.clickjacking.XFrameOptionsMiddleware"
    app.settings(ROOT_URLCONF=PROBES, MIDDLEWARE=[outer, TIMING])
    for via, mode in MODES.items():
        response, failure = get(app, URLS["async"], via)
        expect(
            response is not None
            and response.status_code == 200
            and "X-Frame-Options" in response.headers,
            expected=f"{mode['expected']} (under {HANDLERS[via]}, inside {outer})",
            got=describe(response, failure),
            hint=mode["hint"],
            trap=coroutine_trap(response, failure),
            where=place(response, failure),
        )
        check_header(response, failure, f"a {HANDLERS[via]} response, inside another middleware")
    # Django adds an adapter (a thread hop per request) around a middleware that cannot run
    # in the mode of the chain; it logs each one (in DEBUG).
    log = app.fact("adapter_log")
    for via, mode in MODES.items():
        adapted = [
            line
            for line in log.get(via.upper(), [])
            if "TimingMiddleware" in line and "adapted" in line
        ]
        expect(
            not adapted,
            expected=f"{mode['expected']} (under {HANDLERS[via]}, Django calls it in that mode "
            "without an adapter)",
            got="; ".join(adapted),
            hint=mode["hint"] + "; declare sync_capable = True and async_capable = True",
            trap="middleware_adapted",
            module="homework.middleware",
        )
