"""The homework's routes.

The answer files are imported when a request needs them, not when Django
starts: a broken answer file (a syntax error, say) then breaks only its own
routes, and the rest of the project keeps working while you fix it.
"""

from django.urls import path

from . import views
from .answers import answer_view

urlpatterns = [
    path("async/", answer_view("homework.async_views", "hello"), name="async-hello"),
    path(
        "api/users/<int:user_id>/dashboard/",
        answer_view("homework.aggregator", "dashboard"),
        name="user-dashboard",
    ),
    path("api/tasks/", answer_view("homework.db_views", "tasks"), name="tasks"),
    path("api/stats/run/", views.run_daily_stats, name="run-daily-stats"),
]
