"""Mutants stored as edits of the reference solution, and their materialization.

A mutant is a known-wrong answer: the reference with one small, intended bug.
It is stored as that bug only, never as a copy of the reference file, so it
follows every later change of the reference. ``assignment/mutants/<name>/``
holds a single ``mutant.toml``::

    part = "aggregator"
    min_points_lost = 2
    description = "an unknown user answers 502 instead of 404"

    [[edit]]
    file = "homework/aggregator.py"
    find = '''...'''      # must occur exactly once in the reference file
    replace = '''...'''

Exactly-once matching is what keeps a mutant honest: when the reference moves
on and the ``find`` text is gone (or now ambiguous), ``materialize`` raises
:class:`StaleEditError` instead of silently applying the bug somewhere else or
not at all. A malformed ``mutant.toml`` raises :class:`GraderError`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from grader.model.errors import GraderError

__all__ = [
    "MUTANT_FILE",
    "Edit",
    "MutantSpec",
    "StaleEditError",
    "apply_edits",
    "load_mutant",
    "materialize",
]

MUTANT_FILE = "mutant.toml"


class StaleEditError(GraderError):
    """An edit's ``find`` text does not occur exactly once in the reference any more."""


@dataclass(frozen=True)
class Edit:
    """Replace the one occurrence of ``find`` in ``file`` (relative, e.g. ``homework/x.py``)."""

    file: str
    find: str
    replace: str


@dataclass(frozen=True)
class MutantSpec:
    """One mutant as written in its ``mutant.toml``."""

    name: str
    path: Path  # the mutant's directory
    part: str
    min_points_lost: float
    description: str
    edits: tuple[Edit, ...]

    @property
    def files(self) -> tuple[str, ...]:
        """The answer files the mutant edits, sorted, each once."""
        return tuple(sorted({edit.file for edit in self.edits}))


def _text(meta: dict[str, Any], key: str, where: str, *, empty_ok: bool = False) -> str:
    value = meta.get(key)
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise GraderError(f"{where}: {key} must be a non-empty string")
    return value


def _edit(raw: object, where: str) -> Edit:
    if not isinstance(raw, dict):
        raise GraderError(f"{where}: must be a table with file, find and replace")
    unknown = sorted(set(raw) - {"file", "find", "replace"})
    if unknown:
        raise GraderError(f"{where}: unknown key(s) {unknown}; an edit has file, find, replace")
    file = _text(raw, "file", where)
    relative = PurePosixPath(file)
    if relative.is_absolute() or ".." in relative.parts or relative.as_posix() != file:
        raise GraderError(f"{where}: file must be a plain relative path like homework/x.py")
    find = _text(raw, "find", where)
    replace = _text(raw, "replace", where, empty_ok=True)
    if find == replace:
        raise GraderError(f"{where}: find and replace are the same text (the edit changes nothing)")
    return Edit(file, find, replace)


def load_mutant(mutant_dir: Path) -> MutantSpec:
    """Read and check ``<mutant_dir>/mutant.toml``; anything malformed raises GraderError.

    Only the format is checked here; whether the edits still apply to the
    reference is :func:`apply_edits`' job (a stale mutant is a finding of
    ``grader verify``, not an unreadable assignment).
    """
    meta_path = mutant_dir / MUTANT_FILE
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GraderError(f"{meta_path}: cannot be read ({exc})") from None
    unknown = sorted(set(meta) - {"part", "min_points_lost", "description", "edit"})
    if unknown:
        raise GraderError(f"{meta_path}: unknown key(s) {unknown}")
    part = _text(meta, "part", str(meta_path))
    description = _text(meta, "description", str(meta_path)).strip()
    raw_min = meta.get("min_points_lost")
    if isinstance(raw_min, bool) or not isinstance(raw_min, int | float) or raw_min <= 0:
        raise GraderError(f"{meta_path}: min_points_lost must be a positive number")
    raw_edits = meta.get("edit")
    if not isinstance(raw_edits, list) or not raw_edits:
        raise GraderError(f"{meta_path}: needs at least one [[edit]] table (file, find, replace)")
    edits = tuple(
        _edit(raw, f"{meta_path}: edit {number}") for number, raw in enumerate(raw_edits, 1)
    )
    return MutantSpec(mutant_dir.name, mutant_dir, part, float(raw_min), description, edits)


def apply_edits(spec: MutantSpec, reference_dir: Path) -> dict[str, str]:
    """The mutant's files as text (relative path -> content): reference + edits.

    Each ``find`` must occur exactly once in the reference file and, when a
    file has several edits, still exactly once when its turn comes (edits may
    not overlap). Otherwise :class:`StaleEditError`.
    """
    texts: dict[str, str] = {}
    originals: dict[str, str] = {}
    for number, edit in enumerate(spec.edits, 1):
        if edit.file not in originals:
            source = reference_dir / edit.file
            try:
                originals[edit.file] = source.read_text(encoding="utf-8")
            except OSError:
                raise StaleEditError(
                    f"mutant {spec.name}: its edit no longer applies to the reference "
                    f"({edit.file} does not exist in {reference_dir})"
                ) from None
            texts[edit.file] = originals[edit.file]
        for label, text in (("the reference", originals[edit.file]), ("edited", texts[edit.file])):
            count = text.count(edit.find)
            if count != 1:
                problem = "find text not found" if count == 0 else f"found {count} times"
                where = "" if label == "the reference" else ", after the edits before it"
                raise StaleEditError(
                    f"mutant {spec.name}: its edit no longer applies to the reference "
                    f"({problem}; edit {number}, {edit.file}{where})"
                )
        texts[edit.file] = texts[edit.file].replace(edit.find, edit.replace, 1)
    return texts


def materialize(mutant: Path | MutantSpec, reference_dir: Path, dest: Path) -> Path:
    """Write the mutant's edited answer files, and nothing else, under ``dest``.

    ``reference_dir`` holds the reference answer files (``homework/...``), e.g.
    ``assignment/solution``. The result is a submission directory holding only
    the files the mutant changes; the grader takes every other answer file from
    wherever the caller lays it over (verify: the reference). Returns ``dest``.
    """
    spec = mutant if isinstance(mutant, MutantSpec) else load_mutant(mutant)
    for relative, text in apply_edits(spec, reference_dir).items():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return dest
