"""Benchmarks for the homework: the lesson under load, and the grader's own speed.

``python -m bench`` (``bench/main.py``) is the entry point; what each figure
measures, the targets and the recorded figures are in ``bench/BENCHMARKS.md``.
The package is a one-way client of the grader: it uses ``grader``'s public
names, and nothing in ``grader`` imports it.

The modules here each do one job: ``fake_upstream`` (a JSONPlaceholder stand-in
with a fixed latency), ``procs`` (server subprocesses that are always cleaned
up), ``project`` (a runnable copy of the student project), ``load`` (the load
driver and its statistics), ``lesson`` (the load scenarios), ``grading``
(grading speed), ``roster`` (the roster report's speed), ``targets`` and
``report`` (what the figures are judged against, and how they are shown).
"""
