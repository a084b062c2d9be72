"""Hostile answer files, each case a folder of ``tests/hostile/cases/``.

A case is either its own answer files (``<case>/homework/x.py``: attack code
written from scratch) or, when it is the reference plus some noise, an
``edits.toml`` over the reference, stored the way the mutants are
(``grader.instructor.mutants``): find/replace edits, each ``find`` occurring
exactly once in ``assignment/solution``, so a change of the reference reaches
the case without copying it, and an edit left behind fails loudly::

    part = "aggregator"
    description = "the reference, plus 50 MB printed when imported"

    [[edit]]
    file = "homework/aggregator.py"
    find = '''...'''
    replace = '''...'''
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from grader.instructor.mutants import Edit, MutantSpec, materialize
from tests.support import SOLUTION, TESTS

CASES = TESTS / "hostile" / "cases"
TWINS = TESTS / "hostile" / "twins"
EDITS_FILE = "edits.toml"


def load_edits(case_dir: Path) -> MutantSpec:
    """A case's ``edits.toml`` as a spec ``grader.instructor.mutants`` applies."""
    meta = tomllib.loads((case_dir / EDITS_FILE).read_text(encoding="utf-8"))
    assert set(meta) <= {"part", "description", "edit"}, f"{case_dir}: {sorted(meta)}"
    edits = tuple(Edit(raw["file"], raw["find"], raw["replace"]) for raw in meta["edit"])
    assert edits, f"{case_dir}: no [[edit]]"
    # Not a mutant: nothing is lost on purpose (the case must keep its honest marks).
    return MutantSpec(case_dir.name, case_dir, meta["part"], 0.0, meta["description"], edits)


def lay_case(case_dir: Path, dest: Path) -> Path:
    """Write the case's answer files under ``dest`` (over whatever is there); returns ``dest``."""
    if (case_dir / EDITS_FILE).exists():
        return materialize(load_edits(case_dir), SOLUTION, dest)
    shutil.copytree(case_dir, dest, dirs_exist_ok=True)
    return dest
