"""The reference answers running for real, the way INSTRUCTIONS.md tells students to.

``migrate`` and ``load_demo_data`` into a SQLite file, then uvicorn
(``config.asgi:application``) and a Celery worker with beat
(``celery -A config worker -B``) as real processes sharing that file. The
daily statistics go the whole way: ``POST /api/stats/run/`` on uvicorn queues
the task on the broker, the worker runs it, the row lands in the database.
Twice: on the embedded filesystem broker (the default, no server) and on Redis
(a database number of its own, emptied before and after).

The aggregator's upstream is a tiny JSONPlaceholder stand-in on loopback.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import shelve
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.homework_project import (
    background,
    free_port,
    make_project,
    manage,
    project_env,
    tail,
    wait_for,
)
from tests.support.services import redis_database

pytestmark = pytest.mark.slow
TAIPEI = ZoneInfo("Asia/Taipei")
SERVER_TIMING = r"app;dur=\d+(\.\d+)?"


class FakeJSONPlaceholder(BaseHTTPRequestHandler):
    """``/users/1``, ``/posts?userId=1``, ``/todos?userId=1``; anything else 404."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        user_id = parse_qs(url.query).get("userId", [""])[0]
        body: Any = None
        if url.path == "/users/1":
            body = {"id": 1, "name": "Leanne Graham", "email": "Sincere@april.biz", "phone": "1"}
        elif url.path == "/posts" and user_id == "1":
            body = [{"userId": 1, "id": i, "title": f"post {i}"} for i in (2, 5, 1, 4, 3)]
        elif url.path == "/todos" and user_id == "1":
            body = [{"userId": 1, "id": i, "completed": i % 3 == 0} for i in range(1, 10)]
        data = json.dumps(body if body is not None else {}).encode()
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeJSONPlaceholder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with every reference answer, migrated, with the demo data loaded."""
    project = make_project(tmp_path_factory.mktemp("for-real") / "project")
    for command in (("migrate", "--no-input", "-v", "0"), ("load_demo_data",)):
        result = manage(project, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


@dataclass(frozen=True)
class Stack:
    """A running uvicorn and Celery worker."""

    base_url: str
    worker_log: Path
    web_log: Path


@contextmanager
def running(project: Path, upstream: str, broker_url: str | None) -> Iterator[Stack]:
    """uvicorn and ``celery -A config worker -B`` on one broker (None: the embedded one)."""
    extra = {"UPSTREAM_API_URL": upstream}
    if broker_url:
        extra["CELERY_BROKER_URL"] = broker_url
    env = project_env(**extra)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = project / "logs"
    logs.mkdir(exist_ok=True)
    worker_log, web_log = logs / f"worker-{port}.log", logs / f"uvicorn-{port}.log"
    worker_command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-B"]
    worker_command += ["-l", "info", "--concurrency", "1", "--without-gossip", "--without-mingle"]
    web_command = [sys.executable, "-m", "uvicorn", "config.asgi:application"]
    web_command += ["--host", "127.0.0.1", "--port", str(port)]
    with ExitStack() as stack:
        worker = stack.enter_context(
            background(worker_command, cwd=project, env=env, log=worker_log)
        )
        web = stack.enter_context(background(web_command, cwd=project, env=env, log=web_log))

        def up() -> bool | None:
            for process, log in ((worker, worker_log), (web, web_log)):
                assert process.poll() is None, f"{process.args} exited:\n{tail(log)}"
            try:
                httpx.get(f"{base_url}/no-such-page/", timeout=1, trust_env=False)
            except httpx.TransportError:
                return None
            return True if " ready." in worker_log.read_text(errors="replace") else None

        try:
            wait_for(up, timeout=60, what="uvicorn and the Celery worker to start")
            yield Stack(base_url, worker_log, web_log)
        except BaseException:
            print(f"--- worker log\n{tail(worker_log)}\n--- uvicorn log\n{tail(web_log)}")
            raise


def local_day(stored: str | None) -> datetime.date | None:
    """The Taipei calendar day of a datetime as Django stores it in SQLite (UTC text)."""
    if stored is None:
        return None
    moment = datetime.datetime.fromisoformat(stored).replace(tzinfo=datetime.UTC)
    return moment.astimezone(TAIPEI).date()


def query(project: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(project / "db.sqlite3", timeout=10) as db:
        return db.execute(sql, params).fetchall()


def expected_stats(project: Path, day: datetime.date) -> dict[str, Any]:
    """Count the day's tasks independently of the homework: per local calendar day."""
    rows = query(project, "SELECT created_at, completed_at FROM homework_task")
    return {
        "date": day.isoformat(),
        "created": sum(local_day(created) == day for created, _ in rows),
        "completed": sum(local_day(completed) == day for _, completed in rows),
    }


def stats_through_the_worker(project: Path, base_url: str, day: datetime.date) -> None:
    """Queue the day's statistics through the given view; the worker must save them."""
    query(project, "DELETE FROM homework_dailystats WHERE date = ?", day.isoformat())
    expected = expected_stats(project, day)
    assert expected["created"] > 0 and expected["completed"] > 0, "the demo data is too thin"

    response = httpx.post(
        f"{base_url}/api/stats/run/", json={"date": day.isoformat()}, trust_env=False, timeout=10
    )
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]

    def saved() -> list[tuple[Any, ...]] | None:
        rows = query(
            project,
            "SELECT created, completed FROM homework_dailystats WHERE date = ?",
            day.isoformat(),
        )
        return rows or None

    rows = wait_for(saved, timeout=30, what=f"the worker to save the statistics of {day}")
    assert rows == [(expected["created"], expected["completed"])]
    # The worker also stored the task's return value in the (file) result backend.
    result_file = project / ".celery" / "results" / f"celery-task-meta-{task_id}"
    wait_for(lambda: result_file.exists() or None, timeout=10, what="the task's result")
    meta = json.loads(result_file.read_text())
    assert meta["status"] == "SUCCESS" and meta["result"] == expected, meta


def test_the_web_views_over_uvicorn_and_the_task_on_the_embedded_broker(
    project: Path, upstream: str
) -> None:
    yesterday = datetime.datetime.now(TAIPEI).date() - datetime.timedelta(days=1)
    with running(project, upstream, broker_url=None) as stack:
        base_url = stack.base_url
        with httpx.Client(base_url=base_url, trust_env=False, timeout=15) as client:
            # Part 1: the async view, five requests at once, each waiting 1 s.
            async def five_at_once() -> list[httpx.Response]:
                async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=15) as ac:
                    return await asyncio.gather(*(ac.get("/async/") for _ in range(5)))

            started = time.monotonic()
            answers = asyncio.run(five_at_once())
            elapsed = time.monotonic() - started
            assert [a.status_code for a in answers] == [200] * 5
            assert answers[0].json() == {"message": "This is an async view!"}
            # One at a time would take at least 5 s: the loop served them together.
            assert 1.0 <= elapsed < 4.0, f"five 1-second async requests took {elapsed:.1f} s"

            # Part 2: the aggregator against the local upstream.
            dashboard = client.get("/api/users/1/dashboard/")
            assert dashboard.status_code == 200, dashboard.text
            assert dashboard.json() == {
                "user": {"id": 1, "name": "Leanne Graham", "email": "Sincere@april.biz"},
                "posts": {"count": 5, "latest": ["post 5", "post 4", "post 3"]},
                "todos": {"total": 9, "completed": 3},
                "errors": {},
            }
            assert client.get("/api/users/2/dashboard/").status_code == 404

            # Part 3: the ORM view lists the demo data, newest first, and creates.
            listed = client.get("/api/tasks/")
            assert listed.status_code == 200, listed.text
            (count,) = query(project, "SELECT COUNT(*) FROM homework_task")[0]
            assert listed.json()["count"] == count > 0
            created_at = [t["created_at"] for t in listed.json()["tasks"]]
            instants = [datetime.datetime.fromisoformat(c) for c in created_at]
            assert instants == sorted(instants, reverse=True)
            (done,) = query(project, "SELECT COUNT(*) FROM homework_task WHERE done")[0]
            assert client.get("/api/tasks/", params={"done": "true"}).json()["count"] == done
            posted = client.post("/api/tasks/", json={"title": "  for real  "})
            assert posted.status_code == 201 and posted.json()["title"] == "for real"

            # Part 5: the middleware timed every response.
            for response in (*answers, dashboard, listed, posted):
                assert response.headers["Server-Timing"], response.headers
            assert client.get("/async/").headers["Server-Timing"].startswith("app;dur=")

            # Part 4: the task through the embedded broker and a real worker.
            stats_through_the_worker(project, base_url, yesterday)
        assert "Connected to filesystem://" in stack.worker_log.read_text(errors="replace")

    # Beat loaded the homework's schedule (config/celery.py reads it lazily).
    with shelve.open(str(project / ".celery" / "celerybeat-schedule"), flag="r") as beat:
        entries = beat["entries"]
    assert entries["compute-daily-stats"].task == "homework.tasks.compute_daily_stats"


@pytest.mark.services
def test_the_task_through_a_real_worker_on_redis(project: Path, upstream: str) -> None:
    day = datetime.datetime.now(TAIPEI).date() - datetime.timedelta(days=2)
    with redis_database() as broker_url, running(project, upstream, broker_url) as stack:
        stats_through_the_worker(project, stack.base_url, day)
        log = stack.worker_log.read_text(errors="replace")
        assert "Connected to redis://" in log and "127.0.0.1:6379/13" in log, log[-3000:]
