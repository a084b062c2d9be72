"""Try every part of the homework once; print one JSON verdict per part.

Not a test module: ``tests/homework/test_homework_isolation.py`` copies this script into
a copy of the project (cwd) with a migrated ``db.sqlite3`` and runs it there,
in a process of its own, because Django settings are process-global.

Each check uses the project the way a user would (HTTP requests through
Django's whole handler and middleware, the Celery task through ``.delay()``,
the beat schedule through the Celery app) and either passes or says why not.
Output: ``{"async_view": "ok", "aggregator": "RuntimeError: ...", ...}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, os.getcwd())

import django

django.setup()

import respx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import AsyncClient, override_settings  # noqa: E402

if TYPE_CHECKING:
    # What django-stubs says AsyncClient's requests return: an HttpResponse with .json().
    from django.test.client import _MonkeyPatchedASGIResponse as Response


def request(method: str, path: str, **kwargs: Any) -> Response:
    """One request through the whole ASGI handler (500 on a view's exception)."""
    client = AsyncClient(raise_request_exception=False)
    response: Response = asyncio.run(getattr(client, method)(path, **kwargs))
    return response


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def check_async_view() -> None:
    with override_settings(ASYNC_DEMO_DELAY=0.01):
        response = request("get", "/async/")
    expect(response.status_code == 200, f"GET /async/ answered {response.status_code}")
    expect(response.json() == {"message": "This is an async view!"}, "wrong body")


def check_aggregator() -> None:
    base = settings.UPSTREAM_API_URL
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{base}/users/1").respond(
            json={"id": 1, "name": "Ada", "email": "ada@example.org", "phone": "x"}
        )
        mock.get(f"{base}/posts", params={"userId": "1"}).respond(
            json=[{"id": i, "title": f"post {i}"} for i in range(1, 5)]
        )
        mock.get(f"{base}/todos", params={"userId": "1"}).respond(
            json=[{"id": 1, "completed": True}, {"id": 2, "completed": False}]
        )
        response = request("get", "/api/users/1/dashboard/")
    expect(response.status_code == 200, f"dashboard answered {response.status_code}")
    expected = {
        "user": {"id": 1, "name": "Ada", "email": "ada@example.org"},
        "posts": {"count": 4, "latest": ["post 4", "post 3", "post 2"]},
        "todos": {"total": 2, "completed": 1},
        "errors": {},
    }
    expect(response.json() == expected, f"dashboard body {response.json()}")


def check_orm_threadpool() -> None:
    created = request(
        "post", "/api/tasks/", data={"title": "  isolation  "}, content_type="application/json"
    )
    expect(created.status_code == 201, f"POST /api/tasks/ answered {created.status_code}")
    listed = request("get", "/api/tasks/")
    expect(listed.status_code == 200, f"GET /api/tasks/ answered {listed.status_code}")
    titles = [task["title"] for task in listed.json()["tasks"]]
    expect("isolation" in titles, f"the created task is not listed: {titles}")


def celery_app() -> Any:
    from config.celery import app

    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    return app


def check_daily_stats() -> None:
    """The task (registered, through .delay) and the beat schedule: no HTTP involved."""
    from celery.schedules import crontab

    app = celery_app()
    from homework.tasks import compute_daily_stats

    expect("homework.tasks.compute_daily_stats" in app.tasks, "task not registered")
    result = compute_daily_stats.delay("2025-01-02").get()
    expected = {"date": "2025-01-02", "created": 0, "completed": 0}
    expect(result == expected, f"task returned {result!r}")
    entries = [
        entry
        for entry in app.conf.beat_schedule.values()
        if entry.get("task") == "homework.tasks.compute_daily_stats"
    ]
    expect(len(entries) == 1, f"beat schedule {app.conf.beat_schedule!r}")
    expect(isinstance(entries[0]["schedule"], crontab), "the schedule is not a crontab")


def check_stats_route() -> None:
    """The given view POST /api/stats/run/, which queues the task (run eagerly here)."""
    celery_app()
    response = request(
        "post", "/api/stats/run/", data={"date": "2025-01-03"}, content_type="application/json"
    )
    expect(response.status_code == 202, f"POST /api/stats/run/ answered {response.status_code}")
    from homework.models import DailyStats

    expect(DailyStats.objects.filter(date="2025-01-03").exists(), "no statistics saved")


def check_middleware() -> None:
    """The header is on every response, a 404 from no answer file included."""
    response = request("get", "/no-such-page/")
    expect(response.status_code == 404, f"GET /no-such-page/ answered {response.status_code}")
    header = response.headers.get("Server-Timing", "")
    expect(bool(re.fullmatch(r"app;dur=\d+(\.\d+)?", header)), f"Server-Timing {header!r}")


CHECKS: dict[str, Callable[[], None]] = {
    "async_view": check_async_view,
    "aggregator": check_aggregator,
    "orm_threadpool": check_orm_threadpool,
    "daily_stats": check_daily_stats,
    "stats_route": check_stats_route,
    "middleware": check_middleware,
}


def main() -> None:
    verdicts = {}
    for name, check in CHECKS.items():
        try:
            check()
        except BaseException as exc:  # a broken answer file may raise anything
            verdicts[name] = f"{type(exc).__name__}: {exc}"[:300]
        else:
            verdicts[name] = "ok"
    print(json.dumps(verdicts))


if __name__ == "__main__":
    main()
