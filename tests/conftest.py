"""Settings every test group shares.

The helpers in ``tests.support`` assert as tests do (a roster helper checks the grade it
built, a project helper its command's exit code): pytest rewrites their asserts too, so a
failure there reads like one in a test.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.support")
