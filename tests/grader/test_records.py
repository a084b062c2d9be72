"""The typed channel records: each kind survives the trip, and malformed ones are refused."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from grader.host.forkrequest import ForkRequest, RequestError
from grader.judge.channel import ENV_VAR, ChannelWriter, open_signed_channel, read_signed
from grader.judge.records import (
    Collected,
    CollectedTest,
    CollectError,
    Finish,
    GradingDigests,
    Record,
    RecordError,
    Result,
    Start,
    Tampered,
    parse_record,
    parse_records,
)

EVERY_KIND: list[Record] = [
    Collected(
        (
            CollectedTest("t.py::a", "t.py", 2.5, "", 3, True),
            CollectedTest("t.py::b", "t.py", None, "no marker", 9),
        )
    ),
    CollectError("t.py", "SyntaxError: invalid syntax"),
    Start("t.py::a"),
    Result("t.py::a", "timeout", "Your code did not finish", duration=1.5, line_no=3),
    Tampered(("os.write was replaced",)),
    Finish(2),
]


@pytest.mark.parametrize("record", EVERY_KIND, ids=lambda r: type(r).__name__)
def test_every_kind_survives_the_trip(record: Record) -> None:
    assert parse_record(record.to_json()) == record


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ([], "not a JSON object"),
        ({"event": "hello"}, "unknown record kind 'hello'"),
        ({"nodeid": "t"}, "unknown record kind"),
        ({"event": "start"}, "'start' record without 'nodeid'"),
        ({"event": "start", "nodeid": 7}, "'nodeid' is int, not str"),
        ({"event": "finish", "exitstatus": True}, "'exitstatus' is bool, not int"),
        (
            {"event": "result", "nodeid": "t", "outcome": "won", "message": "", "duration": 0.0},
            "unknown outcome 'won'",
        ),
        (
            {"event": "result", "nodeid": "t", "outcome": "passed", "message": "", "duration": 0},
            "without 'line_no'",
        ),
        (
            {
                "event": "result",
                "nodeid": "t",
                "outcome": "passed",
                "message": "",
                "duration": float("nan"),
                "line_no": 1,
            },
            "not a finite number",
        ),
        ({"event": "collected", "tests": [1]}, "a test is int"),
        ({"event": "tampered", "what": [1]}, "other than text"),
    ],
)
def test_malformed_records_are_refused_with_a_reason(raw: Any, says: str) -> None:
    with pytest.raises(RecordError, match=re.escape(says)):
        parse_record(raw)


def test_a_whole_number_duration_is_a_float() -> None:
    raw = {"event": "result", "nodeid": "t", "outcome": "passed", "message": ""}
    record = parse_record({**raw, "duration": 1, "line_no": 4})
    assert isinstance(record, Result) and record.duration == 1.0


def test_malformed_signed_records_become_integrity_problems(tmp_path: Path) -> None:
    with open_signed_channel(tmp_path) as channel:
        os.environ[ENV_VAR] = f"{os.dup(channel.fds[0])},{os.dup(channel.fds[1])}"
        child = ChannelWriter.from_environment()
        assert child is not None
        child.send(Start("t1").to_json())
        child.send({"event": "result", "nodeid": "t1", "outcome": "passed"})  # signed, short
        child.close()
        raw, problems = read_signed(channel.path, channel.key)
    records, malformed = parse_records(raw)
    assert records == [Start("t1")] and problems == []
    assert malformed == [
        "a malformed record in the result channel was dropped: 'result' record without 'message'"
    ]


def test_the_digests_payload_is_checked() -> None:
    digests = GradingDigests({"pytest.ini": "ab12"})
    assert GradingDigests.from_json(digests.to_json()) == digests
    malformed: list[object] = [None, {}, {"digests": []}, {"digests": {"pytest.ini": 1}}]
    for bad in malformed:
        with pytest.raises(RecordError):
            GradingDigests.from_json(bad)


def test_a_fork_request_survives_the_trip_and_a_malformed_one_is_refused() -> None:
    request = ForkRequest(
        ["-q"], {"HOME": "/h"}, "/w", 1024, 2048, ["/g"], 64, {"pid": 5, "uid": 9}
    )
    assert ForkRequest.from_json(request.to_json()) == request
    broken = {**json.loads(request.to_json()), "memory": "lots", "sandbox": {"pid": 5}}
    with pytest.raises(RequestError, match="malformed fields: memory, sandbox"):
        ForkRequest.from_json(json.dumps(broken).encode())
    with pytest.raises(RequestError, match="not a JSON object"):
        ForkRequest.from_json(b"[]")
