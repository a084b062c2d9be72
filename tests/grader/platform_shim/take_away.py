"""Take operating-system primitives away from this interpreter, as Windows or macOS lack them.

Imported at start-up by a ``.pth`` file in a test virtual environment (so the
grader and every process it starts lose the same primitives); the names to
take away are in ``take_away.txt`` beside the ``.pth``. See
``tests/grader/test_portability.py``.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import FileDescriptorOrPath


def _names() -> set[str]:
    here = os.path.join(sys.prefix, "take_away.txt")
    try:
        with open(here) as stream:
            return {line.strip() for line in stream if line.strip()}
    except OSError:
        return set()


NAMES = _names()

if "resource" in NAMES:
    # import resource -> ImportError (Windows). None in sys.modules is the documented way to
    # block an import, but typeshed types sys.modules as dict[str, ModuleType].
    sys.modules["resource"] = None  # type: ignore[assignment]
elif "rlimit_as" in NAMES:
    import resource

    _setrlimit = resource.setrlimit

    def _refusing(kind: int, limits: tuple[int, int]) -> None:  # macOS: RLIMIT_AS cannot be lowered
        if kind == resource.RLIMIT_AS:
            raise ValueError("current limit exceeds maximum limit")
        return _setrlimit(kind, limits)

    resource.setrlimit = _refusing
for name in ("fork", "pidfd_open", "killpg", "set_blocking"):
    if name in NAMES and hasattr(os, name):
        delattr(os, name)
if "sigalrm" in NAMES:
    for name in ("SIGALRM", "setitimer", "alarm"):
        if hasattr(signal, name):
            delattr(signal, name)
if "proc" in NAMES:
    _isdir = os.path.isdir
    _iterdir = pathlib.Path.iterdir
    _P = TypeVar("_P", bound=pathlib.Path)  # as typeshed's Self: a subclass lists its own kind

    def _no_proc_isdir(s: FileDescriptorOrPath) -> bool:
        return False if str(s).startswith("/proc") else _isdir(s)

    def _no_proc_iterdir(self: _P) -> Generator[_P, None, None]:
        if str(self).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return _iterdir(self)

    os.path.isdir = _no_proc_isdir
    # Replacing the method on the class is the point: every Path in this process loses /proc.
    pathlib.Path.iterdir = _no_proc_iterdir  # type: ignore[method-assign]
if "pass_fds" in NAMES:
    _init = subprocess.Popen.__init__

    def _no_pass_fds(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        assert not kwargs.get("pass_fds"), "pass_fds not supported on Windows."
        _init(self, *args, **kwargs)

    # Replacing the method on the class is the point: every Popen in this process refuses.
    subprocess.Popen.__init__ = _no_pass_fds  # type: ignore[method-assign]
