"""Run a command as an unprivileged user from a root test run (the grader on a laptop).

The interpreter may live under a folder others cannot enter (``/root``): an
outer bubblewrap (as root) lays an empty tmpfs there and binds the
interpreter's folders back, read-only; everything else is the host's.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.host.sandbox import runtime_paths

TEST_UID = 64001  # no such user: a uid that owns nothing on the machine


def as_unprivileged(command: list[str], readable: tuple[str, ...] = ()) -> list[str]:
    """``command`` as TEST_UID (needs root and bubblewrap); ``readable``: folders it
    must also read (the assignment's repository) wherever the checkout lies.

    Each closed folder gets one empty tmpfs (a second one over the same folder
    would hide what was bound under the first); then every interpreter folder
    beneath it is bound back, its parents made as 0755 directories once each.
    """
    closed_for = {path: _topmost_closed(Path(path)) for path in (*readable, *runtime_paths())}
    closed = {c for c in closed_for.values() if c is not None}
    outer = ["bwrap", "--dev-bind", "/", "/"]
    for folder in sorted(closed, key=lambda c: len(c.parts)):
        if not any(folder != other and folder.is_relative_to(other) for other in closed):
            outer += ["--perms", "0755", "--tmpfs", str(folder)]
    made: set[Path] = set()
    for path, top in closed_for.items():
        if top is None:
            continue
        for parent in reversed(Path(path).parents):
            if parent.is_relative_to(top) and parent not in made and parent not in closed:
                made.add(parent)
                outer += ["--perms", "0755", "--dir", str(parent)]
        outer += ["--ro-bind", path, path]
    setpriv = ["setpriv", f"--reuid={TEST_UID}", f"--regid={TEST_UID}", "--clear-groups"]
    return [*outer, "--", *setpriv, "--", *command]


def _topmost_closed(path: Path) -> Path | None:
    """The highest folder above ``path`` that others may not enter, if any."""
    return next((p for p in reversed(path.parents) if not os.stat(p).st_mode & 0o001), None)
