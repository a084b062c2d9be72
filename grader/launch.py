"""The first code a grading process runs: set resource limits, then run pytest.

``python -m grader.launch --memory BYTES --file-size BYTES -- PYTEST ARGS``

Limits are set here, in the child itself, rather than in a ``preexec_fn``
(which is unsafe when the grader runs parts from several threads). Nothing
from the workspace is imported before the limits are in place.
"""

from __future__ import annotations

import argparse
import resource
import sys


def _limit(kind: int, value: int) -> None:
    _soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def main(argv: list[str] | None = None) -> int:
    """Apply the limits given on the command line and run pytest with the rest."""
    parser = argparse.ArgumentParser(prog="python -m grader.launch")
    parser.add_argument("--memory", type=int, required=True, help="address-space limit, bytes")
    parser.add_argument("--file-size", type=int, required=True, help="largest file, bytes")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    _limit(resource.RLIMIT_AS, args.memory)
    _limit(resource.RLIMIT_FSIZE, args.file_size)
    _limit(resource.RLIMIT_CORE, 0)
    pytest_args = list(args.pytest_args)
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]

    import pytest

    return int(pytest.main(pytest_args))


if __name__ == "__main__":
    sys.exit(main())
