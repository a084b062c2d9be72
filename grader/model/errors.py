"""The one exception the grader raises when it cannot grade at all."""


class GraderError(Exception):
    """Grading is impossible (bad rubric, no submission, bad arguments).

    Its message is one line, written for the person who ran the grader: the
    CLI prints it as is and exits with status 2. A student's broken code is
    never a ``GraderError``: it is a graded result.
    """
