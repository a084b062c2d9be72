"""Take operating-system primitives away from this interpreter, as Windows or macOS lack them.

Imported at start-up by a ``.pth`` file in a test virtual environment (so the
grader and every process it starts lose the same primitives); the names to
take away are in ``take_away.txt`` beside the ``.pth``. See
``tests/grader/test_portability.py``.
"""

import os
import pathlib
import signal
import subprocess
import sys


def _names():
    here = os.path.join(sys.prefix, "take_away.txt")
    try:
        with open(here) as stream:
            return {line.strip() for line in stream if line.strip()}
    except OSError:
        return set()


NAMES = _names()

if "resource" in NAMES:
    sys.modules["resource"] = None  # import resource -> ImportError (Windows)
elif "rlimit_as" in NAMES:
    import resource

    _setrlimit = resource.setrlimit

    def _refusing(kind, limits):  # macOS: RLIMIT_AS cannot be lowered
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

    def _no_proc_isdir(path):
        return False if str(path).startswith("/proc") else _isdir(path)

    def _no_proc_iterdir(self):
        if str(self).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return _iterdir(self)

    os.path.isdir = _no_proc_isdir
    pathlib.Path.iterdir = _no_proc_iterdir
if "pass_fds" in NAMES:
    _init = subprocess.Popen.__init__

    def _no_pass_fds(self, *args, **kwargs):
        assert not kwargs.get("pass_fds"), "pass_fds not supported on Windows."
        _init(self, *args, **kwargs)

    subprocess.Popen.__init__ = _no_pass_fds
