"""The grader against attacks: hostile answer files graded end to end (``test_hostile.py``,
cases in ``cases/``, honest twins in ``twins/``) and the sandbox's attack roster graded by
``grader batch`` as root and unprivileged (``test_sandbox_attacks.py``, attackers in
``sandbox/``). A case is either whole answer files or, when it is the reference plus some
noise, an ``edits.toml`` over the reference (``tests.support.hostile``). The case data is
attack code, excluded from ruff and mypy. These tests scan the machine's processes: run them
alone, not beside another test run.
"""
