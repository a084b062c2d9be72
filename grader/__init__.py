"""The grading engine of the asynchronous-Django homework.

The subpackages are layers; each imports only from the layers below it
(import-linter checks it, ``[tool.importlinter]`` in ``pyproject.toml``):

* ``instructor`` – the instructor's commands (verify, batch, release, the roster
  report, the Gradescope entry point); ``grader release`` never ships it to students.
  Its logic modules return typed results; ``instructor.cli`` parses and renders them.
* ``commands`` – the student's commands, ``grader grade`` and ``grader check``, and
  ``cli.main``: the one place a command's error is printed.
* ``reports`` – pure renderers of one ``GradeResult`` (terminal, JSON, Markdown,
  Classroom, Gradescope, JUnit).
* ``engine`` – one grade: the workspaces, the manifest of expected tests, scoring.
* ``host`` – process control on the grader's side: the sandbox, the fork server,
  limits, starting and reaping the app and the trusted pytest.
* ``judge`` – the trusted pytest process: the plugin that reaches every verdict,
  the ``app`` fixture and its client, the channel back to the host.
* ``messages`` – what a stuck student reads: feedback wording and hints.
* ``model`` – the rubric, results and errors every layer shares.

``appside`` stands apart: it runs inside the sandbox beside the graded code and
imports nothing else from ``grader``; what crosses to it is ``appside.wire``'s frames.
"""
