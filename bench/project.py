"""Runnable copies of the student project, and the sequential-await aggregator.

A benchmarked project is what a student would run: the pristine ``starter/``
with the submission's answer files copied over it, and a migrated SQLite file
database. Only the answer files the rubric names are taken from a submission.
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.engine.workspace import Sources, find_answers, found_files, load_sources, write_project
from grader.model.rubric import Rubric, load_rubric

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTER = REPO_ROOT / "starter"
REFERENCE = REPO_ROOT / "assignment" / "solution"
MUTANTS = REPO_ROOT / "assignment" / "mutants"
AGGREGATOR = "homework/aggregator.py"

# The documented transformation that turns a concurrent aggregator into a
# sequential one: every ``asyncio.gather(a, b, c, ...)`` becomes a call to this
# helper, which awaits its arguments one after another. Coroutine objects do not
# start until awaited, so the three upstream calls then run strictly in turn:
# nothing else in the view changes, so the difference measured is the awaits.
SEQUENTIAL_HELPER = '''

async def _bench_sequential_gather(*awaitables, return_exceptions=False):
    """Added by bench/project.py: asyncio.gather, but awaiting one at a time."""
    results = []
    for awaitable in awaitables:
        try:
            results.append(await awaitable)
        except Exception as exc:
            if not return_exceptions:
                raise
            results.append(exc)
    return results
'''


class ProjectError(RuntimeError):
    """The project copy could not be built (no answer files, migrate failed...)."""


@dataclass(frozen=True)
class AnswerSource:
    """Where one project's aggregator came from, for the report."""

    label: str
    origin: str


@functools.cache
def _rubric() -> Rubric:
    """The repository's rubric, read once per bench run."""
    return load_rubric(REPO_ROOT)


@functools.cache
def _sources() -> Sources:
    """The pristine starter and suites, read once: every benchmarked project starts from it."""
    return load_sources(_rubric())


def submission_files(submission: Path) -> dict[str, bytes]:
    """The rubric's answer files in ``submission`` (rubric path -> bytes), found the way the
    grader finds them (``find_answers``), so the bench runs what a grade would grade."""
    rubric = _rubric()
    found = found_files(a for part in rubric.parts for a in find_answers(submission, part))
    if not found:
        wanted = [file for part in rubric.parts for file in part.files]
        raise ProjectError(f"{submission}: no answer file found (looked for {wanted})")
    return found


def assemble(
    dest: Path, files: Mapping[str, bytes], overrides: Mapping[str, str] | None = None
) -> Path:
    """Write a project at ``dest``: the pristine starter, the answer ``files`` over it, then the
    ``overrides`` (text) — the grader's own ``write_project``, as a grade writes one."""
    texts = {rel: text.encode("utf-8") for rel, text in (overrides or {}).items()}
    write_project(_sources(), dest, answers={**files, **texts})
    return dest


def database_url(project: Path) -> str:
    return f"sqlite:///{project / 'db.sqlite3'}"


def django_env(project: Path, **extra: str) -> dict[str, str]:
    """The environment a benchmarked server runs with: production-like, local only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",  # DEBUG keeps every SQL query and adds checks: not production
        DATABASE_URL=database_url(project),
        PYTHONPATH=str(project),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def migrate(project: Path) -> None:
    """``manage.py migrate`` into the project's file database."""
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=project,
        env=django_env(project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise ProjectError(f"migrate failed in {project}:\n{result.stdout}{result.stderr}")


def copy_database(migrated: Path, project: Path) -> None:
    """Reuse one migrated database file (migrating takes seconds; the schema is the same)."""
    shutil.copyfile(migrated / "db.sqlite3", project / "db.sqlite3")


def mutant_dirs() -> list[Path]:
    """Every mutant directory under ``assignment/mutants/``, sorted by name."""
    return sorted(p for p in MUTANTS.iterdir() if p.is_dir()) if MUTANTS.is_dir() else []


def mutant_answers(mutant: Path) -> dict[str, str]:
    """A mutant's edited answer files (relative path -> text): the reference plus its edits.

    A mutant that no longer applies to the reference raises ProjectError (as
    ``grader verify`` reports it), never a silently unchanged reference.
    """
    from grader.instructor.mutants import (  # mutants are edits, not file copies
        apply_edits,
        load_mutant,
    )
    from grader.model.errors import GraderError

    try:
        return apply_edits(load_mutant(mutant), REFERENCE)
    except GraderError as exc:
        raise ProjectError(str(exc)) from None


def make_sequential(source: str) -> str:
    """Apply the documented transformation (see ``SEQUENTIAL_HELPER``) to aggregator source."""
    ast.parse(source)  # a broken reference should fail here, loudly
    count = source.count("asyncio.gather(")
    if count == 0:
        raise ProjectError(
            "the reference aggregator has no asyncio.gather( call to make sequential; "
            "add a sequential mutant under assignment/mutants/ instead"
        )
    return source.replace("asyncio.gather(", "_bench_sequential_gather(") + SEQUENTIAL_HELPER


def sequential_aggregator() -> tuple[str, AnswerSource]:
    """The sequential-await aggregator: the reference transformed, else a mutant.

    The transformation comes first: it changes nothing but the awaits, while a
    mutant also rewrites the loop around them. A mutant whose directory name
    says "sequential" and that edits the aggregator is the fallback when the
    reference has no ``asyncio.gather``.
    """
    try:
        text = make_sequential((REFERENCE / AGGREGATOR).read_text())
    except ProjectError:
        for mutant in mutant_dirs():
            if "sequential" in mutant.name:
                try:
                    files = mutant_answers(mutant)
                except ProjectError:  # its edit expects the gather the reference lacks
                    continue
                if AGGREGATOR in files:
                    return files[AGGREGATOR], AnswerSource(
                        "sequential", f"mutant {mutant.relative_to(REPO_ROOT)}"
                    )
        raise
    return text, AnswerSource(
        "sequential",
        "the reference with asyncio.gather replaced by one-at-a-time awaits "
        "(bench/project.py make_sequential)",
    )


def async_demo_delay() -> float:
    """``ASYNC_DEMO_DELAY`` from the scaffold's settings (a fixed number there)."""
    tree = ast.parse((STARTER / "config" / "settings.py").read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "ASYNC_DEMO_DELAY"
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, int | float)
        ):
            return float(node.value.value)
    raise ProjectError("ASYNC_DEMO_DELAY is not a plain number in starter/config/settings.py")
