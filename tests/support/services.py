"""Redis and PostgreSQL for the integration tests: use them, skip, or fail.

On a laptop without the servers the tests that need them skip with a reason.
In CI (``GRADER_REQUIRE_SERVICES=1``, set by ``.ci/run``) a missing server is a
failure: a skipped integration test must never pass for a green build.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# A database number of its own, emptied before and after use, so that these
# tests never read or delete anybody else's keys in db 0.
REDIS_TEST_DB = 13
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"


def services_required() -> bool:
    """True when a missing service must fail the test (CI) rather than skip it."""
    return os.environ.get("GRADER_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under ``GRADER_REQUIRE_SERVICES=1``, saying which service is missing."""
    if services_required():
        pytest.fail(f"{reason} (GRADER_REQUIRE_SERVICES=1: a missing service is a failure)")
    pytest.skip(reason)


@contextmanager
def redis_database(db: int = REDIS_TEST_DB) -> Iterator[str]:
    """Yield the URL of an empty Redis database, emptied again afterwards."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: redis-py would otherwise back off for seconds before saying "down".
    client = redis.Redis(
        host=REDIS_HOST, port=REDIS_PORT, db=db, socket_timeout=2, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis is not running on {REDIS_HOST}:{REDIS_PORT}: {exc}")
    client.flushdb()
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
    finally:
        client.flushdb()
        client.close()


@contextmanager
def postgres_database(prefix: str = "homework_test") -> Iterator[str]:
    """Yield the URL of a new, empty PostgreSQL database, dropped afterwards.

    The name is unique per call so that parallel runs never share a database
    (pytest-django then creates and drops ``test_<name>`` beside it).
    """
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL is not running on 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{POSTGRES_URL}/{name}"
        finally:
            for database in (f"test_{name}", name):
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
