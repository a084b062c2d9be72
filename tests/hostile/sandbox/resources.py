"""Sandbox attack: fill /tmp and /dev/shm, and four children of 1 GiB each (an
address-space limit per process does not stop them). Part: orm_threadpool."""

import os
import time


def _fill(folder, megabytes):
    block = b"x" * (1024 * 1024)
    try:
        with open(os.path.join(folder, "hostile-fill-__MARK__"), "wb") as stream:
            for _ in range(megabytes):
                stream.write(block)
    except OSError:
        pass


_fill("/tmp", 800)
_fill("/dev/shm", 400)
for _ in range(4):
    if os.fork() == 0:
        try:
            hog = bytearray(1024**3)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            time.sleep(60)
        finally:
            os._exit(0)


async def tasks(request):
    raise NotImplementedError("resources")
