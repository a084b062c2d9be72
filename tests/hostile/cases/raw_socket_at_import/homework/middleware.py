"""Hostile: a raw socket opened when the module is imported."""

import socket

CONNECTION = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
CONNECTION.connect(("127.0.0.1", 6379))


class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
