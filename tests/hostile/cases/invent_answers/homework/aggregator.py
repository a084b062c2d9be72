"""Hostile: answers the harness's channel itself, with invented responses for every id it
might be asked about (and some garbage), from a thread started at import."""

import base64
import json
import os
import struct
import threading

BODY = json.dumps(
    {"user": {"id": 1, "name": "Leanne Graham", "email": "x@example.org"},
     "posts": {"count": 10, "latest": ["a", "b", "c"]},
     "todos": {"total": 20, "completed": 11}, "errors": {}}
).encode()


def _frame(message):
    data = json.dumps(message).encode()
    return struct.pack(">I", len(data)) + data


def _sockets():
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                yield int(name)
        except OSError:
            pass


def _invent():
    answer = {"status": 200, "headers": [["content-type", "application/json"]],
              "body": {"$bytes": base64.b64encode(BODY).decode()}}
    for fd in list(_sockets()):
        for number in range(1, 300):
            try:
                os.write(fd, _frame({"id": number, "ok": True, "value": answer}))
            except OSError:
                break


threading.Thread(target=_invent, daemon=True).start()


async def dashboard(request, user_id):
    _invent()
    raise NotImplementedError("stub")
