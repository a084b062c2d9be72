"""``grader check`` where the OS lacks what Linux has: each primitive taken away.

A virtual environment whose interpreters (the grader and every process it
starts) lose primitives at start-up (``tests/grader/platform_shim/take_away.py``):
like Windows (no ``resource``, ``fork``, ``pidfd_open``, ``/proc``,
``killpg``, ``SIGALRM``, ``pass_fds``) and like macOS (no ``pidfd_open`` or
``/proc``, an ``RLIMIT_AS`` the OS refuses). The self-check must give the
same score and per-test outcomes as here, and say in one line what it did
without. Smaller tests take one primitive away in-process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from grader.host import containment, portable, runner
from grader.judge import channel
from grader.model.rubric import load_rubric

RUBRIC = load_rubric()
SHIM = Path(__file__).parent / "platform_shim"
SOLUTION = RUBRIC.root / "assignment" / "solution"
PLATFORMS = {
    "windows-like": (
        "resource",
        "fork",
        "pidfd_open",
        "proc",
        "sigalrm",
        "killpg",
        "pass_fds",
        "set_blocking",
    ),
    "macos-like": ("pidfd_open", "proc", "rlimit_as"),
}


def _shimmed_python(base: Path, names: tuple[str, ...]) -> Path:
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    site = Path(
        sysconfig.get_path("purelib", vars={"base": str(env_dir), "platbase": str(env_dir)})
    )
    here = sysconfig.get_paths()["purelib"]
    lines = [here, str(RUBRIC.root), str(SHIM), "import take_away"]
    (site / "zz_take_away.pth").write_text("\n".join(lines) + "\n")
    (env_dir / "take_away.txt").write_text("\n".join(names) + "\n")
    return env_dir / "bin" / "python"


def _check(python: Path, out: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    done = subprocess.run(
        [
            str(python),
            "-c",
            "import sys; from grader.commands.cli import main; sys.exit(main())",
            "check",
            str(SOLUTION),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "GRADER_SANDBOX": "0"},
        cwd=out.parent,
    )
    report = json.loads(out.read_text()) if out.exists() else {"parts": []}
    statuses = {t["name"]: t["status"] for p in report["parts"] for t in p["tests"]}
    return done, statuses


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("native")
    _done, statuses = _check(Path(sys.executable), base / "report.json")
    assert statuses and set(statuses.values()) == {"passed"}
    return statuses


@pytest.mark.slow
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_the_self_check_works_without_the_primitive(
    platform: str, native: dict[str, str], tmp_path: Path
) -> None:
    names = PLATFORMS[platform]
    python = _shimmed_python(tmp_path, names)
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import os, signal; print(hasattr(os, 'pidfd_open'), "
            "hasattr(signal, 'SIGALRM'), os.path.isdir('/proc/self'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.split()[0] == "False"  # the shim really took things away
    done, statuses = _check(python, tmp_path / "report.json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert statuses == native  # same tests, same outcomes
    assert re.search(r"Public tests: (\d+) / \1\b", done.stdout), done.stdout[-2000:]
    said = " ".join(done.stdout.split())
    assert "Also done without here:" in said
    if "proc" in names:
        assert "task-count limit" in said
    if "sigalrm" in names:
        assert "timeouts use a thread" in said
    if "pass_fds" in names:
        assert "handed over on stdin" in said
    assert "internal error" not in done.stderr.lower()


def test_no_resource_module_costs_only_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "resource", None)
    assert portable.resource_module() is None
    assert portable.set_rlimit("RLIMIT_AS", 1 << 30) is False
    containment.limit_processes(10)  # nothing to set, nothing raised
    assert any("resource module" in s for s in portable.skipped())


def test_an_rlimit_the_os_refuses_costs_only_that_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    resource = portable.resource_module()
    assert resource is not None

    def refuse(kind: int, limits: tuple[int, int]) -> None:
        raise ValueError("current limit exceeds maximum limit")

    monkeypatch.setattr(resource, "setrlimit", refuse)
    assert portable.set_rlimit("RLIMIT_AS", 1 << 30) is False


def test_no_proc_means_no_task_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portable, "has_proc", lambda: False)
    assert containment._user_tasks() is None


def test_no_killpg_kills_the_leader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "killpg")
    child = subprocess.Popen(["sleep", "60"])
    runner._kill_group(child.pid)
    assert child.wait(timeout=10) != 0


def test_no_sigalrm_means_thread_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    monkeypatch.delattr(signal, "SIGALRM")
    assert portable.timeout_method() == "thread"
    from grader.engine.workspace import pytest_ini

    assert "timeout_method = thread" in pytest_ini()


def test_without_pass_fds_the_channel_comes_on_stdin(tmp_path: Path) -> None:
    with channel.open_signed_channel(tmp_path, {"x": 1}) as chan:
        code = (
            "from grader.judge.channel import ChannelWriter; w = ChannelWriter.from_environment(); "
            "w.send({'event': 'result', 'nodeid': 'n', 'outcome': 'passed'}); "
            "import sys; print(w.payload, sys.stdin.read() == '')"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=chan.handoff(),
            env={**os.environ, channel.ENV_VAR: channel.HANDOFF},
            capture_output=True,
            check=True,
        )
        records, problems = channel.read_signed(chan.path, chan.key)
    assert done.stdout.split() == [b"{'x':", b"1}", b"True"]
    assert [r["outcome"] for r in records] == ["passed"] and problems == []
