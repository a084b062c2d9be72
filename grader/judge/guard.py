"""Notice, inside a grading process, when code changes the machinery that grades it.

Student code runs in the same Python process as pytest and the grader's
plugin, so it can replace ``_pytest.runner.call_and_report``, make
``TestReport.passed`` always true, swap a grading test's ``__code__`` or
silence ``grader.messages.feedback.expect``. ``Guard`` remembers, before any answer
file is imported, the objects that decide a test's outcome (functions,
classes and their attributes, and the code objects of functions) and can
say at any later moment which of them are no longer the same object.

It also checks the grading test files on disk against the digests the
grader computed from the pristine suites: a test file rewritten by student
code (this part's own, or a sibling part's running at the same time) is
caught before its tests count.

This is detection, not prevention: code in the same process can, in
principle, also find and disable the guard. ``grader/SECURITY.md`` says
what holds and what does not.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import Path

# Module attributes that decide what a test's outcome is and how it reaches the grader.
WATCHED: dict[str, tuple[str, ...]] = {
    "_pytest.runner": (
        "call_and_report",  # pytest 9 folds the old call_runtest_hook into it
        "runtestprotocol",
        "pytest_runtest_protocol",
        "pytest_runtest_call",
        "pytest_runtest_makereport",
        "check_interactive_exception",
        "CallInfo",
    ),
    "_pytest.reports": ("BaseReport", "TestReport", "CollectReport"),
    "_pytest.python": ("Function", "pytest_pyfunc_call"),
    "_pytest.main": ("Session", "pytest_runtestloop"),
    "_pytest.outcomes": ("fail", "skip", "Failed", "Skipped", "OutcomeException"),
    "pluggy._callers": ("_multicall",),
    "pluggy._hooks": ("HookCaller",),
    "grader.judge.channel": ("ChannelWriter",),
    "grader.messages.feedback": ("expect", "feedback"),
    "grader.judge.plugin": ("Reporter", "ChannelPlugin", "_final", "marker_points"),
    "grader.judge.records": ("Collected", "CollectedTest", "Result", "Tampered", "Finish"),
    "json": ("dumps",),
    "json.encoder": ("JSONEncoder",),
    "hmac": ("new", "HMAC"),
    "os": ("write",),
}


def _parts(obj: object) -> list[tuple[str, object]]:
    """The identities that make up ``obj``: itself, a function's code, a class's methods."""
    parts: list[tuple[str, object]] = [("", obj)]
    if isinstance(obj, types.FunctionType):
        parts.append((".__code__", obj.__code__))
    elif isinstance(obj, type):
        for name, value in list(vars(obj).items()):
            if isinstance(value, types.FunctionType):
                parts += [(f".{name}", value), (f".{name}.__code__", value.__code__)]
            elif isinstance(value, property | classmethod | staticmethod):
                parts.append((f".{name}", value))
                if isinstance(value, property) and isinstance(value.fget, types.FunctionType):
                    parts.append((f".{name}.fget.__code__", value.fget.__code__))
    return parts


class Guard:
    """A snapshot of identities, and the names of those that changed since."""

    def __init__(self) -> None:
        self._seen: dict[str, object] = {}  # holds the objects: their ids stay unique

    def watch(self, name: str, obj: object) -> None:
        """Remember ``obj`` (and what it is made of) under ``name``."""
        for suffix, part in _parts(obj):
            self._seen[name + suffix] = part

    def watch_framework(self, watched: Mapping[str, tuple[str, ...]] = WATCHED) -> None:
        """Remember the pytest, pluggy and grader objects listed in ``WATCHED``.

        A name that cannot be found raises ``LookupError`` instead of being skipped:
        skipping would switch tamper detection off for it without a word (after a
        rename, or a pytest that moved it), and a grade must not go on without it.
        """
        for module_name, names in watched.items():
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise LookupError(f"the tamper guard cannot import {module_name}: {exc}") from exc
            for name in names:
                if not hasattr(module, name):
                    raise LookupError(f"the tamper guard cannot find {module_name}.{name}")
                self.watch(f"{module_name}.{name}", getattr(module, name))

    def watch_modules(self, folder: Path) -> None:
        """Remember every function and class defined in the modules loaded from ``folder``."""
        prefix = str(folder.resolve())
        for key, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None) or ""
            if not file.startswith(prefix):
                continue
            for name, value in list(vars(module).items()):
                if isinstance(value, types.FunctionType | type):
                    self.watch(f"{key}.{name}", value)

    def changed(self) -> list[str]:
        """The remembered names whose object is no longer the same one."""
        changed = []
        for name, obj in self._seen.items():
            owner, _, attr = name.rpartition(".")
            current = _lookup(owner, attr)
            if current is not obj:
                changed.append(name)
        return changed


def _lookup(owner: str, attr: str) -> object:
    """``owner.attr`` now, where ``owner`` is a module path, maybe followed by attributes."""
    if attr in ("__code__", "fget"):
        return getattr(_lookup(*owner.rpartition(".")[::2]), attr, None)
    module_name, rest = owner, ""
    while module_name and module_name not in sys.modules:
        module_name, _, last = module_name.rpartition(".")
        rest = f"{last}.{rest}" if rest else last
    target: object = sys.modules.get(module_name)
    for part in filter(None, rest.split(".")):
        target = vars(target).get(part) if isinstance(target, type) else getattr(target, part, None)
    if isinstance(target, type):
        return vars(target).get(attr)
    return getattr(target, attr, None)


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(root: Path, files: Iterable[Path]) -> dict[str, str]:
    """``{path relative to root: sha256}`` for ``files`` (the pristine grading files)."""
    return {path.relative_to(root).as_posix(): file_digest(path) for path in files}


def changed_files(workspace: Path, expected: Mapping[str, str]) -> list[str]:
    """The grading files in ``workspace`` that differ from the digests (or are gone)."""
    changed = []
    for relative, digest in expected.items():
        try:
            if file_digest(workspace / relative) != digest:
                changed.append(relative)
        except OSError:
            changed.append(relative)
    return changed
