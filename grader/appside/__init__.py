"""The app side of the split harness: what runs inside the sandbox, beside the student's code.

This package is the only grader code an answer file can reach. It starts the
student's Django project (the pristine scaffold with the part's answer files
laid over it), drives it through Django's real ``ASGIHandler`` and
``WSGIHandler`` and forwards every upstream HTTP request back out, all on one
channel (``grader.appside.wire``). It holds no test, no rubric and no key, and
it decides nothing: every verdict is reached by the trusted side
(``grader.judge``), which never imports an answer file.

It imports nothing from the rest of ``grader`` (an import-linter contract in
the test suite enforces it), so what the sandbox must show of the grader is
this package and nothing else.
"""
