"""How fast the grader grades, against the two ways one could do without it.

* ``grade``: ``grader grade`` on the reference, a fresh process each time (what
  a student's CI run or an instructor pays: imports, the manifest, one pytest
  process per part in its own workspace, run in parallel).
* ``plain``: the floor — one ordinary pytest session over the same test files
  in one workspace holding every reference answer, with the same plugins and
  options but no isolation between parts.
* ``per_test``: the old one-command-per-test autograding style — one pytest
  process per test, one after another. One pass sums N process times, which
  already averages the noise; ``per_test_runs`` repeats it.
* ``batch``: seconds per submission over ``batch_size`` submissions (reference
  copies with each mutant in turn), through ``grader batch`` when it exists,
  else ``grade()`` from a thread pool.
* ``hanging``: a submission whose ``hello`` never returns (``while True: pass``),
  graded whole: its wall time against the rubric's ``part_timeout``.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import project
from bench.targets import Target
from grader.host.portable import SUBMISSIONS_PER_CORE, per_core
from grader.model.rubric import Rubric, load_rubric

HANGING_VIEW = '''"""bench: an async view that never returns and never yields (blocks the loop)."""

from django.http import HttpRequest, HttpResponse


async def hello(request: HttpRequest) -> HttpResponse:
    while True:
        pass
'''


@dataclass(frozen=True)
class Scope:
    """What a grading run covers: every part and suite, or (``--quick``) a small slice."""

    parts: tuple[str, ...] = ()  # empty: every part
    suite: str = "all"

    def grade_args(self) -> list[str]:
        """The ``grader grade`` options that select this scope."""
        args = ["--suite", self.suite]
        for part in self.parts:
            args += ["--part", part]
        return args


@dataclass(frozen=True)
class GradingConfig:
    """Repetitions and sizes; ``quick()`` is the smoke-test size."""

    runs: int = 5
    per_test_runs: int = 1
    batch_size: int = 50
    batch_jobs: int = 0  # submissions at once (0: grader batch's default, SUBMISSIONS_PER_CORE)
    hanging_runs: int = 3
    # Smaller budgets for --quick, so a hang costs seconds (None: the rubric's).
    test_timeout: float | None = None
    part_timeout: float | None = None
    per_test_limit: int | None = None  # --quick: only the first N tests
    scope: Scope = Scope()  # --quick: one part's public tests
    # A git revision of this repository whose full grade of its own reference is timed
    # beside this one's, interleaved in the same run (--baseline): "this change costs x".
    baseline: str | None = None

    @classmethod
    def quick(cls) -> GradingConfig:
        return cls(
            runs=1,
            batch_size=2,
            hanging_runs=1,
            test_timeout=1.0,
            part_timeout=10.0,
            per_test_limit=2,
            scope=Scope(parts=("async_view",), suite="public"),
        )


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def grade_command(submission: Path, report: Path, scope: Scope) -> list[str]:
    """``grader grade`` as a user runs it (``--json`` to check the score)."""
    return [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(submission),
        "--json",
        str(report),
        *scope.grade_args(),
    ]


def run_grade(
    submission: Path, scratch: Path, scope: Scope, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Grade in a fresh process; the JSON report (exit 2 raises: that is not a grade)."""
    report = scratch / "grade.json"
    result = subprocess.run(
        grade_command(submission, report, scope),
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(
            f"grader grade {submission} exited {result.returncode}: {result.stderr.strip()[-500:]}"
        )
    data: dict[str, Any] = json.loads(report.read_text())
    return data


def baseline_checkout(revision: str, dest: Path) -> Path:
    """``revision`` of this repository written to ``dest`` (``git archive``: the
    repository's work tree and worktree list are left alone)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(project.REPO_ROOT), "archive", "--format=tar", revision],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {revision}: {archive.stderr.decode().strip()[-300:]}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def baseline_grade(checkout: Path, scratch: Path, scope: Scope) -> tuple[float, dict[str, Any]]:
    """Seconds for the baseline's grader to grade the baseline's reference, and its report."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "GRADER_ROOT": str(checkout)}
    started = time.perf_counter()
    data = run_grade(checkout / "assignment" / "solution", scratch, scope, env)
    return time.perf_counter() - started, data


def reference_submission(
    dest: Path, overrides: dict[str, str] | None = None, extra: dict[str, Path] | None = None
) -> Path:
    """A submission directory: the reference's answer files, then ``extra``/``overrides``."""
    files = {
        **project.submission_files(project.REFERENCE),
        **{rel: source.read_bytes() for rel, source in (extra or {}).items()},
        **{rel: text.encode("utf-8") for rel, text in (overrides or {}).items()},
    }
    for rel, data in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    return dest


PlainSession = tuple[Path, list[str], list[str], dict[str, str]]


@contextlib.contextmanager
def plain_workspace(scratch: Path, scope: Scope) -> Iterator[PlainSession]:
    """One workspace with every reference answer and every test: (ws, paths, argv, env)."""
    from grader.engine.workspace import build_workspace, load_sources
    from grader.host.runner import child_environment, pytest_arguments

    rubric = load_rubric(project.REPO_ROOT)
    ws = scratch / "plain"
    chosen = [p for p in rubric.parts if not scope.parts or p.id in scope.parts]
    answers = project.submission_files(project.REFERENCE)
    paths = build_workspace(
        load_sources(rubric),
        ws,
        answers=answers,
        test_files=[p.test_file for p in chosen],
        suite=scope.suite,
    )
    # The grader's own pytest command line (grader.host.runner), run as one plain session.
    argv = [
        sys.executable,
        "-m",
        "pytest",
        *pytest_arguments(ws, [], test_timeout=rubric.test_timeout),
    ]
    home = scratch / "home"
    home.mkdir()
    yield ws, paths, argv, child_environment(home)


def collect_ids(ws: Path, paths: list[str], argv: list[str], env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [*argv, "--collect-only", *paths],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ids = [line.strip() for line in out.stdout.splitlines() if "::" in line]
    if not ids:
        raise RuntimeError(f"collected no test in the plain workspace:\n{out.stdout[-2000:]}")
    return ids


def pytest_once(ws: Path, argv: list[str], env: dict[str, str], targets: list[str]) -> None:
    """One pytest process; exit 0 (all passed) or 1 (some failed) are both a completed run."""
    result = subprocess.run(
        [*argv, *targets], cwd=ws, env=env, capture_output=True, text=True, timeout=900
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"pytest exited {result.returncode}:\n{result.stdout[-2000:]}")


def each_alone(ws: Path, argv: list[str], env: dict[str, str], ids: list[str]) -> None:
    """One pytest process per test id, one after another (old-style autograding)."""
    for test in ids:
        pytest_once(ws, argv, env, [test])


def batch_seconds(
    submissions: list[Path], jobs: int, scratch: Path, scope: Scope
) -> tuple[float, str]:
    """Wall time to grade every submission (all in one folder), and how it was done.

    ``grader batch`` when it is installed (a fresh gradebook, ``--force``: no
    resumed rows); else, or when only some ``parts`` are graded (``--quick``:
    ``grader batch`` grades every part), ``grade()`` from ``jobs`` threads.
    """
    folder = submissions[0].parent
    if importlib.util.find_spec("grader.instructor.batch") is not None and not scope.parts:
        gradebook = scratch / "batch-out" / "gradebook.csv"
        command = [
            sys.executable,
            "-m",
            "grader",
            "batch",
            str(folder),
            "--out",
            str(gradebook),
            "--jobs",
            str(jobs),
            "--force",
            "--suite",
            scope.suite,
        ]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
        elapsed = time.perf_counter() - started
        with gradebook.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        graded = sum(1 for row in rows if row.get("status") == "graded")
        if result.returncode not in (0, 1) or graded != len(submissions):
            raise RuntimeError(
                f"grader batch graded {graded}/{len(submissions)} (exit "
                f"{result.returncode}): {result.stderr.strip()[-500:]}"
            )
        return elapsed, f"grader batch --jobs {jobs}"
    from grader.engine.grading import grade

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(
            pool.map(
                lambda sub: grade(sub, suite=scope.suite, parts=scope.parts or None), submissions
            )
        )
    only = f" (parts {', '.join(scope.parts)})" if scope.parts else ""
    return time.perf_counter() - started, f"grader.engine.grading.grade in {jobs} threads{only}"


@dataclass
class Interleaved:
    """The full-grade timings taken in one interleaved loop (seconds per run, by kind)."""

    grade: dict[str, list[float]]  # code (reference, submission) -> seconds per run
    scores: dict[str, set[tuple[float, float]]]  # code, or "baseline" -> (score, max) seen
    baseline: list[float] = field(default_factory=list)
    unsandboxed: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    sandboxed: set[bool] = field(default_factory=set)


def run_grading(
    config: GradingConfig, submission: Path | None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Every grading-speed measurement; the JSON-ready figures."""
    rubric = load_rubric(project.REPO_ROOT)
    figures: dict[str, Any] = {"config": asdict(config)}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        scratch = Path(tmp)
        graded = {"reference": project.REFERENCE}
        if submission is not None:
            graded["submission"] = submission
        checkout = (
            baseline_checkout(config.baseline, scratch / "baseline") if config.baseline else None
        )
        with plain_workspace(scratch, config.scope) as session:
            timings = interleaved_grades(config, graded, checkout, scratch, session, log)
            rows = grade_rows(figures, timings, config)
            ids, per_test_times = time_per_test(config, session, log)
        rows += comparison_rows(figures, timings, config, ids, per_test_times)
        rows.append(time_batch(figures, config, scratch, log))
        rows.append(time_hanging(figures, config, rubric, scratch, log))
    figures["rows"] = rows
    return figures


def interleaved_grades(
    config: GradingConfig,
    graded: dict[str, Path],
    checkout: Path | None,
    scratch: Path,
    session: PlainSession,
    log: Callable[[str], None],
) -> Interleaved:
    """Each run times every full grade once, then the plain pytest session.

    Interleaved, so that the machine's noise falls on both sides of every ratio
    alike: the graded codes, the baseline, the unsandboxed grade and the floor.
    """
    ws, paths, argv, env = session
    timings = Interleaved(
        grade={code: [] for code in graded}, scores={code: set() for code in graded}
    )
    for run in range(config.runs):
        for code, target in graded.items():
            log(f"grade {run + 1}/{config.runs}: grader grade {target}")
            started = time.perf_counter()
            data = run_grade(target, scratch, config.scope)
            timings.grade[code].append(time.perf_counter() - started)
            timings.scores[code].add((data["score"], data["max_score"]))
            timings.sandboxed.add(bool(data.get("sandboxed")))
        if checkout is not None:
            log(f"grade {run + 1}/{config.runs}: the baseline ({config.baseline})")
            seconds, data = baseline_grade(checkout, scratch, config.scope)
            timings.baseline.append(seconds)
            timings.scores.setdefault("baseline", set()).add((data["score"], data["max_score"]))
        # The same grade without the OS sandbox: what the sandbox costs, in one run.
        log(f"grade {run + 1}/{config.runs}: unsandboxed (GRADER_SANDBOX=0)")
        started = time.perf_counter()
        run_grade(project.REFERENCE, scratch, config.scope, {**os.environ, "GRADER_SANDBOX": "0"})
        timings.unsandboxed.append(time.perf_counter() - started)
        log(f"plain pytest {run + 1}/{config.runs}")
        timings.plain.append(timed(lambda: pytest_once(ws, argv, env, paths)))
    return timings


def grade_rows(
    figures: dict[str, Any], timings: Interleaved, config: GradingConfig
) -> list[dict[str, Any]]:
    """The full grades' figures (``grade``, ``grade_submission``) and their table rows.

    The scores are kept beside the times: a faster grade that lost points is
    not faster grading.
    """
    rows = []
    for code in timings.grade:
        key = "grade" if code == "reference" else "grade_submission"
        figures[key] = {
            "seconds": timings.grade[code],
            "median_s": statistics.median(timings.grade[code]),
            "scores": sorted(timings.scores[code]),
        }
        rows.append(
            {
                "label": f"grader grade ({code})",
                "seconds": figures[key]["median_s"],
                "runs": config.runs,
                "notes": "score "
                + ", ".join(f"{s:g}/{m:g}" for s, m in sorted(timings.scores[code])),
            }
        )
    return rows


def time_per_test(
    config: GradingConfig, session: PlainSession, log: Callable[[str], None]
) -> tuple[list[str], list[float]]:
    """The test ids, and the seconds of each pass running them one process per test.

    The old autograding style, timed in the plain workspace so that only the
    process per test differs from the plain session.
    """
    ws, paths, argv, env = session
    ids = collect_ids(ws, paths, argv, env)
    if config.per_test_limit is not None:
        ids = ids[: config.per_test_limit]
    per_test_times = []
    for run in range(config.per_test_runs):
        log(f"one process per test ({len(ids)} tests) {run + 1}/{config.per_test_runs}")
        per_test_times.append(timed(lambda: each_alone(ws, argv, env, ids)))
    return ids, per_test_times


def comparison_rows(
    figures: dict[str, Any],
    timings: Interleaved,
    config: GradingConfig,
    ids: list[str],
    per_test_times: list[float],
) -> list[dict[str, Any]]:
    """The figures a full grade is compared with (plain, baseline, unsandboxed, per test),
    and their table rows."""
    rows = []
    figures["plain"] = {"seconds": timings.plain, "median_s": statistics.median(timings.plain)}
    if timings.baseline:
        figures["baseline"] = {
            "revision": config.baseline,
            "seconds": timings.baseline,
            "median_s": statistics.median(timings.baseline),
            "scores": sorted(timings.scores["baseline"]),
        }
        rows.append(
            {
                "label": f"grader grade (reference) at {config.baseline}",
                "seconds": figures["baseline"]["median_s"],
                "runs": config.runs,
            }
        )
    figures["unsandboxed"] = {
        "seconds": timings.unsandboxed,
        "median_s": statistics.median(timings.unsandboxed),
        "sandboxed_grades": sorted(timings.sandboxed),
    }
    rows.append(
        {
            "label": "grader grade (reference), without the OS sandbox",
            "seconds": figures["unsandboxed"]["median_s"],
            "runs": config.runs,
        }
    )
    figures["per_test"] = {
        "seconds": per_test_times,
        "tests": len(ids),
        "median_s": statistics.median(per_test_times),
    }
    return [
        *rows,
        {
            "label": "one plain pytest session (floor, no isolation)",
            "seconds": figures["plain"]["median_s"],
            "runs": config.runs,
        },
        {
            "label": f"one process per test ({len(ids)} processes, in turn)",
            "seconds": figures["per_test"]["median_s"],
            "runs": config.per_test_runs,
        },
    ]


def batch_submissions(batch_dir: Path, size: int) -> list[Path]:
    """``size`` submission folders: half reference copies (full marks), half the mutants in
    turn (points lost, some by timing out), so a class is neither all right nor all wrong."""
    variants = [None, *project.mutant_dirs()]
    submissions = []
    for i in range(size):
        variant = (
            variants[(i // 2) % (len(variants) - 1) + 1] if i % 2 and len(variants) > 1 else None
        )
        overrides = {} if variant is None else project.mutant_answers(variant)
        submissions.append(reference_submission(batch_dir / f"s{i:03d}", overrides=overrides))
    return submissions


def time_batch(
    figures: dict[str, Any], config: GradingConfig, scratch: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Time grading a whole class at once: ``figures["batch"]``, and its table row."""
    submissions = batch_submissions(scratch / "batch", config.batch_size)
    jobs = config.batch_jobs or per_core(SUBMISSIONS_PER_CORE)
    log(f"batch of {len(submissions)} submissions")
    batch_total, how = batch_seconds(submissions, jobs, scratch, config.scope)
    figures["batch"] = {
        "submissions": len(submissions),
        "total_s": batch_total,
        "per_submission_s": batch_total / len(submissions),
        "how": how,
    }
    return {
        "label": f"batch: seconds per submission ({len(submissions)})",
        "seconds": figures["batch"]["per_submission_s"],
        "runs": 1,
        "notes": how,
    }


def time_hanging(
    figures: dict[str, Any],
    config: GradingConfig,
    rubric: Rubric,
    scratch: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Time a submission whose view never returns: ``figures["hanging"]``, and its row.

    What matters is how far past the part's budget the grade ends: a hang must
    cost the budget, not the whole job's timeout.
    """
    hang = reference_submission(
        scratch / "hanging", overrides={"homework/async_views.py": HANGING_VIEW}
    )
    budget = config.part_timeout or rubric.part_timeout
    hang_env: dict[str, str] | None = None
    if config.part_timeout is not None:
        hang_env = _quick_rubric_env(rubric.root, scratch, config)
    hang_times = []
    for run in range(config.hanging_runs):
        log(f"hanging part {run + 1}/{config.hanging_runs} (budget {budget:g} s)")
        started = time.perf_counter()
        run_grade(hang, scratch, config.scope, hang_env)
        hang_times.append(time.perf_counter() - started)
    figures["hanging"] = {
        "seconds": hang_times,
        "median_s": statistics.median(hang_times),
        "part_timeout_s": budget,
    }
    return {
        "label": f"submission with a hanging part (budget {budget:g} s)",
        "seconds": figures["hanging"]["median_s"],
        "runs": config.hanging_runs,
    }


def _quick_rubric_env(root: Path, scratch: Path, config: GradingConfig) -> dict[str, str]:
    """A copy of the assignment with smaller budgets, via ``GRADER_ROOT`` (--quick only)."""
    copy = scratch / "quick-root"
    (copy / "assignment").mkdir(parents=True)
    os.symlink(root / "starter", copy / "starter")
    os.symlink(root / "assignment" / "tests", copy / "assignment" / "tests")
    text = (root / "assignment" / "rubric.toml").read_text()
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "test_timeout" and config.test_timeout is not None:
            line = f"test_timeout = {config.test_timeout:g}"
        elif key == "part_timeout" and config.part_timeout is not None:
            line = f"part_timeout = {config.part_timeout:g}"
        lines.append(line)
    (copy / "assignment" / "rubric.toml").write_text("\n".join(lines) + "\n")
    return {**os.environ, "GRADER_ROOT": str(copy)}


def sandbox_targets(grading: dict[str, Any], *, judged: bool) -> list[Target]:
    """What the OS sandbox costs, judged only when every grade really ran in it."""
    sandbox = grading.get("unsandboxed", {})
    if sandbox.get("sandboxed_grades") != [True]:
        return []
    return [
        Target(
            "grading.sandbox",
            "full grade in the OS sandbox ÷ without it",
            grading["grade"]["median_s"] / sandbox["median_s"],
            "<=",
            1.3,
            "×",
            judged,
        ),
    ]


def baseline_targets(grading: dict[str, Any], *, judged: bool) -> list[Target]:
    """What this change costs against ``--baseline REV``, when one was timed."""
    baseline = grading.get("baseline")
    if not baseline:
        return []
    return [
        Target(
            "grading.vs_baseline",
            f"full grade ÷ the same at {baseline['revision']}",
            grading["grade"]["median_s"] / baseline["median_s"],
            "<=",
            1.3,
            "×",
            judged,
        ),
    ]


def grading_targets(grading: dict[str, Any], *, judged: bool) -> list[Target]:
    grade_s = grading["grade"]["median_s"]
    return [
        *sandbox_targets(grading, judged=judged),
        *baseline_targets(grading, judged=judged),
        Target(
            "grading.vs_plain",
            "full grade ÷ one plain pytest session",
            grade_s / grading["plain"]["median_s"],
            "<=",
            1.0,
            "×",
            judged,
        ),
        Target(
            "grading.vs_per_test",
            "one process per test ÷ full grade",
            grading["per_test"]["median_s"] / grade_s,
            ">=",
            10.0,
            "×",
            judged,
        ),
        Target(
            "grading.batch",
            "batch: seconds per submission",
            grading["batch"]["per_submission_s"],
            "<=",
            2.0,
            "s",
            judged,
        ),
        Target(
            "grading.hanging",
            "hanging part: grade time − part budget",
            grading["hanging"]["median_s"] - grading["hanging"]["part_timeout_s"],
            "<=",
            3.0,
            "s",
            judged,
        ),
    ]
