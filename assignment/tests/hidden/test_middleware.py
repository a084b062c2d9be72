"""Hidden grading tests, part 5 (middleware): ``TimingMiddleware``.

Covers the contract beyond the public tests: the header on every response
(404 and 500 too), a duration in milliseconds, Django loading the middleware
without a sync/async adapter under both ASGI and WSGI.
"""

import re

import pytest

from grader.messages.feedback import expect

from ..helpers import coroutine_trap, get, place

HEADER = re.compile(r"app;dur=(\d+(\.\d+)?)")
SLOW = 0.25
FORMAT_HINT = 'write the value exactly app;dur=<number>, no spaces: f"app;dur={elapsed_ms:.1f}"'
PROBES = "grader.appside.probes"  # /__probe__/sync/, /__probe__/async/, /__probe__/broken/
MODES = {"wsgi": "WSGI", "asgi": "ASGI"}


def duration(response):
    value = response.headers.get("Server-Timing") if response is not None else None
    match = HEADER.fullmatch(value) if value is not None else None
    return value, (float(match.group(1)) if match else None)


def status_of(response, failure):
    if response is None:
        return f"the request failed inside Django ({failure})"
    return f"HTTP {response.status_code}"


@pytest.mark.points(1)
def test_header_on_every_response(app):
    app.settings(ROOT_URLCONF=PROBES)
    for url, status in (
        ("/no-such-page/", 404),
        ("/__probe__/broken/", 500),
        ("/__probe__/sync/", 200),
    ):
        for via, mode in MODES.items():
            response, failure = get(app, url, via)
            value, dur = duration(response)
            expect(
                response is not None and response.status_code == status and dur is not None,
                expected=f"Server-Timing: app;dur=<ms> on every response, {status} included "
                f"({mode})",
                got=f"{status_of(response, failure)}, Server-Timing: {value!r}",
                hint=FORMAT_HINT
                if value is not None
                else "set the header on whatever get_response returns; Django turns exceptions "
                "and 404s into responses before they reach your middleware",
                trap=coroutine_trap(response, failure),
                where=place(response, failure),
            )


@pytest.mark.points(1.5)
def test_duration_is_in_milliseconds(app):
    app.settings(ROOT_URLCONF=PROBES)
    requests = {
        "a sync view under WSGI": ("/__probe__/sync/", "wsgi"),
        "an async view under ASGI": ("/__probe__/async/", "asgi"),
    }
    for where, (url, via) in requests.items():
        response, failure = get(app, f"{url}?seconds={SLOW}", via)
        value, dur = duration(response)
        expect(
            dur is not None and dur >= SLOW * 1000 * 0.95,
            expected=f"dur in milliseconds: at least {SLOW * 1000:.0f} for a view that takes "
            f"{SLOW} s ({where})",
            got=f"Server-Timing: {value!r}"
            if response is not None
            else f"the request failed inside Django ({failure})",
            hint=FORMAT_HINT
            if value is not None and dur is None
            else "(time.perf_counter() - started) * 1000, measured around get_response",
            trap=coroutine_trap(response, failure),
            where=place(response, failure),
        )


@pytest.mark.points(2)
@pytest.mark.in_app_evidence
def test_django_needs_no_adapter(app):
    # What Django logs (in DEBUG) about each adapter it adds while it builds its handlers.
    log = app.fact("adapter_log")
    for name in ("ASGI", "WSGI"):
        adapted = [
            line for line in log.get(name, []) if "adapted" in line and "TimingMiddleware" in line
        ]
        expect(
            not adapted,
            expected=f"Django loads TimingMiddleware under {name} without wrapping it in a "
            "sync/async adapter",
            got="; ".join(adapted),
            hint="declare sync_capable = True and async_capable = True on the class and "
            "support both modes (see the middleware section of INSTRUCTIONS.md)",
            trap="middleware_adapted",
            module="homework.middleware",
        )
    # Seen from outside: Django runs it under both handlers (the header's format is checked
    # elsewhere; here any Server-Timing header shows the middleware ran).
    app.settings(ROOT_URLCONF=PROBES)
    for via, name in MODES.items():
        response, failure = get(app, "/__probe__/sync/", via)
        value, _ = duration(response)
        expect(
            response is not None and response.status_code == 200 and value is not None,
            expected=f"under {name}, a request goes through TimingMiddleware and answers 200 "
            "with a Server-Timing header",
            got=f"{status_of(response, failure)}, Server-Timing: {value!r}",
            hint="declare sync_capable = True and async_capable = True on the class and "
            "support both modes (see the middleware section of INSTRUCTIONS.md)",
            trap=coroutine_trap(response, failure),
            where=place(response, failure),
        )
