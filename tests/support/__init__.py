"""Helpers shared by the test groups: paths, throw-away projects and assignments, services.

Imported as ``tests.support.<module>``; none of these modules is a test module.
``ROOT`` is the repository's root, the one place every test finds it from.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
STARTER = ROOT / "starter"
SOLUTION = ROOT / "assignment" / "solution"
VENDOR = TESTS / "vendor"  # third-party files the tests check against, each with its SOURCE.md
