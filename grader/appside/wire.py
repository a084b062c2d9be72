"""The channel between the trusted side and the app: length-prefixed JSON frames.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON, one
object per frame. Requests carry an ``id`` chosen by the side that asks;
answers carry the same ``id``, so many requests can be in flight at once
(ten requests made together really run together in the app). The trusted
side asks with ids it numbers; the app asks (``upstream``: an HTTP request
its code made) with ids of its own, told apart by ``"from": "app"``.

Values that JSON cannot hold travel tagged, so the trusted side sees what the
student's code really returned: a ``datetime.date`` stays a date (and fails
``json.dumps`` there too), anything else becomes an ``Opaque`` holding its
``repr``. Everything read from the app is untrusted: ``read_frame`` bounds the
size, and the trusted side checks each field's type where it reads it.

This module is shared by both sides; it imports only the standard library.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import os
import struct
from typing import Any

MAX_FRAME = 32 * 1024 * 1024
_HEADER = struct.Struct(">I")

# The environment variable naming the app's end of the channel: a descriptor
# number, or ``stdio`` (frames on stdin, answers on the original stdout).
APP_FD_ENV = "GRADER_APP_FD"
STDIO = "stdio"


class ChannelClosed(EOFError):
    """The other side is gone (EOF, or a frame cut short)."""


class ProtocolError(ValueError):
    """A frame that breaks the protocol: too large, not JSON, not an object."""


def encode_frame(message: dict[str, Any]) -> bytes:
    """One frame holding ``message``."""
    data = json.dumps(message, separators=(",", ":"), default=_tag).encode()
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"a frame of {len(data)} bytes is over the limit")
    return _HEADER.pack(len(data)) + data


def write_frame(fd: int, message: dict[str, Any]) -> None:
    """Write one frame to ``fd`` whole (callers hold the writer's lock)."""
    data = memoryview(encode_frame(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise ChannelClosed("the channel was closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> dict[str, Any]:
    """Read one frame from ``fd``; ``ChannelClosed`` at EOF, ``ProtocolError`` if malformed."""
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    if size > MAX_FRAME:
        raise ProtocolError(f"a frame of {size} bytes is over the limit")
    try:
        message = json.loads(_read_exactly(fd, size), object_hook=_untag)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"a frame that is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a frame that is not a JSON object")
    return message


# --------------------------------------------------------------------------- values


class Opaque:
    """A value the app's code produced that JSON cannot carry, known by its ``repr``.

    Like the original, it is not JSON-serializable, and it equals nothing but
    another ``Opaque`` with the same ``repr``.
    """

    def __init__(self, text: str, type_name: str) -> None:
        self.text = text
        self.type_name = type_name

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _tag(value: Any) -> Any:
    """JSON for what ``json`` cannot write itself (``json.dumps(default=...)``)."""
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, decimal.Decimal):
        return {"$opaque": repr(value)[:500], "type": "Decimal"}
    return {"$opaque": _safe_repr(value), "type": type(value).__name__}


def _safe_repr(value: object) -> str:
    try:
        return repr(value)[:500]
    except Exception as exc:  # a __repr__ of the student's that fails
        return f"<{type(value).__name__} whose repr failed: {type(exc).__name__}>"


def _untag(obj: dict[str, Any]) -> Any:
    """The value a tagged object stands for (``json.loads(object_hook=...)``)."""
    if len(obj) == 1:
        (key, value), *_ = obj.items()
        if isinstance(value, str):
            try:
                if key == "$date":
                    return datetime.date.fromisoformat(value)
                if key == "$datetime":
                    return datetime.datetime.fromisoformat(value)
                if key == "$bytes":
                    return base64.b64decode(value)
            except ValueError:
                return Opaque(value, "invalid")
    if set(obj) == {"$opaque", "type"}:
        return Opaque(str(obj["$opaque"]), str(obj["type"]))
    return obj


def plain(value: Any) -> Any:
    """``value`` as it will arrive on the other side (tags applied and read back)."""
    return json.loads(json.dumps(value, default=_tag), object_hook=_untag)
