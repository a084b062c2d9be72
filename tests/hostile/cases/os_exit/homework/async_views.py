"""Hostile: ends the process "successfully" in the middle of a test."""

import os


async def hello(request):
    os._exit(0)
