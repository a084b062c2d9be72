"""The public tests catch each mistake INSTRUCTIONS.md names, before a student pushes.

The lesson's mixin, a middleware that never calls markcoroutinefunction, a view
without its 405, an aggregator that trusts the upstream bodies (not JSON, not
a list): each such mutant loses points in ``grader check`` already (the public
suite), not only once the hidden tests grade it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.engine.grading import grade
from grader.instructor.mutants import materialize
from grader.model.rubric import load_rubric
from tests.support import ROOT

NAMED_MISTAKES = {
    "mw_lesson_mixin": "middleware",
    "mw_no_markcoroutine": "middleware",
    "av_no_405": "async_view",
    "ag_post_allowed": "aggregator",
    "orm_put_creates": "orm_threadpool",
    "ag_json_unchecked": "aggregator",
    "ag_no_list_check": "aggregator",
}


@pytest.mark.slow
@pytest.mark.parametrize("mutant", NAMED_MISTAKES)
def test_the_public_suite_catches_it(mutant: str, tmp_path: Path) -> None:
    part = NAMED_MISTAKES[mutant]
    submission = tmp_path / "submission"
    solution = ROOT / "assignment" / "solution"
    shutil.copytree(solution, submission)
    materialize(ROOT / "assignment" / "mutants" / mutant, solution, submission)
    result = grade(submission, rubric=load_rubric(ROOT), parts=[part], suite="public", jobs=1)
    [graded] = [p for p in result.parts if p.id == part]
    assert graded.score < graded.max_score, f"{mutant} passes every public test of {part}"
