"""The instructor's subcommands: arguments in, a rendered verdict out.

Each module here registers one ``grader`` subcommand (``add_parser`` and
``run``, see ``grader.commands.cli``) and renders what its logic module
(``grader.instructor.verify``, ``batch``, ``release``) returns. No rule of
grading lives here, and the logic modules neither parse arguments nor print.
"""
