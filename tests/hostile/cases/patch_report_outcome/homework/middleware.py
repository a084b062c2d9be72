"""Hostile: makes every pytest report say "passed"."""

from _pytest.reports import BaseReport, TestReport

BaseReport.passed = property(lambda self: True)
BaseReport.failed = property(lambda self: False)
TestReport.outcome = "passed"


class TimingMiddleware:
    def __init__(self, get_response):
        raise NotImplementedError("stub")
