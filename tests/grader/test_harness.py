"""The split harness's own rules, each shown failing where it should.

* the wire: frames are bounded and must be JSON objects; values the student's code
  returns arrive as what they are (a date stays a date, an unserializable object
  stays unserializable);
* in-app evidence cannot hide: ``app.fact``/``app.watch`` refuse to run in a test
  without the ``in_app_evidence`` marker, and the reports count the marked points.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import struct
from pathlib import Path

import pytest

from grader.appside import wire
from grader.engine.grading import grade
from grader.model.rubric import load_rubric
from grader.reports import json_report
from tests.support.fake_assignment import REFERENCE, make_assignment, submission


def test_values_arrive_as_what_they_are() -> None:
    sent: dict[str, object] = {
        "date": datetime.date(2025, 3, 9),
        "when": datetime.datetime(2025, 3, 9, 1, 2),
    }
    sent["raw"] = b"\x00\xff"
    sent["other"] = object()
    got = wire.plain(sent)
    assert got["date"] == datetime.date(2025, 3, 9)
    assert got["when"] == datetime.datetime(2025, 3, 9, 1, 2)
    assert got["raw"] == b"\x00\xff"
    assert isinstance(got["other"], wire.Opaque) and "object" in repr(got["other"])
    with pytest.raises(TypeError):
        json.dumps(got["date"])  # as the original: a date is not JSON
    with pytest.raises(TypeError):
        json.dumps(got["other"])


def test_frames_are_bounded_and_must_be_objects() -> None:
    read, write = os.pipe()
    try:
        os.write(write, struct.pack(">I", wire.MAX_FRAME + 1))
        with pytest.raises(wire.ProtocolError, match="over the limit"):
            wire.read_frame(read)
        data = b"[1, 2]"
        os.write(write, struct.pack(">I", len(data)) + data)
        with pytest.raises(wire.ProtocolError, match="not a JSON object"):
            wire.read_frame(read)
        data = b"{not json"
        os.write(write, struct.pack(">I", len(data)) + data)
        with pytest.raises(wire.ProtocolError, match="not JSON"):
            wire.read_frame(read)
        wire.write_frame(write, {"id": 1, "value": [1, 2]})
        assert wire.read_frame(read) == {"id": 1, "value": [1, 2]}
        os.close(write)
        with pytest.raises(wire.ChannelClosed):
            wire.read_frame(read)
    finally:
        for fd in (read, write):
            with contextlib.suppress(OSError):
                os.close(fd)


EVIDENCE_SUITE = """\
import pytest


@pytest.mark.points(1)
@pytest.mark.in_app_evidence
def test_marked(app):
    assert app.fact("coroutine_function", target="homework.alpha.add")["found"]


@pytest.mark.points(1)
def test_unmarked(app):
    assert app.fact("coroutine_function", target="homework.alpha.add")["found"]


@pytest.mark.points(1)
def test_plain(app):
    assert app.call("homework.alpha.add", 1, 2) == 3
"""


def test_in_app_evidence_cannot_hide_and_is_counted(tmp_path: Path) -> None:
    root = make_assignment(tmp_path / "a")
    (root / "assignment/tests/public/test_alpha.py").write_text(EVIDENCE_SUITE)
    (root / "assignment/tests/hidden/test_alpha.py").unlink()
    rubric = load_rubric(root)
    sub = submission(tmp_path / "s", dict(REFERENCE))
    result = grade(sub, rubric=rubric, parts=["alpha"])
    alpha = next(p for p in result.parts if p.id == "alpha")
    by_name = {t.name.rsplit("::", 1)[1]: t for t in alpha.tests}
    assert by_name["test_marked"].status == "passed"
    assert by_name["test_plain"].status == "passed"
    unmarked = by_name["test_unmarked"]
    assert unmarked.status == "error"
    assert "UnmarkedEvidence" in unmarked.message and "in_app_evidence" in unmarked.message
    data = json.loads(json_report.render(result))
    [part] = [p for p in data["parts"] if p["id"] == "alpha"]
    assert part["in_app_points"] == 1
    assert {t["name"].rsplit("::", 1)[1]: t["in_app_evidence"] for t in part["tests"]} == {
        "test_marked": True,
        "test_unmarked": False,
        "test_plain": False,
    }
