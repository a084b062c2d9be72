"""A tiny fake assignment for the grading engine's own tests.

Two parts (``alpha``: 3 points, ``beta``: 2 points), a starter whose stubs
raise ``NotImplementedError``, public and hidden suites, and a reference
answer. It grades in a couple of seconds, so the engine's behaviour (crashes,
hangs, partial submissions, bad rubrics) can be tested without the real
homework's Django project.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

SETTINGS = """\
SECRET_KEY = "fake-assignment-only"
INSTALLED_APPS: list[str] = []
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
USE_TZ = True
"""

STUBS = {
    "homework/alpha.py": 'def add(a, b):\n    raise NotImplementedError("alpha: write add()")\n',
    "homework/beta.py": 'def greet(name):\n    raise NotImplementedError("beta: write greet()")\n',
}

REFERENCE = {
    "homework/alpha.py": "def add(a, b):\n    return a + b\n",
    "homework/beta.py": 'def greet(name):\n    return f"Hello, {name}!"\n',
}

CONFTEST = """\
import pytest


@pytest.fixture
def two():
    return 2
"""

SUITES = {
    "public/test_alpha.py": """\
        import pytest

        from grader.messages.feedback import expect


        @pytest.mark.points(1)
        def test_adds_small_numbers(app, two):
            got = app.call("homework.alpha.add", 1, two)
            expect(got == 3, expected="add(1, 2) == 3", got=repr(got), hint="use +")
        """,
    "hidden/test_alpha.py": """\
        import pytest

        from grader.messages.feedback import expect


        @pytest.mark.points(1.5)
        def test_adds_negative_numbers(app):
            SECRET_INPUT = -40
            got = app.call("homework.alpha.add", SECRET_INPUT, 2)
            expect(got == -38, expected="negative numbers add up", got=repr(got), hint="use +")


        @pytest.mark.points(0.5)
        def test_adds_zero(app):
            assert app.call("homework.alpha.add", 0, 0) == 0, "add(0, 0) should be 0"
        """,
    "public/test_beta.py": """\
        import pytest


        @pytest.mark.points(1)
        def test_greets(app):
            got = app.call("homework.beta.greet", "Ada")
            assert got == "Hello, Ada!", "greet('Ada') should be 'Hello, Ada!'"
        """,
    "hidden/test_beta.py": """\
        import pytest


        @pytest.mark.points(1)
        def test_greets_anyone(app):
            got = app.call("homework.beta.greet", "Bob")
            assert got == "Hello, Bob!", "greet() should greet anyone"
        """,
}


def rubric_toml(
    *, alpha: float = 3, beta: float = 2, test_timeout: float = 5, part_timeout: float = 30
) -> str:
    """The fake rubric, with points and budgets a test may change."""
    return textwrap.dedent(
        f"""\
        [assignment]
        title = "Fake assignment"
        starter = "starter"
        tests = "assignment/tests"
        test_timeout = {test_timeout}
        part_timeout = {part_timeout}

        [[parts]]
        id = "alpha"
        title = "Alpha"
        points = {alpha}
        files = ["homework/alpha.py"]
        test_file = "test_alpha.py"

        [[parts]]
        id = "beta"
        title = "Beta"
        points = {beta}
        files = ["homework/beta.py"]
        test_file = "test_beta.py"
        """
    )


def write(root: Path, files: dict[str, str]) -> None:
    """Write ``{relative path: text}`` under ``root`` (text is dedented)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def make_assignment(root: Path, **rubric: float) -> Path:
    """Build the fake assignment repository in ``root`` and return ``root``."""
    write(root, {"assignment/rubric.toml": rubric_toml(**rubric)})
    write(
        root / "starter",
        {"config/__init__.py": "", "config/settings.py": SETTINGS, "homework/__init__.py": ""},
    )
    write(root / "starter", STUBS)
    write(root / "assignment/tests", {"conftest.py": CONFTEST, **SUITES})
    write(root / "assignment/solution", REFERENCE)
    return root


def submission(root: Path, files: dict[str, str]) -> Path:
    """A submission directory holding ``files`` (``{"homework/alpha.py": code}``)."""
    root.mkdir(parents=True, exist_ok=True)
    write(root, files)
    return root
