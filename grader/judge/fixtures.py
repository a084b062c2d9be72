"""The harness's pytest fixtures: ``app`` and ``upstream_router``, and the shared database.

Registered as a plugin (``-p grader.judge.fixtures`` by the grader, and by
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
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from grader.judge.client import App, AppGone

HARNESS_FD_ENV = "GRADER_HARNESS_FD"  # the grader started the app (sandbox): its channel
PROJECT_ENV = "GRADER_APP_PROJECT"  # the grader wants the app started here (no sandbox)
DATABASE_ENV = "GRADER_DATABASE_URL"
APP_UID_ENV = "GRADER_APP_UID"
EXIT_FILE_ENV = "GRADER_APP_EXIT_FILE"
# A migrated SQLite database kept by the grader for the parts it grades: copied instead of
# migrating again (the same scaffold migrates to the same file).
TEMPLATE_ENV = "GRADER_DB_TEMPLATE"
IN_APP_MARKER = "in_app_evidence"
APP_GONE_EXIT = 76  # grader.host.runner.APP_GONE_EXIT: the grader resumes with a fresh app

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


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The shared database, migrated: both sides open the same one.

    ``$GRADER_DATABASE_URL`` when the grader gives one (a SQLite file in the app's
    workspace); else, when the settings name a database server (``DATABASE_URL``),
    Django's test database on it (``test_<name>``, as any Django test run, kept with
    ``--reuse-db``); else a SQLite file in a temporary folder, never the student's own
    ``db.sqlite3``.
    """
    from django.conf import settings
    from django.db import connections

    holder: _AppHolder = request.config.stash[_APP]
    default = settings.DATABASES.setdefault("default", {})
    given = os.environ.get(DATABASE_ENV)
    server = not given and not str(default.get("ENGINE", "sqlite3")).endswith("sqlite3")
    keep = bool(request.config.getoption("reuse_db", default=False))
    with django_db_blocker.unblock():
        if server:
            holder.database_url = _test_database(keep)
        else:
            scratch = tmp_path_factory.mktemp("database") / "grading.sqlite3"
            url = given or f"sqlite:///{scratch.as_posix()}"
            holder.database_url = url
            _use_database(url)
            _migrate(str(default["NAME"]), os.environ.get(TEMPLATE_ENV))
    connections.close_all()
    uid = os.environ.get(APP_UID_ENV)
    if uid is not None and str(default["ENGINE"]).endswith("sqlite3"):
        os.chown(str(default["NAME"]), int(uid), int(uid))  # the sandboxed app writes it too
    yield
    if server and not keep:
        with django_db_blocker.unblock():
            connections["default"].creation.destroy_test_db(
                str(default["NAME"]).removeprefix("test_"), verbosity=0
            )


def _migrate(name: str, template: str | None) -> None:
    """Migrate the SQLite file ``name``, or copy ``template`` when an earlier part made it."""
    from django.core.management import call_command
    from django.db import connections

    if template and os.path.isfile(template):
        shutil.copyfile(template, name)
        return
    call_command("migrate", interactive=False, verbosity=0)
    if template:
        connections.close_all()
        partial = f"{template}.{os.getpid()}"
        shutil.copyfile(name, partial)
        os.replace(partial, template)  # whole or absent, for parts graded at the same time


def _use_database(url: str) -> None:
    """Point the default connection at ``url`` (a new wrapper: the engine may change)."""
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    # In place: Django's connection handler holds this very dict.
    settings.DATABASES["default"].update(dj_database_url.parse(url, conn_max_age=0))
    with contextlib.suppress(AttributeError, KeyError):
        del connections["default"]


def _test_database(keep: bool) -> str:
    """Django's test database on the configured server, migrated; its URL for the app."""
    from django.db import connections

    name = connections["default"].creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=keep, serialize=False
    )
    configured = urlsplit(os.environ.get("DATABASE_URL", ""))
    return configured._replace(path=f"/{name}").geturl()


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
