"""Each trap of the lesson is named, with its hint and the answer file's line.

The proof is a mutant per trap, graded like a submission: some failing test's
message must hold the trap's hint (from ``grader.messages.hints``, the one place those
texts live) and ``homework/<file>.py:<line>``. The rest checks the pieces
without grading: the source finders, the expect() fallback, and a timeout
that points back to the failure that named its cause.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.engine.grading import _name_earlier_causes, grade
from grader.instructor.mutants import materialize
from grader.messages.feedback import trap_hint
from grader.messages.hints import TRAPS, find_in_source
from grader.model.results import TestResult
from grader.model.rubric import load_rubric
from tests.support import ROOT

# (trap, the mutant that falls into it, its part, the answer file the message names)
TRAP_MUTANTS = [
    ("lazy_queryset", "orm_lazy_queryset", "orm_threadpool", "homework/db_views.py"),
    ("orm_on_loop", "orm_direct_call", "orm_threadpool", "homework/db_views.py"),
    ("orm_on_loop", "orm_async_unsafe", "orm_threadpool", "homework/db_views.py"),
    ("coroutine_returned", "mw_lesson_mixin", "middleware", "homework/middleware.py"),
    ("json_body", "ag_json_unchecked", "aggregator", "homework/aggregator.py"),
    ("date_today", "ds_date_today", "daily_stats", "homework/tasks.py"),
    ("time_sleep", "av_time_sleep", "async_view", "homework/async_views.py"),
    ("sequential_awaits", "ag_sequential", "aggregator", "homework/aggregator.py"),
    ("middleware_adapted", "mw_sync_only", "middleware", "homework/middleware.py"),
    ("coroutine_not_awaited", "ag_no_await", "aggregator", "homework/aggregator.py"),
    ("broken_import", "ds_schedule_import_error", "daily_stats", "homework/schedule.py"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("trap", "mutant", "part", "answer_file"), TRAP_MUTANTS, ids=[t[1] for t in TRAP_MUTANTS]
)
def test_each_trap_mutant_gets_its_hint_with_file_and_line(
    trap: str, mutant: str, part: str, answer_file: str, tmp_path: Path
) -> None:
    submission = tmp_path / "submission"
    shutil.copytree(ROOT / "assignment" / "solution", submission)
    materialize(
        ROOT / "assignment" / "mutants" / mutant, ROOT / "assignment" / "solution", submission
    )
    result = grade(submission, rubric=load_rubric(ROOT), parts=[part], jobs=1)
    [graded] = [p for p in result.parts if p.id == part]
    lost = [t for t in graded.tests if t.status != "passed"]
    assert lost, f"{mutant} lost nothing"
    located = re.compile(rf"{re.escape(answer_file)}:\d+")
    hinted = [t for t in lost if TRAPS[trap] in t.message and located.search(t.message)]
    assert hinted, f"{mutant}: no message holds the {trap} hint and a line of {answer_file}:\n" + (
        "\n---\n".join(t.message for t in lost)
    )
    if trap == "coroutine_returned":  # the cause Python names: the coroutine's own function
        assert any("TimingMiddleware.__call__" in t.message for t in hinted)


def test_every_trap_has_a_mutant_and_a_hint() -> None:
    mutants = {p.name for p in (ROOT / "assignment" / "mutants").iterdir()}
    assert {trap for trap, *_ in TRAP_MUTANTS} == set(TRAPS)
    for trap, mutant, _part, _file in TRAP_MUTANTS:
        assert TRAPS[trap].strip(), trap
        assert mutant in mutants, mutant


@pytest.fixture(autouse=True)
def _no_stale_homework() -> Iterator[None]:
    """No ``homework`` package of one test may stay imported for the next one."""
    yield
    for name in [n for n in sys.modules if n == "homework" or n.startswith("homework.")]:
        del sys.modules[name]


def _answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> str:
    package = tmp_path / "homework"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / name).write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"homework.{name.removesuffix('.py')}"


def test_source_finders_name_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = _answer(
        tmp_path,
        monkeypatch,
        "views.py",
        "import datetime\nimport time\nfrom time import sleep as nap\n\n"
        "def fine():\n    time.sleep(1)\n    return datetime.datetime.now(tz=datetime.UTC)\n\n"
        "async def view():\n    time.sleep(1)\n    nap(2)\n    return datetime.date.today()\n",
    )
    # time.sleep in a plain function is not the trap; in an async def it is.
    assert find_in_source("time_sleep", module) == ["homework/views.py:10", "homework/views.py:11"]
    assert find_in_source("date_today", module) == ["homework/views.py:12"]
    assert find_in_source("lazy_queryset", module) == []  # not a trap a source shows


def test_a_trap_that_is_not_there_keeps_the_checks_own_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _answer(tmp_path, monkeypatch, "tasks.py", "def task():\n    return 1\n")
    assert trap_hint("own hint", "date_today", module, "") == "own hint"
    assert trap_hint("own hint", None, module, "") == "own hint"
    seen = trap_hint("own hint", "sequential_awaits", None, "homework/aggregator.py:7")
    assert seen == f"{TRAPS['sequential_awaits']} (at homework/aggregator.py:7)"


def _result(name: str, status: str, message: str) -> TestResult:
    return TestResult(name=name, status=status, score=0.0, max_score=1.0, message=message)  # type: ignore[arg-type]


def test_a_timeout_points_back_to_the_failure_that_named_the_cause() -> None:
    tests = [
        _result("public/t.py::a", "passed", ""),
        _result("public/t.py::b", "error", "Boom (at homework/db_views.py:12)"),
        _result("hidden/t.py::c", "timeout", "Your code did not finish within 10 s."),
    ]
    named = _name_earlier_causes(tests)
    assert named[2].message.endswith(
        "Probably the same cause as the earlier failure of public/t.py::b "
        "(at homework/db_views.py:12): fix that first."
    )
    # No earlier failure with a place: the timeout stays as it was.
    alone = _name_earlier_causes([tests[0], tests[2]])
    assert alone[1].message == "Your code did not finish within 10 s."
