"""Facts that exist only inside the app, each a small function of plain arguments.

``FACTS`` names them; the trusted side asks for one by name (``fact``). They
read the student's objects and answer in plain data: the verdict stays with
the trusted side.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from grader.appside.diagnose import describe


def resolve(target: str) -> Any:
    """``homework.async_views.hello`` → the object (``ImportError``/``AttributeError`` out)."""
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


async def coroutine_function(target: str) -> dict[str, Any]:
    """Whether ``target`` exists and is an ``async def`` function, and its repr."""
    try:
        value = resolve(target)
    except Exception as exc:
        return {"found": False, "is_coroutine_function": False, "repr": _failure(exc)}
    return {
        "found": True,
        "is_coroutine_function": inspect.iscoroutinefunction(value),
        "repr": repr(value)[:300],
    }


async def call_view(target: str, method: str = "GET", path: str = "/") -> dict[str, Any]:
    """Call the view ``target`` directly with a RequestFactory request (awaited if async)."""
    from asgiref.sync import sync_to_async
    from django.test import RequestFactory

    try:
        view = resolve(target)
        request = RequestFactory().generic(method, path)
        if inspect.iscoroutinefunction(view):
            response = await view(request)
        else:
            response = await sync_to_async(view)(request)
    except Exception as exc:
        return {"status": None, "repr": _failure(exc)}
    return {"status": getattr(response, "status_code", None), "repr": repr(response)[:300]}


async def celery_tasks(prefix: str = "") -> list[str]:
    """The names of the registered Celery tasks starting with ``prefix``."""
    from config.celery import app

    with contextlib.suppress(Exception):  # a broken file: the registry shows what is missing
        importlib.import_module("homework.tasks")
    return sorted(name for name in app.tasks if name.startswith(prefix))


async def beat_entries(task: str, last_run: str, at: list[str]) -> dict[str, Any]:
    """The ``BEAT_SCHEDULE`` entries for ``task``: their arguments and, for the first one,
    whether it is due at each moment of ``at`` (ISO 8601) after a run at ``last_run``."""
    from freezegun import freeze_time

    try:
        schedule = importlib.import_module("homework.schedule").BEAT_SCHEDULE
    except Exception as exc:
        return {"entries": 0, "error": describe(exc)}
    values = schedule.values() if isinstance(schedule, dict) else []
    entries = [e for e in values if isinstance(e, dict) and e.get("task") == task]
    answer: dict[str, Any] = {"entries": len(entries), "due": []}
    if not entries:
        return answer
    entry: dict[str, Any] = entries[0]
    answer["args"] = repr(entry.get("args"))
    answer["kwargs"] = repr(entry.get("kwargs"))
    answer["has_arguments"] = bool(entry.get("args")) or bool(entry.get("kwargs"))
    previous = datetime.datetime.fromisoformat(last_run)
    for moment in at:
        with freeze_time(datetime.datetime.fromisoformat(moment)):
            try:
                answer["due"].append(bool(entry["schedule"].is_due(previous).is_due))
            except Exception as exc:
                answer["due"].append(f"error: {type(exc).__name__}")
    return answer


async def adapter_log() -> dict[str, list[str]]:
    """What Django logs about middleware adapters while it builds each handler (DEBUG on)."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    found: dict[str, list[str]] = {}
    logger = logging.getLogger("django.request")
    for name, handler_class in (("ASGI", ASGIHandler), ("WSGI", WSGIHandler)):
        records: list[str] = []
        collect = _Collect(records)
        logger.addHandler(collect)
        level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            with override_settings(DEBUG=True):  # Django logs adapters only in DEBUG
                handler_class()
        except Exception as exc:
            records.append(f"building the handler failed: {_failure(exc)}")
        finally:
            logger.removeHandler(collect)
            logger.setLevel(level)
        found[name] = records
    return found


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage()[:500])


FACTS: dict[str, Callable[..., Awaitable[Any]]] = {
    "coroutine_function": coroutine_function,
    "call_view": call_view,
    "celery_tasks": celery_tasks,
    "beat_entries": beat_entries,
    "adapter_log": adapter_log,
}
