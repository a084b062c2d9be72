"""Submissions and student repositories, built the way the grader builds its workspaces.

A student repository is the pristine starter with answer files laid over it:
``grader.engine.workspace.write_project`` writes exactly that (``{**starter, **answers}``,
junk such as ``db.sqlite3``, ``.celery/`` and caches left out), so the tests use it
rather than a copy of the starter of their own. A bare submission is only the
answer files (``homework/*.py``), as a student may hand them in.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from grader.engine.workspace import Sources, load_sources, write_project
from grader.model.rubric import load_rubric
from tests.support import SOLUTION


@functools.cache
def _sources() -> Sources:
    return load_sources(load_rubric())


def answers_in(source: Path, files: Iterable[str] | None = None) -> dict[str, bytes]:
    """``files`` (rubric paths, ``homework/x.py``) as ``source`` holds them; by default
    every ``homework/*.py`` in ``source``."""
    if files is None:
        files = (p.relative_to(source).as_posix() for p in (source / "homework").glob("*.py"))
    return {file: (source / file).read_bytes() for file in sorted(files)}


def student_repository(dest: Path, answers: Mapping[str, bytes] | None = None) -> Path:
    """The starter at ``dest`` with ``answers`` over it (default: every reference answer)."""
    write_project(_sources(), dest, answers=answers_in(SOLUTION) if answers is None else answers)
    return dest


def lay_answers(target: Path, answers: Mapping[str, bytes]) -> Path:
    """Write ``answers`` under ``target`` (a bare submission, or over one); returns it."""
    for file, data in answers.items():
        destination = target / file
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
    return target
