"""A missing Redis or PostgreSQL skips the integration tests, or fails them in CI."""

from __future__ import annotations

import pytest

from bench.procs import free_port
from tests.support import services


@pytest.mark.parametrize("required", ["", "1"])
def test_a_missing_redis_skips_or_fails(monkeypatch: pytest.MonkeyPatch, required: str) -> None:
    monkeypatch.setenv("GRADER_REQUIRE_SERVICES", required)
    monkeypatch.setattr(services, "REDIS_PORT", free_port())  # nothing listens there
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match="Redis is not running"), services.redis_database():
        pass


@pytest.mark.parametrize("required", ["", "1"])
def test_a_missing_postgresql_skips_or_fails(
    monkeypatch: pytest.MonkeyPatch, required: str
) -> None:
    monkeypatch.setenv("GRADER_REQUIRE_SERVICES", required)
    monkeypatch.setattr(services, "POSTGRES_URL", f"postgres://postgres@127.0.0.1:{free_port()}")
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match="PostgreSQL is not running"), services.postgres_database():
        pass
