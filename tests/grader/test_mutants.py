"""Mutants as edits of the reference: the spec's refusals, materialization, staleness.

A mutant is stored as find/replace edits of the CURRENT reference, so a
reference change can leave a mutant's ``find`` text behind. That must fail
``grader verify`` with the reason, never be graded as the unchanged reference.
The verify runs here use the tiny fake assignment (seconds, not minutes).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from grader.commands.cli import main
from grader.instructor.mutants import (
    Edit,
    StaleEditError,
    apply_edits,
    load_mutant,
    materialize,
)
from grader.instructor.verify import load_variants, verify
from grader.model.errors import GraderError
from grader.model.rubric import load_rubric
from tests.support import ROOT
from tests.support.fake_assignment import REFERENCE, make_assignment

HEAD = 'part = "alpha"\nmin_points_lost = 1\ndescription = "subtracts"\n'


def edit(file: str, find: str, replace: str) -> str:
    """One ``[[edit]]`` table (TOML basic strings: the values hold no quotes or backslashes)."""
    return f'\n[[edit]]\nfile = "{file}"\nfind = "{find}"\nreplace = "{replace}"\n'


def mutant(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mutant.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    """The fake assignment's reference answers: alpha ``a + b``, beta ``Hello, {name}!``."""
    return make_assignment(tmp_path / "fake") / "assignment" / "solution"


# ---------------------------------------------------------------------------- the spec


def test_a_well_formed_spec_loads_with_its_edits(tmp_path: Path) -> None:
    spec = load_mutant(mutant(tmp_path / "m", HEAD + edit("homework/alpha.py", "a + b", "a - b")))
    assert (spec.name, spec.part, spec.min_points_lost) == ("m", "alpha", 1.0)
    assert spec.description == "subtracts"
    assert spec.edits == (Edit("homework/alpha.py", "a + b", "a - b"),)
    assert spec.files == ("homework/alpha.py",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEAD, r"needs at least one \[\[edit\]\]"),
        ("part = \n", "cannot be read"),
        (HEAD.replace('"subtracts"', '""') + edit("homework/alpha.py", "+", "-"), "description"),
        (HEAD.replace("= 1", "= -1") + edit("homework/alpha.py", "+", "-"), "min_points_lost"),
        (HEAD.replace("= 1", "= true") + edit("homework/alpha.py", "+", "-"), "min_points_lost"),
        (HEAD + 'edit = "a + b"\n', r"needs at least one \[\[edit\]\]"),
        (HEAD + '\n[[edit]]\nfile = "homework/alpha.py"\nreplace = "-"\n', "find must be"),
        (HEAD + '\n[[edit]]\nfile = "homework/alpha.py"\nfind = "+"\n', "replace must be"),
        (HEAD + edit("homework/alpha.py", "", "-"), "find must be a non-empty"),
        (HEAD + edit("homework/alpha.py", "+", "+"), "changes nothing"),
        (HEAD + edit("../secrets.py", "+", "-"), "plain relative path"),
        (HEAD + edit("/etc/passwd", "+", "-"), "plain relative path"),
        (HEAD + edit("homework/alpha.py", "+", "-") + 'typo = "x"\n', "unknown key"),
        (HEAD + "extra = 1\n" + edit("homework/alpha.py", "+", "-"), "unknown key"),
    ],
    ids=[
        "no-edit",
        "bad-toml",
        "blank-description",
        "negative-points",
        "boolean-points",
        "edit-not-a-table",
        "no-find",
        "no-replace",
        "empty-find",
        "no-op",
        "escaping-path",
        "absolute-path",
        "unknown-edit-key",
        "unknown-top-key",
    ],
)
def test_a_malformed_spec_is_a_clear_grader_error(tmp_path: Path, text: str, message: str) -> None:
    folder = mutant(tmp_path / "m", text)
    with pytest.raises(GraderError, match=message) as caught:
        load_mutant(folder)
    assert str(folder / "mutant.toml") in str(caught.value)  # says which file
    assert not isinstance(caught.value, StaleEditError)


def test_a_missing_spec_is_a_grader_error(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(GraderError, match="cannot be read"):
        load_mutant(tmp_path / "m")


# ---------------------------------------------------------------------------- materialize


def test_materialize_writes_exactly_the_edited_file(tmp_path: Path, reference: Path) -> None:
    folder = mutant(tmp_path / "m", HEAD + edit("homework/alpha.py", "a + b", "a - b"))
    dest = tmp_path / "out"
    assert materialize(folder, reference, dest) == dest
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert written == ["homework/alpha.py"]
    assert (dest / "homework/alpha.py").read_text() == REFERENCE["homework/alpha.py"].replace(
        "a + b", "a - b"
    )
    assert (reference / "homework/alpha.py").read_text() == REFERENCE["homework/alpha.py"]


def test_materialize_applies_several_edits_to_several_files(
    tmp_path: Path, reference: Path
) -> None:
    folder = mutant(
        tmp_path / "m",
        HEAD
        + edit("homework/alpha.py", "return", "return 0 +")
        + edit("homework/alpha.py", "a + b", "a - b")
        + edit("homework/beta.py", "Hello", "Bye"),
    )
    dest = materialize(folder, reference, tmp_path / "out")
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert written == ["homework/alpha.py", "homework/beta.py"]
    assert (dest / "homework/alpha.py").read_text() == "def add(a, b):\n    return 0 + a - b\n"
    beta = (dest / "homework/beta.py").read_text()
    assert beta == 'def greet(name):\n    return f"Bye, {name}!"\n'


@pytest.mark.parametrize(
    ("find", "problem"),
    [("a * b", "find text not found"), ("b", "found 2 times")],
    ids=["absent", "twice"],
)
def test_a_stale_edit_raises_with_the_reason(
    tmp_path: Path, reference: Path, find: str, problem: str
) -> None:
    folder = mutant(tmp_path / "m", HEAD + edit("homework/alpha.py", find, "x"))
    with pytest.raises(StaleEditError, match=problem) as caught:
        materialize(folder, reference, tmp_path / "out")
    assert "mutant m: its edit no longer applies to the reference" in str(caught.value)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_edits_may_not_overlap(tmp_path: Path, reference: Path) -> None:
    """The second find is in the reference once, but the first edit consumed it."""
    folder = mutant(
        tmp_path / "m",
        HEAD
        + edit("homework/alpha.py", "a + b", "a - b")
        + edit("homework/alpha.py", "+ b", "* b"),
    )
    with pytest.raises(StaleEditError, match="after the edits before it"):
        apply_edits(load_mutant(folder), reference)


def test_an_edit_of_a_file_the_reference_lacks_is_stale(tmp_path: Path, reference: Path) -> None:
    folder = mutant(tmp_path / "m", HEAD + edit("homework/gamma.py", "a", "b"))
    with pytest.raises(StaleEditError, match="does not exist"):
        apply_edits(load_mutant(folder), reference)


# ---------------------------------------------------------------------------- verify


@pytest.fixture
def fake_with_mutants(tmp_path: Path) -> Path:
    """The fake assignment with one good mutant and two stale ones."""
    root = make_assignment(tmp_path / "fake")
    mutants = root / "assignment" / "mutants"
    mutant(mutants / "good", HEAD + edit("homework/alpha.py", "a + b", "a - b"))
    mutant(mutants / "gone", HEAD + edit("homework/alpha.py", "a * b", "a - b"))
    mutant(mutants / "twice", HEAD + edit("homework/alpha.py", "b", "c"))
    return root


def test_verify_fails_a_stale_mutant_and_still_grades_the_others(fake_with_mutants: Path) -> None:
    report = verify(load_rubric(fake_with_mutants), repeat=1, jobs=2)
    checks = {check.subject: check for check in report.checks}
    assert not report.ok
    assert checks["mutant good"].level == "ok", checks["mutant good"]
    for name, problem in (("gone", "find text not found"), ("twice", "found 2 times")):
        check = checks[f"mutant {name}"]
        assert check.level == "fail"
        assert f"mutant {name}: its edit no longer applies to the reference" in check.detail
        assert problem in check.detail


def test_grader_verify_exits_1_on_a_stale_mutant(
    fake_with_mutants: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "verify.json"
    status = main(
        [
            "verify",
            "--root",
            str(fake_with_mutants),
            "--repeat",
            "1",
            "--only",
            "gone",
            "--json",
            str(out),
        ]
    )
    assert status == 1
    report = json.loads(out.read_text())
    [check] = [c for c in report["checks"] if c["subject"] == "mutant gone"]
    assert check["level"] == "fail"
    assert "find text not found" in check["detail"]
    assert "verify: FAILED" in capsys.readouterr().out


def test_grader_verify_exits_2_on_a_malformed_mutant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_assignment(tmp_path / "fake")
    mutant(root / "assignment" / "mutants" / "broken", HEAD)
    assert main(["verify", "--root", str(root), "--repeat", "1"]) == 2
    assert "needs at least one [[edit]]" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the real mutants


def test_every_real_mutant_applies_to_the_current_reference_in_its_own_part() -> None:
    """The fast half of ``grader verify`` for mutants: no grading, just the edits."""
    rubric = load_rubric(ROOT)
    mutants = load_variants(rubric, "mutant")
    assert len(mutants) >= 20
    reference = ROOT / "assignment" / "solution"
    with tempfile.TemporaryDirectory() as tmp:
        for variant in mutants:
            own = set(rubric.part(variant.part).files)
            dest = materialize(variant.path, reference, Path(tmp) / variant.name)
            written = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
            assert written == set(variant.files) <= own, variant.name
            for file in written:
                text = (dest / file).read_text()
                assert text != (reference / file).read_text(), (variant.name, file)
                compile(text, file, "exec")  # a mutant is a wrong answer, not a syntax error


def test_no_real_mutant_is_a_file_copy() -> None:
    for folder in sorted((ROOT / "assignment" / "mutants").iterdir()):
        files = sorted(p.name for p in folder.rglob("*") if p.is_file())
        assert files == ["mutant.toml"], (folder.name, files)
