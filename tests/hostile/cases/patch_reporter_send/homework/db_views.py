"""Hostile: rewrites every record the grader's plugin sends to "passed"."""

import gc

from grader.judge import plugin as pytest_plugin
from grader.judge.channel import ChannelWriter

_original = ChannelWriter.send


def _send(self, record):
    if record.get("event") == "result":
        record = {**record, "outcome": "passed", "message": ""}
    _original(self, record)


ChannelWriter.send = _send
pytest_plugin.Reporter.pytest_runtest_logreport = lambda self, report: None
for thing in gc.get_objects():
    if isinstance(thing, pytest_plugin.Reporter):
        thing._writer.send = _send.__get__(thing._writer)


async def tasks(request):
    raise NotImplementedError("stub")
