"""The grader's pytest plugin: ``points`` markers in, one JSON line per test out.

Loaded explicitly (``-p grader.judge.plugin``) in every grading process. It

* registers the ``points(n)`` marker every grading test carries;
* reports the collected tests with their points once collection is done, so
  the grader knows which tests never finished if the process dies;
* reports each test as it finishes: status, points, a message for the
  student, duration and line number;
* ends the process with ``os._exit`` when stray non-daemon threads (a hung
  ``sync_to_async`` call, say) would otherwise keep it alive after the
  session.

Messages never quote test source: an ``AssertionError`` gives its own text
(grading tests run with ``--assert=plain`` and write their messages with
``grader.messages.feedback``); any other exception gives ``Type: message`` and, when
the traceback passes through the student's ``homework/`` files, where.

Without the grader's channel (an author running the suites by hand) only the
marker is registered.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from grader.judge.channel import MAX_MESSAGE, ChannelWriter
from grader.judge.client import AppError
from grader.judge.fixtures import IN_APP_MARKER
from grader.judge.guard import Guard, changed_files
from grader.judge.records import (
    Collected,
    CollectedTest,
    CollectError,
    Finish,
    GradingDigests,
    Record,
    Result,
    Start,
    Tampered,
)
from grader.messages.feedback import did_not_finish
from grader.messages.hints import TRAPS, exception_hint, relative
from grader.model.results import Status
from grader.model.rubric import TESTS_DIR

MARKER = "points"
WATCHDOG_EXIT = 75
# pytest-timeout's alarm covers set-up, call and clean-up together: a test still
# running this long after its limit cannot be stopped from inside.
WATCHDOG_GRACE = 5.0
_PHASES = ("setup", "call", "teardown")
TAMPERED = (
    "Your code changed the test framework, the grader or the grading tests while they ran "
    "({what}): this test cannot count. Your instructor is told; remove that code."
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, and the reporter when the grader is listening."""
    config.addinivalue_line(
        "markers", f"{MARKER}(n): the points this grading test is worth (a number, may be 2.5)"
    )
    writer = ChannelWriter.from_environment()
    if writer is not None:
        config.pluginmanager.register(Reporter(writer, config.rootpath), "grader-reporter")


class ChannelPlugin:
    """Registers the reporter for a channel taken before pytest started.

    ``grader.host.launch`` takes the channel (and its key) out of the environment
    before importing pytest, so no student code ever sees it, and hands it
    to pytest as this plugin object.
    """

    def __init__(self, writer: ChannelWriter) -> None:
        self._writer = writer

    def pytest_configure(self, config: pytest.Config) -> None:
        """Start reporting (the rootdir is known only now)."""
        config.pluginmanager.register(Reporter(self._writer, config.rootpath), "grader-reporter")


def marker_points(item: pytest.Item) -> tuple[float | None, str]:
    """The item's points and, when they are missing or unusable, why."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None, "has no @pytest.mark.points(n) marker"
    value = marker.args[0] if marker.args else marker.kwargs.get("n")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"has @pytest.mark.points({value!r}): not a number"
    if not math.isfinite(value) or value < 0:
        return None, f"has @pytest.mark.points({value!r}): not a finite number >= 0"
    return float(value), ""


@dataclass
class _Alarm:
    """pytest-timeout's alarm for one test: its limit, and the exception it raised, if any."""

    timeout: float
    raised: BaseException | None = None


_ALARM = pytest.StashKey[_Alarm]()


def _mark_alarm(alarm: _Alarm) -> None:
    """Wrap the SIGALRM handler pytest-timeout has just installed, so that the exception
    it raises is known by identity: a timeout is recognised by what happened, not by
    matching the text of its message (which any ``pytest.fail`` could imitate)."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        return  # pytest-timeout then uses its thread method instead
    handler = signal.getsignal(signal.SIGALRM)
    if not callable(handler):
        return

    def marked(signum: int, frame: FrameType | None) -> None:
        try:
            handler(signum, frame)
        except BaseException as exc:
            alarm.raised = exc
            raise

    signal.signal(signal.SIGALRM, marked)


class Reporter:
    """Streams the session to the grader, one record per line."""

    def __init__(self, writer: ChannelWriter, rootpath: Path) -> None:
        self._writer = writer
        self._student_dir = str(rootpath.resolve() / "homework") + os.sep
        self._phases: dict[str, dict[str, tuple[Status, str]]] = {}
        self._durations: dict[str, float] = {}
        self._exitstatus = 0
        # One final result per test: the watchdog thread and the main thread
        # may both try to report the same test.
        self._result_lock = threading.Lock()
        self._reported: set[str] = set()
        # Taken before any answer file is imported; bound methods are used
        # so that replacing a class attribute later does not reach them.
        self._rootpath = rootpath
        self._guard = Guard()
        self._guard.watch_framework()
        self._changed = self._guard.changed
        self._send = writer.send
        self._tampered: list[str] = []
        self._warnings: list[warnings.WarningMessage] = []
        self._watchdog: threading.Timer | None = None

    def _emit(self, record: Record) -> None:
        """Send one typed record (``grader.judge.records``) down the channel."""
        self._send(record.to_json())

    # -- collection ----------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A test file that cannot even be collected is reported at once."""
        if report.failed:
            self._emit(CollectError(report.nodeid, _collect_message(report)))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Every test that will run, with its points, before the first one starts."""
        payload = getattr(self._writer, "payload", None)
        if payload is not None:  # None: an unsigned channel (the plugin's own tests)
            expected = GradingDigests.from_json(payload)
            self._note_tampering(
                f"grading file {name} changed"
                for name in changed_files(self._rootpath, expected.files)
            )
        self._guard.watch_modules(self._rootpath / TESTS_DIR)
        self._emit(Collected(tuple(_collected(item) for item in session.items)))

    # -- running -------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        """Say which test runs: if the process dies now, the grader knows whose fault."""
        self._emit(Start(nodeid))

    @pytest.hookimpl(wrapper=True, optionalhook=True)
    def pytest_timeout_set_timer(
        self, item: pytest.Item, settings: Any
    ) -> Generator[None, object, object]:
        """pytest-timeout armed its alarm: note its limit, mark what it raises, start the watchdog.

        pytest-timeout's alarm fires once, and only where a signal can
        interrupt: a clean-up waiting for a hung thread, or code that ignores
        SIGALRM, would stall the process until the grader's budget ran out
        and cost every later test. The watchdog reports this test as a
        timeout and ends the process; the grader runs the rest afresh. It
        runs until the test's protocol ends, not until
        ``pytest_timeout_cancel_timer``: pytest-timeout cancels its alarm as
        soon as any phase fails (``pytest_exception_interact``), and the
        clean-up after a failure is where a hung thread is waited for.
        """
        armed = yield
        limit = float(settings.timeout)
        alarm = _Alarm(limit)
        item.stash[_ALARM] = alarm
        if settings.method == "signal":  # the thread method ends the process itself
            _mark_alarm(alarm)
        self._stop_watchdog()
        self._watchdog = threading.Timer(
            limit + WATCHDOG_GRACE, self._expire, args=(item.nodeid, limit)
        )
        self._watchdog.daemon = True
        self._watchdog.start()
        return armed

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        """Collect Python's warnings during the test; stop its watchdog when it is over."""
        # Python's own warnings ("coroutine ... was never awaited") often name the
        # cause: the ones about the student's code go into the test's message.
        with warnings.catch_warnings(record=True) as caught:
            self._warnings = caught
            try:
                outcome = yield
            finally:
                self._stop_watchdog()
                self._warnings = []
        for seen in caught:  # hand them on to pytest's own summary
            with contextlib.suppress(Exception):  # a "-W error" filter must not stop us
                warnings.warn_explicit(seen.message, seen.category, seen.filename, seen.lineno)
        return outcome

    def _expire(self, nodeid: str, limit: float) -> None:
        # The lock stays held until the process ends: the main thread cannot
        # report this test a second time in between.
        self._result_lock.acquire()
        if nodeid in self._reported:
            self._result_lock.release()  # it finished just in time
            return
        self._reported.add(nodeid)
        self._emit(
            Result(
                nodeid,
                "timeout",
                did_not_finish("stuck", limit),
                duration=round(limit + WATCHDOG_GRACE, 4),
            )
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(WATCHDOG_EXIT)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Classify each phase while the exception object is still at hand."""
        report = yield
        self._durations[item.nodeid] = self._durations.get(item.nodeid, 0.0) + report.duration
        phase = self._phases.setdefault(item.nodeid, {})
        if report.passed:
            phase[call.when] = ("passed", "")
        elif report.skipped:
            phase[call.when] = ("skipped", _skip_reason(report))
        else:
            phase[call.when] = self._classify(item, call.excinfo, call.when)
            if phase[call.when][0] == "timeout":
                # The interrupted code may live on in a thread and block the
                # tests after it: stop here, the grader runs the rest afresh.
                item.session.shouldstop = "a test timed out"
        self._note_tampering(f"{name} was replaced" for name in self._changed())
        if self._tampered:
            phase[call.when] = ("error", TAMPERED.format(what=self._tampered[0]))
        return report

    def _note_tampering(self, found: Iterable[str]) -> None:
        """Tell the grader (once per finding) that the grading machinery was changed."""
        new = [what for what in found if what not in self._tampered]
        if new:
            self._tampered += new
            self._emit(Tampered(tuple(new)))

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """After teardown, the test's one final record."""
        if report.when != "teardown":
            return
        phases = self._phases.pop(report.nodeid, {})
        status, message = _final(phases)
        with self._result_lock:
            if report.nodeid in self._reported:
                return
            self._reported.add(report.nodeid)
            if status != "passed":
                message += self._warning_lines()
            self._send_result(report, status, message)

    def _warning_lines(self) -> str:
        """Python's warnings about the student's code during this test, one line each."""
        folder = Path(self._student_dir)
        lines = []
        for seen in self._warnings:
            where = relative(seen.filename, folder)
            text = str(seen.message)
            if not where and "never awaited" not in text:
                continue
            line = f"Python warned: {text}" + (f" (at {where}:{seen.lineno})" if where else "")
            if line not in lines:
                lines.append(line)
        return "".join(f"\n{line}" for line in lines[:3])

    def _send_result(self, report: pytest.TestReport, status: Status, message: str) -> None:
        self._emit(
            Result(
                report.nodeid,
                status,
                message[:MAX_MESSAGE],
                duration=round(self._durations.pop(report.nodeid, 0.0), 4),
                line_no=(report.location[1] + 1) if report.location[1] is not None else 0,
            )
        )

    def _classify(
        self, item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException] | None, when: str
    ) -> tuple[Status, str]:
        if excinfo is None:
            return ("error", f"The test failed during {when} without an exception.")
        exc = excinfo.value
        text = str(exc)
        alarm = item.stash.get(_ALARM, None)
        if alarm is not None and alarm.raised is exc:
            return ("timeout", did_not_finish("test", alarm.timeout))
        if isinstance(exc, AppError):  # raised in the app: it says what and where itself
            message = f"{exc.type_name}: {exc.message}" if exc.message else exc.type_name
            if exc.where:
                message += f" (at {exc.where})"
            if exc.trap in TRAPS:
                message += f"\nHint: {TRAPS[exc.trap]}"
            return ("error", message)
        location = self._student_location(exc)
        if isinstance(exc, SyntaxError) and str(exc.filename or "").startswith(self._student_dir):
            # The error is in the file, not in a frame: name the file and line,
            # not the scaffold that imported it.
            name = str(exc.filename)[len(self._student_dir) :]
            location = f"homework/{name}:{exc.lineno or 0}"
            text = exc.msg
        if isinstance(exc, pytest.fail.Exception):
            return ("failed" if when == "call" else "error", exc.msg or text)
        if isinstance(exc, AssertionError) and not location:
            return ("failed" if when == "call" else "error", text or "The check failed.")
        message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        found = exception_hint(exc, Path(self._student_dir))
        if found is not None and found.where:
            location = found.where
        if location:
            message += f" (at {location})"
        if found is not None:
            message += f"\nHint: {TRAPS[found.trap]}"
        return ("error", message)

    def _student_location(self, exc: BaseException) -> str:
        """``homework/x.py:12``: the deepest frame in the student's files, if any."""
        found = ""
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.startswith(self._student_dir):
                name = frame.filename[len(self._student_dir) :]
                found = f"homework/{name}:{frame.lineno}"
        return found

    # -- the end -------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Remember how the session ended; the grader learns it from the channel."""
        self._note_tampering(f"{name} was replaced" for name in self._changed())
        self._exitstatus = int(exitstatus)
        self._emit(Finish(self._exitstatus))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Leave now if a stray thread would keep the process alive.

        A hung ``sync_to_async`` thread cannot be interrupted; Python would
        wait for it at exit until the grader's wall-clock limit kills the
        process. Every result is already written, so exit with the status.
        """
        stray = [
            t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
        ]
        if stray:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(self._exitstatus)
        self._writer.close()


def _final(phases: dict[str, tuple[Status, str]]) -> tuple[Status, str]:
    """One status for the test from its setup, call and teardown phases."""
    for when in _PHASES:
        status, message = phases.get(when, ("passed", ""))
        if status == "timeout":
            return status, message
    setup = phases.get("setup", ("error", "The test did not start."))
    if setup[0] != "passed":
        return setup
    call = phases.get("call", ("error", "The test did not run."))
    if call[0] != "passed":
        return call
    teardown = phases.get("teardown", ("passed", ""))
    if teardown[0] == "failed":
        return ("error", teardown[1])
    return teardown if teardown[0] != "passed" else ("passed", "")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def _collect_message(report: pytest.CollectReport) -> str:
    """The exception lines of a collection error (``E   ...``), not the source."""
    lines = [
        line[4:].rstrip() for line in report.longreprtext.splitlines() if line.startswith("E   ")
    ]
    text = "\n".join(line for line in lines if line)
    if not text:
        tail = report.longreprtext.strip().splitlines()
        text = tail[-1] if tail else "the test file could not be collected"
    return text[:MAX_MESSAGE]


def _collected(item: pytest.Item) -> CollectedTest:
    """What the grader learns of a test before it runs: where it is and its points."""
    points, problem = marker_points(item)
    return CollectedTest(
        nodeid=item.nodeid,
        file=item.path.name,
        points=points,
        problem=problem,
        line_no=_line_no(item),
        in_app_evidence=item.get_closest_marker(IN_APP_MARKER) is not None,
    )


def _line_no(item: pytest.Item) -> int:
    line = item.location[1]
    return line + 1 if line is not None else 0
