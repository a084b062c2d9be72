"""Every hint about a known trap of the lesson, in one place.

The lesson's traps (a lazy QuerySet, the ORM on the event loop, its own
``MiddlewareMixin`` with ``async def __call__``, ``response.json()`` on a body
that is not JSON, ``date.today()``, ``time.sleep`` and awaits one after the
other) each have one text here, the only place a student reads it. Three
ways lead to it:

* the plugin turns an exception from the student's code into a message with
  ``exception_hint`` (which trap, and where in the answer file);
* a grading test names the trap its check catches (``expect(..., trap=...)``
  in ``grader.feedback``); when the check fails, ``find_in_source`` looks for
  the trap in the answer file and the hint names the line it found;
* a grading test that saw where something happened (the line that awaited
  each upstream call, say) passes that place itself.

Nothing here reads test code: a message names only the student's own files.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import re
import types
from dataclasses import dataclass
from pathlib import Path

STUDENT_PACKAGE = "homework"

TRAPS: dict[str, str] = {
    "lazy_queryset": (
        "a QuerySet is lazy: sync_to_async(...) gave back a QuerySet that had not run yet, "
        "and it ran here, on the event loop, when it was iterated. Evaluate it inside the "
        "thread: `await sync_to_async(list)(queryset)`, or a small sync function that builds, "
        "evaluates and converts the rows, called through sync_to_async (or `[t async for t in "
        "queryset]`)"
    ),
    "orm_on_loop": (
        "the ORM ran on the event loop: Django's ORM is synchronous, so an async view must run "
        "every query in a worker thread. Wrap the function that queries in sync_to_async "
        "(`await sync_to_async(fn)(...)`) or use the async ORM (`await Task.objects.acreate(...)`, "
        "`async for`, `acount()`); never set DJANGO_ALLOW_ASYNC_UNSAFE"
    ),
    "coroutine_returned": (
        "Django called this middleware as a plain function (the chain around it was "
        "synchronous: WSGI, the sync test client, or a sync-only middleware next to it) and "
        "got back a coroutine that nobody awaited instead of a response. That is the lesson's "
        "`MiddlewareMixin` subclass with `async def __call__`: it is always async. Support both "
        "modes: `sync_capable = async_capable = True`, a plain `def __call__` for a sync "
        "get_response, and `markcoroutinefunction(self)` plus an `async def __acall__` when "
        "get_response is a coroutine function (or the @sync_and_async_middleware function form)"
    ),
    "coroutine_not_awaited": (
        "an async function was called without `await`: its call gives a coroutine, not its "
        "result. Await it (`response = await client.get(...)`, `await self.get_response("
        "request)`); code that awaits must itself be async (in a middleware: "
        "markcoroutinefunction(self) and an async def path when get_response is a coroutine "
        "function)"
    ),
    "json_body": (
        "`response.json()` (and json.loads) raises ValueError (json.JSONDecodeError) when the body "
        "is not JSON. Catch ValueError where you decode and treat it as the failure the rules "
        "describe (for an upstream: a failed call, 502 for users, a null section for posts/todos; "
        "for a request body: 400); then check the type you got (a dict for the user, a list for "
        "posts and todos)"
    ),
    "date_today": (
        "date.today() (and datetime.now()) is the date in the server process's own time zone "
        "(UTC on most servers), not in settings.TIME_ZONE: just after midnight in Taipei it is "
        "still the day before there. Use django.utils.timezone.localdate() - timedelta(days=1)"
    ),
    "time_sleep": (
        "time.sleep() inside an async def freezes the whole event loop: every request on the "
        "process waits with it. Use `await asyncio.sleep(...)`"
    ),
    "sequential_awaits": (
        "each upstream call was awaited before the next one started, so the view takes the sum "
        "of the three latencies. Start all three before awaiting any: "
        "`await asyncio.gather(fetch(users), fetch(posts), fetch(todos), return_exceptions=True)` "
        "or an asyncio.TaskGroup"
    ),
    "broken_import": (
        "this answer file fails while it is imported, so no test of this part can use it: fix "
        "the line named here first (importing the file in `python manage.py shell` shows the "
        "same error)"
    ),
}


@dataclass(frozen=True)
class Found:
    """A trap and where it is: ``homework/x.py:12`` (empty when unknown)."""

    trap: str
    where: str = ""

    def text(self) -> str:
        """``"<hint> (at homework/x.py:12)"``: the hint, with its place when known."""
        hint = TRAPS[self.trap]
        return f"{hint} (at {self.where})" if self.where else hint


# ---------------------------------------------------------------------------- places


def student_dir() -> Path | None:
    """The folder of the student's ``homework`` package, found without importing it."""
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


# ---------------------------------------------------------------------------- exceptions


_EVALUATES = {"__iter__", "__len__", "__bool__", "__getitem__", "_fetch_all", "__repr__"}
_COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}
_COROUTINE_ATTRIBUTE = re.compile(r"'coroutine' object")


def exception_hint(exc: BaseException, folder: Path | None) -> Found | None:
    """The trap an exception from the student's code shows, if it is a known one."""
    frames = list(_frames(exc.__traceback__))
    if type(exc).__name__ == "SynchronousOnlyOperation":
        return _orm_hint(frames, folder)
    if _COROUTINE_ATTRIBUTE.search(str(exc)):
        # The student's own coroutine handed to Django: the lesson's always-async middleware.
        mine = student_coroutine(frames, folder)
        if mine:
            return Found("coroutine_returned", mine)
        located = [f for f in frames if relative(f.f_code.co_filename, folder)]
        return Found("coroutine_not_awaited", _where(located[-1], folder) if located else "")
    located = [f for f in frames if relative(f.f_code.co_filename, folder)]
    if isinstance(exc, json.JSONDecodeError) and located:
        return Found("json_body", _where(located[-1], folder))
    if located and located[-1].f_code.co_name == "<module>":
        return Found("broken_import", _where(located[-1], folder))
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


def _orm_hint(frames: list[_Frame], folder: Path | None) -> Found:
    """Lazy QuerySet (evaluated in async code) or the ORM called from async code."""
    student = [i for i, f in enumerate(frames) if relative(f.f_code.co_filename, folder)]
    if not student:
        return Found("orm_on_loop")
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
        return Found("lazy_queryset", where)
    outer = [i for i in student if frames[i].f_code.co_flags & inspect.CO_COROUTINE]
    if outer and not in_async:
        # A plain function that queries, called straight from the async view.
        where = f"{where}, called from {_where(frames[outer[-1]], folder)}"
    return Found("orm_on_loop", where)


def student_coroutine(frames: list[_Frame], folder: Path | None) -> str:
    """Where the un-awaited coroutine of the student's code was defined, if one is in sight."""
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            code = getattr(value, "cr_code", None)
            if isinstance(code, types.CodeType) and relative(code.co_filename, folder):
                name = getattr(value, "__qualname__", code.co_name)
                return f"{relative(code.co_filename, folder)}:{code.co_firstlineno}, in {name}"
    return ""


# ---------------------------------------------------------------------------- source


def find_in_source(trap: str, module: str) -> list[str]:
    """Where the answer file ``module`` (``homework.tasks``) holds the trap: ``file:line``s.

    Only traps a source can show are looked for (``date_today``, ``time_sleep``);
    a file that does not parse shows nothing.
    """
    path = module_file(module)
    if path is None:
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    finder = _FINDERS.get(trap)
    if finder is None:
        return []
    name = f"{STUDENT_PACKAGE}/{path.name}"
    return [f"{name}:{line}" for line in sorted(set(finder(tree)))]


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    return [(_dotted(n.func), n) for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _date_today(tree: ast.Module) -> list[int]:
    naive_now = ("date.today", "datetime.today")
    return [
        call.lineno
        for name, call in _calls(tree)
        if name.endswith(naive_now)
        or (name.endswith("datetime.now") and not call.args and not call.keywords)
    ]


def _time_sleep(tree: ast.Module) -> list[int]:
    from_time = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "time"
        for alias in node.names
        if alias.name == "sleep"
    }
    lines = []
    for function in ast.walk(tree):
        if isinstance(function, ast.AsyncFunctionDef):
            for name, call in _calls(function):
                if name == "time.sleep" or name in from_time:
                    lines.append(call.lineno)
    return lines


_FINDERS = {"date_today": _date_today, "time_sleep": _time_sleep}
