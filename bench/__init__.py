"""Benchmarks for the homework: the lesson under load, and the grader's own speed.

``grader bench`` (``grader/instructor/bench.py``) is the entry point. The modules here
each do one job: ``fake_upstream`` (a JSONPlaceholder stand-in with a fixed
latency), ``procs`` (server subprocesses that are always cleaned up),
``project`` (a runnable copy of the student project), ``load`` (the load
driver and its statistics), ``lesson`` (the load scenarios), ``grading``
(grading speed), ``targets`` and ``report`` (what the figures are judged
against, and how they are shown).
"""
