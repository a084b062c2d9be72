"""Tests of the grader: the engine and its workspaces, the trusted pytest process (plugin,
harness, channel), the host side (runner, sandbox, zygote, forkserver, portability), the
reports, the commands (``grade``, ``check``, ``batch``, ``verify``, ``release``, ``bench``),
the mutants and the roster report. Most grade the tiny fake assignment
(``tests.support.fake_assignment``) to stay fast; the ones marked ``slow`` grade the real one.
"""
