"""``grader release``: what each artefact holds, what it must never hold, and determinism.

The leak checks read the real sources (hidden suite, reference solution, mutants,
alternatives) and look for them anywhere in the generated trees, byte for byte and
line by line, so a leak through any file (instructions, README, a copy of the
grader) is caught, not only through the expected paths.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from grader.instructor.mutants import materialize
from grader.instructor.release import (
    AUTOGRADER_DIR,
    BUNDLE_DIR,
    GRADESCOPE_DIR,
    RUNNERS_MARK,
    STUDENT_DIR,
    graded_test_weights,
    hidden_test_names,
    release,
    student_workflow,
)
from grader.model.rubric import load_rubric
from grader.reports import classroom
from tests.support import ROOT

ASSIGNMENT = ROOT / "assignment"
RUBRIC = load_rubric(ROOT)
HIDDEN = RUBRIC.tests / "hidden"
PUBLIC = RUBRIC.tests / "public"
CACHE_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def files_under(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not CACHE_PARTS & set(path.parts) and path.suffix != ".pyc":
                yield path


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of a tree: relative path -> (bytes, permission bits)."""
    return {
        path.relative_to(directory).as_posix(): (path.read_bytes(), path.stat().st_mode & 0o777)
        for path in files_under(directory)
    }


def texts(directory: Path) -> dict[str, str]:
    return {
        rel: content.decode("utf-8", errors="replace")
        for rel, (content, _mode) in snapshot(directory).items()
    }


def lines_of(paths: Iterable[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        found.update(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return found


def distinctive_lines(paths: Iterable[Path], *, shared: set[str]) -> set[str]:
    """Lines that would give a source away: long enough, not an import, not in ``shared``."""
    found = set()
    for line in lines_of(paths):
        if len(line) < 25 or line in shared or line.startswith(("import ", "from ")):
            continue
        found.add(line)
    return found


STARTER_LINES = lines_of(p for p in files_under(RUBRIC.starter) if p.suffix == ".py")
SUITE_LINES = lines_of(p for p in files_under(RUBRIC.tests) if p.suffix == ".py")
# What ships to students on purpose (conftest + public suite); a line both there and in the
# solution (``started = time.perf_counter()``) is a coincidence, not a leak.
PUBLIC_SUITE_LINES = lines_of(
    p for p in files_under(RUBRIC.tests) if p.suffix == ".py" and "hidden" not in p.parts
)
SOLUTION_FILES = list(files_under(ASSIGNMENT / "solution"))
FORBIDDEN_DIRS = [ASSIGNMENT / "solution", ASSIGNMENT / "mutants", ASSIGNMENT / "alternatives"]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("release")
    release(target, rubric=RUBRIC)
    return target


@pytest.fixture(scope="module")
def student(out: Path) -> Path:
    return out / STUDENT_DIR


@pytest.fixture(scope="module")
def autograder(out: Path) -> Path:
    return out / AUTOGRADER_DIR


# ---------------------------------------------------------------------------- preconditions


def test_the_sources_the_leak_checks_need_exist() -> None:
    """The leak checks below would pass vacuously without these."""
    assert list(files_under(HIDDEN)), "no hidden tests to look for"
    assert SOLUTION_FILES, "no reference solution to look for"
    assert hidden_test_names(HIDDEN), "no hidden test names to look for"
    assert list(files_under(ASSIGNMENT / "mutants")), "no mutants to look for"


# ---------------------------------------------------------------------------- student tree


def test_student_template_layout(student: Path) -> None:
    for name in (
        "manage.py",
        "config/settings.py",
        "homework/models.py",
        "tests/conftest.py",
        "INSTRUCTIONS.md",
        "INSTRUCTIONS.zh-TW.md",
        "README.md",
        "pyproject.toml",
        ".gitignore",
        ".github/workflows/classroom.yml",
    ):
        assert (student / name).is_file(), name
    for part in RUBRIC.parts:
        for file in part.files:
            starter_file = RUBRIC.starter / file
            assert (student / file).read_bytes() == starter_file.read_bytes(), file
        public = PUBLIC / part.test_file
        if public.is_file():
            shipped = student / "tests" / "public" / part.test_file
            assert shipped.read_bytes() == public.read_bytes()
    for name in ("INSTRUCTIONS.md", "INSTRUCTIONS.zh-TW.md"):
        assert (student / name).read_bytes() == (ROOT / name).read_bytes()
    source = (ROOT / ".github" / "classroom" / "classroom.yml").read_text(encoding="utf-8")
    released = (student / ".github/workflows/classroom.yml").read_text(encoding="utf-8")
    runners = classroom.runner_ids(graded_test_weights(RUBRIC))
    assert released == student_workflow(source, runners)
    # Only the two marked lines differ: every other line of the source is there, in order.
    kept = [line for line in source.splitlines() if not line.endswith(RUNNERS_MARK)]
    assert [line for line in released.splitlines() if line in kept] == kept
    assert os.access(student / "manage.py", os.X_OK) == os.access(
        RUBRIC.starter / "manage.py", os.X_OK
    )


def test_student_pyproject_has_our_dependency_ranges(student: Path) -> None:
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    theirs = tomllib.loads((student / "pyproject.toml").read_text(encoding="utf-8"))
    assert theirs["project"]["dependencies"] == ours["dependencies"]
    # The embedded broker locks its files with pywin32 on Windows (kombu imports win32file).
    assert 'pywin32>=306; sys_platform == "win32"' in theirs["project"]["dependencies"]
    assert theirs["project"]["requires-python"] == ours["requires-python"]
    assert theirs["project"]["scripts"]["grader"] == "grader.commands.cli:main"
    pytest_ini = theirs["tool"]["pytest"]["ini_options"]
    assert pytest_ini["DJANGO_SETTINGS_MODULE"] == "config.settings"
    assert pytest_ini["testpaths"] == ["tests"]


def test_student_self_check_bundle_has_public_suite_only(student: Path) -> None:
    bundle = student / BUNDLE_DIR
    assert (bundle / "grader" / "commands" / "cli.py").is_file()
    assert (bundle / "assignment" / "rubric.toml").read_bytes() == (
        ASSIGNMENT / "rubric.toml"
    ).read_bytes()
    loaded = load_rubric(bundle)  # the bundle is a valid assignment root
    assert [p.id for p in loaded.parts] == [p.id for p in RUBRIC.parts]
    assert (loaded.tests / "public").is_dir()
    assert not (loaded.tests / "hidden").exists()


def test_no_hidden_test_file_in_student_tree(student: Path) -> None:
    hidden_contents = {path.read_bytes() for path in files_under(HIDDEN)}
    for rel, (content, _mode) in snapshot(student).items():
        assert "hidden" not in rel.split("/"), rel
        if content.strip():
            assert content not in hidden_contents, f"{rel} is a hidden test file"


def hidden_strings() -> set[str]:
    """Distinctive strings of the hidden suite: test names and module docstrings."""
    strings = set(hidden_test_names(HIDDEN))
    for path in files_under(HIDDEN):
        if path.suffix != ".py":
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
        if docstring and docstring.strip():
            strings.add(docstring.strip())
            first = docstring.strip().splitlines()[0]
            if len(first) >= 20:
                strings.add(first)
    return strings


def test_no_hidden_test_string_in_student_tree(student: Path) -> None:
    strings = hidden_strings()
    assert strings
    for rel, text in texts(student).items():
        for string in strings:
            assert string not in text, f"{rel} contains a hidden test's {string[:60]!r}"


def test_no_reference_solution_line_in_student_tree(student: Path) -> None:
    solution_lines = distinctive_lines(SOLUTION_FILES, shared=STARTER_LINES | PUBLIC_SUITE_LINES)
    assert solution_lines
    for rel, text in texts(student).items():
        present = {line.strip() for line in text.splitlines()}
        leaked = sorted(solution_lines & present)
        assert not leaked, f"{rel} holds reference-solution lines: {leaked[:3]}"


@pytest.fixture(scope="module")
def mutant_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every mutant as the answer files it stands for (mutants are stored as edits)."""
    target = tmp_path_factory.mktemp("mutants")
    for mutant in sorted(p for p in (ASSIGNMENT / "mutants").iterdir() if p.is_dir()):
        materialize(mutant, ASSIGNMENT / "solution", target / mutant.name)
    files = [p for p in files_under(target) if p.suffix == ".py"]
    assert files, "no materialized mutant to look for"
    return files


def test_no_solution_mutant_or_alternative_in_either_tree(
    student: Path, autograder: Path, mutant_files: list[Path]
) -> None:
    """No such file byte for byte, and no line that only such files have."""
    sources = [p for d in FORBIDDEN_DIRS for p in files_under(d) if p.suffix == ".py"]
    sources += mutant_files
    forbidden = {p.read_bytes() for p in sources} - {
        p.read_bytes() for p in files_under(RUBRIC.starter)
    }
    lines = distinctive_lines(sources, shared=STARTER_LINES | SUITE_LINES)
    assert lines
    for tree in (student, autograder):
        for rel, (content, _mode) in snapshot(tree).items():
            parts = rel.split("/")
            assert not {"solution", "mutants", "alternatives"} & set(parts), rel
            assert rel.rsplit("/", 1)[-1] != "mutant.toml", rel
            assert content not in forbidden, f"{tree.name}/{rel} is a solution/mutant file"
            present = {line.strip() for line in content.decode("utf-8", "replace").splitlines()}
            leaked = sorted(lines & present)
            assert not leaked, f"{tree.name}/{rel} holds solution/mutant lines: {leaked[:3]}"


# ---------------------------------------------------------------------------- autograder tree


def test_autograder_bundle_layout(autograder: Path) -> None:
    loaded = load_rubric(autograder)
    assert loaded.parts == RUBRIC.parts
    for source in files_under(RUBRIC.tests):
        rel = source.relative_to(ROOT)
        assert (autograder / rel).read_bytes() == source.read_bytes(), rel
    for source in files_under(RUBRIC.starter):
        rel = source.relative_to(ROOT)
        assert (autograder / rel).read_bytes() == source.read_bytes(), rel
    package = snapshot(ROOT / "grader")
    assert {rel: c for rel, (c, _m) in snapshot(autograder / "grader").items()} == {
        rel: c for rel, (c, _m) in package.items()
    }
    bundle = tomllib.loads((autograder / "pyproject.toml").read_text(encoding="utf-8"))
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert bundle["project"]["dependencies"] == ours["project"]["dependencies"]
    assert bundle["project"]["scripts"]["grader"] == "grader.commands.cli:main"


# ---------------------------------------------------------------------------- determinism


def test_release_is_deterministic(out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    release(again, rubric=RUBRIC)
    for name in (STUDENT_DIR, AUTOGRADER_DIR, GRADESCOPE_DIR):
        assert snapshot(out / name) == snapshot(again / name), name


def test_release_replaces_a_previous_release(tmp_path: Path) -> None:
    release(tmp_path, rubric=RUBRIC)
    first = snapshot(tmp_path / STUDENT_DIR)
    (tmp_path / STUDENT_DIR / "stale.txt").write_text("left over", encoding="utf-8")
    (tmp_path / STUDENT_DIR / "homework" / "async_views.py").write_text("edited", encoding="utf-8")
    release(tmp_path, rubric=RUBRIC)
    assert snapshot(tmp_path / STUDENT_DIR) == first


def test_release_refuses_to_overwrite_its_sources() -> None:
    from grader.model.errors import GraderError

    with pytest.raises(GraderError, match="overlaps"):
        release(RUBRIC.starter, rubric=RUBRIC)  # would write starter/student
    assert not (RUBRIC.starter / STUDENT_DIR).exists()


def test_release_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from grader.commands.cli import main; raise SystemExit(main())",
            "release",
            str(tmp_path / "cli"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot(tmp_path / "cli" / STUDENT_DIR)


# ---------------------------------------------------------------------------- the template works


def test_public_tests_collect_in_the_template(student: Path) -> None:
    """``python -m pytest tests`` works in the template: every public test is collected."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=student,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    expected = sum(
        1
        for path in files_under(PUBLIC)
        if path.suffix == ".py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )
    collected = [line for line in result.stdout.splitlines() if "::test_" in line]
    assert len(collected) == expected > 0, result.stdout


@pytest.mark.slow
def test_grading_from_the_bundle_matches_grading_from_the_repository(
    autograder: Path, tmp_path: Path
) -> None:
    """The bundle is self-contained: it grades a submission exactly as this repository does."""
    submission = ASSIGNMENT / "solution"

    def grade(cwd: Path, report: Path) -> dict[str, object]:
        env = dict(os.environ, PYTHONPATH=str(cwd))
        env.pop("GRADER_ROOT", None)
        env.pop("GITHUB_OUTPUT", None)
        env.pop("GITHUB_STEP_SUMMARY", None)
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "from grader.commands.cli import main; raise SystemExit(main())",
                "grade",
                str(submission),
                "--json",
                str(report),
            ],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        assert result.returncode in (0, 1), result.stdout + result.stderr
        data: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
        return data

    def stable(data: object) -> object:
        """Drop what legitimately differs between two runs (timings, absolute paths)."""
        if isinstance(data, dict):
            return {
                k: stable(v)
                for k, v in data.items()
                if k not in {"duration", "elapsed", "started_at", "finished_at", "root"}
            }
        if isinstance(data, list):
            return [stable(v) for v in data]
        return data

    ours = grade(ROOT, tmp_path / "ours.json")
    theirs = grade(autograder, tmp_path / "bundle.json")
    assert stable(theirs) == stable(ours)
