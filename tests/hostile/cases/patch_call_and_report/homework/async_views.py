"""Hostile: replaces pytest's call_and_report so that every phase "passes"."""

import _pytest.runner
from _pytest.reports import TestReport


def _always_passed(item, when, log=True, **kwargs):
    call = _pytest.runner.CallInfo.from_call(lambda: None, when=when)
    report = TestReport.from_item_and_call(item, call)
    if log:
        item.ihook.pytest_runtest_logreport(report=report)
    return report


_pytest.runner.call_and_report = _always_passed


async def hello(request):
    raise NotImplementedError("stub")
