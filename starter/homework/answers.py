"""Routing to the answer files without importing them at start-up.

Part of the scaffold (not graded). ``answer_view("homework.aggregator",
"dashboard")`` is an async view that imports ``homework.aggregator`` on each
request (Python caches a module once it imported cleanly) and hands the
request to its ``dashboard``. Why: if ``urls.py`` imported every answer file,
one syntax error would take every route down with it.

The answer view is called the way Django calls a view: an ``async def`` view
is awaited on the event loop; a plain ``def`` view runs in a worker thread
(``sync_to_async``, thread-sensitive, as Django's handler adapts it), so a
sync view that uses the ORM works as it would with the route pointing at it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse


def load_view(module: str, name: str) -> Callable[..., Any]:
    """Import ``module`` (cached after the first clean import) and return its ``name``."""
    return getattr(importlib.import_module(module), name)


async def call_view(
    view: Callable[..., Any], request: HttpRequest, *args: Any, **kwargs: Any
) -> Any:
    """Call ``view`` as Django would: await an async view, run a sync one in a thread."""
    if iscoroutinefunction(view):
        return await view(request, *args, **kwargs)
    return await sync_to_async(view, thread_sensitive=True)(request, *args, **kwargs)


def answer_view(module: str, name: str) -> Callable[..., Awaitable[HttpResponse]]:
    """Return an async view that calls ``module.name`` when a request comes in."""

    async def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Django checks what comes back (an HttpResponse, not None or a coroutine).
        return await call_view(load_view(module, name), request, *args, **kwargs)

    # The homework's endpoints are JSON APIs called by scripts, not HTML forms.
    view.csrf_exempt = True  # type: ignore[attr-defined]
    view.__name__ = name
    view.__qualname__ = f"{module}.{name}"
    view.__doc__ = f"Calls {module}.{name} (imported on first use)."
    return markcoroutinefunction(view)

