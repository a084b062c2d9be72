"""End-to-end grading of a tiny fake assignment: scores, crashes, hangs, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.engine.grading import grade
from grader.model.errors import GraderError
from grader.model.results import GradeResult, PartResult
from grader.model.rubric import Rubric, load_rubric
from tests.support.fake_assignment import REFERENCE, make_assignment, submission


def part(result: GradeResult, part_id: str) -> PartResult:
    return next(p for p in result.parts if p.id == part_id)


def alpha_only(tmp_path: Path, code: str) -> Path:
    return submission(tmp_path / "sub", {"homework/alpha.py": code, **_beta()})


def _beta() -> dict[str, str]:
    return {"homework/beta.py": REFERENCE["homework/beta.py"]}


def test_reference_gets_full_marks(fake: Rubric) -> None:
    result = grade(fake.root / "assignment/solution", rubric=fake)
    assert (result.score, result.max_score) == (5, 5)
    assert [p.id for p in result.parts] == ["alpha", "beta"]
    assert all(t.status == "passed" for t in result.tests())
    assert len(result.tests()) == 5
    assert result.problems == []
    assert result.full_marks


def test_starter_gets_zero_with_the_stub_message(fake: Rubric) -> None:
    result = grade(fake.starter, rubric=fake)
    assert (result.score, result.max_score) == (0, 5)
    alpha = part(result, "alpha")
    assert {t.status for t in alpha.tests} == {"error"}
    assert alpha.tests[0].message == (
        "NotImplementedError: alpha: write add() (at homework/alpha.py:2)"
    )


def test_partial_submission_grades_the_rest_as_stubs(fake: Rubric, tmp_path: Path) -> None:
    sub = submission(tmp_path / "sub", {"homework/alpha.py": REFERENCE["homework/alpha.py"]})
    result = grade(sub, rubric=fake)
    assert part(result, "alpha").score == 3
    beta = part(result, "beta")
    assert (beta.score, beta.max_score) == (0, 2)
    assert beta.files == {"homework/beta.py": False}
    assert "homework/beta.py is not in your submission" in beta.notes[0]
    assert not result.full_marks


def test_flat_submission_of_just_the_files(fake: Rubric, tmp_path: Path) -> None:
    sub = submission(tmp_path / "flat", {"alpha.py": REFERENCE["homework/alpha.py"]})
    result = grade(sub, rubric=fake)
    assert part(result, "alpha").score == 3


def test_failed_check_shows_feedback_but_no_test_source(fake: Rubric, tmp_path: Path) -> None:
    result = grade(alpha_only(tmp_path, "def add(a, b):\n    return a - b\n"), rubric=fake)
    by_name = {t.name: t for t in part(result, "alpha").tests}
    hidden = by_name["hidden/test_alpha.py::test_adds_negative_numbers"]
    assert hidden.status == "failed"
    assert hidden.message == ("Expected: negative numbers add up\nGot: -42\nHint: use +")
    assert "SECRET_INPUT" not in hidden.message
    assert by_name["hidden/test_alpha.py::test_adds_zero"].status == "passed"
    assert hidden.line_no > 0


def test_plain_assert_gives_its_message_only(fake: Rubric, tmp_path: Path) -> None:
    code = "def add(a, b):\n    return a + b + (a == 0)\n"
    result = grade(alpha_only(tmp_path, code), rubric=fake, parts=["alpha"])
    zero = next(t for t in part(result, "alpha").tests if t.name.endswith("test_adds_zero"))
    assert (zero.status, zero.message) == ("failed", "add(0, 0) should be 0")


def test_crash_costs_only_its_own_part(fake: Rubric, tmp_path: Path) -> None:
    code = "import os\n\ndef add(a, b):\n    os._exit(7)\n"
    result = grade(alpha_only(tmp_path, code), rubric=fake)
    alpha = part(result, "alpha")
    assert alpha.score == 0
    assert {t.status for t in alpha.tests} == {"error"}
    # The first test killed the process: it and every later test say so.
    assert all("exited early with exit code 7" in t.message for t in alpha.tests)
    assert part(result, "beta").score == 2


def test_per_test_timeout_is_a_timeout(tmp_path: Path) -> None:
    rubric = load_rubric(make_assignment(tmp_path / "a", test_timeout=1))
    code = "import time\n\ndef add(a, b):\n    time.sleep(600)\n"
    result = grade(alpha_only(tmp_path, code), rubric=rubric, parts=["alpha"])
    alpha = part(result, "alpha")
    assert {t.status for t in alpha.tests} == {"timeout"}
    assert "did not finish within 1 s" in alpha.tests[0].message
    assert not any("whole part" in note for note in alpha.notes)


def test_the_part_budget_ends_a_part_whose_tests_all_hang(tmp_path: Path) -> None:
    # Three tests of at least 1 s each (their timeout) cannot fit in 2.5 s: the part's
    # budget ends the part, whatever the code in the app does with signals.
    rubric = load_rubric(make_assignment(tmp_path / "a", test_timeout=1, part_timeout=2.5))
    code = (
        "import signal\n\n"
        "def add(a, b):\n"
        "    try:\n"
        "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "    except ValueError:\n"
        "        pass\n"
        "    while True:\n"
        "        pass\n"
    )
    result = grade(alpha_only(tmp_path, code), rubric=rubric)
    alpha = part(result, "alpha")
    assert {t.status for t in alpha.tests} == {"timeout"}
    # Each test's own limit (1 s) or the part's (2.5 s), whichever came first: on a loaded
    # machine the processes can take the whole budget to start.
    assert all("did not finish within" in t.message for t in alpha.tests)
    assert any("whole part" in note for note in alpha.notes)
    assert part(result, "beta").score == 2


def test_stray_thread_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    # A budget far above the run's real length: hitting it means the process hung.
    rubric = load_rubric(make_assignment(tmp_path / "a", part_timeout=120))
    code = (
        "import threading, time\n\n"
        "def add(a, b):\n"
        "    threading.Thread(target=time.sleep, args=(3600,)).start()\n"
        "    return a + b\n"
    )
    result = grade(alpha_only(tmp_path, code), rubric=rubric, parts=["alpha"])
    alpha = part(result, "alpha")
    assert alpha.score == 3
    assert alpha.notes == []
    assert alpha.duration < 60


def test_memory_limit_turns_a_huge_allocation_into_an_error(fake: Rubric, tmp_path: Path) -> None:
    code = "def add(a, b):\n    return len(bytearray(8 * 1024**3))\n"
    result = grade(alpha_only(tmp_path, code), rubric=fake, parts=["alpha"])
    messages = {t.message for t in part(result, "alpha").tests}
    assert messages == {"MemoryError (at homework/alpha.py:2)"}


def test_secrets_do_not_reach_the_student_code(
    fake: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("MY_SECRET", "x")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    code = (
        "import os\n\n"
        "def add(a, b):\n"
        "    leaked = [k for k in os.environ if 'SECRET' in k or 'TOKEN' in k or 'AWS' in k]\n"
        "    assert not leaked, f'leaked: {leaked}'\n"
        "    return a + b\n"
    )
    result = grade(alpha_only(tmp_path, code), rubric=fake, parts=["alpha"])
    assert part(result, "alpha").score == 3, part(result, "alpha").tests[0].message


def test_points_that_do_not_add_up_are_an_instructor_error(tmp_path: Path) -> None:
    rubric = load_rubric(make_assignment(tmp_path / "a", alpha=4))
    sub = rubric.root / "assignment/solution"
    result = grade(sub, rubric=rubric)
    assert result.problems == [
        "part alpha: its tests are worth 3 points (public 1 + hidden 2), the rubric says 4"
    ]
    # Scores come from the tests, so every report stays consistent.
    assert (result.score, result.max_score) == (5, 5)
    with pytest.raises(GraderError, match="instructor error: part alpha"):
        grade(sub, rubric=rubric, strict=True)


def test_public_suite_counts_only_public_points(fake: Rubric) -> None:
    result = grade(fake.root / "assignment/solution", rubric=fake, suite="public")
    assert (result.score, result.max_score) == (2, 2)
    assert all(t.name.startswith("public/") for t in result.tests())
    assert result.problems == []


def test_one_part_only_keeps_every_part_in_the_result(fake: Rubric) -> None:
    result = grade(fake.root / "assignment/solution", rubric=fake, parts=("beta",))
    assert [p.id for p in result.parts] == ["alpha", "beta"]
    alpha = part(result, "alpha")
    assert (alpha.graded, alpha.max_score, alpha.tests) == (False, 0, [])
    assert (result.score, result.max_score) == (2, 2)


def test_cannot_grade_what_is_not_there(fake: Rubric, tmp_path: Path) -> None:
    with pytest.raises(GraderError, match="no such directory"):
        grade(tmp_path / "missing", rubric=fake)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GraderError, match="no answer file"):
        grade(tmp_path / "empty", rubric=fake)
    with pytest.raises(GraderError, match="unknown suite"):
        grade(fake.starter, rubric=fake, suite="secret")
    with pytest.raises(GraderError, match="unknown part"):
        grade(fake.starter, rubric=fake, parts=["gamma"])


def test_a_hung_thread_costs_only_its_own_test(tmp_path: Path) -> None:
    # The first alpha test blocks a thread the clean-up then waits for; the
    # watchdog ends that process and the other alpha tests run afresh.
    rubric = load_rubric(make_assignment(tmp_path / "a", test_timeout=2, part_timeout=90))
    code = (
        "import threading, time\n\n"
        "def add(a, b):\n"
        "    if a == 1:\n"
        "        stuck = threading.Thread(target=time.sleep, args=(3600,))\n"
        "        stuck.start()\n"
        "        stuck.join()\n"
        "    return a + b\n"
    )
    result = grade(alpha_only(tmp_path, code), rubric=rubric, parts=["alpha"])
    statuses = {t.name.split("::")[1]: t.status for t in part(result, "alpha").tests}
    assert statuses == {
        "test_adds_small_numbers": "timeout",
        "test_adds_negative_numbers": "passed",
        "test_adds_zero": "passed",
    }


def test_a_crash_costs_only_its_own_test(fake: Rubric, tmp_path: Path) -> None:
    code = "import os\n\ndef add(a, b):\n    if a == 0:\n        os._exit(9)\n    return a + b\n"
    result = grade(alpha_only(tmp_path, code), rubric=fake, parts=["alpha"])
    by_name = {t.name.split("::")[1]: t for t in part(result, "alpha").tests}
    assert by_name["test_adds_zero"].status == "error"
    assert by_name["test_adds_zero"].message == (
        "Your project's process exited early with exit code 9 while this test was running."
    )
    assert by_name["test_adds_small_numbers"].status == "passed"
    assert by_name["test_adds_negative_numbers"].status == "passed"


def test_syntax_error_names_the_answer_file_and_line(fake: Rubric, tmp_path: Path) -> None:
    result = grade(alpha_only(tmp_path, "x = 1\n\ndef add(a, b:\n    pass\n"), rubric=fake)
    messages = {t.message for t in part(result, "alpha").tests}
    assert messages == {"SyntaxError: '(' was never closed (at homework/alpha.py:3)"}
    assert part(result, "beta").score == 2


def test_keep_copies_each_workspace_and_its_output(fake: Rubric, tmp_path: Path) -> None:
    code = "def add(a, b):\n    return a - b\n"
    kept = tmp_path / "kept"
    result = grade(alpha_only(tmp_path, code), rubric=fake, parts=["alpha"], keep=kept)
    assert result.problems == []
    assert (kept / "alpha" / "run-1" / "ws" / "homework" / "alpha.py").read_text() == code
    logs = list((kept / "alpha").glob("run-*/output.log"))
    assert logs, sorted(str(p.relative_to(kept)) for p in kept.rglob("*"))
    assert "failed" in logs[0].read_text()


def test_a_keep_folder_that_cannot_be_written_costs_no_grade(fake: Rubric, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should go")
    result = grade(fake.root / "assignment/solution", rubric=fake, keep=blocker)
    assert result.full_marks
    assert any("could not keep the workspaces" in problem for problem in result.problems)
