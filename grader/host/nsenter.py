"""Enter a sandbox that bubblewrap already made, from a process forked by the zygote.

A fresh interpreter per grading process costs most of a second of CPU in imports;
the zygote (``grader.host.zygote``) pays that once. To keep that inside the
sandbox, the grader (as root) starts the sandbox with a placeholder process
(``Sandbox.hold``), and the zygote's child joins its namespaces here: it
``setns``es into the placeholder's IPC, UTS, network, PID and mount
namespaces, forks once more so that the process which runs pytest is inside
the PID namespace (``setns`` on a PID namespace takes effect for children),
and that process drops to the unprivileged uid with no capabilities and
``no_new_privs`` before anything of the workspace is imported. The
intermediate process only waits, and ends as its child ended.

Linux only, and root only (joining namespaces that root's bubblewrap made
needs ``CAP_SYS_ADMIN``); ``grader.host.runner`` uses it only then.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
from typing import NoReturn

# Joined in this order: the mount namespace last, since it hides the host's /proc.
NAMESPACES = ("ipc", "uts", "net", "pid", "mnt")
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_LAST_CAP = 63


class EnterError(OSError):
    """The sandbox could not be entered (the process must not go on)."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def enter(pid: int) -> None:
    """Join the namespaces of ``pid`` (the sandbox's init as the host sees it)."""
    libc = _libc()
    fds = [os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY) for name in NAMESPACES]
    try:
        for name, fd in zip(NAMESPACES, fds, strict=True):
            if libc.setns(fd, 0) != 0:
                error = ctypes.get_errno()
                raise EnterError(error, f"setns({name}): {os.strerror(error)}")
    finally:
        for fd in fds:
            os.close(fd)


def split() -> None:
    """Fork so that the caller goes on inside the PID namespace; the parent waits.

    The parent never returns: it exits as the child did (the same code, or
    killed by the same signal), so whoever waits for it sees the child's end.
    """
    child = os.fork()
    if child == 0:
        return
    _wait_and_mirror(child)


def _wait_and_mirror(child: int) -> NoReturn:
    try:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)
        _pid, status = os.waitpid(child, 0)
        if os.WIFSIGNALED(status):
            ended_by = os.WTERMSIG(status)
            with contextlib.suppress(OSError, ValueError):  # SIGKILL/SIGSTOP: no handler
                signal.signal(ended_by, signal.SIG_DFL)
            os.kill(os.getpid(), ended_by)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    finally:  # never back into the caller's code
        os._exit(1)


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (and its gid) with no groups, no capabilities, ``no_new_privs``."""
    libc = _libc()
    for cap in range(_LAST_CAP + 1):  # the bounding set: nothing can be regained
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # leaving uid 0 clears every capability
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise EnterError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if os.getuid() != uid or os.geteuid() != uid:
        raise EnterError(0, "the uid did not change")
