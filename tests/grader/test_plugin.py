"""The grader's pytest plugin in real pytest runs (pytester): records and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.judge.channel import ENV_VAR, open_channel, read_records
from grader.judge.plugin import WATCHDOG_EXIT

pytest_plugins = ["pytester"]

STUDENT = """\
def boom():
    raise KeyError("missing")


def slow():
    import time

    time.sleep(30)
"""

TESTS = """\
import pytest

from grader.messages.feedback import expect


@pytest.mark.points(2)
def test_passes():
    assert 1 + 1 == 2


@pytest.mark.points(1.5)
def test_fails_with_feedback():
    HIDDEN_INPUT = 41
    expect(HIDDEN_INPUT + 1 == 43, expected="43", got="42", hint="count again")


@pytest.mark.points(1)
def test_student_code_raises():
    from homework.answer import boom

    boom()


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


@pytest.mark.points(1)
def test_setup_error(broken):
    pass


@pytest.mark.points(1)
def test_skipped():
    pytest.skip("not today")


def test_without_points():
    pass


@pytest.mark.points(1)
def test_times_out():
    from homework.answer import slow

    slow()
"""


@pytest.fixture
def run(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Run pytest in-process with the grader's channel open; return its records.

    Plugin autoloading is off and the plugins are named, as in the grader.
    """
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(**{"homework/__init__.py": "", "homework/answer.py": STUDENT})
    pytester.syspathinsert()

    def runner(*args: str) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
        with open_channel(tmp_path) as (fd, channel):
            os.environ[ENV_VAR] = str(fd)
            try:
                outcome = pytester.runpytest(
                    "-p",
                    "grader.judge.plugin",
                    "-p",
                    "pytest_timeout",
                    "--timeout=1",
                    "--timeout-method=signal",
                    "--assert=plain",
                    "-p",
                    "no:cacheprovider",
                    *args,
                )
            finally:
                os.environ.pop(ENV_VAR, None)
        return outcome, read_records(channel)

    yield runner


def results_by_test(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["nodeid"].split("::")[-1]: r for r in records if r["event"] == "result"}


def test_collected_record_lists_every_test_with_its_points(
    pytester: pytest.Pytester, run: Any
) -> None:
    pytester.makepyfile(test_part=TESTS)
    _, records = run()
    collected = [r for r in records if r["event"] == "collected"]
    assert len(collected) == 1
    points = {t["nodeid"].split("::")[-1]: t["points"] for t in collected[0]["tests"]}
    assert points == {
        "test_passes": 2.0,
        "test_fails_with_feedback": 1.5,
        "test_student_code_raises": 1.0,
        "test_times_out": 1.0,
        "test_setup_error": 1.0,
        "test_skipped": 1.0,
        "test_without_points": None,
    }
    problem = next(t for t in collected[0]["tests"] if t["points"] is None)["problem"]
    assert problem == "has no @pytest.mark.points(n) marker"
    # The collection record comes before the first result.
    assert records[0]["event"] == "collected"


def test_one_result_per_test_with_a_student_message(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makepyfile(test_part=TESTS)
    _, records = run()
    results = results_by_test(records)
    assert len(results) == 7
    outcome = {name: (r["outcome"], r["message"]) for name, r in results.items()}
    assert outcome["test_passes"] == ("passed", "")
    assert outcome["test_fails_with_feedback"] == (
        "failed",
        "Expected: 43\nGot: 42\nHint: count again",
    )
    assert outcome["test_student_code_raises"] == (
        "error",
        "KeyError: 'missing' (at homework/answer.py:2)",
    )
    assert outcome["test_times_out"][0] == "timeout"
    assert "did not finish within 1 s" in outcome["test_times_out"][1]
    assert outcome["test_setup_error"] == ("error", "RuntimeError: fixture broke")
    assert outcome["test_skipped"] == ("skipped", "not today")
    for result in results.values():
        assert "HIDDEN_INPUT" not in result["message"]
        assert result["line_no"] > 0
        assert result["duration"] >= 0
    # The timeout (last test) interrupted the session: exit status 2.
    assert records[-1] == {"event": "finish", "exitstatus": 2}


def test_a_timeout_stops_the_session(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makepyfile(
        test_order="""
        import time
        import pytest

        @pytest.mark.points(1)
        def test_first():
            time.sleep(30)

        @pytest.mark.points(1)
        def test_second():
            pass
        """
    )
    _, records = run()
    assert [r["event"] for r in records] == ["collected", "start", "result", "finish"]
    assert records[2]["outcome"] == "timeout"


def test_collection_error_is_reported(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makepyfile(test_broken="import homework.nope\n")
    _, records = run()
    errors = [r for r in records if r["event"] == "collect_error"]
    assert len(errors) == 1
    assert "ModuleNotFoundError: No module named 'homework.nope'" in errors[0]["message"]


def test_without_the_channel_only_the_marker_is_registered(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        test_alone="""
        import pytest

        @pytest.mark.points(1)
        def test_ok():
            pass
        """
    )
    result = pytester.runpytest("-p", "grader.judge.plugin", "--strict-markers")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "grader.judge.plugin", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.points(n):*"])


def test_the_channel_is_hidden_from_the_tests(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makepyfile(
        test_env=f"""
        import os
        import pytest

        @pytest.mark.points(1)
        def test_no_channel_variable():
            assert "{ENV_VAR}" not in os.environ, "the channel is visible"
        """
    )
    _, records = run()
    assert results_by_test(records)["test_no_channel_variable"]["outcome"] == "passed"


NEVER_AWAITED = """\
import asyncio


def forgets_to_await():
    asyncio.sleep(0)  # a coroutine, never awaited
    return 1
"""


def test_python_warnings_about_the_student_code_reach_the_message(
    pytester: pytest.Pytester, run: Any
) -> None:
    pytester.makepyfile(**{"homework/lazy.py": NEVER_AWAITED})
    pytester.makepyfile(
        test_warned="""
        import pytest

        from grader.messages.feedback import expect


        @pytest.mark.points(1)
        def test_warned():
            from homework.lazy import forgets_to_await

            expect(forgets_to_await() == 2, expected="2", got="1", hint="await it")


        @pytest.mark.points(1)
        def test_passes_despite_a_warning():
            from homework.lazy import forgets_to_await

            assert forgets_to_await() == 1
        """
    )
    _, records = run()
    results = results_by_test(records)
    message = results["test_warned"]["message"]
    assert message.startswith("Expected: 2\nGot: 1\nHint: await it\n")
    assert "Python warned: coroutine 'sleep' was never awaited (at homework/lazy.py:5)" in message
    assert results["test_passes_despite_a_warning"] == {
        **results["test_passes_despite_a_warning"],
        "outcome": "passed",
        "message": "",
    }


def test_an_exception_of_a_known_trap_gets_its_hint(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makepyfile(
        **{"homework/decode.py": "import json\n\n\ndef body():\n    return json.loads('<html>')\n"}
    )
    pytester.makepyfile(
        test_trap="""
        import pytest


        @pytest.mark.points(1)
        def test_decodes():
            from homework.decode import body

            body()
        """
    )
    _, records = run()
    from grader.messages.hints import TRAPS

    message = results_by_test(records)["test_decodes"]["message"]
    assert message.startswith(
        "JSONDecodeError: Expecting value: line 1 column 1 (char 0) "
        "(at homework/decode.py:5)\nHint: "
    )
    assert TRAPS["json_body"] in message


def test_a_timeout_is_known_by_the_alarm_not_by_its_text(
    pytester: pytest.Pytester, run: Any
) -> None:
    pytester.makepyfile(
        test_imitates="""
        import pytest

        @pytest.mark.points(1)
        def test_says_timeout():
            pytest.fail("Timeout (>1.0s) from pytest-timeout.")

        @pytest.mark.points(1)
        def test_after():
            pass
        """
    )
    _, records = run()
    results = results_by_test(records)
    assert results["test_says_timeout"]["outcome"] == "failed"
    assert results["test_after"]["outcome"] == "passed"  # the session was not stopped


def test_the_watchdog_ends_a_test_whose_clean_up_ignores_the_alarm(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    # Armed from pytest-timeout's set_timer hook: the alarm is blocked in the clean-up,
    # so only the watchdog (limit + grace) can end the process, reporting the test.
    pytester.makepyfile(
        test_hangs="""
        import signal, time
        import pytest

        @pytest.fixture
        def blocks_alarm():
            yield
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
            time.sleep(60)

        @pytest.mark.points(1)
        def test_hangs_in_clean_up(blocks_alarm):
            pass
        """
    )
    with open_channel(tmp_path) as (fd, channel):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "grader.judge.plugin",
                "-p",
                "pytest_timeout",
                "--timeout=1",
                "--timeout-method=signal",
                "-p",
                "no:cacheprovider",
            ],
            cwd=pytester.path,
            env={**os.environ, ENV_VAR: str(fd), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
            pass_fds=(fd,),
            capture_output=True,
            timeout=120,
        )
    assert done.returncode == WATCHDOG_EXIT
    result = results_by_test(read_records(channel))["test_hangs_in_clean_up"]
    assert result["outcome"] == "timeout" and "could not be stopped" in result["message"]
