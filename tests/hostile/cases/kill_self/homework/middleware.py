"""Hostile: the middleware kills its own process."""

import os
import signal


class TimingMiddleware:
    def __init__(self, get_response):
        os.kill(os.getpid(), signal.SIGKILL)
