"""Bound the processes a grading run may start, and end every one of them afterwards.

A fork loop in a student's answer must not take the machine down, and no
process it starts may outlive its part. What holds depends on where the
grader runs; ``contain()`` picks the best that works, in this order:

1. A **pids cgroup** (a writable ``pids`` controller, cgroup v1 or v2): the
   grading process joins a fresh cgroup before it imports anything, whose
   ``pids.max`` caps its processes *and* threads (``TASK_LIMIT``); at the
   end every member is killed, including those that left the process group
   with ``setsid()``. This is what runs as root in a container.
2. **RLIMIT_NPROC** (not root): the kernel refuses a fork once the user owns
   ``tasks already running + TASK_LIMIT`` tasks. Root ignores this limit,
   which is why it is only the fallback.
3. Root without a writable cgroup: **no count limit**. Only the process-group
   kill at the end and the part's wall-clock budget bound a fork loop (a
   process that calls ``setsid()`` escapes the group kill). ``grader/SECURITY.md``
   says so; run the grader as an unprivileged user, or give it a cgroup.

The process-group kill (``start_new_session`` in the runner) applies in
every case.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.host import portable

# Processes + threads of one grading process. A grading run uses about 16
# (pytest, asgiref's thread pools, Django's test database): 128 leaves room
# for honest thread pools and stops a fork loop early.
TASK_LIMIT = 128
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Containment:
    """How one grading process is bounded: a cgroup, an NPROC limit, or neither."""

    cgroup: Path | None = None
    nproc: int | None = None
    memory_cgroup: Path | None = None  # the whole part's memory limit, where one can be made

    @property
    def cgroups(self) -> list[Path]:
        """Every cgroup a grading process joins before it starts anything."""
        return [c for c in (self.cgroup, self.memory_cgroup) if c is not None]

    @property
    def kind(self) -> str:
        """``cgroup``, ``nproc`` or ``none``: for reports and tests."""
        return "cgroup" if self.cgroup else "nproc" if self.nproc else "none"

    def launch_args(self) -> list[str]:
        """Options for ``python -m grader.host.launch`` that apply the bound in the child."""
        args = [arg for group in self.cgroups for arg in ("--cgroup", str(group))]
        if self.cgroup is None and self.nproc is not None:
            args += ["--nproc", str(self.nproc)]
        return args

    def kill_all(self) -> None:
        """SIGKILL every process left in the cgroup, until none is (bounded by pids.max)."""
        if self.cgroup is None:
            return
        for _ in range(500):
            pids = _members(self.cgroup)
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, portable.kill_signal())
            time.sleep(0.01)


@contextmanager
def contain(limit: int = TASK_LIMIT, memory: int | None = None) -> Iterator[Containment]:
    """A fresh bound for one process; its cgroups (if any) are emptied and removed after.

    ``memory``: bytes for every process of the part together (a memory
    cgroup), where this machine lets the grader make one; the per-process
    address-space limit applies in any case.
    """
    cgroup = _make_cgroup(limit)
    memory_cgroup = None
    if memory and not (cgroup is not None and _limit_memory_v2(cgroup, memory)):
        memory_cgroup = _make_memory_cgroup(memory)
    running = None if cgroup is not None or portable.is_root() else _user_tasks()
    if cgroup is not None:
        containment = Containment(cgroup=cgroup)
    elif running is not None and portable.resource_module() is not None:
        containment = Containment(nproc=running + limit)
    else:  # root without a cgroup, or no way to count (see portable.skipped)
        containment = Containment()
    containment.memory_cgroup = memory_cgroup
    try:
        yield containment
    finally:
        containment.kill_all()
        for group in containment.cgroups:
            _remove(group, containment)


def _remove(cgroup: Path, containment: Containment) -> None:
    for _ in range(100):
        try:
            cgroup.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # members still exiting
            containment.kill_all()
            time.sleep(0.02)


def join(cgroup: Path) -> None:
    """In the child, before anything else: move this process into ``cgroup``."""
    (cgroup / "cgroup.procs").write_text(str(os.getpid()))


def limit_processes(nproc: int) -> None:
    """In the child: at most ``nproc`` tasks for this user (ignored by the kernel for root)."""
    portable.set_rlimit("RLIMIT_NPROC", nproc)


def _controller_parent(controller: str) -> tuple[Path, bool] | None:
    """This process's own cgroup in the ``controller`` hierarchy, and whether it is v2."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _id, controllers, relative = line.split(":", 2)
        if controller in controllers.split(","):
            base = CGROUP_ROOT / controller / relative.lstrip("/")
            return (base, False) if (base / "cgroup.procs").exists() else None
    for line in lines:
        _id, controllers, relative = line.split(":", 2)
        if controllers == "":  # cgroup v2
            for root in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
                base = root / relative.lstrip("/")
                try:
                    enabled = (base / "cgroup.subtree_control").read_text().split()
                except OSError:
                    continue
                if controller in enabled:
                    return base, True
    return None


def _make_child(controller: str, settings: dict[str, str]) -> Path | None:
    """A fresh cgroup under ours in ``controller``, with ``settings`` written (v1 name: v2 name)."""
    found = _controller_parent(controller)
    if found is None:
        return None
    parent, v2 = found
    path = parent / f"grader-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        path.mkdir()
    except OSError:
        return None
    try:
        for v1_name, value in settings.items():
            name = _V2_NAMES.get(v1_name, v1_name) if v2 else v1_name
            (path / name).write_text(value)
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return path


_V2_NAMES = {"memory.limit_in_bytes": "memory.max"}


def _make_cgroup(limit: int) -> Path | None:
    return _make_child("pids", {"pids.max": str(limit)})


def _limit_memory_v2(cgroup: Path, memory: int) -> bool:
    """On cgroup v2 one group holds every controller: limit memory in the pids group."""
    try:
        (cgroup / "memory.max").write_text(str(memory))
    except OSError:
        return False
    return True


def _make_memory_cgroup(memory: int) -> Path | None:
    return _make_child("memory", {"memory.limit_in_bytes": str(memory)})


def _members(cgroup: Path) -> list[int]:
    try:
        text = (cgroup / "cgroup.procs").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def _user_tasks() -> int | None:
    """How many tasks (threads count: RLIMIT_NPROC counts them) this user runs now.

    None where they cannot be counted (no ``/proc``: macOS, Windows).
    """
    getuid = getattr(os, "getuid", None)
    if getuid is None or not portable.has_proc():
        return None
    uid = getuid()
    total = 0
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return None
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(
                line.split(":", 1) for line in (entry / "status").read_text().splitlines()
            )
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return total
