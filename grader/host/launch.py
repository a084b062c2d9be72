"""The first code a grading process runs: set resource limits, then run pytest.

``python -m grader.host.launch --memory BYTES --file-size BYTES -- PYTEST ARGS``

Limits are set here, in the child itself, rather than in a ``preexec_fn``
(which is unsafe when the grader runs parts from several threads). Nothing
from the workspace is imported before the limits are in place: first the
process joins its pids cgroup (``--cgroup``) or takes an NPROC limit
(``--nproc``, see ``grader.host.containment``), then the memory and file limits,
then it takes the result channel and its key out of the environment, and
only then imports pytest, which imports the student's code. So no answer
file ever runs while the channel's descriptor is still named in
``os.environ`` or its key is still in the pipe.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.host import containment, portable
from grader.judge.channel import ChannelWriter

# The trusted pytest's end of the harness channel, when the grader started the app itself
# (in the sandbox); see ``grader.judge.fixtures``.
HARNESS_FD_ENV = "GRADER_HARNESS_FD"


def apply_limits(
    *, memory: int, file_size: int, cgroups: list[Path] | None = None, nproc: int | None = None
) -> None:
    """Join the pids cgroup (or take the NPROC limit), then the memory, file and core limits.

    Shared by this module and the fork server's children (``grader.host.zygote``):
    both call it before the channel is taken and before any workspace code runs.
    """
    for cgroup in cgroups or []:
        containment.join(cgroup)
    if nproc is not None:
        containment.limit_processes(nproc)
    portable.set_rlimit("RLIMIT_AS", memory)
    portable.set_rlimit("RLIMIT_FSIZE", file_size)
    portable.set_rlimit("RLIMIT_CORE", 0)


def run_pytest_main(pytest_args: list[str], writer: ChannelWriter | None) -> int:
    """Run pytest with the reporter on ``writer`` (taken from the environment beforehand)."""
    import pytest

    from grader.judge.plugin import ChannelPlugin

    plugins: list[object] = [ChannelPlugin(writer)] if writer is not None else []
    return int(pytest.main(pytest_args, plugins=plugins))


def run_app(fd: int) -> int:
    """Serve the project in the current directory on descriptor ``fd`` (``grader.appside``)."""
    from grader.appside import wire
    from grader.appside.server import main as serve

    os.environ[wire.APP_FD_ENV] = str(fd)
    return serve()


def main(argv: list[str] | None = None) -> int:
    """Apply the limits given on the command line and run pytest with the rest."""
    parser = argparse.ArgumentParser(prog="python -m grader.host.launch")
    parser.add_argument("--memory", type=int, required=True, help="address-space limit, bytes")
    parser.add_argument("--file-size", type=int, required=True, help="largest file, bytes")
    parser.add_argument(
        "--cgroup", type=Path, action="append", help="join this cgroup first (repeatable)"
    )
    parser.add_argument("--nproc", type=int, help="RLIMIT_NPROC (tasks of this user)")
    parser.add_argument(
        "--app", type=int, metavar="FD", help="serve the app on this descriptor, not pytest"
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    apply_limits(
        memory=args.memory, file_size=args.file_size, cgroups=args.cgroup, nproc=args.nproc
    )
    if args.app is not None:
        code = run_app(args.app)
        sys.stdout.flush()
        os._exit(code)  # threads still waiting on the student's code do not keep it alive
    pytest_args = list(args.pytest_args)
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]

    writer = ChannelWriter.from_environment()
    return run_pytest_main(pytest_args, writer)


if __name__ == "__main__":
    sys.exit(main())
