"""Hostile: a sync view stuck in an endless loop."""


def tasks(request):
    while True:
        pass
