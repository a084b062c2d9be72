"""Assemble the directory one grading process runs in.

``<ws>/`` = a copy of the pristine starter, then the submission's answer
files for ONE part (every other part keeps its stub), then the suites under
``<ws>/grading_tests/`` and the grader's own ``pytest.ini``. Nothing else
from the submission is read: its settings, conftest, pytest configuration
and tests never reach the workspace.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.rubric import Part, Rubric

TESTS_DIR = "grading_tests"
SUITE_DIRS: dict[str, tuple[str, ...]] = {
    "public": ("public",),
    "hidden": ("hidden",),
    "all": ("public", "hidden"),
}
MAX_ANSWER_BYTES = 1024 * 1024
_SKIPPED_NAMES = frozenset({"db.sqlite3", ".celery", "__pycache__", ".pytest_cache"})

PYTEST_INI = """\
# Written by the grader for this workspace; the submission's configuration is never used.
[pytest]
pythonpath = .
DJANGO_SETTINGS_MODULE = config.settings
django_find_project = false
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
python_files = test_*.py
timeout_method = signal
"""


@dataclass(frozen=True)
class Answer:
    """Where one answer file was found in the submission (``path`` None: missing).

    ``reason`` says, for the student, why a file present in the submission
    was not used (a link, too large); it is empty for a plain miss.
    """

    file: str
    path: Path | None
    reason: str = ""


def find_answers(submission: Path, part: Part) -> list[Answer]:
    """Look up the part's answer files in ``submission``.

    A file is looked for at its rubric path (``homework/x.py``), then, for a
    submission of just the files, at its base name (``x.py``). Only regular
    files inside the submission count: a symbolic link that leads elsewhere
    (to the reference solution, say) is ignored, and so is a huge file.
    """
    root = submission.resolve()
    answers = []
    for file in part.files:
        pure = PurePosixPath(file)
        answer = Answer(file, None)
        for candidate in (root.joinpath(*pure.parts), root / pure.name):
            found = _usable(root, candidate, file)
            if found.path is not None or found.reason:
                answer = found
                break
        answers.append(answer)
    return answers


def _usable(root: Path, candidate: Path, file: str) -> Answer:
    if not candidate.exists() and not candidate.is_symlink():
        return Answer(file, None)
    real = Path(os.path.realpath(candidate))
    if candidate.is_symlink() or not real.is_relative_to(root):
        return Answer(file, None, f"{file} is a link, not a file: graded with the starter stub")
    if not real.is_file():
        return Answer(file, None)
    if real.stat().st_size > MAX_ANSWER_BYTES:
        return Answer(file, None, f"{file} is larger than 1 MiB: graded with the starter stub")
    return Answer(file, real)


def build_workspace(
    rubric: Rubric,
    dest: Path,
    *,
    answers: Mapping[str, Path],
    test_files: Iterable[str],
    suite: str,
) -> list[str]:
    """Fill the empty directory ``dest`` and return the test paths to run.

    ``answers`` maps rubric paths (``homework/x.py``) to the submission's
    files; ``test_files`` are base names (``test_x.py``) of the suites'
    files to include. The paths returned are relative to ``dest``, in
    public-then-hidden order, and only those that exist.
    """
    shutil.copytree(rubric.starter, dest, ignore=_ignore, dirs_exist_ok=True, symlinks=False)
    for file, source in answers.items():
        target = dest.joinpath(*PurePosixPath(file).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    wanted = set(test_files)
    tests_root = dest / TESTS_DIR
    suites = SUITE_DIRS[suite]
    shutil.copytree(rubric.tests, tests_root, ignore=_suite_ignore(rubric.tests, suites, wanted))
    (dest / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    paths = []
    for folder in suites:
        for name in sorted(wanted):
            if (tests_root / folder / name).is_file():
                paths.append(f"{TESTS_DIR}/{folder}/{name}")
    return paths


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIPPED_NAMES or n.endswith((".pyc", ".pyo"))}


def _suite_ignore(
    tests: Path, suites: tuple[str, ...], wanted: set[str]
) -> Callable[[str, list[str]], set[str]]:
    """Skip the suites not asked for and the test files of other parts."""
    top = str(tests)

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = _ignore(directory, names)
        if os.path.samefile(directory, top):
            skipped |= {n for n in names if n in SUITE_DIRS["all"] and n not in suites}
        else:
            skipped |= {
                n for n in names if n.startswith("test_") and n.endswith(".py") and n not in wanted
            }
        return skipped

    return ignore
