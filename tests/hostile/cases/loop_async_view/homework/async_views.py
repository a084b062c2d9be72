"""Hostile: an async view that never returns and never awaits (blocks the event loop)."""


async def hello(request):
    while True:
        pass
