"""The result channel between a part's pytest process and the grader.

The parent opens a private file and hands the child only its file
descriptor (``pass_fds``), named in ``$GRADER_CHANNEL_FD``. The child's
pytest plugin takes the descriptor as soon as pytest configures (before any
test or answer file is imported): it duplicates it to a non-inheritable
descriptor, closes the original and deletes the variable, so the student's
code finds no path in its environment and subprocesses it starts inherit
nothing. One JSON object per line; the parent reads the file after the child
is gone, at most ``MAX_BYTES`` of it.

Every detail of the channel lives in this module so that it can be hardened
in one place.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV_VAR = "GRADER_CHANNEL_FD"
MAX_BYTES = 8 * 1024 * 1024
MAX_MESSAGE = 4000


class ChannelWriter:
    """The child's end: writes one JSON line per record, unbuffered."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    def from_environment(cls) -> ChannelWriter | None:
        """Take over the descriptor named in the environment (None outside the grader)."""
        raw = os.environ.pop(ENV_VAR, None)
        if raw is None:
            return None
        try:
            inherited = int(raw)
            private = os.dup(inherited)  # dup() gives a non-inheritable descriptor
            os.close(inherited)
        except (ValueError, OSError):
            return None
        return cls(private)

    def send(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line; a closed channel is ignored."""
        data = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError:
            pass


@contextmanager
def open_channel(directory: Path) -> Iterator[tuple[int, Path]]:
    """The parent's end: a fresh file in ``directory`` and a descriptor for the child.

    Yields ``(fd, path)``; give ``fd`` to the child with ``pass_fds`` and
    ``{ENV_VAR: str(fd)}``, then call ``read_records(path)`` once it is gone.
    """
    handle, name = tempfile.mkstemp(prefix="channel-", suffix=".jsonl", dir=directory)
    os.close(handle)
    fd = os.open(name, os.O_WRONLY | os.O_APPEND)
    try:
        yield fd, Path(name)
    finally:
        os.close(fd)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every well-formed record the child wrote (broken lines are skipped)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES)
    except OSError:
        return []
    records: list[dict[str, Any]] = []
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("event"), str):
            records.append(record)
    return records
