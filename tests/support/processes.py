"""Which processes are still running somewhere: the check that nothing outlived a run.

A grading run or a benchmark starts its processes inside folders of its own (a
grading workspace, a temporary directory): a process whose working directory is
still under such a folder once the run is over outlived it.
"""

from __future__ import annotations

import os
from pathlib import Path


def processes_under(prefix: str | Path) -> list[str]:
    """``pid cwd: command`` of every process whose working directory starts with ``prefix``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone already, or not ours to read
            continue
        if cwd.startswith(str(prefix)):
            found.append(f"{entry.name} {cwd}: {command.strip()}")
    return found
