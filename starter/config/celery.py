"""The Celery application of this project.

Celery reads every ``CELERY_*`` setting from ``config/settings.py`` and finds
the tasks in each installed app's ``tasks.py``. Its beat schedule (the periodic
tasks) comes from ``homework.schedule.BEAT_SCHEDULE``, one of the answer files.
"""

import logging
import os
import traceback
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_embedded_broker_folders(sender: Celery, **kwargs: object) -> None:
    """Create the folders of the embedded (filesystem) broker and result store."""
    options = sender.conf.broker_transport_options or {}
    folders = [options.get(key) for key in ("data_folder_in", "data_folder_out", "control_folder")]
    backend = str(sender.conf.result_backend or "")
    if backend.startswith("file://"):
        folders.append(backend.removeprefix("file://"))
    for folder in filter(None, folders):
        Path(folder).mkdir(parents=True, exist_ok=True)


@app.on_after_finalize.connect
def load_beat_schedule(sender: Celery, **kwargs: object) -> None:
    """Take the beat schedule from the homework, once Django is ready.

    It is read lazily so that a broken ``homework/schedule.py`` costs only the
    daily-stats part: the web views keep working. Beat then schedules nothing,
    so the error is logged loudly, with the file and line to fix.
    """
    try:
        from homework.schedule import BEAT_SCHEDULE
    except Exception as exc:  # a broken answer file must not stop the project
        logging.getLogger(__name__).error(
            "homework/schedule.py is broken, so beat schedules NOTHING until you fix it: "
            "%s: %s (at %s)",
            type(exc).__name__,
            exc,
            where_it_failed(exc),
        )
        return
    sender.conf.beat_schedule = BEAT_SCHEDULE


def where_it_failed(exc: BaseException) -> str:
    """``path/to/homework/schedule.py:12``: the line of the homework that failed."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno or 0}"
    found = "homework/schedule.py"
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).parent.name == "homework":
            found = f"{frame.filename}:{frame.lineno}"
    return found
