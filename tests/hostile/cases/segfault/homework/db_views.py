"""Hostile: crashes the interpreter (reads address 0)."""

import ctypes


async def tasks(request):
    ctypes.string_at(0)
