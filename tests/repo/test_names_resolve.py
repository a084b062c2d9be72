"""Every module or object the grader names in a string exists.

``guard.WATCHED`` refuses to start without a name it lists (a rename would
otherwise stop every grade), ``zygote.PRELOAD`` skips a module it cannot
import (a slower start), and ``runner.PLUGINS`` are handed to pytest
by name: each must resolve here, with every dependency installed. Beyond those
lists, every string in the grader or the suites that reads ``grader.x.y`` (a
``-m`` target, a command module, ``ROOT_URLCONF``, ``pytest_plugins``) must too.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re

import pytest

from grader.host import runner, zygote
from grader.judge import guard
from tests.support import ROOT


@pytest.mark.parametrize(
    ("module", "name"), [(m, n) for m, names in guard.WATCHED.items() for n in names]
)
def test_every_watched_object_exists(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


@pytest.mark.parametrize("module", zygote.PRELOAD)
def test_every_preloaded_module_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("module", runner.PLUGINS)
def test_every_plugin_is_a_pytest_plugin_module(module: str) -> None:
    plugin = importlib.import_module(module)
    assert any(name.startswith("pytest_") for name in dir(plugin)), module


def _dotted_strings() -> set[tuple[str, str]]:
    """Every string constant in the grader, the suites and the bench naming ``grader.x``."""
    found: set[tuple[str, str]] = set()
    for base in (ROOT / "grader", ROOT / "assignment" / "tests", ROOT / "bench"):
        for path in sorted(base.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    for name in DOTTED.findall(node.value):
                        found.add((str(path.relative_to(ROOT)), name))
    return found


DOTTED = re.compile(r"(?<![\w/.-])grader(?:\.[a-z_]\w*)+(?![\w/])")


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module, importing its parents but not the module itself."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent is a module, not a package
        return False


@pytest.mark.parametrize(("where", "name"), sorted(_dotted_strings()))
def test_every_dotted_name_in_a_string_resolves(where: str, name: str) -> None:
    """A module named by ``-m``, a plugin list, ``ROOT_URLCONF``, a command list, a watch list:
    each must import (or be an attribute of a module that does), so a rename fails here."""
    _resolve(where, name)


@pytest.mark.parametrize(
    "name", ["grader.host.no_such_module", "grader.judge.plugin.NoSuchHook", "grader.nothing"]
)
def test_a_name_that_does_not_resolve_fails(name: str) -> None:
    with pytest.raises(AssertionError):
        _resolve("here", name)


def _resolve(where: str, name: str) -> None:
    module, rest = name, ""
    while not _is_module(module):
        module, _, last = module.rpartition(".")
        assert module, f"{where}: {name!r} names nothing importable"
        rest = f"{last}.{rest}" if rest else last
    if not rest:  # a module: a URLconf or a -m target may need a project to import
        return
    target: object = importlib.import_module(module)
    for attribute in rest.split("."):
        assert hasattr(target, attribute), f"{where}: {name!r}: no {attribute!r}"
        target = getattr(target, attribute)


def test_the_scan_sees_the_names_it_must() -> None:
    names = {name for _, name in _dotted_strings()}
    assert {"grader.host.launch", "grader.appside.probes", "grader.judge.fixtures"} <= names


def test_the_guard_refuses_a_name_it_cannot_find() -> None:
    with pytest.raises(LookupError, match=re.escape("grader.judge.plugin.NoSuchThing")):
        guard.Guard().watch_framework({"grader.judge.plugin": ("Reporter", "NoSuchThing")})
    with pytest.raises(LookupError, match=re.escape("grader.no_such_module")):
        guard.Guard().watch_framework({"grader.no_such_module": ("x",)})
    guard.Guard().watch_framework()  # everything listed is there
