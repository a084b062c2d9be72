"""``grader release OUT``: build the student template and the autograder bundle.

One source, two generated artefacts (never edited by hand):

* ``OUT/student/`` — what GitHub Classroom copies for each student: the starter
  project at the root, the public tests under ``tests/``, the instructions, the
  grading workflow, and under ``.grader/`` what ``grader check`` needs (the
  grader package, the rubric, the pristine scaffold and the PUBLIC suite only).
* ``OUT/autograder/`` — what CI grades with, kept in a private repository: the
  grader package, the rubric, the pristine scaffold, public and hidden suites.

Neither holds the reference solution, the mutants or the alternatives: only the
rubric's ``starter`` and ``tests`` directories and the grader package are read,
and the student copy of the suites skips ``hidden/``. Before anything is
written, the student tree is scanned for every hidden test's name, so a hidden
test cannot leak through a file someone adds later.

Everything is built in memory first and written in sorted order, so the same
input gives byte-identical trees (no timestamps, no absolute paths in content).
The command line is ``grader.instructor.cli.release``'s.
"""

from __future__ import annotations

import ast
import io
import json
import shlex
import shutil
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import grader
from grader.engine.grading import collect_manifest
from grader.engine.workspace import HIDDEN_DIR, PUBLIC_DIR, is_junk, pytest_settings
from grader.model.errors import GraderError
from grader.model.results import tidy
from grader.model.rubric import RUBRIC_PATH, Rubric, load_rubric
from grader.reports import classroom

__all__ = [
    "Artefacts",
    "FileEntry",
    "Tree",
    "build",
    "hidden_test_names",
    "release",
    "write_tree",
]

STUDENT_DIR = "student"
AUTOGRADER_DIR = "autograder"
GRADESCOPE_DIR = "gradescope"
GRADESCOPE_ZIP = PurePosixPath("autograder.zip")
BUNDLE_DIR = ".grader"  # inside the student template: what `grader check` runs on
# The instructor's commands and what only they use: left out of the student's grader, whose
# `grader --help` then lists only what works there (cli skips a command module that is absent).
INSTRUCTOR_ONLY = ("instructor",)
WORKFLOW_SOURCE = PurePosixPath(".github/classroom/classroom.yml")
WORKFLOW_TARGET = PurePosixPath(".github/workflows/classroom.yml")
INSTRUCTION_FILES = ("INSTRUCTIONS.md", "INSTRUCTIONS.zh-TW.md")


GITIGNORE = """\
.venv/
__pycache__/
*.pyc
*.egg-info/
.pytest_cache/
db.sqlite3
.celery/
report.json
*.log
"""


@dataclass(frozen=True)
class FileEntry:
    """One file of a generated tree: its bytes and whether it is executable."""

    content: bytes
    executable: bool = False


Tree = dict[PurePosixPath, FileEntry]


@dataclass(frozen=True)
class Artefacts:
    """The generated trees, relative paths to contents."""

    student: Tree
    autograder: Tree
    gradescope: Tree


_OUTPUTS = (STUDENT_DIR, AUTOGRADER_DIR, GRADESCOPE_DIR)


# ----------------------------------------------------------------------------- reading


def _skipped(relative: PurePosixPath) -> bool:
    return is_junk(relative)  # never shipped (grader.engine.workspace.is_junk)


def _walk(directory: Path) -> Iterator[tuple[PurePosixPath, Path]]:
    """Files under ``directory`` in sorted order, as (relative POSIX path, absolute path)."""
    for path in sorted(directory.rglob("*")):
        relative = PurePosixPath(path.relative_to(directory).as_posix())
        if path.is_file() and not path.is_symlink() and not _skipped(relative):
            yield relative, path


def _entry(path: Path) -> FileEntry:
    return FileEntry(path.read_bytes(), executable=bool(path.stat().st_mode & 0o111))


def _copy_dir(
    tree: Tree, source: Path, target: PurePosixPath, *, skip_top: Iterable[str] = ()
) -> None:
    """Add every file of ``source`` under ``target``, leaving out top-level ``skip_top``."""
    skipped = set(skip_top)
    for relative, path in _walk(source):
        if relative.parts[0] in skipped:
            continue
        tree[target / relative] = _entry(path)


def _relative(rubric: Rubric, path: Path) -> PurePosixPath:
    try:
        return PurePosixPath(path.relative_to(rubric.root).as_posix())
    except ValueError:
        raise GraderError(f"{path} is outside the assignment root {rubric.root}") from None


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise GraderError(f"cannot release: {what} {path} does not exist")
    return path


def _grader_package() -> Path:
    return Path(grader.__file__).resolve().parent


# ----------------------------------------------------------------------------- pyproject


def _toml_list(items: Iterable[str]) -> str:
    lines = "".join(f"    {json.dumps(item)},\n" for item in items)
    return f"[\n{lines}]"


@dataclass(frozen=True)
class _Metadata:
    """What the generated pyprojects take from ours: versions and dependency ranges."""

    version: str
    requires_python: str
    dependencies: tuple[str, ...]
    build_requires: tuple[str, ...]
    build_backend: str


def _project_metadata(rubric: Rubric) -> _Metadata:
    path = _require(rubric.root / "pyproject.toml", "the project file")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    project = data.get("project", {})
    dependencies = project.get("dependencies")
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise GraderError(f"{path}: [project] dependencies must be a list of strings")
    build = data.get("build-system", {})
    return _Metadata(
        version=str(project.get("version", "0")),
        requires_python=str(project.get("requires-python", ">=3.11")),
        dependencies=tuple(dependencies),
        build_requires=tuple(str(r) for r in build.get("requires", ["setuptools>=69"])),
        build_backend=str(build.get("build-backend", "setuptools.build_meta")),
    )


def _pytest_config() -> str:
    """The student's pytest settings: the grader's own (``workspace.pytest_settings``), with
    the template's test folder, the bundled grader on the path and a per-test timeout."""
    lines = [
        "[tool.pytest.ini_options]",
        'testpaths = ["tests"]',
        f"pythonpath = {json.dumps(['.', BUNDLE_DIR])}",
        *(f"{key} = {json.dumps(value)}" for key, value in pytest_settings().items()),
        "timeout = 60",
        'markers = ["points(n): the points this test is worth in grading"]',
    ]
    return "\n".join(lines) + "\n"


def _pyproject(rubric: Rubric, *, student: bool) -> bytes:
    """A pyproject with exactly our dependency ranges (one source: our pyproject.toml)."""
    meta = _project_metadata(rubric)
    name = "async-django-homework" if student else "async-django-autograder-bundle"
    description = (
        "Your asynchronous Django homework (with its public self-check)."
        if student
        else "The autograder bundle: grader, rubric, scaffold and grading suites."
    )
    where = f"where = {json.dumps([BUNDLE_DIR])}\n" if student else ""
    text = (
        f"# Generated by `grader release` from the course repository; do not edit by hand.\n"
        f"[build-system]\n"
        f"requires = {json.dumps(list(meta.build_requires))}\n"
        f"build-backend = {json.dumps(meta.build_backend)}\n"
        f"\n"
        f"[project]\n"
        f"name = {json.dumps(name)}\n"
        f"version = {json.dumps(meta.version)}\n"
        f"description = {json.dumps(description)}\n"
        f"requires-python = {json.dumps(meta.requires_python)}\n"
        f"dependencies = {_toml_list(meta.dependencies)}\n"
        f"\n"
        f"[project.scripts]\n"
        f'grader = "grader.commands.cli:main"\n'
        f"\n"
        f"[tool.setuptools.packages.find]\n"
        f"{where}"
        f'include = ["grader*"]\n'
    )
    if student:
        text += "\n" + _pytest_config()
    return text.encode("utf-8")


# ----------------------------------------------------------------------------- readmes


def _student_readme(rubric: Rubric) -> bytes:
    parts = "\n".join(
        f"| `{part.id}` | {part.title} | {part.points:g} | "
        + ", ".join(f"`{f}`" for f in part.files)
        + " |"
        for part in rubric.parts
    )
    text = f"""\
# {rubric.title} — homework

Read **INSTRUCTIONS.md** (English) or **INSTRUCTIONS.zh-TW.md** (繁體中文) first.

| part | what | points | your file(s) |
|---|---|---|---|
{parts}

Only these answer files are graded; everything else is restored from the
original scaffold when your work is graded.

## Set up (Python 3.11+)

```bash
python3 -m venv .venv
.venv/bin/pip install -e .
```

## Check your work

```bash
.venv/bin/grader check          # public tests, scored like the real grading
.venv/bin/python -m pytest tests  # the same public tests, plain pytest
```

`grader check` runs the PUBLIC tests only. Hidden tests grade more than this:
a full public score does not promise full marks.

Every `git push` grades your work on GitHub (the "Autograding Tests" workflow):
open the run to see the points, the per-test feedback in its summary, and the
JSON report as an artifact.
"""
    return text.encode("utf-8")


def _autograder_readme(rubric: Rubric) -> bytes:
    text = f"""\
# {rubric.title} — autograder bundle

Generated by `grader release`; keep it in a PRIVATE repository: it holds the
hidden tests. The student workflow checks it out with a read-only token and runs

```bash
python -m pip install -e .
grader grade path/to/submission --json report.json
```

Nothing here is edited by hand: change the course repository and release again.
"""
    return text.encode("utf-8")


# ----------------------------------------------------------------------------- workflow

# The lines of the source workflow that `grader release` replaces with the runners.
RUNNERS_MARK = "# runners"
GRADE_STEP = "grade"


def graded_test_weights(rubric: Rubric) -> list[tuple[str, float]]:
    """Every grading test as ``(part id, points)``, in report order (collected with the starter)."""
    with tempfile.TemporaryDirectory(prefix="grader-release-") as scratch:
        manifest = collect_manifest(rubric, "all", list(rubric.parts), Path(scratch))
    if manifest.errors:
        raise GraderError(f"cannot release: {manifest.errors[0]}")
    return [
        (part.id, tidy(test.points or 0.0))
        for part in rubric.parts
        for test in manifest.for_part(part)
    ]


def student_workflow(source: str, ids: list[str]) -> str:
    """The source workflow with the reporter's runners filled in.

    The source has two lines ending in ``# runners``: the reporter's one environment
    variable (whole grade, one runner) and its ``runners:`` input. They become one
    ``<RUNNER>_RESULTS`` variable per runner and the list of runner ids, so that the
    reporter's printed totals equal the points it posts (grader.reports.classroom).
    """
    marked = [line for line in source.splitlines() if line.rstrip().endswith(RUNNERS_MARK)]
    if len(marked) != 2 or not ids:
        raise GraderError(
            f"cannot release: {WORKFLOW_SOURCE} must have exactly two lines ending in "
            f"{RUNNERS_MARK!r} (the reporter's env variable and its runners input)"
        )
    lines = []
    for line in source.splitlines():
        if not line.rstrip().endswith(RUNNERS_MARK):
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if line.lstrip().startswith("runners:"):
            lines.append(f"{indent}runners: {','.join(ids)}")
        else:
            lines += [
                f"{indent}{name}: {value}" for name, value in classroom.runner_env(ids, GRADE_STEP)
            ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- gradescope

# Gradescope unzips the autograder into /autograder/source, runs setup.sh there once (as
# root, on its Ubuntu 22.04 image, whose python3 is 3.10) and then run_autograder for every
# submission. GRADESCOPE_ROOT stands for /autograder (the tests use a temporary folder).
GRADESCOPE_SETUP = """\
#!/usr/bin/env bash
# Generated by `grader release`; do not edit by hand.
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04,
# whose python3 is 3.10; the grader needs 3.11+): it installs uv, a Python 3.11 managed by
# uv, and this bundle into $GRADESCOPE_ROOT/venv.
set -euo pipefail
root="${GRADESCOPE_ROOT:-/autograder}"
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export UV_PYTHON_INSTALL_DIR=/opt/uv-python
apt-get update
apt-get install -y --no-install-recommends ca-certificates python3-pip
python3 -m pip install --disable-pip-version-check --quiet 'uv>=0.9,<1'
python3 -m uv python install 3.11
rm -rf "$root/venv"
python3 -m uv venv --python 3.11 "$root/venv"
python3 -m uv pip install --python "$root/venv/bin/python" -e "$source_dir"
"$root/venv/bin/python" -c "import grader, sys; print('grader ready on Python', sys.version)"
"""

GRADESCOPE_RUN = """\
#!/usr/bin/env bash
# Generated by `grader release`; do not edit by hand.
# Gradescope runs this for every submission: grade $root/submission into
# $root/results/results.json (root = /autograder; GRADESCOPE_ROOT overrides it in tests).
set -uo pipefail
root="${GRADESCOPE_ROOT:-/autograder}"
source_dir="$root/source"
python="${GRADESCOPE_PYTHON:-$root/venv/bin/python}"
results="$root/results/results.json"
mkdir -p "$root/results"
rm -f "$results"
export GRADER_ROOT="$source_dir" PYTHONPATH="$source_dir"
"$python" -m grader.instructor.gradescope_autograder "$root/submission" "$results"
status=$?
if [ ! -s "$results" ]; then  # the grader could not even start: say so, with score 0
  echo "run_autograder: the grader exited with status $status without writing results"
  printf '%s\\n' __MISSING__ > "$results"
fi
exit 0
"""


def _gradescope_run() -> str:
    from grader.reports import gradescope

    missing = gradescope.not_graded(
        "the grader could not start (its Python environment is broken or setup.sh failed); "
        "tell your instructor"
    )
    return GRADESCOPE_RUN.replace("__MISSING__", shlex.quote(json.dumps(missing)))


def gradescope_zip(autograder: Tree) -> bytes:
    """The autograder bundle plus ``setup.sh`` and ``run_autograder``, as a zip.

    Byte-identical for the same input: sorted entries, a fixed timestamp, fixed modes.
    """
    files: Tree = dict(autograder)
    files[PurePosixPath("setup.sh")] = FileEntry(GRADESCOPE_SETUP.encode(), executable=True)
    files[PurePosixPath("run_autograder")] = FileEntry(_gradescope_run().encode(), executable=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in sorted(files):
            entry = files[relative]
            info = zipfile.ZipInfo(str(relative), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if entry.executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.content)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- leak guard


def hidden_test_names(hidden_dir: Path) -> set[str]:
    """Every test function and class name defined in the hidden suite."""
    names: set[str] = set()
    for _relative, path in _walk(hidden_dir):
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
                node.name.startswith(("test_", "Test"))
            ):
                names.add(node.name)
    return names


def _guard_student_tree(tree: Tree, rubric: Rubric) -> None:
    """Refuse to release a student tree holding any hidden test (by file or by name)."""
    hidden_dir = rubric.tests / HIDDEN_DIR
    if not hidden_dir.is_dir():
        return
    hidden_files = {_entry(path).content for _relative, path in _walk(hidden_dir)}
    names = hidden_test_names(hidden_dir)
    for relative, entry in sorted(tree.items()):
        if HIDDEN_DIR in relative.parts:
            raise GraderError(f"release guard: {relative} is in a hidden folder")
        if entry.content in hidden_files and entry.content.strip():
            raise GraderError(f"release guard: {relative} is a copy of a hidden test file")
        text = entry.content.decode("utf-8", errors="replace")
        for name in sorted(names):
            if name in text:
                raise GraderError(f"release guard: {relative} names the hidden test {name}")


# ----------------------------------------------------------------------------- building


def build(rubric: Rubric) -> Artefacts:
    """Both trees, in memory. Paths come from the rubric; nothing else is read."""
    starter = _relative(rubric, rubric.starter)
    tests = _relative(rubric, rubric.tests)
    package = _grader_package()
    rubric_file = _entry(_require(rubric.root / RUBRIC_PATH, "the rubric"))
    if not (rubric.tests / PUBLIC_DIR).is_dir():
        raise GraderError(f"cannot release: {rubric.tests / PUBLIC_DIR} does not exist")

    autograder: Tree = {}
    _copy_dir(autograder, package, PurePosixPath("grader"))
    autograder[PurePosixPath(RUBRIC_PATH)] = rubric_file
    _copy_dir(autograder, rubric.starter, starter)
    _copy_dir(autograder, rubric.tests, tests)
    autograder[PurePosixPath("pyproject.toml")] = FileEntry(_pyproject(rubric, student=False))
    autograder[PurePosixPath("README.md")] = FileEntry(_autograder_readme(rubric))
    autograder[PurePosixPath(".gitignore")] = FileEntry(GITIGNORE.encode())

    student: Tree = {}
    _copy_dir(student, rubric.starter, PurePosixPath("."))
    _copy_dir(student, rubric.tests, PurePosixPath("tests"), skip_top=[HIDDEN_DIR])
    for name in INSTRUCTION_FILES:
        student[PurePosixPath(name)] = _entry(_require(rubric.root / name, "the instructions"))
    student[PurePosixPath("README.md")] = FileEntry(_student_readme(rubric))
    student[PurePosixPath("pyproject.toml")] = FileEntry(_pyproject(rubric, student=True))
    student[PurePosixPath(".gitignore")] = FileEntry(GITIGNORE.encode())
    workflow = _require(rubric.root / WORKFLOW_SOURCE, "the student workflow")
    ids = classroom.runner_ids(graded_test_weights(rubric))
    text = student_workflow(workflow.read_text(encoding="utf-8"), ids)
    student[WORKFLOW_TARGET] = FileEntry(text.encode("utf-8"))
    bundle = PurePosixPath(BUNDLE_DIR)
    _copy_dir(student, package, bundle / "grader", skip_top=INSTRUCTOR_ONLY)
    student[bundle / RUBRIC_PATH] = rubric_file
    _copy_dir(student, rubric.starter, bundle / starter)
    _copy_dir(student, rubric.tests, bundle / tests, skip_top=[HIDDEN_DIR])

    _guard_student_tree(student, rubric)
    gradescope: Tree = {GRADESCOPE_ZIP: FileEntry(gradescope_zip(autograder))}
    return Artefacts(student=student, autograder=autograder, gradescope=gradescope)


def write_tree(destination: Path, tree: Tree) -> None:
    """Replace ``destination`` with exactly ``tree`` (sorted writes, fixed modes)."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for relative in sorted(tree):
        entry = tree[relative]
        path = destination.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry.content)
        path.chmod(0o755 if entry.executable else 0o644)


def _check_destination(out: Path, rubric: Rubric) -> None:
    """OUT must not overlap what is released (it is replaced, not merged)."""
    sources = [rubric.root / RUBRIC_PATH, rubric.starter, rubric.tests, _grader_package()]
    for target in (out / name for name in _OUTPUTS):
        for source in sources:
            if target == source or target in source.parents or source in target.parents:
                raise GraderError(f"cannot release into {out}: it overlaps {source}")


def release(out: Path, *, rubric: Rubric | None = None) -> Artefacts:
    """Build the artefacts; write ``out/student``, ``out/autograder`` and ``out/gradescope``."""
    rubric = rubric or load_rubric()
    out = out.resolve()
    _check_destination(out, rubric)
    artefacts = build(rubric)
    write_tree(out / STUDENT_DIR, artefacts.student)
    write_tree(out / AUTOGRADER_DIR, artefacts.autograder)
    write_tree(out / GRADESCOPE_DIR, artefacts.gradescope)
    return artefacts
