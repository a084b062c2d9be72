"""Cases for the given view ``POST /api/stats/run/`` (copied into a project copy and run there).

Not collected in this repository (the name does not start with ``test_``):
``tests/homework/test_homework_starter.py`` copies it as ``test_trigger_view.py`` into a
copy of the starter that has the reference ``homework/tasks.py`` and runs
pytest there, because Django settings are process-global.

The task runs eagerly, so a 202 can be checked by its effect: the statistics
row of the date the view was given.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from config.celery import app
from django.test import Client
from django.utils import timezone
from homework.models import DailyStats, Task
from homework.tasks import compute_daily_stats

URL = "/api/stats/run/"


@pytest.fixture(autouse=True)
def eager_celery() -> Iterator[None]:
    saved = {k: app.conf[k] for k in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(saved)


def post(client: Client, body: Any) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, data=data, content_type="application/json")


def expect_queued(response: Any) -> None:
    assert response.status_code == 202, (response.status_code, response.content)
    body = response.json()
    assert body["status"] == "queued", body
    assert isinstance(body["task_id"], str) and body["task_id"], body


@pytest.mark.django_db
def test_a_date_reaches_the_task(client: Client) -> None:
    noon = datetime.datetime(2025, 1, 31, 12, 0, tzinfo=ZoneInfo("Asia/Taipei"))
    Task.objects.create(title="counted", created_at=noon)
    expect_queued(post(client, {"date": "2025-01-31"}))
    stats = DailyStats.objects.get(date=datetime.date(2025, 1, 31))
    assert (stats.created, stats.completed) == (1, 0)


@pytest.mark.django_db
def test_the_view_calls_delay_once_with_the_date(client: Client) -> None:
    """Also proves that patching ``delay`` (used below) intercepts the view's call."""
    with mock.patch.object(compute_daily_stats, "delay") as delay:
        delay.return_value.id = "fake-id"
        response = post(client, {"date": "2025-01-31"})
    assert response.status_code == 202, response.content
    assert response.json() == {"task_id": "fake-id", "status": "queued"}
    delay.assert_called_once_with("2025-01-31")


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"", b"  ", {}, {"date": None}], ids=repr)
def test_no_date_means_yesterday(client: Client, body: Any) -> None:
    expect_queued(post(client, body))
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert list(DailyStats.objects.values_list("date", flat=True)) == [yesterday]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{",
        b"[1, 2]",
        b'"2025-01-31"',
        {"date": "2025-02-30"},
        {"date": "2025-1-31"},
        {"date": "31-01-2025"},
        {"date": "2025-01-31T00:00"},
        {"date": "2025-01-31\n"},
        {"date": ""},
        {"date": 20250131},
        {"date": ["2025-01-31"]},
    ],
    ids=repr,
)
def test_a_malformed_body_or_date_is_refused_and_nothing_is_queued(
    client: Client, body: Any
) -> None:
    with mock.patch.object(compute_daily_stats, "delay") as delay:
        response = post(client, body)
    assert response.status_code == 400, (response.status_code, response.content)
    error = response.json()["error"]
    assert isinstance(error, str) and error, response.json()
    delay.assert_not_called()
    assert not DailyStats.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client: Client, method: str) -> None:
    with mock.patch.object(compute_daily_stats, "delay") as delay:
        response = getattr(client, method)(URL)
    assert response.status_code == 405, response.status_code
    delay.assert_not_called()
