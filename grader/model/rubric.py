"""Load and validate ``assignment/rubric.toml``: the one source of points and paths.

Everything the engine needs to know about the assignment (parts, points,
answer files, test file names, time budgets, where the starter and the suites
live) comes from here, so a number is written down exactly once.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from grader.model.errors import GraderError

__all__ = ["GraderError", "Part", "Rubric", "default_root", "load_rubric"]

RUBRIC_PATH = PurePosixPath("assignment/rubric.toml")
# Inside a part's trusted folder, where its suites are copied (the plugin's grading tests).
TESTS_DIR = "grading_tests"
_PART_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Part:
    """One graded part: its answer files and the test file that grades it."""

    id: str
    title: str
    points: float
    files: tuple[str, ...]
    test_file: str


@dataclass(frozen=True)
class Rubric:
    """The whole assignment as the grader sees it (paths are absolute)."""

    root: Path
    title: str
    starter: Path
    tests: Path
    test_timeout: float
    part_timeout: float
    parts: tuple[Part, ...]

    @property
    def max_score(self) -> float:
        """The points of every part together."""
        return sum(part.points for part in self.parts)

    def part(self, part_id: str) -> Part:
        """The part called ``part_id`` (a ``GraderError`` names the known ids)."""
        for part in self.parts:
            if part.id == part_id:
                return part
        known = ", ".join(p.id for p in self.parts)
        raise GraderError(f"unknown part {part_id!r} (the rubric has: {known})")

    def part_for_test_file(self, file_name: str) -> Part | None:
        """The part graded by a test file called ``file_name`` (a base name)."""
        for part in self.parts:
            if part.test_file == file_name:
                return part
        return None


def default_root() -> Path:
    """Where the assignment lives when no root is given.

    ``$GRADER_ROOT`` first; then the tree this package was installed from (an
    editable install or the autograder bundle); then the current directory.
    The grader's own tree comes before the current directory so that a student
    repository holding an ``assignment/rubric.toml`` of its own is never used.
    """
    env = os.environ.get("GRADER_ROOT")
    if env:
        return Path(env).resolve()
    package_parent = Path(__file__).resolve().parents[2]
    if (package_parent / RUBRIC_PATH).is_file():
        return package_parent
    return Path.cwd().resolve()


def load_rubric(root: Path | None = None) -> Rubric:
    """Read ``<root>/assignment/rubric.toml`` and check it thoroughly.

    Raises ``GraderError`` with a one-line message naming the file and the
    problem (missing file, TOML syntax, missing or mistyped key, duplicate
    part id or answer file, unknown directory).
    """
    root = (root or default_root()).resolve()
    path = root / RUBRIC_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraderError(f"no rubric: {path} does not exist") from None
    except OSError as exc:
        raise GraderError(f"cannot read the rubric {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GraderError(f"{path}: not valid TOML ({exc})") from None
    return _build(root, path, data)


def _build(root: Path, path: Path, data: dict[str, Any]) -> Rubric:
    where = str(path)
    section = _table(data, "assignment", where)
    here = f"{where} [assignment]"
    title = _string(section, "title", here)
    starter = _directory(root, _string(section, "starter", here), f"{here} starter")
    tests = _directory(root, _string(section, "tests", here), f"{here} tests")
    test_timeout = _positive(section, "test_timeout", here)
    part_timeout = _positive(section, "part_timeout", here)

    raw_parts = data.get("parts")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise GraderError(f"{where}: needs at least one [[parts]] table")
    parts: list[Part] = []
    seen_ids: set[str] = set()
    seen_files: set[str] = set()
    seen_tests: set[str] = set()
    for index, raw in enumerate(raw_parts, start=1):
        if not isinstance(raw, dict):
            raise GraderError(f"{where}: [[parts]] #{index} is not a table")
        part = _part(raw, f"{where} [[parts]] #{index}")
        if part.id in seen_ids:
            raise GraderError(f"{where}: part id {part.id!r} appears twice")
        if part.test_file in seen_tests:
            raise GraderError(f"{where}: test file {part.test_file!r} is used by two parts")
        for file in part.files:
            if file in seen_files:
                raise GraderError(f"{where}: answer file {file!r} belongs to two parts")
            seen_files.add(file)
        seen_ids.add(part.id)
        seen_tests.add(part.test_file)
        parts.append(part)
    return Rubric(
        root=root,
        title=title,
        starter=starter,
        tests=tests,
        test_timeout=test_timeout,
        part_timeout=part_timeout,
        parts=tuple(parts),
    )


def _part(raw: dict[str, Any], here: str) -> Part:
    part_id = _string(raw, "id", here)
    if not _PART_ID.match(part_id):
        raise GraderError(f"{here}: id {part_id!r} must be lower_snake_case")
    here = f"{here} ({part_id})"
    files_raw = raw.get("files")
    if (
        not isinstance(files_raw, list)
        or not files_raw
        or not all(isinstance(f, str) and f for f in files_raw)
    ):
        raise GraderError(f"{here}: 'files' must be a non-empty list of paths")
    files = tuple(_relative_file(f, here) for f in files_raw)
    test_file = _string(raw, "test_file", here)
    if "/" in test_file or not (test_file.startswith("test_") and test_file.endswith(".py")):
        raise GraderError(f"{here}: test_file {test_file!r} must be a file name like test_x.py")
    return Part(
        id=part_id,
        title=_string(raw, "title", here),
        points=_positive(raw, "points", here),
        files=files,
        test_file=test_file,
    )


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise GraderError(f"{where}: missing [{key}] table")
    return value


def _string(table: dict[str, Any], key: str, here: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise GraderError(f"{here}: '{key}' must be a non-empty string")
    return value


def _positive(table: dict[str, Any], key: str, here: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GraderError(f"{here}: '{key}' must be a number")
    if not math.isfinite(value) or value <= 0:
        raise GraderError(f"{here}: '{key}' must be greater than 0, not {value}")
    return float(value)


def _directory(root: Path, relative: str, here: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_dir():
        raise GraderError(f"{here}: directory {path} does not exist")
    return path


def _relative_file(name: str, here: str) -> str:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not name.endswith(".py"):
        raise GraderError(f"{here}: answer file {name!r} must be a relative .py path")
    return str(pure)
