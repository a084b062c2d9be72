"""The load driver: N concurrent clients, each with its own connection, and their statistics.

Each client is a closed loop (send, wait for the answer, send the next) with
its own ``httpx.AsyncClient``: one client shared by hundreds of connections
costs the driver itself far more CPU per request, and the driver shares the
machine's cores with the server it measures. The clients are built before the
clock starts, all from one SSL context (``httpx`` would otherwise load the CA
bundle for each one, even for http://). The figures: ``bench/BENCHMARKS.md``.

Client starts are spread evenly over ``spread`` seconds: real users do not
arrive in the same microsecond, and 100 simultaneous arrivals measure the
accept burst rather than the steady state a user sees.

A run stops at ``deadline`` seconds: the requests still in flight then are
cancelled and counted as ``unfinished``; their waiting time so far enters the
percentiles as a lower bound (and the percentiles are then flagged as such).
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class LoadResult:
    """What one run of ``clients`` closed-loop clients measured."""

    clients: int
    planned: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    unfinished: list[float] = field(default_factory=list)
    spread: float = 0.0
    finished_at: list[float] = field(default_factory=list)  # seconds after the start
    first_client_done: float | None = None  # when the first client had sent all it had

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def overall_throughput(self) -> float:
        """Answered requests per second of the whole run, ramp-up and tail included."""
        return self.completed / self.elapsed if self.elapsed > 0 else math.nan

    @property
    def throughput(self) -> float:
        """Answered requests per second while every client was busy (the steady state).

        The window runs from the last client's start to the moment the first
        client got its last answer and went idle (or to the deadline). The
        ramp-up and the tail, when fewer clients are sending, would otherwise
        count against a server whose run ends early and not against one cut
        at the deadline. Under a second of steady state, the whole run is used.
        """
        end = self.first_client_done if self.first_client_done is not None else self.elapsed
        if end - self.spread < 1.0:
            return self.overall_throughput
        done = sum(1 for t in self.finished_at if self.spread <= t <= end)
        return done / (end - self.spread)

    def quantile(self, q: float) -> float:
        """Latency percentile over answered and (as lower bounds) unfinished requests."""
        return percentile(self.latencies + self.unfinished, q)

    @property
    def lower_bound(self) -> bool:
        """True when unfinished requests make the percentiles lower bounds."""
        return bool(self.unfinished)


async def drive(
    url: str,
    *,
    clients: int,
    requests_per_client: int,
    spread: float = 0.5,
    deadline: float = 20.0,
    timeout: float = 60.0,
) -> LoadResult:
    """Send ``requests_per_client`` GETs to ``url`` from each of ``clients`` clients."""
    context = ssl.create_default_context()
    pool = [
        httpx.AsyncClient(verify=context, timeout=timeout, limits=httpx.Limits(max_connections=1))
        for _ in range(clients)
    ]
    result = LoadResult(
        clients=clients, planned=clients * requests_per_client, elapsed=0.0, spread=spread
    )
    in_flight: dict[int, float] = {}
    start = time.perf_counter()

    async def client_loop(index: int, client: httpx.AsyncClient) -> None:
        await asyncio.sleep(spread * index / clients)
        for _ in range(requests_per_client):
            sent = time.perf_counter()
            in_flight[index] = sent
            try:
                response = await client.get(url)
            except httpx.HTTPError:
                result.transport_errors += 1
                continue
            finally:
                in_flight.pop(index, None)
            now = time.perf_counter()
            result.latencies.append(now - sent)
            result.finished_at.append(now - start)
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
        if result.first_client_done is None:  # from here on, fewer clients are sending
            result.first_client_done = time.perf_counter() - start

    try:
        tasks = [asyncio.create_task(client_loop(i, c)) for i, c in enumerate(pool)]
        _, pending = await asyncio.wait(tasks, timeout=deadline)
        stopped = time.perf_counter()
        result.unfinished = [stopped - sent for sent in in_flight.values()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        result.elapsed = stopped - start
    finally:
        await asyncio.gather(*(client.aclose() for client in pool), return_exceptions=True)
    return result
