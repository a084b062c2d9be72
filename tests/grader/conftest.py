"""Fixtures shared by the grader's tests."""

from __future__ import annotations

import pytest

from grader.model.rubric import Rubric, load_rubric
from tests.support.fake_assignment import make_assignment


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Rubric:
    """The tiny fake assignment (``tests.support.fake_assignment``), once per module."""
    return load_rubric(make_assignment(tmp_path_factory.mktemp("fake")))
