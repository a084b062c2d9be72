"""The given view that queues the daily-stats task (part of the scaffold, not graded)."""

import datetime
import json
import re

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def run_daily_stats(request: HttpRequest) -> JsonResponse:
    """POST /api/stats/run/ with an optional JSON body {"date": "YYYY-MM-DD"}.

    Queues ``compute_daily_stats`` on the Celery broker and answers 202 with the
    task id. Without a date the task computes yesterday's statistics.
    """
    day = None
    if request.body.strip():
        try:
            body = json.loads(request.body)
        except ValueError:
            return JsonResponse({"error": "the body is not valid JSON"}, status=400)
        if not isinstance(body, dict):
            return JsonResponse(
                {"error": 'the body must be an object like {"date": "2025-01-31"}'}, status=400
            )
        day = body.get("date")
        if day is not None:
            try:
                if not isinstance(day, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                    raise ValueError
                datetime.date.fromisoformat(day)
            except ValueError:
                return JsonResponse(
                    {"error": "date must be a real date written YYYY-MM-DD"}, status=400
                )

    # Imported here so that a broken tasks.py breaks only this view.
    from .tasks import compute_daily_stats

    result = compute_daily_stats.delay(day)
    return JsonResponse({"task_id": result.id, "status": "queued"}, status=202)
