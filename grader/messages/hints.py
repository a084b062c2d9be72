"""Every hint about a known trap of the lesson, in one place.

The lesson's traps (a lazy QuerySet, the ORM on the event loop, its own
``MiddlewareMixin`` with ``async def __call__``, ``response.json()`` on a body
that is not JSON, ``date.today()``, ``time.sleep`` and awaits one after the
other) each have one text here, the only place a student reads it. Three
ways lead to it:

* the plugin turns an exception from the student's code into a message with
  ``exception_hint`` (which trap, and where in the answer file);
* a grading test names the trap its check catches (``expect(..., trap=...)``
  in ``grader.messages.feedback``); when the check fails, ``find_in_source`` looks for
  the trap in the answer file and the hint names the line it found;
* a grading test that saw where something happened (the line that awaited
  each upstream call, say) passes that place itself.

Nothing here reads test code: a message names only the student's own files.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.appside import diagnose

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
    "middleware_adapted": (
        "Django had to wrap TimingMiddleware in a sync/async adapter: the middleware cannot run "
        "in the mode of the chain around it, so every request pays a hop to another thread "
        "(or blocks the loop). Declare `sync_capable = True` and `async_capable = True` on the "
        "class and support both modes: a plain `def __call__` when get_response is sync, and "
        "`markcoroutinefunction(self)` plus an `async def __acall__` that awaits it when "
        "get_response is a coroutine function"
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

# The analysis of exceptions runs where they happen, in the app (``grader.appside.diagnose``);
# these names stay importable from here for the trusted side.
STUDENT_PACKAGE = diagnose.STUDENT_PACKAGE
module_file = diagnose.module_file
relative = diagnose.relative
student_dir = diagnose.student_dir


def exception_hint(exc: BaseException, folder: Path | None) -> Found | None:
    """The trap an exception from the student's code shows, if it is a known one."""
    found = diagnose.exception_hint(exc, folder)
    return None if found is None else Found(found.trap, found.where)


# ---------------------------------------------------------------------------- source


def find_in_source(trap: str, module: str) -> list[str]:
    """Where the answer file ``module`` (``homework.tasks``) holds the trap: ``file:line``s.

    Only traps a source can show are looked for (``date_today``, ``time_sleep``,
    ``middleware_adapted``); a file that does not parse shows nothing.
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


def _middleware_class(tree: ast.Module) -> list[int]:
    return [
        node.lineno
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == "TimingMiddleware"
    ]


_FINDERS = {
    "date_today": _date_today,
    "time_sleep": _time_sleep,
    "middleware_adapted": _middleware_class,
}


def defines_async(module: str, name: str) -> bool | None:
    """Whether the answer file ``module`` (``homework.db_views``) binds ``name`` at module
    level last to an ``async def``: read, never imported, so the trusted side sees it for
    itself. ``None`` when the file cannot be read or parsed."""
    path = module_file(module)
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None
    last: ast.stmt | None = None
    for node in tree.body:
        if _binds(node, name):
            last = node
    return isinstance(last, ast.AsyncFunctionDef)


def _binds(node: ast.stmt, name: str) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == name
    if isinstance(node, ast.Import | ast.ImportFrom):
        return any((alias.asname or alias.name.split(".")[0]) == name for alias in node.names)
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t))
