"""The student's commands (``grader grade``, ``grader check``) and the one CLI front end."""
