"""The lesson under load: the async views on one uvicorn worker, against the alternatives.

Scenarios (each repeated ``runs`` times, interleaved so that the machine's
noise hits every scenario alike; medians are reported):

* ``reference`` on uvicorn (one worker, one process): ``/api/users/1/dashboard/``
  and ``/async/``;
* ``sequential`` on uvicorn: the dashboard with the three upstream calls
  awaited one after another (see ``project.sequential_aggregator``);
* ``reference`` on gunicorn with 2 sync workers (WSGI): the same views, which
  Django then runs through ``async_to_sync``, one request per worker at a time;
* ``submission`` on uvicorn, when a submission is given.

The dashboard calls a local fake upstream (``fake_upstream``) answering after
``upstream_latency``; ``/async/`` sleeps ``ASYNC_DEMO_DELAY``. Each figure is
also given as a ratio to that ideal (the time the view would take with no
overhead and no queueing).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import project
from bench.fake_upstream import LATENCY_ENV, READY_PATH
from bench.load import LoadResult, drive
from bench.procs import (
    STARTUP_TIMEOUT,
    Server,
    ServerError,
    free_port,
    launch,
    serve,
    stop_group,
    wait_ready,
)

ENDPOINTS = {"dashboard": "/api/users/1/dashboard/", "async": "/async/"}
READY = "/bench-ready/"  # any answer (a 404) means Django is up
SYNC_WORKERS = 2  # gunicorn's sync workers: the comparison a user would otherwise pick


@dataclass(frozen=True)
class LessonConfig:
    """How hard and how long to push; ``quick()`` is the smoke-test size."""

    upstream_latency: float = 0.2
    clients: tuple[int, ...] = (10, 100)
    runs: int = 3
    spread: float = 0.5
    deadline: float = 12.0
    # requests each client sends, per endpoint, at (few clients, many clients)
    dashboard_requests: tuple[int, int] = (15, 4)
    async_requests: tuple[int, int] = (3, 2)
    with_gunicorn: bool = True

    @classmethod
    def quick(cls) -> LessonConfig:
        return cls(
            clients=(2,),
            runs=1,
            spread=0.05,
            deadline=5.0,
            dashboard_requests=(2, 2),
            async_requests=(1, 1),
        )

    def requests_per_client(self, endpoint: str, clients: int) -> int:
        few, many = self.dashboard_requests if endpoint == "dashboard" else self.async_requests
        return few if clients <= min(self.clients) else many


@dataclass(frozen=True)
class Scenario:
    code: str  # reference / sequential / submission
    server: str  # uvicorn / gunicorn
    endpoint: str  # dashboard / async
    clients: int

    @property
    def id(self) -> str:
        return f"{self.code}/{self.server}/{self.endpoint}/{self.clients}"


@dataclass
class Measured:
    """One scenario's runs and their medians."""

    scenario: Scenario
    ideal: float
    runs: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, load: LoadResult, server_cpu: float, upstream_cpu: float, driver_cpu: float
    ) -> None:
        """Record one run; CPU seconds of the server, the fake upstream and the load driver."""
        answered = max(load.completed, 1)
        self.runs.append(
            {
                "p50_s": load.quantile(50),
                "p95_s": load.quantile(95),
                "rps": load.throughput,
                "rps_overall": load.overall_throughput,
                "planned": load.planned,
                "completed": load.completed,
                "ok": load.ok,
                "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
                "transport_errors": load.transport_errors,
                "unfinished": len(load.unfinished),
                "elapsed_s": load.elapsed,
                "server_cpu_ms_per_request": 1000 * server_cpu / answered,
                "upstream_cpu_ms_per_request": 1000 * upstream_cpu / answered,
                "driver_cpu_ms_per_request": 1000 * driver_cpu / answered,
            }
        )

    def median(self, key: str) -> float:
        return float(statistics.median(float(run[key]) for run in self.runs))

    def to_dict(self) -> dict[str, Any]:
        p50, p95 = self.median("p50_s"), self.median("p95_s")
        return {
            "id": self.scenario.id,
            **asdict(self.scenario),
            "ideal_s": self.ideal,
            "p50_s": p50,
            "p95_s": p95,
            "p50_ratio": p50 / self.ideal,
            "p95_ratio": p95 / self.ideal,
            "rps": self.median("rps"),
            "rps_overall": self.median("rps_overall"),
            "server_cpu_ms_per_request": self.median("server_cpu_ms_per_request"),
            "upstream_cpu_ms_per_request": self.median("upstream_cpu_ms_per_request"),
            "driver_cpu_ms_per_request": self.median("driver_cpu_ms_per_request"),
            "non_2xx": sum(run["completed"] - run["ok"] for run in self.runs),
            "transport_errors": sum(run["transport_errors"] for run in self.runs),
            "unfinished": sum(run["unfinished"] for run in self.runs),
            "lower_bound": any(run["unfinished"] for run in self.runs),
            "runs": self.runs,
        }


def uvicorn_argv(port: int, app: str, lifespan: str = "off") -> list[str]:
    """One uvicorn process (no --workers: the single-process server). Django has no lifespan."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--lifespan",
        lifespan,
    ]


def gunicorn_argv(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(SYNC_WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]


@contextlib.contextmanager
def upstream(latency: float, workdir: Path) -> Iterator[Server]:
    """The fake JSONPlaceholder on a free port (its own uvicorn process)."""
    port = free_port()
    env = project.django_env(workdir, **{LATENCY_ENV: str(latency)})
    env["PYTHONPATH"] = str(project.REPO_ROOT)
    with serve(
        "fake upstream",
        uvicorn_argv(port, "bench.fake_upstream:app", "on"),
        cwd=project.REPO_ROOT,
        env=env,
        port=port,
        log_path=workdir / "upstream.log",
        ready_path=READY_PATH,
    ) as server:
        yield server


class Restartable:
    """A Django server (uvicorn or gunicorn) that can be stopped and started afresh.

    Construction only launches the process (so several servers start at once);
    ``wait()`` waits until it answers. ``warm()`` requests each of ``paths``
    once: the first request imports the answer module (``homework/answers.py``
    imports lazily), which must not be timed; what each answered is kept as
    the probe shown in the report.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        path: Path,
        env: dict[str, str],
        log_path: Path,
        paths: list[str],
    ) -> None:
        self.name, self.kind, self.path, self.env = name, kind, path, env
        self.log_path, self.paths = log_path, paths
        self._stack = contextlib.ExitStack()
        self.server = self._launch()

    def _launch(self) -> Server:
        port = free_port()
        argv = (
            uvicorn_argv(port, "config.asgi:application")
            if self.kind == "uvicorn"
            else gunicorn_argv(port)
        )
        server = launch(
            self.name, argv, cwd=self.path, env=self.env, port=port, log_path=self.log_path
        )
        self._stack.callback(stop_group, server.process)
        return server

    def wait(self) -> None:
        wait_ready(self.server, READY, STARTUP_TIMEOUT)

    def warm(self) -> dict[str, tuple[int, str]]:
        """Probe each path from as many clients at once as the server has workers.

        gunicorn hands concurrent requests to different workers, and each
        worker imports the answer module on its own first request.
        """
        workers = SYNC_WORKERS if self.kind == "gunicorn" else 1
        answers = {}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for path in self.paths:
                first, *_ = pool.map(probe, [self.server] * workers, [path] * workers)
                answers[path] = first
        return answers

    def restart(self) -> None:
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self.server = self._launch()
        self.wait()
        self.warm()

    def __enter__(self) -> Restartable:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def probe(server: Server, path: str) -> tuple[int, str]:
    """One request before measuring: imports the answer module, and shows it works."""
    try:
        response = httpx.get(server.base_url + path, timeout=30.0)
    except httpx.HTTPError as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    return response.status_code, response.text[:300]


Answers = tuple[dict[str, bytes], dict[str, str]]  # answer files (bytes), then text overrides


def run_lesson(
    config: LessonConfig,
    submission: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build the projects, start the servers, drive every scenario; the JSON-ready figures."""
    ideal = {"dashboard": config.upstream_latency, "async": project.async_demo_delay()}
    codes, sources = lesson_codes(submission)
    with (
        tempfile.TemporaryDirectory(prefix="bench-lesson-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        projects = build_projects(codes, work, log)
        fake = stack.enter_context(upstream(config.upstream_latency, work))
        servers = launch_servers(projects, config, fake, work, stack)
        log(f"starting {len(servers)} servers: " + ", ".join(s.name for s in servers.values()))
        probes, plan = ready_and_probe(servers, config)
        measured = {s.id: Measured(s, ideal[s.endpoint]) for s in plan}
        for run in range(config.runs):
            for scenario in plan:
                log(f"run {run + 1}/{config.runs}: {scenario.id}")
                measure_once(
                    measured[scenario.id], servers[scenario.code, scenario.server], fake, config
                )

    return {
        "config": {
            **asdict(config),
            "server": "uvicorn, one process, asyncio loop, h11",
            "sync_server": "gunicorn --workers 2 --worker-class sync",
        },
        "ideal_s": ideal,
        "sources": sources,
        "probes": probes,
        "scenarios": compare_to_reference([m.to_dict() for m in measured.values()]),
    }


def lesson_codes(submission: Path | None) -> tuple[dict[str, Answers], dict[str, str]]:
    """The projects compared (code -> its answers) and where each one's answers came from.

    The sequential project is the reference with only its aggregator replaced,
    so the difference measured against the reference is the awaits alone.
    """
    reference_files = project.submission_files(project.REFERENCE)
    sequential_text, sequential_source = project.sequential_aggregator()
    codes: dict[str, Answers] = {
        "reference": (reference_files, {}),
        "sequential": (reference_files, {project.AGGREGATOR: sequential_text}),
    }
    sources = {
        "reference": str(project.REFERENCE.relative_to(project.REPO_ROOT)),
        "sequential": sequential_source.origin,
    }
    if submission is not None:
        codes["submission"] = (project.submission_files(submission), {})
        sources["submission"] = str(submission)
    return codes, sources


def build_projects(
    codes: dict[str, Answers], work: Path, log: Callable[[str], None]
) -> dict[str, Path]:
    """One runnable project per code under ``work``, sharing one migration.

    Migrating takes seconds and the schema is the same for every code, so the
    reference's migrated database file is copied to the others.
    """
    projects: dict[str, Path] = {}
    for code, (files, overrides) in codes.items():
        projects[code] = project.assemble(work / code, files, overrides)
    log("migrating the SQLite database")
    project.migrate(projects["reference"])
    for code, path in projects.items():
        if code != "reference":
            project.copy_database(projects["reference"], path)
    return projects


def endpoints_of(code: str) -> list[str]:
    """The endpoints driven for a code: the sequential variant changes only the dashboard."""
    return ["dashboard"] if code == "sequential" else list(ENDPOINTS)


def launch_servers(
    projects: dict[str, Path],
    config: LessonConfig,
    fake: Server,
    work: Path,
    stack: contextlib.ExitStack,
) -> dict[tuple[str, str], Restartable]:
    """Launch every server at once (without waiting), each stopped when ``stack`` closes.

    Starting them together overlaps their start-up times; only the reference
    also runs on gunicorn, the sync comparison.
    """
    servers: dict[tuple[str, str], Restartable] = {}
    for code, path in projects.items():
        env = project.django_env(path, UPSTREAM_API_URL=fake.base_url)
        kinds = (
            ["uvicorn", "gunicorn"] if code == "reference" and config.with_gunicorn else ["uvicorn"]
        )
        for kind in kinds:
            servers[code, kind] = stack.enter_context(
                Restartable(
                    f"{kind} ({code})",
                    kind,
                    path,
                    env,
                    work / f"{code}-{kind}.log",
                    [ENDPOINTS[e] for e in endpoints_of(code)],
                )
            )
    return servers


def ready_and_probe(
    servers: dict[tuple[str, str], Restartable], config: LessonConfig
) -> tuple[dict[str, dict[str, Any]], list[Scenario]]:
    """Wait for each server and warm it up: what each endpoint first answered, and the plan.

    Only an endpoint whose first answer is a 200 is planned for timing: timing a
    failing view would measure its error page, not the lesson.
    """
    probes: dict[str, dict[str, Any]] = {}
    plan: list[Scenario] = []
    for (code, kind), slot in list(servers.items()):
        endpoints = endpoints_of(code)
        try:
            slot.wait()
        except ServerError as exc:
            if code != "submission":
                raise
            # A student's project that cannot start (a broken middleware, say)
            # is a result to show, not a crash of the benchmark.
            for endpoint in endpoints:
                probes[f"{code}/{kind}/{endpoint}"] = {"status": 0, "body": str(exc)}
            continue
        for endpoint, (status, body) in zip(endpoints, slot.warm().values(), strict=True):
            probes[f"{code}/{kind}/{endpoint}"] = {"status": status, "body": body}
            if status == 200:  # a view that fails its first request is not timed
                plan += [Scenario(code, kind, endpoint, n) for n in config.clients]
    return probes, plan


def measure_once(measured: Measured, slot: Restartable, fake: Server, config: LessonConfig) -> None:
    """Drive one run of a scenario and record its latencies and everyone's CPU time.

    The CPU of the server, the fake upstream and the load driver are each
    counted, so a slow figure can be traced to the side that spent it.
    """
    scenario = measured.scenario
    server = slot.server
    before, up_before = server.cpu_seconds(), fake.cpu_seconds()
    driver_before = time.process_time()
    load = asyncio.run(
        drive(
            server.base_url + ENDPOINTS[scenario.endpoint],
            clients=scenario.clients,
            requests_per_client=config.requests_per_client(scenario.endpoint, scenario.clients),
            spread=config.spread,
            deadline=config.deadline,
        )
    )
    measured.add(
        load,
        server.cpu_seconds() - before,
        fake.cpu_seconds() - up_before,
        time.process_time() - driver_before,
    )
    if load.unfinished:
        # Requests cut at the deadline are still queued in the server (a sync
        # worker finishes a request whose client left): the next scenario
        # would wait behind them. A fresh server starts clean.
        slot.restart()


def compare_to_reference(scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each submission scenario its p50 and throughput as multiples of the reference's."""
    reference = {
        (s["server"], s["endpoint"], s["clients"]): s for s in scenarios if s["code"] == "reference"
    }
    for scenario in scenarios:
        twin = reference.get((scenario["server"], scenario["endpoint"], scenario["clients"]))
        if scenario["code"] == "submission" and twin is not None:
            scenario["p50_vs_reference"] = scenario["p50_s"] / twin["p50_s"]
            scenario["rps_vs_reference"] = scenario["rps"] / twin["rps"] if twin["rps"] else None
    return scenarios
