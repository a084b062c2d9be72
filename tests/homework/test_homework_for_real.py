"""The reference answers running for real, the way INSTRUCTIONS.md tells students to.

``migrate`` and ``load_demo_data`` into a SQLite file, then uvicorn
(``config.asgi:application``) and a Celery worker with beat
(``celery -A config worker -B``) as real processes sharing that file. The
daily statistics go the whole way: ``POST /api/stats/run/`` on uvicorn queues
the task on the broker, the worker runs it, the row lands in the database.
Twice: on the embedded filesystem broker (the default, no server) and on Redis
(a database number of its own, emptied before and after).

The aggregator's upstream is the benchmark's JSONPlaceholder stand-in on loopback
(``bench.fake_upstream``, without its latency).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import shelve
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import fake_upstream, procs
from tests.support import ROOT
from tests.support.homework_project import (
    TAIPEI,
    local_day,
    make_project,
    manage,
    project_env,
    tail,
    wait_for,
)
from tests.support.services import redis_database

pytestmark = pytest.mark.slow
STOP_GRACE = 10.0  # seconds a Celery worker gets to shut down warmly
SERVER_TIMING = r"app;dur=\d+(\.\d+)?"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The benchmark's JSONPlaceholder stand-in (``bench.fake_upstream``), answering at once."""
    port = procs.free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.fake_upstream:app", "--port", str(port)]
    argv += ["--host", "127.0.0.1", "--no-access-log", "--lifespan", "on"]
    with procs.serve(
        "fake upstream",
        argv,
        cwd=ROOT,
        env={**project_env(), fake_upstream.LATENCY_ENV: "0"},
        port=port,
        log_path=tmp_path_factory.mktemp("upstream") / "upstream.log",
        ready_path=fake_upstream.READY_PATH,
    ) as server:
        yield server.base_url


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
    port = procs.free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = project / "logs"
    logs.mkdir(exist_ok=True)
    worker_log, web_log = logs / f"worker-{port}.log", logs / f"uvicorn-{port}.log"
    worker_command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-B"]
    worker_command += ["-l", "info", "--concurrency", "1", "--without-gossip", "--without-mingle"]
    web_command = [sys.executable, "-m", "uvicorn", "config.asgi:application"]
    web_command += ["--host", "127.0.0.1", "--port", str(port)]
    with ExitStack() as stack:
        # Each in its own process group, stopped (the worker warmly: SIGTERM, then up to
        # STOP_GRACE s before SIGKILL) when the block ends, whatever happened.
        worker = procs.launch(
            "celery worker", worker_command, cwd=project, env=env, port=0, log_path=worker_log
        )
        stack.callback(procs.stop_group, worker.process, STOP_GRACE)
        web = procs.launch(
            "uvicorn", web_command, cwd=project, env=env, port=port, log_path=web_log
        )
        stack.callback(procs.stop_group, web.process, STOP_GRACE)

        def up() -> bool | None:
            for server in (worker, web):
                assert server.process.poll() is None, (
                    f"{server.name} exited:\n{tail(server.log_path)}"
                )
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
                "user": {"id": 1, "name": "User 1", "email": "user1@example.com"},
                "posts": {"count": 10, "latest": ["post 10", "post 9", "post 8"]},
                "todos": {"total": 20, "completed": 11},
                "errors": {},
            }
            unknown = max(fake_upstream.USER_IDS) + 1
            assert client.get(f"/api/users/{unknown}/dashboard/").status_code == 404

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
