"""Every module or object the grader names in a string exists.

``guard.WATCHED`` skips a name it cannot find (so a rename would silently
switch tamper detection off for it), ``zygote.PRELOAD`` skips a module it
cannot import (a slower start), and ``runner.PLUGINS`` are handed to pytest
by name: each must resolve here, with every dependency installed.
"""

from __future__ import annotations

import importlib

import pytest

from grader.host import runner, zygote
from grader.judge import guard


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
