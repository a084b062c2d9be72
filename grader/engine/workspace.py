"""Assemble the folders of one part's run: the app's workspace and the trusted folder.

The app's workspace (``write_project``) = a copy of the pristine starter, then the
submission's answer files for ONE part (every other part keeps its stub).
It is all the sandbox shows. The trusted folder (``build_trusted``) = the
pristine starter again (its models and settings: the trusted side shares the
database), the suites under ``grading_tests/`` and the grader's own
``pytest.ini``; no answer file ever reaches it. ``build_workspace`` lays both
in one folder, as the student template has them. Nothing else from the
submission is read: its settings, conftest, pytest configuration and tests
never reach either folder.

Every input is read into memory before any graded code runs (``Sources``
for the starter and the suites, ``Answer.content`` for the answer files) and
each workspace is written from those bytes: a process that changes files on
disk later, or a run that crashed after writing into its workspace, cannot
change what the next workspace holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING

from grader.host import portable
from grader.model.rubric import TESTS_DIR, Part, Rubric

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

# The suites' folders under the rubric's tests directory, and which of them each suite runs.
PUBLIC_DIR = "public"
HIDDEN_DIR = "hidden"
SUITE_DIRS: dict[str, tuple[str, ...]] = {
    "public": (PUBLIC_DIR,),
    "hidden": (HIDDEN_DIR,),
    "all": (PUBLIC_DIR, HIDDEN_DIR),
}
MAX_ANSWER_BYTES = 1024 * 1024
# What is never read from a tree, written once for loading the sources, hashing a
# submission, copying variants and releasing: caches, local databases, virtual
# environments, build output, logs and OS droppings.
JUNK_DIRS = frozenset(
    {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".celery", ".venv"}
)
JUNK_NAMES = frozenset({"db.sqlite3", ".DS_Store"})
JUNK_SUFFIXES = (".pyc", ".pyo", ".sqlite3", ".log", ".egg-info")


def is_junk(relative: PurePath) -> bool:
    """Whether the file at ``relative`` (to the tree's root) is junk, or lies in junk."""
    *folders, name = relative.parts or ("",)
    if any(part in JUNK_DIRS or part.endswith(".egg-info") for part in folders):
        return True
    return name in JUNK_DIRS or name in JUNK_NAMES or name.endswith(JUNK_SUFFIXES)


def pytest_settings() -> dict[str, str]:
    """The suites' pytest settings, one source for the grader's ``pytest.ini`` and the
    student template's ``pyproject.toml`` (where each student's pytest-timeout picks the
    method their OS has)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "django_find_project": "false",
        "asyncio_mode": "strict",
        "asyncio_default_fixture_loop_scope": "function",
        "python_files": "test_*.py",
    }


def pytest_ini() -> str:
    """The grader's pytest.ini for a trusted folder (its own ``pythonpath``)."""
    lines = [
        "# Written by the grader for this folder; the submission's configuration is never used.",
        "[pytest]",
        "pythonpath = .",
        *(f"{key} = {value}" for key, value in pytest_settings().items()),
        f"timeout_method = {portable.timeout_method()}",  # this machine's
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Answer:
    """Where one answer file was found in the submission (``path`` None: missing).

    ``content`` is the file's bytes, read once when it was found: exactly
    what is graded (and hashed by ``grader batch``). ``reason`` says, for the
    student, why a file present in the submission was not used (a link, too
    large); it is empty for a plain miss.
    """

    file: str
    path: Path | None
    reason: str = ""
    content: bytes = b""


Tree = dict[str, bytes]  # posix path relative to a root -> the file's bytes


@dataclass(frozen=True)
class Sources:
    """The pristine starter and the suites, read once (``load_sources``)."""

    starter: Tree
    tests: Tree


def load_tree(base: Path) -> Tree:
    """Every file under ``base`` but caches and databases, by relative posix path."""
    tree: Tree = {}
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if is_junk(relative):
            continue
        if path.is_file() and not path.is_symlink():
            tree[relative.as_posix()] = path.read_bytes()
    return tree


def hash_tree(digest: Hash, label: str, tree: Tree) -> None:
    """Add ``tree`` to ``digest``: every name and its bytes, in one fixed order.

    The one content hash of a tree (the manifest cache's key, ``grader batch``'s
    state), so two hashes of the same files agree; what is junk was left out
    when the tree was loaded (``load_tree``).
    """
    for name in sorted(tree):
        digest.update(f"{label}/{name}\0".encode())
        digest.update(tree[name])
        digest.update(b"\0")


def found_files(answers: Iterable[Answer]) -> dict[str, bytes]:
    """The answer files that were found, by rubric path: what a project is written with."""
    return {answer.file: answer.content for answer in answers if answer.path is not None}


def load_sources(rubric: Rubric) -> Sources:
    """Read the rubric's starter and suites into memory."""
    return Sources(starter=load_tree(rubric.starter), tests=load_tree(rubric.tests))


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
    try:
        with real.open("rb") as stream:
            content = stream.read(MAX_ANSWER_BYTES + 1)
    except OSError:
        return Answer(file, None, f"{file} cannot be read: graded with the starter stub")
    if len(content) > MAX_ANSWER_BYTES:
        return Answer(file, None, f"{file} is larger than 1 MiB: graded with the starter stub")
    return Answer(file, real, content=content)


def build_workspace(
    sources: Sources,
    dest: Path,
    *,
    answers: Mapping[str, bytes],
    test_files: Iterable[str],
    suite: str,
) -> list[str]:
    """Write the directory ``dest`` from memory and return the test paths to run.

    ``answers`` maps rubric paths (``homework/x.py``) to the submission's
    bytes; ``test_files`` are base names (``test_x.py``) of the suites'
    files to include. The paths returned are relative to ``dest``, in
    public-then-hidden order, and only those that exist.
    """
    write_project(sources, dest, answers=answers)
    wanted = set(test_files)
    suites = SUITE_DIRS[suite]
    _write_tree(
        dest / TESTS_DIR,
        {name: data for name, data in sources.tests.items() if _in_suite(name, suites, wanted)},
    )
    (dest / "pytest.ini").write_text(pytest_ini(), encoding="utf-8")
    return [
        f"{TESTS_DIR}/{folder}/{name}"
        for folder in suites
        for name in sorted(wanted)
        if f"{folder}/{name}" in sources.tests
    ]


def write_project(sources: Sources, dest: Path, *, answers: Mapping[str, bytes]) -> None:
    """Write a project: the pristine starter with ``answers`` (rubric path -> bytes) over it.

    The one place a starter copy and answer files are combined, so every project the
    grader runs (the app's workspace, the manifest's, a benchmark's) holds the same
    files. It holds no test and no grader configuration: as the app's workspace, this
    is all the sandbox shows.
    """
    _write_tree(dest, {**sources.starter, **answers})


def build_trusted(
    sources: Sources, dest: Path, *, test_files: Iterable[str], suite: str
) -> list[str]:
    """Write the trusted side's folder: the pristine starter (its models and settings, for
    the shared database), the suites and the grader's ``pytest.ini``; no answer file.
    Returns the test paths to run, as ``build_workspace`` does."""
    return build_workspace(sources, dest, answers={}, test_files=test_files, suite=suite)


def _in_suite(name: str, suites: tuple[str, ...], wanted: set[str]) -> bool:
    """A suite file to copy: outside the suite folders, or in a chosen one and not another
    part's test file."""
    parts = PurePosixPath(name).parts
    if len(parts) > 1 and parts[0] in SUITE_DIRS["all"] and parts[0] not in suites:
        return False
    base = parts[-1]
    return not (base.startswith("test_") and base.endswith(".py") and base not in wanted)


def _write_tree(dest: Path, tree: Mapping[str, bytes]) -> None:
    for name, data in tree.items():
        target = dest.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
