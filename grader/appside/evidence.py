"""Evidence that exists only inside the app: the event loop's heartbeat, the SQL queries
and the threads they ran on, the line of the answer file that was running.

The trusted side asks for it (``watch.start`` / ``watch.stop``) and treats it
as what it is, a report from the process being graded: every test that rests
on it carries the ``in_app_evidence`` marker, and the reports count its points.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from grader.appside.diagnose import STUDENT_PACKAGE, relative, student_dir

_PACKAGE_INIT = f"{STUDENT_PACKAGE}/__init__.py"


def student_site(module: str | None = None) -> str:
    """``homework/x.py:12``: the outermost line of an answer file on the caller's stack
    (of ``module`` only, when given), or ``""``."""
    folder = student_dir()
    if folder is None:
        return ""
    wanted = None
    if module:
        wanted = Path(*module.split(".")).with_suffix(".py").as_posix()
    frame: FrameType | None = sys._getframe(1)
    found = ""
    while frame is not None:
        rel = relative(frame.f_code.co_filename, folder)
        if rel and rel != _PACKAGE_INIT and (wanted is None or rel == wanted):
            found = f"{rel}:{frame.f_lineno}"
        frame = frame.f_back
    return found


def call_site() -> str:
    """``homework/x.py:12``: where the caller's stack entered the answer file running
    innermost (the outermost line of that file), or ``""``. For an upstream call that is
    the line of the view that awaited it, not the scaffold's router or a middleware
    around the view."""
    folder = student_dir()
    if folder is None:
        return ""
    frame: FrameType | None = sys._getframe(1)
    wanted = found = ""
    while frame is not None:
        rel = relative(frame.f_code.co_filename, folder)
        if rel and rel != _PACKAGE_INIT and rel == (wanted or rel):
            wanted, found = rel, f"{rel}:{frame.f_lineno}"
        frame = frame.f_back
    return found


@dataclass
class Watch:
    """One watch: a heartbeat on the loop and/or a hook on every SQL query."""

    period: float | None = None
    query_delay: float | None = None
    site_module: str | None = None
    max_gap: float = 0.0
    ticks: int = 0
    loop_thread: int = 0
    statements: list[str] = field(default_factory=list)
    threads: set[int] = field(default_factory=set)
    sites: set[tuple[int, str]] = field(default_factory=set)
    _task: asyncio.Task[None] | None = None
    _original: Any = None

    async def start(self) -> None:
        self.loop_thread = threading.get_ident()
        if self.query_delay is not None:
            self._hook_queries()
        if self.period:
            self._task = asyncio.create_task(self._beat(self.period))
            await asyncio.sleep(self.period * 2)  # let it start ticking

    async def stop(self) -> dict[str, Any]:
        if self._task is not None and self.period:
            await asyncio.sleep(self.period * 2)  # a last tick after the work
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.unhook()
        return {
            "max_gap": self.max_gap,
            "ticks": self.ticks,
            "loop_thread": self.loop_thread,
            "query_count": len(self.statements),
            "query_threads": sorted(self.threads),
            "queries_on_loop": sorted(
                {site for ident, site in self.sites if ident == self.loop_thread and site}
            ),
        }

    async def _beat(self, period: float) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(period)
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - last)
            self.ticks += 1
            last = now

    def _hook_queries(self) -> None:
        from django.db.backends.utils import CursorWrapper

        original = CursorWrapper._execute_with_wrappers  # type: ignore[attr-defined]
        watch = self
        delay = self.query_delay or 0.0

        def execute(cursor: Any, sql: str, params: Any, many: bool, executor: Any) -> Any:
            ident = threading.get_ident()
            watch.statements.append(sql)
            watch.threads.add(ident)
            watch.sites.add((ident, student_site(watch.site_module)))
            if delay:
                time.sleep(delay)
            return original(cursor, sql, params, many, executor)

        self._original = original
        CursorWrapper._execute_with_wrappers = execute  # type: ignore[attr-defined]

    def unhook(self) -> None:
        if self._original is not None:
            from django.db.backends.utils import CursorWrapper

            CursorWrapper._execute_with_wrappers = self._original  # type: ignore[attr-defined]
            self._original = None
