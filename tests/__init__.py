"""The repository's own tests (``pytest`` runs them all; ``pyproject.toml`` sets it up).

``grader/`` tests the grading engine and everything built on it, ``homework/``
the homework itself, ``repo/`` the repository as a whole, ``hostile/`` the
grader against attacks; ``support/`` holds the helpers they share.
"""
