"""The hostile cases stored as edits of the reference still apply to it.

Graded end to end only in the slow runs (``test_hostile.py``, ``test_sandbox_attacks.py``);
here, at once: a reference change that leaves an edit's ``find`` text behind fails with the
reason, and each case changes only its own part's answer files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.model.rubric import load_rubric
from tests.support.hostile import CASES, EDITS_FILE, lay_case, load_edits

EDITED = sorted(p.parent.name for p in CASES.glob(f"*/{EDITS_FILE}"))


def test_some_cases_are_edits_of_the_reference() -> None:
    assert EDITED, f"no {EDITS_FILE} under {CASES}"


@pytest.mark.parametrize("case", EDITED)
def test_an_edited_case_applies_to_the_reference(case: str, tmp_path: Path) -> None:
    spec = load_edits(CASES / case)
    part = load_rubric().part(spec.part)
    written = lay_case(CASES / case, tmp_path)
    files = sorted(p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file())
    assert files == list(spec.files)
    assert set(files) <= set(part.files), (files, part.files)
