"""What crosses the result channel, typed: one dataclass per kind of record.

The trusted pytest process (``grader.judge.plugin``) builds these records, the
host (``grader.host.runner``) synthesizes a few of its own (a test during which
the process died) and the engine (``grader.engine.grading``) reads them. The
channel (``grader.judge.channel``) only frames, signs and sequences JSON
objects; the shape of each object is defined here, once, for both ends.

The channel crosses a trust boundary: its file is written by a process that
ran beside code the grader does not trust. ``parse_record`` therefore checks
every field's type and rejects anything else with a ``RecordError`` that says
what was wrong; ``parse_records`` turns such rejections into integrity problems
for the instructor instead of letting a malformed record reach a grade.

``GradingDigests`` is the one payload that travels the other way, with the
channel's key: the digests of the pristine grading files, which the plugin
checks after collection.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias, TypeVar

from grader.model.results import STATUSES, Status


class RecordError(ValueError):
    """A channel record (or payload) that does not have the shape its kind requires."""


_T = TypeVar("_T")


def _field(raw: Mapping[str, Any], name: str, kind: type[_T], event: str) -> _T:
    """``raw[name]``, which must be a ``kind`` (a bool is no number here)."""
    if name not in raw:
        raise RecordError(f"{event!r} record without {name!r}")
    value = raw[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise RecordError(
            f"{event!r} record: {name!r} is {type(value).__name__}, not {kind.__name__}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise RecordError(f"{event!r} record: {name!r} is not a finite number")
    return value


@dataclass(frozen=True)
class CollectedTest:
    """A collected test: its id, file, points (None: unusable, ``problem`` says why), line."""

    nodeid: str
    file: str
    points: float | None
    problem: str
    line_no: int
    in_app_evidence: bool = False

    def to_json(self) -> dict[str, Any]:
        """The JSON object the channel carries."""
        return {
            "nodeid": self.nodeid,
            "file": self.file,
            "points": self.points,
            "problem": self.problem,
            "line_no": self.line_no,
            "in_app_evidence": self.in_app_evidence,
        }

    @classmethod
    def from_json(cls, raw: object) -> CollectedTest:
        """Check and read one test of a ``collected`` record."""
        if not isinstance(raw, dict):
            raise RecordError(f"'collected' record: a test is {type(raw).__name__}, not dict")
        event = "collected"
        points = raw.get("points")
        return cls(
            nodeid=_field(raw, "nodeid", str, event),
            file=_field(raw, "file", str, event),
            points=None if points is None else _field(raw, "points", float, event),
            problem=_field(raw, "problem", str, event),
            line_no=_field(raw, "line_no", int, event),
            in_app_evidence=_field(raw, "in_app_evidence", bool, event),
        )


@dataclass(frozen=True)
class Collected:
    """Every test that will run, with its points, sent before the first one starts."""

    EVENT: ClassVar[str] = "collected"
    tests: tuple[CollectedTest, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON object the channel carries."""
        return {"event": self.EVENT, "tests": [test.to_json() for test in self.tests]}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Collected:
        """Check and read a ``collected`` record."""
        tests = _field(raw, "tests", list, cls.EVENT)
        return cls(tuple(CollectedTest.from_json(test) for test in tests))


@dataclass(frozen=True)
class CollectError:
    """A test file that could not be collected, and the exception lines that say why."""

    EVENT: ClassVar[str] = "collect_error"
    nodeid: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object the channel carries."""
        return {"event": self.EVENT, "nodeid": self.nodeid, "message": self.message}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CollectError:
        """Check and read a ``collect_error`` record."""
        return cls(_field(raw, "nodeid", str, cls.EVENT), _field(raw, "message", str, cls.EVENT))


@dataclass(frozen=True)
class Start:
    """A test starts: if the process dies now, the grader knows during which test."""

    EVENT: ClassVar[str] = "start"
    nodeid: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object the channel carries."""
        return {"event": self.EVENT, "nodeid": self.nodeid}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Start:
        """Check and read a ``start`` record."""
        return cls(_field(raw, "nodeid", str, cls.EVENT))


@dataclass(frozen=True)
class Result:
    """A test's one final outcome: status, message for the student, seconds, line."""

    EVENT: ClassVar[str] = "result"
    nodeid: str
    outcome: Status
    message: str
    duration: float
    line_no: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON object the channel carries."""
        return {
            "event": self.EVENT,
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "message": self.message,
            "duration": self.duration,
            "line_no": self.line_no,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Result:
        """Check and read a ``result`` record (the outcome must be a known status)."""
        outcome = _field(raw, "outcome", str, cls.EVENT)
        status = next((s for s in STATUSES if s == outcome), None)
        if status is None:
            raise RecordError(f"'result' record: unknown outcome {outcome[:40]!r}")
        return cls(
            nodeid=_field(raw, "nodeid", str, cls.EVENT),
            outcome=status,
            message=_field(raw, "message", str, cls.EVENT),
            duration=_field(raw, "duration", float, cls.EVENT),
            line_no=_field(raw, "line_no", int, cls.EVENT),
        )


@dataclass(frozen=True)
class Tampered:
    """The plugin found the grading machinery changed (each finding is sent once)."""

    EVENT: ClassVar[str] = "tampered"
    what: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON object the channel carries."""
        return {"event": self.EVENT, "what": list(self.what)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Tampered:
        """Check and read a ``tampered`` record."""
        what = _field(raw, "what", list, cls.EVENT)
        if not all(isinstance(item, str) for item in what):
            raise RecordError("'tampered' record: 'what' holds something other than text")
        return cls(tuple(what))


@dataclass(frozen=True)
class Finish:
    """The session ended, with pytest's exit status."""

    EVENT: ClassVar[str] = "finish"
    exitstatus: int

    def to_json(self) -> dict[str, Any]:
        """The JSON object the channel carries."""
        return {"event": self.EVENT, "exitstatus": self.exitstatus}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Finish:
        """Check and read a ``finish`` record."""
        return cls(_field(raw, "exitstatus", int, cls.EVENT))


Record: TypeAlias = Collected | CollectError | Start | Result | Tampered | Finish
_KINDS: dict[str, Any] = {
    kind.EVENT: kind for kind in (Collected, CollectError, Start, Result, Tampered, Finish)
}


def parse_record(raw: object) -> Record:
    """The typed record for one JSON object read from the channel; ``RecordError`` if the
    object is not a record of a known kind with every field of the right type."""
    if not isinstance(raw, dict):
        raise RecordError(f"a record is {type(raw).__name__}, not a JSON object")
    event = raw.get("event")
    kind = _KINDS.get(event) if isinstance(event, str) else None
    if kind is None:
        raise RecordError(f"unknown record kind {str(event)[:40]!r}")
    record: Record = kind.from_json(raw)
    return record


def parse_records(raws: Iterable[object]) -> tuple[list[Record], list[str]]:
    """The well-formed records, and one integrity problem per malformed one (dropped)."""
    records: list[Record] = []
    problems: list[str] = []
    for raw in raws:
        try:
            records.append(parse_record(raw))
        except RecordError as exc:
            problems.append(f"a malformed record in the result channel was dropped: {exc}")
    return records, problems


@dataclass(frozen=True)
class GradingDigests:
    """``{path relative to the workspace: sha256}`` of the pristine grading files.

    The host sends it with the channel's key; the plugin checks the files on
    disk against it after collection.
    """

    files: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """The payload handed over with the key."""
        return {"digests": dict(self.files)}

    @classmethod
    def from_json(cls, raw: object) -> GradingDigests:
        """Check and read the payload; ``RecordError`` if it is not a map of text to text."""
        digests = raw.get("digests") if isinstance(raw, dict) else None
        if not isinstance(digests, dict):
            raise RecordError("the channel's payload holds no 'digests' object")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in digests.items()):
            raise RecordError("the channel's payload: a digest that is not text")
        return cls(dict(digests))
