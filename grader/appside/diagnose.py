"""Which known trap of the lesson an exception from the student's code shows, and where.

Runs in the app (``grader.appside``), where the exception and its frames are:
it answers with a trap's name (a key of ``grader.messages.hints.TRAPS``, whose text
the trusted side adds) and a place in an answer file (``homework/x.py:12``).
The trusted side only accepts names it knows.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import types
from dataclasses import dataclass
from pathlib import Path

STUDENT_PACKAGE = "homework"
# Where the trusted side finds the answer files (it never imports them): set by the grader.
STUDENT_DIR_ENV = "GRADER_STUDENT_DIR"


@dataclass(frozen=True)
class Diagnosis:
    """A trap (a key of ``grader.messages.hints.TRAPS``) and where it is (empty when unknown)."""

    trap: str
    where: str = ""


def student_dir() -> Path | None:
    """The folder of the student's ``homework`` package, found without importing it."""
    given = os.environ.get(STUDENT_DIR_ENV)
    if given:
        return Path(given).resolve()
    try:
        spec = importlib.util.find_spec(STUDENT_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).resolve().parent


def relative(filename: str, folder: Path | None) -> str:
    """``homework/x.py`` for a file of the student's package, ``""`` otherwise."""
    if folder is None or not filename:
        return ""
    try:
        rel = Path(filename).resolve().relative_to(folder)
    except ValueError:
        return ""
    return f"{STUDENT_PACKAGE}/{rel.as_posix()}"


def module_file(module: str) -> Path | None:
    """The source file of ``homework.x``, found without importing anything."""
    package, _, rest = module.partition(".")
    folder = student_dir() if package == STUDENT_PACKAGE and rest else None
    if folder is None:
        return None
    path = folder.joinpath(*rest.split(".")).with_suffix(".py")
    return path if path.is_file() else None


_EVALUATES = {"__iter__", "__len__", "__bool__", "__getitem__", "_fetch_all", "__repr__"}
_COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}
_COROUTINE_ATTRIBUTE = re.compile(r"'coroutine' object")


def exception_hint(exc: BaseException, folder: Path | None) -> Diagnosis | None:
    """The trap an exception from the student's code shows, if it is a known one."""
    frames = list(_frames(exc.__traceback__))
    if type(exc).__name__ == "SynchronousOnlyOperation":
        return _orm_hint(frames, folder)
    if _COROUTINE_ATTRIBUTE.search(str(exc)):
        # The student's own coroutine handed to Django: the lesson's always-async middleware.
        mine = student_coroutine(frames, folder)
        if mine:
            return Diagnosis("coroutine_returned", mine)
        located = [f for f in frames if relative(f.f_code.co_filename, folder)]
        return Diagnosis("coroutine_not_awaited", _where(located[-1], folder) if located else "")
    located = [f for f in frames if relative(f.f_code.co_filename, folder)]
    if isinstance(exc, json.JSONDecodeError) and located:
        return Diagnosis("json_body", _where(located[-1], folder))
    if located and located[-1].f_code.co_name == "<module>":
        return Diagnosis("broken_import", _where(located[-1], folder))
    return None


@dataclass(frozen=True)
class _Frame:
    """One traceback entry: its code, the line the traceback recorded, its variables."""

    f_code: types.CodeType
    f_lineno: int
    f_locals: dict[str, object]


def _frames(tb: types.TracebackType | None) -> list[_Frame]:
    frames = []
    while tb is not None:
        frame = tb.tb_frame
        frames.append(_Frame(frame.f_code, tb.tb_lineno, dict(frame.f_locals)))
        tb = tb.tb_next
    return frames


def _where(frame: _Frame, folder: Path | None) -> str:
    return f"{relative(frame.f_code.co_filename, folder)}:{frame.f_lineno}"


def _orm_hint(frames: list[_Frame], folder: Path | None) -> Diagnosis:
    """Lazy QuerySet (evaluated in async code) or the ORM called from async code."""
    student = [i for i, f in enumerate(frames) if relative(f.f_code.co_filename, folder)]
    if not student:
        return Diagnosis("orm_on_loop")
    deepest = student[-1]
    where = _where(frames[deepest], folder)
    after = frames[deepest + 1] if deepest + 1 < len(frames) else None
    evaluated = after is not None and after.f_code.co_name in _EVALUATES
    # Walk out of comprehensions to the function that holds the loop.
    index = deepest
    while index > 0 and frames[index].f_code.co_name in _COMPREHENSIONS:
        index -= 1
    in_async = bool(frames[index].f_code.co_flags & inspect.CO_COROUTINE)
    if evaluated and in_async:
        return Diagnosis("lazy_queryset", where)
    outer = [i for i in student if frames[i].f_code.co_flags & inspect.CO_COROUTINE]
    if outer and not in_async:
        # A plain function that queries, called straight from the async view.
        where = f"{where}, called from {_where(frames[outer[-1]], folder)}"
    return Diagnosis("orm_on_loop", where)


def student_coroutine(frames: list[_Frame], folder: Path | None) -> str:
    """Where the un-awaited coroutine of the student's code was defined, if one is in sight."""
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            code = getattr(value, "cr_code", None)
            if isinstance(code, types.CodeType) and relative(code.co_filename, folder):
                name = getattr(value, "__qualname__", code.co_name)
                return f"{relative(code.co_filename, folder)}:{code.co_firstlineno}, in {name}"
    return ""


def describe(exc: BaseException) -> dict[str, str]:
    """An exception from the student's code as plain data: its type, message, the deepest
    line of an answer file it passed through, and the known trap it shows."""
    folder = student_dir()
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        rel = relative(tb.tb_frame.f_code.co_filename, folder)
        if rel:
            where = f"{rel}:{tb.tb_lineno}"
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename and relative(exc.filename, folder):
        where = f"{relative(exc.filename, folder)}:{exc.lineno or 0}"
    found = exception_hint(exc, folder)
    try:
        message = str(exc)
    except Exception:  # a __str__ of the student's that fails
        message = ""
    return {
        "type": type(exc).__name__[:100],
        "message": (exc.msg if isinstance(exc, SyntaxError) else message)[:1000],
        "where": (found.where if found is not None and found.where else where)[:300],
        "trap": found.trap if found is not None else "",
    }
