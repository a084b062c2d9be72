"""``grade()``: a submission in, one ``GradeResult`` out.

For each part: a fresh workspace (pristine starter + that part's answer
files + the suites), one pytest process, its streamed records. Beside them,
once per suite, a *manifest*: the same tests collected in a workspace
holding only the starter. The manifest, not the student's run, says which
tests exist and what each is worth, so a submission that crashes, hangs or
tampers with collection cannot change the maximum score, and a test that
never reported is still counted (as ``error`` or ``timeout``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.engine.integrity import scan_sources
from grader.engine.workspace import (
    SUITE_DIRS,
    Answer,
    Sources,
    build_trusted,
    build_workspace,
    find_answers,
    found_files,
    hash_tree,
    load_sources,
    write_project,
)
from grader.host import portable
from grader.host.runner import TESTS_ENDED, RunOutcome, describe_exit, run_pytest, run_resuming
from grader.host.sandbox import Sandbox, detect, why_not
from grader.judge.records import Collected, CollectedTest, CollectError, Result
from grader.messages.feedback import did_not_finish
from grader.model.errors import GraderError
from grader.model.results import (
    GradeResult,
    PartResult,
    Status,
    Suite,
    TestResult,
    number,
    score_for,
    suite_named,
    tidy,
)
from grader.model.rubric import TESTS_DIR, Part, Rubric, load_rubric
from grader.model.text import clean

# A test the manifest found: its id, file, points and line, as the plugin collected it.
ExpectedTest = CollectedTest


@dataclass
class Manifest:
    """The tests of a suite as collected with the pristine starter."""

    tests: list[ExpectedTest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def for_part(self, part: Part) -> list[ExpectedTest]:
        """The tests in the part's test file(s), in collection order."""
        return [t for t in self.tests if t.file == part.test_file]


def default_jobs(processes: int) -> int:
    """How many pytest processes to run at once.

    The grading tests mostly wait (sleeps, mocked timeouts), so running more
    processes than cores pays; beyond about twice the cores the CPU-bound
    start-up of each process (Django, Celery, pytest) stops gaining (the
    measurements: ``bench/BENCHMARKS.md``).
    """
    return max(1, min(processes, portable.per_core(portable.PROCESSES_PER_CORE)))


def grade(
    submission: Path,
    *,
    suite: str = "all",
    rubric: Rubric | None = None,
    jobs: int | None = None,
    parts: Sequence[str] | None = None,
    strict: bool = False,
    keep: Path | None = None,
    sandbox: Sandbox | str | None = None,
    answers: dict[str, list[Answer]] | None = None,
    sources: Sources | None = None,
) -> GradeResult:
    """Grade the submission directory against the rubric's suites.

    ``suite``: ``public``, ``hidden`` or ``all``. ``parts``: grade only these
    part ids (the others appear ungraded, worth 0 in this run). ``strict``:
    raise ``GraderError`` on an instructor error (tests whose points do not
    add up) instead of reporting it in ``GradeResult.problems``. ``keep``:
    copy every part's workspace and pytest output there before they are
    deleted, for an instructor investigating a grade (it holds the hidden
    tests: never hand it to a student). ``sandbox``: the sandbox graded code
    runs in (``grader.host.sandbox.detect()``'s answer); a string says why there is
    none (the grade then says it was unsandboxed); None: detect it now.
    ``answers`` (``find_answers`` for every part) and ``sources``
    (``load_sources``): inputs already read by the caller, graded exactly as
    they are; read here when not given.

    Raises ``GraderError`` only when grading is impossible: no such
    directory, not one answer file in it, a bad suite or part id, a broken
    rubric, suites that cannot be collected.
    """
    started = time.monotonic()
    submission = Path(submission)
    the_suite = _checked_request(submission, suite)
    rubric = rubric or load_rubric()
    selected = [rubric.part(p) for p in parts] if parts else list(rubric.parts)
    answers, sources = _read_inputs(submission, rubric, answers, sources)
    box = detect() if sandbox is None else sandbox
    manifest, outcomes, kept = _run_parts(
        rubric, sources, answers, the_suite, selected, sandbox=box, jobs=jobs, keep=keep
    )
    results, points_problems = _part_results(
        rubric, selected, answers, the_suite, manifest, outcomes
    )
    problems = _instructor_problems([*manifest.errors, *kept, *points_problems], strict=strict)
    return GradeResult(
        title=rubric.title,
        suite=the_suite,
        parts=results,
        submission=clean(str(submission)),
        duration=round(time.monotonic() - started, 3),
        problems=problems,
        unsandboxed=why_not(box),
    )


def _instructor_problems(problems: list[str], *, strict: bool) -> list[str]:
    """The problems for the grade's report; with ``strict`` the first one is raised instead,
    for an instructor who wants a broken rubric to stop a batch rather than be noted."""
    if strict and problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GraderError(f"instructor error: {problems[0]}{more}")
    return problems


def _checked_request(submission: Path, suite: str) -> Suite:
    """The suite asked for, once the request makes sense (else ``GraderError``)."""
    if not submission.is_dir():
        raise GraderError(f"no such directory: {submission}")
    return suite_named(suite)


def _read_inputs(
    submission: Path,
    rubric: Rubric,
    answers: dict[str, list[Answer]] | None,
    sources: Sources | None,
) -> tuple[dict[str, list[Answer]], Sources]:
    """The answer files and the pristine sources, read now unless the caller already has.

    A submission without one answer file cannot be graded at all: that is a
    ``GraderError`` naming the files looked for, not a grade of zero.
    """
    if answers is None:
        answers = {part.id: find_answers(submission, part) for part in rubric.parts}
    if sources is None:
        sources = load_sources(rubric)
    if not any(a.path for found in answers.values() for a in found):
        wanted = ", ".join(f for part in rubric.parts for f in part.files)
        raise GraderError(f"no answer file in {submission} (looked for {wanted})")
    return answers, sources


def _run_parts(
    rubric: Rubric,
    sources: Sources,
    answers: dict[str, list[Answer]],
    suite: Suite,
    selected: list[Part],
    *,
    sandbox: Sandbox | str,
    jobs: int | None,
    keep: Path | None,
) -> tuple[Manifest, dict[str, RunOutcome], list[str]]:
    """The manifest and the run of every selected part that has tests in ``suite``.

    They run side by side, ``jobs`` at a time (``default_jobs`` when not
    given): each thread only waits on its own processes. ``sandbox``: a
    string says why there is none (the parts then run unsandboxed). The
    scratch folder holds the hidden tests and is deleted at the end:
    ``keep`` copies it first (the problems doing so met are returned third).
    """
    to_run = [part for part in selected if _test_paths(rubric, part, suite)]
    workers = jobs if jobs and jobs > 0 else default_jobs(len(to_run) + 1)
    with (
        tempfile.TemporaryDirectory(prefix="grader-") as tmp,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        scratch = Path(tmp)
        manifest_future = _MANIFESTS.get(pool, rubric, sources, suite, to_run, scratch / "manifest")
        runs: dict[str, Future[RunOutcome]] = {
            part.id: pool.submit(
                _run_part,
                rubric,
                sources,
                part,
                answers[part.id],
                suite,
                scratch / part.id,
                sandbox if isinstance(sandbox, Sandbox) else None,
            )
            for part in to_run
        }
        manifest = manifest_future.result()
        outcomes = {part_id: future.result() for part_id, future in runs.items()}
        kept = _keep_workspaces(scratch, keep) if keep is not None else []
    return manifest, outcomes, kept


def _part_results(
    rubric: Rubric,
    selected: list[Part],
    answers: dict[str, list[Answer]],
    suite: Suite,
    manifest: Manifest,
    outcomes: dict[str, RunOutcome],
) -> tuple[list[PartResult], list[str]]:
    """Every part of the rubric in order, graded or not, and the instructor errors in the
    points its tests declare (checked for the selected parts, run or not)."""
    results = []
    problems: list[str] = []
    for part in rubric.parts:
        expected = manifest.for_part(part)
        problems += _points_problems(part, expected, suite, selected=part in selected)
        if part.id not in outcomes:
            results.append(_ungraded(part, answers[part.id], suite, part in selected))
            continue
        results.append(_part_result(rubric, part, answers[part.id], expected, outcomes[part.id]))
    return results, problems


def _keep_workspaces(scratch: Path, keep: Path) -> list[str]:
    """Copy the grading scratch tree (workspaces, ``output.log`` files) to ``keep``.

    Returns the problem to report when it cannot: keeping is a debugging aid,
    so a failure never costs the grade.
    """
    try:
        shutil.copytree(
            scratch,
            keep,
            symlinks=True,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),  # the logs and database stay
        )
    except (OSError, shutil.Error) as exc:
        return [f"could not keep the workspaces in {keep}: {exc}"]
    return []


def _test_paths(rubric: Rubric, part: Part, suite: Suite) -> list[str]:
    return [
        f"{folder}/{part.test_file}"
        for folder in SUITE_DIRS[suite]
        if (rubric.tests / folder / part.test_file).is_file()
    ]


def _run_part(
    rubric: Rubric,
    sources: Sources,
    part: Part,
    answers: list[Answer],
    suite: Suite,
    scratch: Path,
    sandbox: Sandbox | None,
) -> RunOutcome:
    given = found_files(answers)

    def build(workspace: Path) -> None:
        write_project(sources, workspace, answers=given)

    trusted = scratch / "trusted"
    test_paths = build_trusted(sources, trusted, test_files=[part.test_file], suite=suite)
    return run_resuming(
        build,
        trusted=trusted,
        test_paths=test_paths,
        scratch=scratch,
        test_timeout=rubric.test_timeout,
        budget=rubric.part_timeout,
        sandbox=sandbox,
    )


class _ManifestCache:
    """Manifests by content: the same starter and suites collect the same tests.

    Keyed by a hash of every file of the starter and the suites plus the
    suite and part list, so ``grader batch`` and ``grader verify`` collect
    once per process however many submissions they grade, and an edited
    test file is collected again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, Manifest] = {}

    def get(
        self,
        pool: ThreadPoolExecutor,
        rubric: Rubric,
        sources: Sources,
        suite: Suite,
        parts: list[Part],
        scratch: Path,
    ) -> Future[Manifest]:
        key = _content_key(sources, suite, parts)
        with self._lock:
            cached = self._done.get(key)
        if cached is not None:
            done: Future[Manifest] = Future()
            done.set_result(cached)
            return done
        return pool.submit(self._collect, key, rubric, sources, suite, parts, scratch)

    def _collect(
        self,
        key: str,
        rubric: Rubric,
        sources: Sources,
        suite: Suite,
        parts: list[Part],
        scratch: Path,
    ) -> Manifest:
        manifest = collect_manifest(rubric, suite, parts, scratch, sources)
        with self._lock:
            self._done[key] = manifest
        return manifest


_MANIFESTS = _ManifestCache()


def _content_key(sources: Sources, suite: Suite, parts: list[Part]) -> str:
    digest = hashlib.sha256(f"{suite}|{[p.test_file for p in parts]}".encode())
    hash_tree(digest, "starter", sources.starter)
    hash_tree(digest, "tests", sources.tests)
    return digest.hexdigest()


def collect_manifest(
    rubric: Rubric,
    suite: Suite,
    parts: list[Part],
    scratch: Path,
    sources: Sources | None = None,
) -> Manifest:
    """Collect the parts' tests with the pristine starter (``--collect-only``).

    Only the grader's own files run here (no answer file), so it needs no sandbox.
    """
    manifest = Manifest()
    if not parts:
        return manifest
    workspace = scratch / "ws"
    paths = build_workspace(
        sources or load_sources(rubric),
        workspace,
        answers={},
        test_files=[p.test_file for p in parts],
        suite=suite,
    )
    outcome = run_pytest(
        workspace,
        paths,
        scratch=scratch,
        test_timeout=rubric.test_timeout,
        budget=rubric.part_timeout,
        collect_only=True,
    )
    collected = outcome.events(Collected)
    if not collected:
        last = outcome.output.strip().splitlines()[-1:] or ["no output"]
        raise GraderError(f"could not collect the grading tests with the starter: {last[0]}")
    manifest.tests += collected[-1].tests
    for error in outcome.events(CollectError):
        manifest.errors.append(
            f"{_name(error.nodeid)} cannot be collected even with the starter: {error.message}"
        )
    return manifest


def _name(nodeid: str) -> str:
    """``grading_tests/hidden/test_x.py::t`` → ``hidden/test_x.py::t``."""
    return nodeid.removeprefix(f"{TESTS_DIR}/")


def _points_problems(
    part: Part, expected: list[ExpectedTest], suite: Suite, *, selected: bool
) -> list[str]:
    """Instructor errors: tests without usable points, parts that do not add up.

    Only a full run (``all``) must add up exactly to the rubric's points; a
    public or hidden run must not exceed them.
    """
    if not selected:
        return []
    if not expected and suite == "all":
        return [f"part {part.id}: no grading test found (expected {part.test_file})"]
    problems = [f"{_name(t.nodeid)} {t.problem}" for t in expected if t.points is None]
    total = tidy(sum(t.points or 0.0 for t in expected))
    if suite == "all" and total != tidy(part.points):
        by_suite = {
            folder: tidy(
                sum(t.points or 0.0 for t in expected if _name(t.nodeid).startswith(folder + "/"))
            )
            for folder in SUITE_DIRS["all"]
        }
        split = " + ".join(f"{folder} {number(p)}" for folder, p in by_suite.items())
        problems.append(
            f"part {part.id}: its tests are worth {number(total)} points ({split}), "
            f"the rubric says {number(part.points)}"
        )
    elif total > tidy(part.points):
        problems.append(
            f"part {part.id}: its {suite} tests are worth {number(total)} points, "
            f"more than the rubric's {number(part.points)}"
        )
    return problems


def _file_notes(answers: list[Answer]) -> list[str]:
    notes = []
    for answer in answers:
        if answer.reason:
            notes.append(answer.reason)
        elif answer.path is None:
            notes.append(f"{answer.file} is not in your submission: graded with the starter stub")
    return notes


def _ungraded(part: Part, answers: list[Answer], suite: Suite, selected: bool) -> PartResult:
    if not selected:
        why = "not graded in this run"
    elif suite == "all":
        why = "this part has no grading tests yet"
    else:
        why = f"this part has no {suite} tests"
    return PartResult(
        id=part.id,
        title=part.title,
        graded=False,
        files={a.file: a.path is not None for a in answers},
        notes=[why],
    )


def _part_result(
    rubric: Rubric,
    part: Part,
    answers: list[Answer],
    expected: list[ExpectedTest],
    outcome: RunOutcome,
) -> PartResult:
    """A graded part: one result per test the manifest expects, whatever the run reported.

    The manifest, not the run, decides which tests exist; the run's records
    only say how each went. Messages that quote the hidden tests are
    withheld, and the warnings (for the instructor) say so.
    """
    verdicts = _Verdicts(rubric, outcome)
    notes = _file_notes(answers)
    warnings = [clean(str(f)) for f in scan_sources((a.file, a.content) for a in answers if a.path)]
    warnings += [f"integrity: {clean(problem)}" for problem in outcome.integrity]
    secret_lines = _hidden_lines(rubric, part)
    if outcome.integrity:
        notes.append(UNTRUSTED)
    if outcome.timed_out:
        notes.append(did_not_finish("part", rubric.part_timeout))
    tests = []
    for test in expected:
        status, message, duration = verdicts.of(test.nodeid)
        if any(line in message for line in secret_lines):
            warnings.append(f"{_name(test.nodeid)}: the message quoted the hidden tests (withheld)")
            message = QUOTED_HIDDEN
        points = test.points or 0.0
        tests.append(
            TestResult(
                name=_name(test.nodeid),
                status=status,
                score=score_for(status, points),
                max_score=tidy(points),
                message=message,
                duration=duration,
                line_no=test.line_no,
                in_app_evidence=test.in_app_evidence,
            )
        )
    tests = _name_earlier_causes(tests)
    return PartResult(
        id=part.id,
        title=part.title,
        tests=tests,
        max_score=tidy(sum(t.max_score for t in tests)),
        files={a.file: a.path is not None for a in answers},
        notes=notes,
        duration=round(outcome.duration, 3),
        warnings=warnings,
    )


class _Verdicts:
    """Each expected test's status, message and seconds, from one part's run."""

    def __init__(self, rubric: Rubric, outcome: RunOutcome) -> None:
        self._rubric = rubric
        self._outcome = outcome
        self._reported = {result.nodeid: result for result in outcome.events(Result)}
        self._collect_errors = [error.message for error in outcome.events(CollectError)]

    def of(self, nodeid: str) -> tuple[Status, str, float]:
        """The test's own record when it reported, else why it never did; when the run's
        records cannot be trusted, none of them counts."""
        record = self._reported.get(nodeid)
        status: Status
        if record is not None:
            status, message, duration = record.outcome, clean(record.message), record.duration
        else:
            status, message = _missing(self._rubric, self._outcome, self._collect_errors)
            duration = 0.0
        if self._outcome.integrity:
            status, message = "error", UNTRUSTED
        return status, message, duration


_PLACE = re.compile(r"\bhomework/[\w/]+\.py:\d+")


def _name_earlier_causes(tests: list[TestResult]) -> list[TestResult]:
    """A timeout after a failure that named a line of the answer file points back to it.

    A blocking call, a hung thread or an endless loop usually fails an earlier
    test with a message that names the line; the later tests then run out of
    time for the same reason, and say so instead of leaving the student to
    guess.
    """
    cause: tuple[str, str] | None = None
    named = []
    for test in tests:
        if test.status == "timeout" and cause is not None:
            test = dataclasses.replace(
                test,
                message=f"{test.message}\nProbably the same cause as the earlier failure of "
                f"{cause[0]} (at {cause[1]}): fix that first.",
            )
        elif test.status != "passed" and cause is None:
            place = _PLACE.search(test.message)
            if place:
                cause = (test.name, place.group(0))
        named.append(test)
    return named


# When the records of a part cannot be trusted, none of its tests count.
UNTRUSTED = (
    "Your code interfered with the grader while this part was tested (it changed the test "
    "framework, the grading tests or the grader's records, or copied the test process): "
    "none of this part's results can be trusted, so they earn no points. Your instructor "
    "is told what was found."
)


QUOTED_HIDDEN = (
    "This message quoted the source of the hidden tests, so it is withheld. "
    "Your code must not read the grading tests."
)


def _hidden_lines(rubric: Rubric, part: Part) -> set[str]:
    """Distinctive lines of the part's hidden tests (not in its public tests).

    Student code can read the hidden test file while it runs and put it in
    an exception message; a message holding one of these lines is withheld.
    """

    def lines(folder: str) -> set[str]:
        try:
            text = (rubric.tests / folder / part.test_file).read_text(encoding="utf-8")
        except OSError:
            return set()
        return {line.strip() for line in text.splitlines() if len(line.strip()) >= 24}

    return lines("hidden") - lines("public")


def _missing(rubric: Rubric, outcome: RunOutcome, collect_errors: list[str]) -> tuple[Status, str]:
    """Why a test the manifest expects never reported, in words for the student."""
    if outcome.timed_out:
        return ("timeout", did_not_finish("unfinished", rubric.part_timeout))
    if collect_errors:
        return (
            "error",
            "The tests could not be loaded with your code: " + clean(collect_errors[0]),
        )
    return (
        "error",
        f"{TESTS_ENDED} {describe_exit(outcome.returncode)} before this test finished.",
    )
