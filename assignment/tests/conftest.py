"""Shared fixtures of the grading suites.

This file ships to students together with the public tests, so it holds only
tools, never a hidden test's inputs.

Your project runs in a process of its own, as a real server would: the tests
never import your answer files. They talk to it through the ``app`` fixture
(``grader.judge``): ``app.get(path)`` sends a request through Django's real
ASGI handler and returns the response, ``app.settings(NAME=value)`` changes a
setting in your project for one test. Every HTTP request your code makes
with httpx comes back here, where a fake server answers it: nothing reaches
the network.

An async program is hard to test by the clock: instead of "it took less than
N seconds", the suites look for deterministic evidence.

* ``upstream`` — a fake JSONPlaceholder (a respx router) answering your
  project's httpx requests. It counts the calls in flight at the same time,
  so "all three requests went out together" is a number (3), not a timing.
  ``make_upstream(url)`` makes one at another address.
* ``never_answers`` — a server that never answers: your project's client
  gives up after its own read timeout and raises ``httpx.ReadTimeout``.
* ``describe`` / ``read_json`` — a response summed up for a message; its JSON body.

Plain functions that suites call from their own helpers (not fixtures) are in
``helpers.py`` beside this file.

What only your project can tell (its event loop's heartbeat, its SQL queries,
whether a view is an ``async def``) comes from ``app.watch`` and ``app.fact``;
the tests that rest on it are marked ``in_app_evidence``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from grader.judge.client import App

# The harness: the ``app`` fixture and the shared database (for a plain ``pytest`` too).
pytest_plugins = ("grader.judge.fixtures",)

# --------------------------------------------------------------------------
# A fake upstream API (JSONPlaceholder) on respx, answering the app's requests
# --------------------------------------------------------------------------

SECTIONS = ("users", "posts", "todos")


async def hang(request: httpx.Request) -> httpx.Response:
    """Behave like a server that never answers.

    The app gives up by itself after the client's own read timeout (it raises
    ``httpx.ReadTimeout`` there, as a real transport would) and this call is
    then cancelled. A client without a read timeout waits "forever" (an hour),
    as it would in production.
    """
    await asyncio.sleep(3600)
    raise httpx.ReadTimeout("the upstream did not answer in time", request=request)


def sample_user(user_id: int) -> dict[str, Any]:
    """A user shaped like JSONPlaceholder's, with more keys than the dashboard keeps."""
    return {
        "id": user_id,
        "name": f"User Number{user_id}",
        "username": f"user{user_id}",
        "email": f"user{user_id}@example.org",
        "address": {"street": "Kulas Light", "city": "Gwenborough", "zipcode": "92998-3874"},
        "phone": "1-770-736-8031 x56442",
        "website": "hildegard.org",
        "company": {"name": "Romaguera-Crona"},
    }


def sample_posts(user_id: int, ids: list[int]) -> list[dict[str, Any]]:
    """Posts of one user, in the order of ``ids`` (not necessarily sorted)."""
    return [
        {"userId": user_id, "id": post_id, "title": f"post {post_id}", "body": "..."}
        for post_id in ids
    ]


def sample_todos(user_id: int, completed: list[bool]) -> list[dict[str, Any]]:
    """Todos of one user; ``completed`` says which are done."""
    return [
        {"userId": user_id, "id": index + 1, "title": f"todo {index + 1}", "completed": done}
        for index, done in enumerate(completed)
    ]


Behaviour = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


@dataclass
class FakeUpstream:
    """A JSONPlaceholder stand-in: three routes, their answers, and counters.

    ``set(section, ...)`` chooses what a route answers; every call is kept in
    ``calls[section]`` and ``max_in_flight`` is the largest number of calls
    open at the same time. Each call keeps what the app said about it in
    ``request.extensions``: ``"timeout"`` (the client's timeouts),
    ``"grader_client"`` (one id per client) and ``"grader_site"`` (the line of
    the answer file that made it).

    Overlap is measured without trusting the clock: each call is held open
    until ``together`` calls are open at once (then all go on at once), or
    until ``window`` seconds have passed. Calls made together meet almost at
    once, however busy the machine is; calls made one after the other never
    meet, each waits out the window, and ``max_in_flight`` stays at 1. Each
    call then stays open ``delay`` more seconds. Tests that measure overlap
    widen ``window`` (say to 1 s): it costs nothing to an answer that overlaps.
    """

    base_url: str
    router: respx.MockRouter
    delay: float = 0.02
    together: int = 3
    window: float = 0.05  # the concurrency tests widen it
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    calls: dict[str, list[httpx.Request]] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    _met: asyncio.Event | None = None

    def __post_init__(self) -> None:
        base = re.escape(self.base_url.rstrip("/"))
        patterns = {
            "users": rf"^{base}/users/(?P<user_id>[^/?]+)/?$",
            "posts": rf"^{base}/posts/?(\?.*)?$",
            "todos": rf"^{base}/todos/?(\?.*)?$",
        }
        for section in SECTIONS:
            self.calls[section] = []
            self.router.get(url__regex=patterns[section]).mock(
                side_effect=self._side_effect_for(section)
            )
        self.use_defaults(1)

    # -- choosing the answers ------------------------------------------------
    def use_defaults(
        self,
        user_id: int,
        post_ids: list[int] | None = None,
        completed: list[bool] | None = None,
    ) -> None:
        """Answer like JSONPlaceholder for ``user_id`` (10 posts, 20 todos, 11 done)."""
        post_ids = post_ids if post_ids is not None else [3, 9, 1, 10, 5, 2, 8, 4, 7, 6]
        if completed is None:  # 11 of 20 done, like user 1 upstream, not in a block
            completed = [index % 9 in (0, 2, 4, 6, 7) for index in range(20)]
        self.set("users", json=sample_user(user_id))
        self.set("posts", json=sample_posts(user_id, post_ids))
        self.set("todos", json=sample_todos(user_id, completed))

    def set(
        self,
        section: str,
        *,
        json: Any = None,
        status: int = 200,
        content: bytes | None = None,
        error: type[Exception] | None = None,
        hang: bool = False,
    ) -> None:
        """Choose what ``section`` answers: a JSON body, raw bytes, a status,
        a transport error, or no answer at all (``hang``)."""

        def behaviour(request: httpx.Request) -> Awaitable[httpx.Response] | httpx.Response:
            if hang:
                return _hang(request)
            if error is not None:
                raise error("simulated transport failure", request=request)
            if content is not None:
                return httpx.Response(status, content=content)
            return httpx.Response(status, json=json)

        self.behaviours[section] = behaviour

    # -- what happened ------------------------------------------------------------
    @property
    def total_calls(self) -> int:
        return sum(len(calls) for calls in self.calls.values())

    @property
    def requests(self) -> list[httpx.Request]:
        """Every call, users first, then posts, then todos."""
        return [request for section in SECTIONS for request in self.calls[section]]

    @property
    def awaited_one_by_one(self) -> str:
        """Where the view awaited the calls one after the other (``homework/x.py:12``),
        or ``""`` when they overlapped or the place is unknown."""
        if self.max_in_flight != 1 or self.total_calls < 2:
            return ""
        return ", ".join(dict.fromkeys(site for site in self.sites.values() if site))

    def _side_effect_for(
        self, section: str
    ) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
        async def side_effect(request: httpx.Request, **_groups: str) -> httpx.Response:
            self.calls[section].append(request)
            self.sites[section] = str(request.extensions.get("grader_site") or "")
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self._met is None:
                self._met = asyncio.Event()
            if self.in_flight >= self.together:
                self._met.set()
            # Never hold a call for longer than half the client's own read timeout:
            # the wait is a measurement, not a slow upstream.
            read_timeout = (request.extensions.get("timeout") or {}).get("read")
            window = self.window if read_timeout is None else min(self.window, read_timeout / 2)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._met.wait(), window)
                await asyncio.sleep(self.delay)
                answer = self.behaviours[section](request)
                if not isinstance(answer, httpx.Response):
                    answer = await answer
                return answer
            finally:
                self.in_flight -= 1
                if self.in_flight == 0 and self._met is not None:
                    self._met.clear()

        return side_effect


_hang = hang  # FakeUpstream.set() has a parameter called ``hang``


@pytest.fixture
def never_answers() -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """The ``hang`` side effect, for a respx route of your own."""
    return hang


def configured_upstream_url() -> str:
    """``UPSTREAM_API_URL`` as the scaffold's ``config/settings.py`` sets it (these tests
    read the pristine settings; a test that changes it says so with ``app.settings``)."""
    from django.conf import settings

    return str(settings.UPSTREAM_API_URL)


@contextlib.contextmanager
def fake_upstream(app: App, base_url: str) -> Iterator[FakeUpstream]:
    """Answer the app's upstream requests with a fake JSONPlaceholder at ``base_url``.

    Nothing else answers: a request elsewhere fails in the app as a connection
    error would, and no request ever reaches the network.
    """
    router = respx.MockRouter(assert_all_mocked=True, assert_all_called=False)
    fake = FakeUpstream(base_url=base_url, router=router)
    previous = app.upstream_handler
    app.upstream_handler = router.async_handler
    try:
        yield fake
    finally:
        app.upstream_handler = previous


UpstreamFactory = Callable[[str], contextlib.AbstractContextManager[FakeUpstream]]


@pytest.fixture
def make_upstream(app: App) -> Iterator[UpstreamFactory]:
    """``with make_upstream(base_url) as upstream: ...`` for another base URL (tell the app
    too: ``app.settings(UPSTREAM_API_URL=base_url)``)."""
    yield functools.partial(fake_upstream, app)
    app.upstream_handler = None


@pytest.fixture
def upstream(app: App) -> Iterator[FakeUpstream]:
    """A fake upstream at the configured ``UPSTREAM_API_URL``, answering the app."""
    try:
        with fake_upstream(app, configured_upstream_url()) as fake:
            yield fake
    finally:
        app.upstream_handler = None


# What each key of the dashboard holds, for a message about the one that is wrong.
DASHBOARD_RULES = {
    "user": "user keeps exactly the id, name and email of the users answer",
    "todos": 'todos = {"total": number of todos, "completed": how many have "completed": true}',
    "errors": "errors is {} when every upstream call succeeded",
}


def dashboard_hint(body: Any, expected: dict[str, Any]) -> str:
    """A hint about what differs between a dashboard ``body`` and the ``expected`` one."""
    if not isinstance(body, dict):
        return "answer with JsonResponse({...}) holding user, posts, todos and errors"
    hints = []
    extra = sorted(set(body) - set(expected))
    if extra:
        hints.append(f"the answer has keys the rules do not ask for: {extra}")
    for key, value in expected.items():
        if body.get(key) != value:
            hints.append(
                posts_hint(body.get(key), value) if key == "posts" else DASHBOARD_RULES[key]
            )
    return "; ".join(hints)


def dashboard_got(response: Any, expected: dict[str, Any]) -> str:
    """The status and only the sections that differ from ``expected`` (not the whole body:
    the rest would repeat the test's inputs without helping)."""
    import json

    body = json_of(response)
    if response.status_code != 200 or not isinstance(body, dict):
        return describe_response(response)
    wrong = {key: body.get(key) for key in expected if body.get(key) != expected[key]}
    if set(expected) >= {"user", "posts", "todos", "errors"}:  # a whole dashboard
        wrong.update({key: body[key] for key in body if key not in expected})
    return f"HTTP 200; the parts that differ: {json.dumps(wrong)[:300]}"


def posts_hint(got: Any, expected: dict[str, Any]) -> str:
    """What is wrong in the posts section."""
    if not isinstance(got, dict) or got.get("count") != expected["count"]:
        return 'posts = {"count": number of posts, "latest": [...]}'
    latest = got.get("latest")
    if isinstance(latest, list) and sorted(map(str, latest)) == sorted(expected["latest"]):
        return (
            "latest is in the wrong order: sort the posts by id yourself, highest first "
            "(the upstream does not sort them)"
        )
    return "latest = the titles of the (at most) three posts with the highest id, highest first"


def describe_response(response: Any) -> str:
    """A short, student-readable summary of a response of the app."""
    body = response.content[:300].decode("utf-8", "replace")
    return f"HTTP {response.status_code} with body {body!r}"


@pytest.fixture
def show_dashboard() -> Callable[[Any, dict[str, Any]], str]:
    """``show_dashboard(response, expected)``: the status and the sections that differ."""
    return dashboard_got


@pytest.fixture
def explain_dashboard() -> Callable[[Any, dict[str, Any]], str]:
    """``explain_dashboard(body, expected)``: a hint about what differs."""
    return dashboard_hint


@pytest.fixture
def describe() -> Callable[[Any], str]:
    """``describe(response)``: status and the start of the body, for messages."""
    return describe_response


def json_of(response: Any) -> Any:
    """The response body decoded as JSON, or ``None`` when it is not JSON."""
    import json

    try:
        return json.loads(response.content)
    except ValueError:
        return None


@pytest.fixture
def read_json() -> Callable[[Any], Any]:
    """``read_json(response)``: the JSON body, or ``None`` if it is not JSON."""
    return json_of
