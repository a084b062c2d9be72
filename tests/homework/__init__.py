"""Tests of the homework itself, not of the grader: the student starter runs (migrations, demo
data, the trigger view), each answer file breaks only its own part, the reference solution
works for real (uvicorn, a Celery worker, Redis and PostgreSQL), the instructions say what the
rubric grades, and the public suite already catches the mistakes the instructions name.
Each runs the project in a throw-away copy (``tests.support.homework_project``); ``scripts/``
holds the scripts they copy into such a project and run there (not test modules here).
"""
