"""The harness's pytest fixtures: ``app`` and ``upstream_router``, and the shared database.

Registered as a plugin (``-p grader.harness.fixtures`` by the grader, and by
``pytest_plugins`` in the suites' ``conftest.py`` for a plain ``pytest``).

Where the app comes from:

* ``$GRADER_HARNESS_FD`` set: the grader started it in the sandbox and hands
  over its channel. If it dies, the session stops (the grader starts a fresh
  app and workspace and resumes after the test that killed it).
* otherwise: the harness starts ``python -m grader.appside`` in the project
  folder (the rootdir) itself, unsandboxed, as a student's own ``pytest``
  does; one that dies is started again for the next test.

The database is shared by both sides: ``$GRADER_DATABASE_URL`` when given
(the grader's: a SQLite file in the workspace, or PostgreSQL), else a SQLite
file in a temporary folder (never the student's own ``db.sqlite3``). The
trusted side migrates it with the pristine migrations, writes fixture rows
and reads results through the pristine models (pytest-django, with
``django_db(transaction=True)``: the app sees only committed rows).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.harness.client import App, AppGone

HARNESS_FD_ENV = "GRADER_HARNESS_FD"  # the grader started the app (sandbox): its channel
PROJECT_ENV = "GRADER_APP_PROJECT"  # the grader wants the app started here (no sandbox)
DATABASE_ENV = "GRADER_DATABASE_URL"
APP_UID_ENV = "GRADER_APP_UID"
EXIT_FILE_ENV = "GRADER_APP_EXIT_FILE"
IN_APP_MARKER = "in_app_evidence"
APP_GONE_EXIT = 76  # grader.runner.APP_GONE_EXIT: the grader resumes with a fresh app

_APP = pytest.StashKey["_AppHolder"]()


class _AppHolder:
    """The session's app, started on first use (and again after a crash, when ours)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.app: App | None = None
        self.database_url = ""
        self.log: Any = None

    def get(self) -> App:
        if self.app is not None and self.app.alive:
            return self.app
        fd = os.environ.get(HARNESS_FD_ENV)
        if fd is not None:
            if self.app is not None:  # the grader's app died: the grader resumes
                raise AppGone(self.app.gone or "the app process ended")
            self.app = App.attach(int(fd))
            return self.app
        if self.app is not None:
            self.app.close()
        project = os.environ.get(PROJECT_ENV) or str(self.config.rootpath)
        log = None if os.environ.get(PROJECT_ENV) else self._log()  # the grader's log, or ours
        self.app = App.launch(Path(project), self._environment(), log)
        return self.app

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env["DATABASE_URL"] = self.database_url
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        return env

    def _log(self) -> Any:
        if self.log is None:
            # The app's prints stay out of pytest's output; closed with the session.
            self.log = tempfile.TemporaryFile()  # noqa: SIM115
        return self.log

    def close(self) -> None:
        if self.app is not None:
            self.app.close()
            self.app = None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_APP] = _AppHolder(config)
    config.addinivalue_line(
        "markers",
        f"{IN_APP_MARKER}: the verdict rests on evidence the app reports about itself "
        "(its event loop, its queries): counted apart in the reports",
    )


def under_grader() -> bool:
    """Whether the grader runs this session (it then resumes after an app that ended)."""
    return HARNESS_FD_ENV in os.environ or PROJECT_ENV in os.environ


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under the grader, a test during which the app ended ends the session at once: the
    grader reports that test with how the app ended and resumes after it, on a fresh app."""
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(AppGone) and under_grader():
        holder = item.config.stash[_APP]
        process = holder.app.process if holder.app is not None else None
        exit_file = os.environ.get(EXIT_FILE_ENV)
        if process is not None and exit_file:
            try:
                code = process.wait(5)
            except Exception:
                code = None
            if code is not None:
                Path(exit_file).write_text(str(code))
        os._exit(APP_GONE_EXIT)
    return report


def pytest_unconfigure(config: pytest.Config) -> None:
    holder = config.stash.get(_APP, None)
    if holder is not None:
        holder.close()


def _database_url(tmp_root: Path) -> str:
    given = os.environ.get(DATABASE_ENV)
    if given:
        return given
    return f"sqlite:///{(tmp_root / 'grading.sqlite3').as_posix()}"


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The shared database, migrated: both sides open the same one (not a test copy)."""
    import dj_database_url
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    holder: _AppHolder = request.config.stash[_APP]
    holder.database_url = _database_url(tmp_path_factory.mktemp("database"))
    connections.close_all()
    # In place: Django's connections hold this very dict (a new one would not be seen).
    settings.DATABASES.setdefault("default", {})
    settings.DATABASES["default"].update(dj_database_url.parse(holder.database_url, conn_max_age=0))
    with django_db_blocker.unblock():
        call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()
    uid = os.environ.get(APP_UID_ENV)
    name = str(settings.DATABASES["default"].get("NAME", ""))
    if uid is not None and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        os.chown(name, int(uid), int(uid))  # the sandboxed app writes it too


@pytest.fixture(scope="session")
def _app_session(request: pytest.FixtureRequest, django_db_setup: None) -> _AppHolder:
    return request.config.stash[_APP]


@pytest.fixture
def app(request: pytest.FixtureRequest, _app_session: _AppHolder) -> Iterator[App]:
    """The student's project, running in its own process: ``app.get("/async/")``...

    ``app.fact`` and ``app.watch`` work only in tests marked ``in_app_evidence``."""
    handle = _app_session.get()
    handle.evidence_allowed = request.node.get_closest_marker(IN_APP_MARKER) is not None
    try:
        yield handle
    finally:
        if handle.alive:
            with contextlib.suppress(AppGone):
                handle.reset()
