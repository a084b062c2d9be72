"""What every subcommand writes besides its report: output files and the error line.

A subcommand never prints an error itself: it raises ``GraderError`` and
``grader.commands.cli.main`` prints ``error_line`` and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path

from grader.model.errors import GraderError

__all__ = ["error_line", "write_file"]


def error_line(message: str) -> str:
    """``message`` as one line: its non-blank lines joined with `` | ``.

    One line, because a CI log or a script reads the last line of standard error.
    """
    return " | ".join(line.strip() for line in message.splitlines() if line.strip())


def write_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (making its folder); a failure is a ``GraderError``.

    The person asked for the file, so it not being written is their error to read,
    not an internal error of the grader.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise GraderError(f"cannot write {path}: {exc.strerror}") from None
