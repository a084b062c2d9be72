"""Which operating-system primitives this machine has: asked here, and only here.

``grader check`` runs on students' laptops: Linux, macOS and Windows. Each
limit or containment the grader applies uses a primitive some of them lack
(``resource``, ``fork``, ``pidfd_open``, ``/proc``, ``killpg``, ``SIGALRM``,
passing descriptors to a child). The rest of the grader asks this module, and
does without what is missing; ``skipped()`` says, in one line, what a run
had to do without.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from types import ModuleType


def resource_module() -> ModuleType | None:
    """``resource`` (POSIX resource limits), or None where it does not exist (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    return resource


def set_rlimit(name: str, value: int) -> bool:
    """Set the resource limit ``name`` (``"RLIMIT_AS"``...) to ``value``, within the hard
    limit; False where the OS has no such limit or refuses it (macOS's RLIMIT_AS),
    which costs only that limit."""
    resource = resource_module()
    kind = getattr(resource, name, None)
    if resource is None or kind is None:
        return False
    try:
        _soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        return False
    return True


@functools.cache
def can_pass_fds() -> bool:
    """Whether a child can inherit a descriptor by number (``Popen(pass_fds=...)``).

    Tried once (a trivial child): Windows refuses it inside ``Popen``.
    """
    read, write = os.pipe()
    try:
        subprocess.run([sys.executable, "-c", ""], pass_fds=(write,), check=False, timeout=60)
    except (ValueError, AssertionError, TypeError, OSError, subprocess.SubprocessError):
        return False
    finally:
        os.close(read)
        os.close(write)
    return True


def can_kill_group() -> bool:
    """Whether a whole process group can be signalled (``os.killpg``)."""
    return hasattr(os, "killpg")


def kill_signal() -> int:
    """The signal that cannot be caught where there is one (SIGKILL), else SIGTERM."""
    return int(getattr(signal, "SIGKILL", signal.SIGTERM))


def is_root() -> bool:
    """True for uid 0 (never on a system without uids)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def has_proc() -> bool:
    """Whether ``/proc`` lists processes (Linux), used to count a user's tasks."""
    return os.path.isdir("/proc/self")


def timeout_method() -> str:
    """pytest-timeout's method: ``signal`` (interrupts a hung coroutine) where SIGALRM exists."""
    return "signal" if hasattr(signal, "SIGALRM") else "thread"


def skipped() -> list[str]:
    """What grading here does without, in words for the person running it."""
    missing = []
    if resource_module() is None:
        missing.append("per-process memory and file-size limits (no resource module)")
    if not has_proc():
        missing.append("the task-count limit (no /proc)")
    if not can_kill_group():
        missing.append("killing a part's whole process group (no killpg)")
    if timeout_method() != "signal":
        missing.append("interrupting a hung test by signal (timeouts use a thread)")
    if not hasattr(os, "fork") or not hasattr(os, "pidfd_open"):
        missing.append("the fork server (each part starts a fresh Python)")
    if not can_pass_fds():
        missing.append("passing the result channel by descriptor (handed over on stdin)")
    return missing


# How many things at once, per core: one place for every default job count. The grading
# tests mostly wait (sleeps, mocked timeouts), so more than one per core pays.
PROCESSES_PER_CORE = 2  # a grade's parts, verify's gradings (measured: the benchmarks document)
SUBMISSIONS_PER_CORE = 4  # grader batch's submissions (measured: grader.instructor.batch)


def per_core(count: int) -> int:
    """``count`` per core of this machine (at least ``count``)."""
    return count * (os.cpu_count() or 1)
