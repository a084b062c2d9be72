"""Run a command as an unprivileged user from a root test run (the grader on a laptop).

The interpreter may live under a folder others cannot enter (``/root``): an
outer bubblewrap (as root) lays an empty tmpfs there and binds the
interpreter's folders back, read-only; everything else is the host's.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.sandbox import runtime_paths

TEST_UID = 64001  # no such user: a uid that owns nothing on the machine


def as_unprivileged(command: list[str]) -> list[str]:
    """``command`` as TEST_UID (needs root and bubblewrap)."""
    outer = ["bwrap", "--dev-bind", "/", "/"]
    for path in runtime_paths():
        closed = next(
            (p for p in reversed(Path(path).parents) if not os.stat(p).st_mode & 0o001), None
        )
        if closed is not None:
            outer += ["--perms", "0755", "--tmpfs", str(closed)]
            for parent in reversed(Path(path).parents):
                if parent.is_relative_to(closed) and parent != closed:
                    outer += ["--perms", "0755", "--dir", str(parent)]
            outer += ["--ro-bind", path, path]
    setpriv = ["setpriv", f"--reuid={TEST_UID}", f"--regid={TEST_UID}", "--clear-groups"]
    return [*outer, "--", *setpriv, "--", *command]
