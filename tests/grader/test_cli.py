"""``grader grade``: exit statuses, one-line errors, report files and CI outputs."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import xmlschema

from grader.commands.cli import SUBCOMMAND_MODULES, build_parser, main
from tests.support import VENDOR
from tests.support.fake_assignment import REFERENCE, make_assignment, submission


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_assignment(tmp_path_factory.mktemp("fake"))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from grader.__main__ import main; sys.exit(main())",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_such_directory_exits_2_with_one_line(root: Path) -> None:
    done = run_cli("grade", "/no/such/dir", "--root", str(root))
    assert done.returncode == 2
    assert done.stderr == "grader: error: no such directory: /no/such/dir\n"
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["grade"],
        ["grade", "x", "--suite", "secret"],
        ["grade", "x", "--jobs", "0"],
        ["grade", "x", "--bogus"],
        ["nonsense"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str]) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("grader")


def test_no_answer_file_exits_2(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("nothing here")
    assert main(["grade", str(tmp_path), "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("grader: error: no answer file in ") and err.count("\n") == 1


def test_broken_rubric_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "assignment").mkdir()
    (tmp_path / "assignment/rubric.toml").write_text("[assignment\n")
    assert main(["grade", str(tmp_path), "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "rubric.toml: not valid TOML" in err and err.count("\n") == 1


def test_full_marks_exit_0_and_every_report_written(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    out = tmp_path / "out"
    status = main(
        [
            "grade", str(root / "assignment/solution"), "--root", str(root),
            "--json", str(out / "r.json"), "--markdown", str(out / "r.md"),
            "--gradescope", str(out / "results.json"), "--junit", str(out / "junit.xml"),
        ]
    )  # fmt: skip
    assert status == 0
    data = json.loads((out / "r.json").read_text())
    assert (data["score"], data["max_score"]) == (5, 5)
    assert json.loads((out / "results.json").read_text())["score"] == 5
    junit_xsd = VENDOR / "junit" / "junit-10.xsd"
    xmlschema.XMLSchema(junit_xsd).validate(str(out / "junit.xml"))
    assert "5 / 5 points" in (out / "r.md").read_text()
    assert "5 / 5 points" in summary.read_text()
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert set(outputs) == {*outputs["runners"].split(","), "runners", "result"}
    decoded = json.loads(base64.b64decode(outputs["result"]))
    assert decoded["status"] == "pass" and decoded["max_score"] == 5
    assert "Total" in capsys.readouterr().out


def test_points_lost_exit_1(root: Path, tmp_path: Path) -> None:
    sub = submission(tmp_path / "sub", {"homework/alpha.py": REFERENCE["homework/alpha.py"]})
    assert main(["grade", str(sub), "--root", str(root), "--json", str(tmp_path / "r.json")]) == 1
    data = json.loads((tmp_path / "r.json").read_text())
    assert (data["score"], data["max_score"]) == (3, 5)
    assert [p["id"] for p in data["parts"]] == ["alpha", "beta"]


def test_broken_student_code_is_graded_not_a_grader_error(root: Path, tmp_path: Path) -> None:
    sub = submission(tmp_path / "sub", {"homework/alpha.py": "def add(a, b:\n", "beta.py": "}"})
    assert main(["grade", str(sub), "--root", str(root), "--suite", "public"]) == 1


def test_subcommand_modules_plug_in() -> None:
    parser = build_parser()
    subparsers = parser._subparsers
    assert subparsers is not None
    choices = subparsers._group_actions[0].choices
    assert isinstance(choices, dict)  # a subparsers action's: {name: its parser}
    assert "grade" in choices
    from importlib.util import find_spec

    for name in SUBCOMMAND_MODULES:
        if find_spec(name) is not None:
            assert name.rsplit(".", 1)[1] in choices
    # The benchmarks are ``python -m bench``, a client of the grader, not one of its commands.
    assert "bench" not in choices


def test_a_grader_bug_is_exit_2_not_a_lost_point(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("grader.commands.cli.grade", broken)
    monkeypatch.delenv("GRADER_DEBUG", raising=False)
    assert main(["grade", str(root / "assignment/solution"), "--root", str(root)]) == 2
    assert capsys.readouterr().err == "grader: internal error: RuntimeError: bug\n"
