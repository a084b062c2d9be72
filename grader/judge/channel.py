"""The result channel between a part's pytest process and the grader.

The parent opens a private file and hands the child only its file
descriptor (``pass_fds``), named in ``$GRADER_CHANNEL_FD``. The child's
pytest plugin takes the descriptor as soon as pytest configures (before any
test or answer file is imported): it duplicates it to a non-inheritable
descriptor, closes the original and deletes the variable, so the student's
code finds no path in its environment and subprocesses it starts inherit
nothing. One JSON object per line; the parent reads the file after the child
is gone, at most ``MAX_BYTES`` of it. This module frames the objects; what
each one holds is ``grader.judge.records``'s to define and check.

Every detail of the channel lives in this module so that it can be hardened
in one place.

Signed records (``open_signed_channel``): the grader also hands the child a
pipe holding a fresh random key (and the digests of the grading files); the
child reads it, closes it, and writes each record as ``<HMAC> <JSON>`` with a
sequence number. The grader keeps only lines signed with the key, in
sequence, once each: a line written to the descriptor by anyone who does not
hold the key, a replayed line or a second result for the same test is an
integrity problem. The key lives only in the child's memory, so code in the
same process can in principle still find it (see ``grader/SECURITY.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

ENV_VAR = "GRADER_CHANNEL_FD"
HANDOFF = "stdin"  # $GRADER_CHANNEL_FD's value when the channel comes on stdin instead
MAX_BYTES = 8 * 1024 * 1024
MAX_MESSAGE = 4000


class ChannelWriter:
    """The child's end: writes one JSON line per record, unbuffered."""

    def __init__(self, fd: int, key: bytes | None = None, payload: Any = None) -> None:
        self._fd = fd
        self._key = key
        self._seq = 0
        self.payload = payload  # what the grader sent with the key (file digests)
        self._lock = threading.Lock()  # the plugin's watchdog writes from a thread

    @classmethod
    def from_environment(cls) -> ChannelWriter | None:
        """Take over the descriptor named in the environment (None outside the grader)."""
        raw = os.environ.pop(ENV_VAR, None)
        if raw is None:
            return None
        if raw == HANDOFF:
            return cls._from_stdin()
        channel_fd, _, key_fd = raw.partition(",")
        try:
            inherited = int(channel_fd)
            private = os.dup(inherited)  # dup() gives a non-inheritable descriptor
            os.close(inherited)
        except (ValueError, OSError):
            return None
        if not key_fd:
            return cls(private)
        key, payload = _read_key(key_fd)
        return cls(private, key, payload)

    @classmethod
    def _from_stdin(cls) -> ChannelWriter | None:
        """Where descriptors cannot be passed (Windows): the channel's path, the key and
        the payload arrive as one JSON object on stdin, read to its end before any
        answer file is imported; stdin is then the null device."""
        try:
            chunks = []
            while chunk := os.read(0, 65536):
                chunks.append(chunk)
            handoff = json.loads(b"".join(chunks))
            fd = os.open(str(handoff["path"]), os.O_WRONLY | os.O_APPEND)
            key = bytes.fromhex(str(handoff["key"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        with contextlib.suppress(OSError):
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
        return cls(fd, key, handoff.get("payload"))

    def send(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line, signed if there is a key; a closed channel is ignored."""
        with self._lock:  # numbering and writing together: lines stay in sequence
            if self._key is None:
                data = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
            else:
                self._seq += 1
                body = json.dumps({**record, "seq": self._seq}, ensure_ascii=False, default=str)
                mac = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
                data = f"{mac} {body}\n".encode()
            view = memoryview(data)
            try:
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
            except OSError:
                pass

    def close(self) -> None:
        """Close the descriptor (the grader reads the file once the process is gone)."""
        with contextlib.suppress(OSError):
            os.close(self._fd)


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
        with contextlib.suppress(OSError):  # the child may share and close it in-process
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


def _read_key(key_fd: str) -> tuple[bytes | None, Any]:
    """The key and payload from the grader's pipe (closed after reading)."""
    try:
        fd = int(key_fd)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        os.close(fd)
        first, _, rest = b"".join(chunks).partition(b"\n")
        return bytes.fromhex(first.decode()), json.loads(rest) if rest.strip() else None
    except (ValueError, OSError):
        return b"", None  # an empty key signs nothing the grader accepts


class SignedChannel(NamedTuple):
    """The parent's end of a signed channel (see ``open_signed_channel``)."""

    fds: tuple[int, int]  # give both to the child with ``pass_fds``
    env_value: str  # the value of ``$GRADER_CHANNEL_FD``
    path: Path
    key: bytes
    payload: Any = None

    def handoff(self) -> bytes:
        """For a child that cannot inherit descriptors: write this to its stdin and
        set ``$GRADER_CHANNEL_FD`` to ``HANDOFF``."""
        return json.dumps(
            {"path": str(self.path), "key": self.key.hex(), "payload": self.payload}
        ).encode()


@contextmanager
def open_signed_channel(directory: Path, payload: Any = None) -> Iterator[SignedChannel]:
    """Like ``open_channel``, plus a pipe holding a fresh key and ``payload``.

    Read the records with ``read_signed(channel.path, channel.key)`` once the
    child is gone.
    """
    key = secrets.token_bytes(32)
    read_end, write_end = os.pipe()
    try:
        data = key.hex().encode() + b"\n" + json.dumps(payload).encode()
        set_blocking = getattr(os, "set_blocking", None)  # Windows before 3.12: none
        if set_blocking is not None:
            with contextlib.suppress(OSError):  # pipes cannot be made non-blocking everywhere
                set_blocking(write_end, False)
        os.write(write_end, data)  # small (a key and a few digests): fits the pipe
    finally:
        os.close(write_end)
    try:
        with open_channel(directory) as (fd, path):
            yield SignedChannel((fd, read_end), f"{fd},{read_end}", path, key, payload)
    finally:
        with contextlib.suppress(OSError):
            os.close(read_end)


def read_signed(path: Path, key: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """The records signed with ``key``, in sequence, and the integrity problems found.

    A problem is a line without a valid signature (written to the descriptor
    by code that does not hold the key), a record out of sequence or
    repeated (replayed, or written by a forked copy of the process), or a
    second result for a test that already has one. The problems are for the
    instructor; the records kept are the first, genuine ones.
    """
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES)
    except OSError:
        return [], []
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    unsigned = repeated = 0
    expected_seq = 1
    results: set[str] = set()
    for line in data.splitlines():
        mac, _, body = line.partition(b" ")
        good = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(mac, good):
            unsigned += 1
            continue
        record = json.loads(body)
        if record.get("seq") != expected_seq:
            repeated += 1
            continue
        expected_seq += 1
        if record.get("event") == "result":
            nodeid = str(record.get("nodeid"))
            if nodeid in results:
                problems.append(f"two results for {nodeid}")
                continue
            results.add(nodeid)
        if record.get("event") == "tampered":
            problems.append("the grading process found changes: " + str(record.get("what")))
        records.append(record)
    if unsigned:
        problems.append(
            f"{unsigned} line(s) in the result channel were not written by the grader's plugin "
            "(something wrote to its file descriptor)"
        )
    if repeated:
        problems.append(
            f"{repeated} record(s) arrived out of sequence or twice "
            "(replayed lines, or a forked copy of the test process reporting)"
        )
    return records, problems
