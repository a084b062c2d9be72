"""Hostile: allocates memory until something stops it."""

hoard = []


async def hello(request):
    while True:
        hoard.append(bytes(256 * 1024 * 1024))
