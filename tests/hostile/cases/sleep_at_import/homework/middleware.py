"""Hostile: sleeps for an hour when imported."""

import time

time.sleep(3600)


class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
