"""How the figures are shown: rich tables for people, one JSON document for tools."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.targets import Target


def _num(value: float | None, digits: int = 2, prefix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{prefix}{value:.{digits}f}"


def lesson_table(lesson: Mapping[str, Any]) -> Table:
    """One row per scenario: medians over the runs, and the ratios to the ideal."""
    config = lesson["config"]
    table = Table(
        title=f"The lesson under load — medians of {config['runs']} run(s); ideal = "
        f"upstream latency {lesson['ideal_s']['dashboard'] * 1000:.0f} ms (dashboard), "
        f"ASYNC_DEMO_DELAY {lesson['ideal_s']['async']:g} s (/async/)"
    )
    table.add_column("code · server · endpoint")
    for column in ("clients", "p50 s", "p95 s", "p50/ideal", "p95/ideal", "req/s", "CPU ms/req"):
        table.add_column(column, justify="right")
    table.add_column("notes")
    for s in lesson["scenarios"]:
        bound = "≥" if s["lower_bound"] else ""
        notes = []
        if s["unfinished"]:
            notes.append(f"≥: {s['unfinished']} still waiting at the {config['deadline']:g} s cut")
        if s["non_2xx"]:
            notes.append(f"{s['non_2xx']} non-2xx")
        if s["transport_errors"]:
            notes.append(f"{s['transport_errors']} transport errors")
        if "p50_vs_reference" in s:
            notes.append(f"p50 {bound}{s['p50_vs_reference']:.2f}× the reference's")
        table.add_row(
            f"{s['code']} · {s['server']} · {s['endpoint']}",
            str(s["clients"]),
            _num(s["p50_s"], 3, bound),
            _num(s["p95_s"], 3, bound),
            _num(s["p50_ratio"], 2, bound) + "×",
            _num(s["p95_ratio"], 2, bound) + "×",
            _num(s["rps"], 1),
            _num(s["server_cpu_ms_per_request"], 1),
            "; ".join(notes),
        )
    skipped = [
        f"{key}: HTTP {p['status']}" for key, p in lesson["probes"].items() if p["status"] != 200
    ]
    captions = [
        "req/s: answered per second while every client was busy (steady state); "
        "CPU ms/req: the server's processes (/proc/<pid>/stat) per answered request"
    ]
    if skipped:
        captions.append("not measured (the first request failed): " + ", ".join(skipped))
    table.caption = "\n".join(captions)
    return table


def grading_table(grading: Mapping[str, Any]) -> Table:
    """Grading speed: medians of wall times, and their ratios."""
    table = Table(title="Grading speed (medians)")
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column("runs", justify="right")
    table.add_column("notes")
    for row in grading["rows"]:
        table.add_row(
            row["label"], _num(row["seconds"], 2), str(row.get("runs", "")), row.get("notes", "")
        )
    return table


def targets_table(targets: Sequence[Target]) -> Table:
    table = Table(title="Targets")
    table.add_column("target")
    table.add_column("figure", justify="right")
    table.add_column("target", justify="right")
    table.add_column("result")
    for t in targets:
        met = t.met
        verdict = (
            ("[green]pass[/]" if met else "[red]miss[/]")
            if met is not None
            else ("not judged (--quick)" if not t.judged else "not measured")
        )
        table.add_row(
            t.description,
            _num(t.figure, 2) + f" {t.unit}",
            f"{t.op} {t.threshold:g} {t.unit}",
            verdict,
        )
    return table


def show(results: Mapping[str, Any], targets: Sequence[Target], console: Console) -> None:
    if "lesson" in results:
        console.print(lesson_table(results["lesson"]))
    if "grading" in results:
        console.print(grading_table(results["grading"]))
    console.print(targets_table(targets))


def write_json(results: Mapping[str, Any], path: Path) -> None:
    """The whole result, NaN written as null (JSON has no NaN)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    path.write_text(json.dumps(clean(results), indent=2, ensure_ascii=False) + "\n")
