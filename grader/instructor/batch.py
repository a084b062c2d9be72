"""``grader batch DIR --out gradebook.csv``: regrade a roster.

Each subdirectory of DIR is one submission (a cloned student repository, say).
Submissions are graded in parallel by the same engine as ``grader grade``,
with a progress bar, into

* a CSV gradebook: one row per submission — its points per part, the total,
  a status (``graded`` or ``error``) and, when it could not be graded, why;
* one Markdown feedback file per submission (the engine's Markdown report).

Resumable: a state file next to the CSV remembers, per submission, a hash of
its answer files (found exactly as the engine finds them) and of the grader
itself (its package, rubric, scaffold and suites). A submission whose hash is
unchanged keeps its row and is not graded again; the state is saved after each
submission, so an interrupted batch picks up where it stopped.

One broken or hostile submission never stops the batch: anything that goes
wrong with it becomes its row's ``error`` status and reason.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import grader
from grader.commands.argtypes import positive_int
from grader.engine.grading import default_jobs, grade
from grader.engine.workspace import Answer, Sources, find_answers, is_junk, load_sources
from grader.host import portable
from grader.host.sandbox import Sandbox, detect, why_not
from grader.model.errors import GraderError
from grader.model.results import SUITES, GradeResult, number
from grader.model.rubric import RUBRIC_PATH, Rubric, load_rubric
from grader.model.text import clean, csv_cell

__all__ = [
    "BatchSummary",
    "Row",
    "add_parser",
    "answers_hash",
    "default_batch_jobs",
    "grader_fingerprint",
    "processes_per_submission",
    "run",
    "run_batch",
    "state_path",
]

STATE_VERSION = 1
GRADED = "graded"
ERROR = "error"


@dataclass
class Row:
    """One gradebook line (points as written in the CSV, by part id)."""

    submission: str
    status: str
    points: dict[str, str] = field(default_factory=dict)
    total: str = ""
    max_score: str = ""
    reason: str = ""
    sandbox: str = "yes"  # or "no: <why>": graded without the OS sandbox (--unsandboxed)


@dataclass
class BatchSummary:
    """What one run did: graded now, kept unchanged from the state, and every row.

    ``errors`` names every submission whose row says ``error``, graded now or kept.
    """

    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


# ----------------------------------------------------------------------------- hashing


def _hash_tree(digest: hashlib._Hash, base: Path, label: str) -> None:
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        # What never decides a grade is never hashed (grader.engine.workspace.is_junk).
        if path.is_file() and not is_junk(relative):
            digest.update(f"{label}/{relative.as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")


def grader_fingerprint(rubric: Rubric, suite: str) -> str:
    """A hash of everything that decides a grade besides the answer files."""
    digest = hashlib.sha256(f"batch-state-{STATE_VERSION}|suite={suite}\0".encode())
    _hash_tree(digest, Path(grader.__file__).resolve().parent, "grader")
    digest.update((rubric.root / RUBRIC_PATH).read_bytes())
    _hash_tree(digest, rubric.starter, "starter")
    _hash_tree(digest, rubric.tests, "tests")
    return digest.hexdigest()


def read_answers(submission: Path, rubric: Rubric) -> dict[str, list[Answer]]:
    """Every part's answer files, read once: the bytes that are hashed are the bytes graded."""
    return {part.id: find_answers(submission, part) for part in rubric.parts}


def hash_answers(answers: dict[str, list[Answer]]) -> str:
    """A hash of the answer files' bytes as read (``read_answers``)."""
    digest = hashlib.sha256()
    for found in answers.values():
        for answer in found:
            digest.update(f"{answer.file}\0{answer.reason}\0".encode())
            if answer.path is None:
                digest.update(b"<missing>\0")
            else:
                digest.update(hashlib.sha256(answer.content).digest())
    return digest.hexdigest()


def answers_hash(submission: Path, rubric: Rubric) -> str:
    """A hash of the submission's answer files, found exactly as the engine finds them."""
    return hash_answers(read_answers(submission, rubric))


# ----------------------------------------------------------------------------- state


def state_path(csv_path: Path) -> Path:
    """Where the resume state lives: next to the CSV (``gradebook.csv.state.json``)."""
    return csv_path.with_name(csv_path.name + ".state.json")


def _load_state(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return {}
    entries = data.get("submissions")
    return entries if isinstance(entries, dict) else {}


def _save_state(path: Path, entries: dict[str, dict[str, object]]) -> None:
    """Write atomically: an interrupted run leaves the previous state or the new one."""
    text = json.dumps({"version": STATE_VERSION, "submissions": entries}, indent=2, sort_keys=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _row_from_state(entry: dict[str, object]) -> Row | None:
    raw = entry.get("row")
    if not isinstance(raw, dict):
        return None
    try:
        return Row(**raw)
    except TypeError:
        return None


# ----------------------------------------------------------------------------- grading one


def _feedback_name(submission: str) -> str:
    return f"{submission}.md"


def _error_feedback(name: str, reason: str) -> str:
    name, reason = clean(name), clean(reason)
    return (
        f"## {name}: could not be graded\n\n"
        f"{reason}\n\n"
        "Nothing was scored. Check that the answer files are at their paths "
        "(`homework/...`) and grade again.\n"
    )


def _row_from_result(name: str, result: GradeResult, rubric: Rubric) -> Row:
    by_id = {part.id: part for part in result.parts}
    points = {
        part.id: (str(number(by_id[part.id].score)) if by_id[part.id].graded else "")
        for part in rubric.parts
        if part.id in by_id
    }
    reason = "; ".join(f"instructor error: {p}" for p in result.problems)
    return Row(
        submission=name,
        status=GRADED,
        points=points,
        total=str(number(result.score)),
        max_score=str(number(result.max_score)),
        reason=reason,
        sandbox=_sandbox_cell(result.unsandboxed),
    )


@dataclass(frozen=True)
class _Job:
    """One submission to grade, with everything read before any graded code runs."""

    submission: Path
    key: str
    answers: dict[str, list[Answer]] | None  # None: unreadable (the grade says why)


@dataclass(frozen=True)
class _Setup:
    """What every submission of one batch shares."""

    rubric: Rubric
    sources: Sources
    suite: str
    processes: int
    sandbox: Sandbox | str
    render_markdown: Callable[[GradeResult], str]


def _grade_one(job: _Job, setup: _Setup) -> tuple[Row, str, bool]:
    """(row, feedback Markdown, cacheable). Never raises."""
    submission = job.submission
    name = submission.name
    try:
        if submission.is_symlink():
            raise GraderError(f"{name} is a symbolic link, not a submission folder")
        result = grade(
            submission,
            suite=setup.suite,
            rubric=setup.rubric,
            jobs=setup.processes,
            sandbox=setup.sandbox,
            answers=job.answers,
            sources=setup.sources,
        )
        feedback = setup.render_markdown(result)
        if result.unsandboxed:
            feedback = f"> Graded WITHOUT the OS sandbox: {result.unsandboxed}\n\n{feedback}"
        return _row_from_result(name, result, setup.rubric), feedback, True
    except GraderError as exc:  # could not grade: deterministic, worth remembering
        reason = " ".join(str(exc).split())
        return _error_row(name, reason, setup), _error_feedback(name, reason), True
    except Exception as exc:  # the grader itself failed on this one: retry next run
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        return _error_row(name, reason, setup), _error_feedback(name, reason), False


def _error_row(name: str, reason: str, setup: _Setup) -> Row:
    return Row(name, ERROR, reason=reason, sandbox=_sandbox_cell(why_not(setup.sandbox)))


def _sandbox_cell(unsandboxed: str) -> str:
    """The gradebook's ``sandboxed`` column: ``yes``, or ``no: <why>``."""
    return f"no: {unsandboxed}" if unsandboxed else "yes"


# ----------------------------------------------------------------------------- the batch


def default_batch_jobs() -> int:
    """Submissions graded at once by default: four per core.

    A submission takes longer in wall time than in CPU, because its tests mostly
    wait; more submissions side by side fill those waits (the measurements:
    ``bench/BENCHMARKS.md``).
    """
    return portable.per_core(portable.SUBMISSIONS_PER_CORE)


def processes_per_submission(jobs: int) -> int:
    """Pytest processes each submission may run at once while ``jobs`` are graded together.

    One ``grader grade``'s processes (``default_jobs``: about twice the cores) are
    shared out among the submissions graded together, at least one each: with the
    default ``--jobs`` every submission runs its parts one after another.
    """
    return max(1, default_jobs(1_000) // max(1, jobs))


def _submissions(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise GraderError(f"no such directory: {directory}")
    found = [
        entry
        for entry in sorted(directory.iterdir(), key=lambda p: p.name)
        if not entry.name.startswith(".") and (entry.is_dir() or entry.is_symlink())
    ]
    return found


def _write_csv(path: Path, rows: Iterable[Row], rubric: Rubric) -> None:
    part_ids = [part.id for part in rubric.parts]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["submission", *part_ids, "total", "max_score", "status", "reason", "sandboxed"]
    )
    for row in sorted(rows, key=lambda r: r.submission):
        writer.writerow(
            [
                csv_cell(row.submission),
                *(row.points.get(part_id, "") for part_id in part_ids),
                row.total,
                row.max_score,
                row.status,
                csv_cell(row.reason),
                csv_cell(row.sandbox),
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def run_batch(
    directory: Path,
    csv_path: Path,
    *,
    feedback_dir: Path | None = None,
    jobs: int = 1,
    suite: str = "all",
    rubric: Rubric | None = None,
    force: bool = False,
    console: Console | None = None,
    unsandboxed: bool = False,
    sandbox: Sandbox | str | None = None,
    similarity: bool = False,
) -> BatchSummary:
    """Grade every submission folder of ``directory``; write the CSV, feedback and state,
    then ``report.html`` beside the CSV (and, with ``similarity``, ``similarity.csv``).

    Graded code runs in the OS sandbox (``grader.host.sandbox``). Where none can be
    made this raises ``GraderError`` naming the fix, unless ``unsandboxed``:
    then every row and feedback file says the grade was unsandboxed.
    ``sandbox``: ``detect()``'s answer, taken now when not given.
    """
    from grader.instructor.roster import records
    from grader.reports import markdown

    rubric = rubric or load_rubric()
    if suite not in SUITES:
        raise GraderError(f"unknown suite {suite!r}: use public, hidden or all")
    box = detect() if sandbox is None else sandbox
    no_sandbox = why_not(box)
    if no_sandbox and not unsandboxed:
        raise GraderError(
            f"no sandbox for the students' code: {no_sandbox}. Install bubblewrap (and allow "
            "user namespaces), or pass --unsandboxed to grade without one"
        )
    submissions = _submissions(directory)
    feedback_dir = feedback_dir or csv_path.parent / "feedback"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    state_file = state_path(csv_path)
    state = {} if force else _load_state(state_file)
    fingerprint = grader_fingerprint(rubric, suite)

    summary = BatchSummary()
    rows: dict[str, Row] = {}
    to_grade: list[_Job] = []
    sandbox_tag = f"|unsandboxed:{no_sandbox}" if no_sandbox else ""
    for submission in submissions:
        answers: dict[str, list[Answer]] | None
        try:
            answers = read_answers(submission, rubric)
            key = f"{fingerprint}{sandbox_tag}:{hash_answers(answers)}"
        except OSError as exc:
            answers = None
            key = f"{fingerprint}{sandbox_tag}:unreadable:{exc.strerror}"
        entry = state.get(submission.name) or {}
        kept = _row_from_state(entry) if entry.get("key") == key else None
        feedback = feedback_dir / _feedback_name(submission.name)
        kept_result = records.result_file(records.results_dir(csv_path), submission.name)
        if (
            kept is not None
            and feedback.is_file()
            and (kept.status == ERROR or kept_result.is_file())
        ):
            rows[submission.name] = kept
            summary.skipped.append(submission.name)
        else:
            to_grade.append(_Job(submission, key, answers))

    new_state = {name: state[name] for name in rows if name in state}
    setup = _Setup(
        rubric=rubric,
        sources=load_sources(rubric),
        suite=suite,
        processes=processes_per_submission(jobs),
        sandbox=box,
        render_markdown=records.recorder(records.results_dir(csv_path), markdown.render),
    )
    lock = threading.Lock()
    console = console or Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
    )
    with progress, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        task = progress.add_task("", total=len(to_grade))
        futures: dict[Future[tuple[Row, str, bool]], _Job] = {
            pool.submit(_grade_one, job, setup): job for job in to_grade
        }
        for future in as_completed(futures):
            job = futures[future]
            submission, key = job.submission, job.key
            row, feedback_text, cacheable = future.result()
            (feedback_dir / _feedback_name(submission.name)).write_text(
                feedback_text, encoding="utf-8"
            )
            with lock:
                rows[submission.name] = row
                summary.graded.append(row.submission)
                if cacheable:
                    new_state[submission.name] = {"key": key, "row": asdict(row)}
                else:
                    new_state.pop(submission.name, None)
                _save_state(state_file, new_state)
            progress.update(task, advance=1, description=f"{clean(row.submission)}: {row.status}")
    _save_state(state_file, new_state)
    _write_csv(csv_path, rows.values(), rubric)
    summary.rows = sorted(rows.values(), key=lambda r: r.submission)
    summary.graded.sort()
    summary.errors = [row.submission for row in summary.rows if row.status == ERROR]
    from grader.instructor.roster.report import after_batch

    after_batch(
        directory,
        csv_path,
        summary.rows,
        rubric,
        feedback_dir=feedback_dir,
        similarity=similarity,
        console=console,
    )
    return summary


# ----------------------------------------------------------------------------- CLI


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``grader batch DIR --out CSV [--jobs N] [--feedback-dir D]``."""
    parser = subparsers.add_parser(
        "batch",
        help="grade a folder of submissions into a CSV gradebook and feedback files",
        description=(
            "Grade every subdirectory of DIR (one submission each) in parallel. Writes the "
            "CSV gradebook, one Markdown feedback file per submission and a resume state "
            "next to the CSV: a submission whose answer files (and the grader) have not "
            "changed since its last grade is not graded again. Exit 0: every submission "
            "graded; 1: some could not be graded (status 'error'); 2: the batch could not run."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="one subdirectory each")
    parser.add_argument("--out", type=Path, required=True, metavar="CSV", help="gradebook CSV")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="submissions graded at the same time (default: four per core); each gets "
        "its share of one `grader grade`'s pytest processes, at least one",
    )
    parser.add_argument(
        "--feedback-dir",
        type=Path,
        metavar="D",
        help="where the Markdown feedback files go (default: feedback/ next to the CSV)",
    )
    parser.add_argument("--suite", choices=SUITES, default="all", help="default: all")
    parser.add_argument("--force", action="store_true", help="ignore the state: regrade all")
    parser.add_argument(
        "--root", type=Path, metavar="DIR", help="the assignment's repository (default: this one)"
    )
    parser.add_argument(
        "--unsandboxed",
        action="store_true",
        help="grade even where no OS sandbox can be made (the CSV and feedback say so); "
        "students' code then sees this machine as you do",
    )
    parser.add_argument(
        "--similarity",
        action="store_true",
        help="also look for pairs of submissions alike (and like the reference solution): "
        "in report.html and similarity.csv beside the CSV",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the batch; print a one-line summary per outcome."""
    summary = run_batch(
        args.directory,
        args.out,
        feedback_dir=args.feedback_dir,
        jobs=args.jobs or default_batch_jobs(),
        suite=args.suite,
        force=args.force,
        unsandboxed=args.unsandboxed,
        rubric=load_rubric(args.root),
        similarity=args.similarity,
    )
    print(
        f"{len(summary.rows)} submissions: {len(summary.graded)} graded now, "
        f"{len(summary.skipped)} unchanged (kept), {len(summary.errors)} could not be graded"
        f" -> {args.out}"
    )
    for name in summary.errors:
        reason = next(r.reason for r in summary.rows if r.submission == name)
        print(f"  error: {name}: {reason}", file=sys.stderr)
    return 1 if summary.errors else 0
