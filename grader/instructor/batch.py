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

This module is the logic; the command line, the progress bar and the summary
are ``grader.instructor.cli.batch``'s.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from rich.console import Console

import grader
from grader.engine.grading import default_jobs, grade
from grader.engine.workspace import (
    Answer,
    Sources,
    find_answers,
    hash_tree,
    load_sources,
    load_tree,
)
from grader.host import portable
from grader.host.sandbox import Sandbox, detect, why_not
from grader.model.errors import GraderError
from grader.model.results import GradeResult, number, suite_named
from grader.model.rubric import RUBRIC_PATH, Rubric, load_rubric
from grader.model.text import clean, csv_cell

__all__ = [
    "BatchProgress",
    "BatchSummary",
    "Row",
    "answers_hash",
    "default_batch_jobs",
    "grader_fingerprint",
    "processes_per_submission",
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


def grader_fingerprint(rubric: Rubric, suite: str, sources: Sources) -> str:
    """A hash of everything that decides a grade besides the answer files."""
    digest = hashlib.sha256(f"batch-state-{STATE_VERSION}|suite={suite}\0".encode())
    hash_tree(digest, "grader", load_tree(Path(grader.__file__).resolve().parent))
    digest.update((rubric.root / RUBRIC_PATH).read_bytes())
    hash_tree(digest, "starter", sources.starter)
    hash_tree(digest, "tests", sources.tests)
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


_State = dict[str, dict[str, object]]  # submission name -> {"key": ..., "row": ...}


def _load_state(path: Path) -> _State:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return {}
    entries = data.get("submissions")
    return entries if isinstance(entries, dict) else {}


def _save_state(path: Path, entries: _State) -> None:
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


class BatchProgress(Protocol):
    """What ``run_batch`` tells whoever shows its progress (the CLI: a rich bar)."""

    def start(self, total: int) -> None:
        """``total`` submissions are about to be graded (the unchanged ones are not)."""

    def graded(self, row: Row) -> None:
        """One submission was graded, into ``row``."""

    def done(self) -> None:
        """Grading is over (the roster report may show its own progress next)."""


class _Silent:
    def start(self, total: int) -> None:
        pass

    def graded(self, row: Row) -> None:
        pass

    def done(self) -> None:
        pass


def _sandbox_or_refuse(sandbox: Sandbox | str | None, unsandboxed: bool) -> Sandbox | str:
    """The sandbox graded code runs in; no sandbox is refused unless ``unsandboxed``,
    because a roster is many strangers' code run on the instructor's machine."""
    box = detect() if sandbox is None else sandbox
    no_sandbox = why_not(box)
    if no_sandbox and not unsandboxed:
        raise GraderError(
            f"no sandbox for the students' code: {no_sandbox}. Install bubblewrap (and allow "
            "user namespaces), or pass --unsandboxed to grade without one"
        )
    return box


@dataclass
class _Ledger:
    """The batch's outputs as they grow: the rows, the resume state, the feedback files.

    The state is saved after every submission (under a lock: gradings finish on
    several threads), so an interrupted batch resumes where it stopped.
    """

    csv_path: Path
    feedback_dir: Path
    state: dict[str, dict[str, object]]
    summary: BatchSummary = field(default_factory=BatchSummary)
    rows: dict[str, Row] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def state_file(self) -> Path:
        return state_path(self.csv_path)

    def feedback_file(self, name: str) -> Path:
        return self.feedback_dir / _feedback_name(name)

    def keep(self, name: str, row: Row) -> None:
        """An unchanged submission: its row and state entry carry over."""
        self.rows[name] = row
        self.summary.skipped.append(name)

    def record(self, job: _Job, row: Row, feedback: str, cacheable: bool) -> None:
        """A submission just graded: its feedback, row and state entry, saved at once."""
        name = job.submission.name
        self.feedback_file(name).write_text(feedback, encoding="utf-8")
        with self.lock:
            self.rows[name] = row
            self.summary.graded.append(row.submission)
            if cacheable:
                self.state[name] = {"key": job.key, "row": asdict(row)}
            else:
                self.state.pop(name, None)  # the grader failed on it: grade it again next time
            _save_state(self.state_file, self.state)

    def finish(self, rubric: Rubric) -> BatchSummary:
        """Write the state and the CSV; the summary, rows sorted."""
        _save_state(self.state_file, self.state)
        _write_csv(self.csv_path, self.rows.values(), rubric)
        self.summary.rows = sorted(self.rows.values(), key=lambda r: r.submission)
        self.summary.graded.sort()
        self.summary.errors = [r.submission for r in self.summary.rows if r.status == ERROR]
        return self.summary


def _job(submission: Path, rubric: Rubric, key_prefix: str) -> _Job:
    """Read a submission's answers once and key it by them (an unreadable one by why)."""
    try:
        answers = read_answers(submission, rubric)
    except OSError as exc:
        return _Job(submission, f"{key_prefix}:unreadable:{exc.strerror}", None)
    return _Job(submission, f"{key_prefix}:{hash_answers(answers)}", answers)


def _plan(
    submissions: list[Path], rubric: Rubric, key_prefix: str, ledger: _Ledger, old: _State
) -> list[_Job]:
    """The submissions to grade; every other one keeps its row from ``old`` (same key,
    and its feedback and recorded result still on disk, since the report reads them)."""
    from grader.instructor.roster import records

    to_grade = []
    for submission in submissions:
        job = _job(submission, rubric, key_prefix)
        entry = old.get(submission.name) or {}
        kept = _row_from_state(entry) if entry.get("key") == job.key else None
        result_file = records.result_file(records.results_dir(ledger.csv_path), submission.name)
        if (
            kept is not None
            and ledger.feedback_file(submission.name).is_file()
            and (kept.status == ERROR or result_file.is_file())
        ):
            ledger.keep(submission.name, kept)
            ledger.state[submission.name] = old[submission.name]
        else:
            to_grade.append(job)
    return to_grade


def _grade_all(
    to_grade: list[_Job], setup: _Setup, jobs: int, ledger: _Ledger, progress: BatchProgress
) -> None:
    """Grade ``to_grade``, ``jobs`` at once, recording each as it finishes."""
    progress.start(len(to_grade))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures: dict[Future[tuple[Row, str, bool]], _Job] = {
                pool.submit(_grade_one, job, setup): job for job in to_grade
            }
            for future in as_completed(futures):
                row, feedback, cacheable = future.result()
                ledger.record(futures[future], row, feedback, cacheable)
                progress.graded(row)
    finally:
        progress.done()


def _state_key(rubric: Rubric, suite: str, box: Sandbox | str, sources: Sources) -> str:
    """What every saved row's key starts with: the grader and assignment, and whether the
    grade ran sandboxed (a row graded without the sandbox is never reused under one)."""
    no_sandbox = why_not(box)
    return grader_fingerprint(rubric, suite, sources) + (
        f"|unsandboxed:{no_sandbox}" if no_sandbox else ""
    )


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
    progress: BatchProgress | None = None,
) -> BatchSummary:
    """Grade every submission folder of ``directory``; write the CSV, feedback and state,
    then ``report.html`` beside the CSV (and, with ``similarity``, ``similarity.csv``).

    Graded code runs in the OS sandbox (``grader.host.sandbox``). Where none can be
    made this raises ``GraderError`` naming the fix, unless ``unsandboxed``:
    then every row and feedback file says the grade was unsandboxed.
    ``sandbox``: ``detect()``'s answer, taken now when not given. ``progress`` hears
    of each grade; ``console`` is where the roster report says what it wrote.
    """
    from grader.instructor.roster import records
    from grader.instructor.roster.report import after_batch
    from grader.reports import markdown

    rubric = rubric or load_rubric()
    suite = suite_named(suite)
    box = _sandbox_or_refuse(sandbox, unsandboxed)
    submissions = _submissions(directory)
    ledger = _Ledger(csv_path, feedback_dir or csv_path.parent / "feedback", state={})
    ledger.feedback_dir.mkdir(parents=True, exist_ok=True)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    old = {} if force else _load_state(ledger.state_file)
    sources = load_sources(rubric)  # read once: hashed for the state, then graded from
    to_grade = _plan(submissions, rubric, _state_key(rubric, suite, box, sources), ledger, old)
    setup = _Setup(
        rubric=rubric,
        sources=sources,
        suite=suite,
        processes=processes_per_submission(jobs),
        sandbox=box,
        render_markdown=records.recorder(records.results_dir(csv_path), markdown.render),
    )
    _grade_all(to_grade, setup, jobs, ledger, progress or _Silent())
    summary = ledger.finish(rubric)
    after_batch(
        directory,
        csv_path,
        summary.rows,
        rubric,
        feedback_dir=ledger.feedback_dir,
        similarity=similarity,
        console=console or Console(stderr=True),
    )
    return summary
