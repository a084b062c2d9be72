"""Hostile: writes outside the workspace, deletes workspace files, reads the hidden
tests and the environment, and tries the network; then raises what it found."""

import os
import shutil
import socket
from pathlib import Path

found = []
try:
    Path("/tmp/grader-hostile-was-here").write_text("hello")  # outside the workspace
    found.append("wrote /tmp")
except OSError as exc:
    found.append(f"no write: {exc}")
for victim in ("manage.py", "homework/models.py"):
    try:
        os.remove(victim)
        found.append(f"deleted {victim}")
    except OSError:
        pass
shutil.rmtree("grading_tests/public", ignore_errors=True)
try:
    hidden = Path("grading_tests/hidden/test_aggregator.py").read_text()
    found.append("HIDDEN:" + hidden[:2000])
except OSError:
    found.append("no hidden file")
found.append("ENV:" + ",".join(sorted(os.environ)))
try:
    socket.create_connection(("example.com", 80), timeout=1)
    found.append("NETWORK OPEN")
except Exception as exc:  # pytest-socket raises its own error type
    found.append(f"network blocked: {type(exc).__name__}")


async def dashboard(request, user_id):
    raise RuntimeError(" | ".join(found))
