"""Workspaces and the rubric: only the part's answer files, never the submission's config."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.engine.workspace import build_workspace, find_answers, load_sources, pytest_ini
from grader.model.errors import GraderError
from grader.model.rubric import Rubric, load_rubric
from tests.support.fake_assignment import REFERENCE, make_assignment, rubric_toml, submission, write


def hostile_repo(root: Path) -> Path:
    """A whole student repository that also tries to change the grading set-up."""
    return submission(
        root,
        {
            **REFERENCE,
            "conftest.py": "raise SystemExit('student conftest ran')\n",
            "pytest.ini": "[pytest]\naddopts = -p no:grader\n",
            "homework/conftest.py": "raise SystemExit('student conftest ran')\n",
            "config/settings.py": "DEBUG = 'hacked'\n",
            "assignment/tests/public/test_alpha.py": "def test_free(): pass\n",
            "homework/extra.py": "x = 1\n",
        },
    )


def test_workspace_takes_only_the_parts_answer_files(fake: Rubric, tmp_path: Path) -> None:
    repo = hostile_repo(tmp_path / "repo")
    answers = {a.file: a.content for a in find_answers(repo, fake.part("alpha")) if a.path}
    ws = tmp_path / "ws"
    paths = build_workspace(
        load_sources(fake), ws, answers=answers, test_files=["test_alpha.py"], suite="all"
    )
    assert paths == ["grading_tests/public/test_alpha.py", "grading_tests/hidden/test_alpha.py"]
    assert (ws / "homework/alpha.py").read_text() == REFERENCE["homework/alpha.py"]
    # Other parts keep their stubs; nothing else from the repository arrives.
    assert "NotImplementedError" in (ws / "homework/beta.py").read_text()
    assert (ws / "config/settings.py").read_text() == (
        fake.starter / "config/settings.py"
    ).read_text()
    assert (ws / "pytest.ini").read_text() == pytest_ini()
    for name in ("conftest.py", "homework/conftest.py", "homework/extra.py"):
        assert not (ws / name).exists(), name
    assert "SECRET_INPUT" in (ws / "grading_tests/hidden/test_alpha.py").read_text()
    assert (ws / "grading_tests/conftest.py").is_file()
    # Only this part's test files.
    assert not (ws / "grading_tests/public/test_beta.py").exists()


def test_public_workspace_has_no_hidden_tests(fake: Rubric, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    paths = build_workspace(
        load_sources(fake), ws, answers={}, test_files=["test_alpha.py"], suite="public"
    )
    assert paths == ["grading_tests/public/test_alpha.py"]
    assert not (ws / "grading_tests/hidden").exists()


def test_starter_leftovers_are_not_copied(tmp_path: Path) -> None:
    rubric = load_rubric(make_assignment(tmp_path / "a"))
    write(
        rubric.starter,
        {"db.sqlite3": "data", ".celery/broker/x": "msg", "homework/__pycache__/a.pyc": ""},
    )
    ws = tmp_path / "ws"
    build_workspace(load_sources(rubric), ws, answers={}, test_files=[], suite="all")
    assert not (ws / "db.sqlite3").exists()
    assert not (ws / ".celery").exists()
    assert not (ws / "homework/__pycache__").exists()


def test_links_and_huge_files_are_not_answers(fake: Rubric, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    (sub / "homework").mkdir(parents=True)
    (sub / "homework/alpha.py").symlink_to(fake.root / "assignment/solution/homework/alpha.py")
    (sub / "homework/beta.py").write_text("#" * (2 * 1024 * 1024))
    alpha = find_answers(sub, fake.part("alpha"))[0]
    beta = find_answers(sub, fake.part("beta"))[0]
    assert alpha.path is None and "is a link" in alpha.reason
    assert beta.path is None and "larger than 1 MiB" in beta.reason


def test_flat_files_are_found_by_name(fake: Rubric, tmp_path: Path) -> None:
    sub = submission(tmp_path / "flat", {"beta.py": "x = 1\n"})
    [answer] = find_answers(sub, fake.part("beta"))
    assert answer.path == (sub / "beta.py").resolve()


def test_rubric_loads_parts_in_order(fake: Rubric) -> None:
    assert [p.id for p in fake.parts] == ["alpha", "beta"]
    assert fake.part("alpha").files == ("homework/alpha.py",)
    assert fake.max_score == 5
    assert (fake.test_timeout, fake.part_timeout) == (5, 30)
    assert fake.part_for_test_file("test_beta.py") == fake.part("beta")


def test_the_real_rubric_matches_the_contract() -> None:
    rubric = load_rubric()
    points = {p.id: (p.points, p.files) for p in rubric.parts}
    assert points == {
        "async_view": (15, ("homework/async_views.py",)),
        "aggregator": (30, ("homework/aggregator.py",)),
        "orm_threadpool": (25, ("homework/db_views.py",)),
        "daily_stats": (20, ("homework/tasks.py", "homework/schedule.py")),
        "middleware": (10, ("homework/middleware.py",)),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('id = "beta"', 'id = "alpha"'), "part id 'alpha' appears twice"),
        (lambda t: t.replace("points = 2", "points = -2"), "'points' must be greater than 0"),
        (lambda t: t.replace("points = 2", 'points = "2"'), "'points' must be a number"),
        (lambda t: t.replace('"homework/beta.py"', '"homework/alpha.py"'), "belongs to two parts"),
        (lambda t: t.replace('"homework/beta.py"', '"../x.py"'), "must be a relative .py path"),
        (lambda t: t.replace('test_file = "test_beta.py"', 'test_file = "beta.py"'), "test_x.py"),
        (lambda t: t.replace('starter = "starter"', 'starter = "nowhere"'), "does not exist"),
        (lambda t: t.replace("[assignment]", "[other]"), "missing [assignment] table"),
        (lambda t: t.replace("[[parts]]", "[[other]]"), "at least one [[parts]]"),
        (lambda t: t + "\n[broken", "not valid TOML"),
    ],
)
def test_rubric_errors_are_one_clear_line(tmp_path: Path, change: object, message: str) -> None:
    root = make_assignment(tmp_path)
    (root / "assignment/rubric.toml").write_text(change(rubric_toml()))  # type: ignore[operator]
    with pytest.raises(GraderError) as caught:
        load_rubric(root)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value).strip()


def test_missing_rubric(tmp_path: Path) -> None:
    with pytest.raises(GraderError, match=r"no rubric: .*rubric\.toml does not exist"):
        load_rubric(tmp_path)
