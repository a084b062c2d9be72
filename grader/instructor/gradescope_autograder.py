"""What Gradescope's ``run_autograder`` runs: grade the submission, always write results.

``python -m grader.instructor.gradescope_autograder SUBMISSION RESULTS_JSON``

* A graded submission (full marks or not): Gradescope's ``results.json`` from the
  one result object (``grader.reports.gradescope``), and the terminal report with the
  instructor-only integrity warnings on standard output, which Gradescope hides from
  students (``stdout_visibility: hidden``).
* A submission that cannot be graded (no answer file at all, say): ``results.json``
  still, with score 0 and the reason, so the student sees why instead of
  "The autograder failed to produce any output".

The exit status is 0 whenever results were written.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from grader.commands.output import error_line
from grader.engine.grading import grade
from grader.model.errors import GraderError
from grader.model.rubric import load_rubric
from grader.reports import gradescope, terminal


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Grade ``argv[0]`` into the results file ``argv[1]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print(
            "usage: python -m grader.instructor.gradescope_autograder SUBMISSION RESULTS",
            file=sys.stderr,
        )
        return 2
    submission, results = Path(args[0]), Path(args[1])
    try:
        result = grade(submission, rubric=load_rubric())
    except GraderError as exc:
        reason = error_line(str(exc))
        print(f"grader: could not grade: {reason}")
        _write(results, gradescope.dumps(gradescope.not_graded(reason)))
        return 0
    except Exception as exc:  # a grader bug still gives the student a reason
        reason = f"internal error of the grader ({type(exc).__name__}); tell your instructor"
        print(f"grader: internal error: {type(exc).__name__}: {exc}")
        _write(results, gradescope.dumps(gradescope.not_graded(reason)))
        return 0
    terminal.print_result(result)  # hidden stdout: the integrity warnings are in it
    _write(results, gradescope.render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
