"""The fork server: grading processes are forked from it, and grading works without it.

Evidence comes from the grading process itself: the answer file writes its
parent pid, session and open descriptors to a file the test reads, so these
tests see which process actually started it, not what the runner claims.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from grader.engine.grading import grade
from grader.engine.workspace import build_workspace, load_sources
from grader.host import forkserver, runner, sandbox
from grader.judge.records import Result
from grader.model.rubric import Rubric
from tests.support.fake_assignment import REFERENCE, submission


@pytest.fixture(autouse=True)
def fork_server_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """On by default; a test that turns it off says so. These tests are about the
    unsandboxed launchers (a student's laptop): the sandbox is off here."""
    monkeypatch.delenv(forkserver.ENV_SWITCH, raising=False)
    monkeypatch.setenv(sandbox.ENV_SWITCH, "0")


def reporting_answer(evidence: Path) -> str:
    """An ``add`` that works and writes where and how its process runs to ``evidence``."""
    return textwrap.dedent(
        f"""\
        import json, os

        def add(a, b):
            fds = {{}}
            for name in os.listdir("/proc/self/fd"):
                try:
                    fds[name] = os.readlink(f"/proc/self/fd/{{name}}")
                except OSError:
                    pass
            facts = {{
                "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0),
                "cwd": os.getcwd(), "env": sorted(os.environ), "fds": fds,
            }}
            with open({str(evidence)!r}, "w") as stream:
                json.dump(facts, stream)
            return a + b
        """
    )


def graded_evidence(fake: Rubric, tmp_path: Path) -> tuple[float, dict[str, object]]:
    evidence = tmp_path / "evidence.json"
    sub = submission(
        tmp_path / "sub",
        {"homework/alpha.py": reporting_answer(evidence), **_beta()},
    )
    result = grade(sub, rubric=fake, parts=["alpha"])
    alpha = next(p for p in result.parts if p.id == "alpha")
    facts: dict[str, object] = json.loads(evidence.read_text())
    return alpha.score, facts


def _beta() -> dict[str, str]:
    return {"homework/beta.py": REFERENCE["homework/beta.py"]}


def _server() -> forkserver.ForkServer | None:
    return forkserver.shared(runner.child_environment(Path("/tmp")))


def test_parts_are_forked_by_the_fork_server(fake: Rubric, tmp_path: Path) -> None:
    score, facts = graded_evidence(fake, tmp_path)
    server = _server()
    assert server is not None, forkserver.failure()
    assert score == 3
    assert facts["ppid"] == server.pid != os.getpid()  # a child of the zygote, not of us
    assert facts["sid"] == facts["pid"]  # its own session: killed by process group
    assert str(facts["cwd"]).endswith("/alpha/run-1/ws")
    env, fds = facts["env"], facts["fds"]
    assert isinstance(env, list) and isinstance(fds, dict)  # sorted(os.environ), {fd: link}
    assert "GRADER_CHANNEL_FD" not in env  # taken before the answer was imported
    assert "DJANGO_SETTINGS_MODULE" in env
    links = [str(link) for link in fds.values()]
    # Neither the zygote's control socket nor any sibling's status pipe is inherited: its
    # sockets are its channel and its event loop's own pair, none of them the zygote's.
    assert not [link for link in links if link.startswith("pipe:")], links
    zygote = {
        os.readlink(f"/proc/{server.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{server.pid}/fd")
    }
    assert not {z for z in zygote if z.startswith("socket:")} & set(links), links


def test_disabled_fork_server_spawns_as_before(
    fake: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(forkserver.ENV_SWITCH, "0")
    score, facts = graded_evidence(fake, tmp_path)
    assert score == 3
    assert facts["ppid"] == os.getpid()  # spawned by this (the grader's) process
    assert facts["sid"] == facts["pid"]


def _workspace(fake: Rubric, tmp_path: Path) -> tuple[Path, list[str]]:
    workspace = tmp_path / "ws"
    answers = {"homework/alpha.py": REFERENCE["homework/alpha.py"].encode()}
    paths = build_workspace(
        load_sources(fake), workspace, answers=answers, test_files=["test_alpha.py"], suite="all"
    )
    return workspace, paths


def test_the_outcome_says_how_the_process_started(fake: Rubric, tmp_path: Path) -> None:
    workspace, paths = _workspace(fake, tmp_path)
    outcome = runner.run_pytest(
        workspace, paths, scratch=tmp_path / "run", test_timeout=5, budget=60
    )
    assert outcome.launcher == "forkserver"
    assert [r.outcome for r in outcome.events(Result)] == ["passed"] * 3
    assert outcome.integrity == []


def test_a_dead_fork_server_falls_back_to_spawning(
    fake: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = forkserver.ForkServer.start(runner.child_environment(tmp_path))
    dead.close()  # the zygote exits: every request to it now fails
    monkeypatch.setattr(forkserver, "shared", lambda env: dead)
    workspace, paths = _workspace(fake, tmp_path)
    outcome = runner.run_pytest(
        workspace, paths, scratch=tmp_path / "run", test_timeout=5, budget=60
    )
    assert outcome.launcher == "spawn"
    assert [r.outcome for r in outcome.events(Result)] == ["passed"] * 3
    assert dead.broken


def test_a_killed_process_is_reported_through_the_fork_server(fake: Rubric, tmp_path: Path) -> None:
    code = "import os, signal\n\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    sub = submission(tmp_path / "sub", {"homework/alpha.py": code, **_beta()})
    result = grade(sub, rubric=fake, parts=["alpha"])
    alpha = next(p for p in result.parts if p.id == "alpha")
    assert alpha.score == 0
    assert {t.message for t in alpha.tests} == {
        "Your project's process was stopped by SIGKILL (often: out of memory, or the process "
        "killed itself) while this test was running."
    }


def _gone(pid: int) -> bool:
    """No such process any more, or only its exit status is left (a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def test_no_process_forked_by_a_part_outlives_it(fake: Rubric, tmp_path: Path) -> None:
    evidence = tmp_path / "pids.txt"
    code = textwrap.dedent(
        f"""\
        import os, time

        def add(a, b):
            child = os.fork()
            if child == 0:
                time.sleep(300)
                os._exit(0)
            with open({str(evidence)!r}, "a") as stream:
                stream.write(f"{{os.getpid()}} {{child}}\\n")
            return a + b
        """
    )
    sub = submission(tmp_path / "sub", {"homework/alpha.py": code, **_beta()})
    result = grade(sub, rubric=fake, parts=["alpha"])
    assert next(p for p in result.parts if p.id == "alpha").score == 3
    pids = [int(pid) for pid in evidence.read_text().split()]
    assert pids
    assert [pid for pid in pids if not _gone(pid)] == []
