"""What the figures are judged against: each target beside its figure, met or missed.

The targets compare ratios, never raw times: the machine is shared and noisy,
and a ratio to the ideal (or to another server measured in the same runs)
survives that noise far better than a number of milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Target:
    """One target: ``figure op threshold`` (``None`` figure: could not be measured)."""

    id: str
    description: str
    figure: float | None
    op: Literal["<=", ">="]
    threshold: float
    unit: str
    judged: bool = True  # False in --quick mode: a tiny load says nothing about speed

    @property
    def met(self) -> bool | None:
        if not self.judged or self.figure is None or math.isnan(self.figure):
            return None
        return self.figure <= self.threshold if self.op == "<=" else self.figure >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "figure": self.figure,
            "op": self.op,
            "threshold": self.threshold,
            "unit": self.unit,
            "met": self.met,
        }


def _scenarios(lesson: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {s["id"]: s for s in lesson["scenarios"]}


def _get(scenarios: Mapping[str, Mapping[str, Any]], sid: str, key: str) -> float | None:
    scenario = scenarios.get(sid)
    return None if scenario is None else float(scenario[key])


def lesson_targets(lesson: Mapping[str, Any], code: str, *, judged: bool) -> list[Target]:
    """The lesson's targets for ``code`` (reference or submission)."""
    scenarios = _scenarios(lesson)
    few, many = min(lesson["config"]["clients"]), max(lesson["config"]["clients"])
    targets = [
        Target(
            f"{code}.dashboard_p50_{few}",
            f"{code}: dashboard p50 at {few} clients",
            _get(scenarios, f"{code}/uvicorn/dashboard/{few}", "p50_ratio"),
            "<=",
            1.5,
            "× upstream latency",
            judged,
        ),
    ]
    if code == "reference":
        targets.append(
            Target(
                f"sequential.dashboard_p50_{few}",
                f"sequential awaits: dashboard p50 at {few} clients",
                _get(scenarios, f"sequential/uvicorn/dashboard/{few}", "p50_ratio"),
                ">=",
                2.5,
                "× upstream latency",
                judged,
            )
        )
    ours = _get(scenarios, f"{code}/uvicorn/dashboard/{many}", "rps")
    sync = _get(scenarios, f"reference/gunicorn/dashboard/{many}", "rps")
    targets += [
        Target(
            f"{code}.dashboard_rps_{many}_vs_sync",
            f"{code}: dashboard throughput at {many} clients, uvicorn ÷ gunicorn sync",
            None if ours is None or not sync else ours / sync,
            ">=",
            10.0,
            "× sync server",
            judged,
        ),
        Target(
            f"{code}.async_p50_{many}",
            f"{code}: /async/ p50 at {many} clients",
            _get(scenarios, f"{code}/uvicorn/async/{many}", "p50_ratio"),
            "<=",
            1.3,
            "× ASYNC_DEMO_DELAY",
            judged,
        ),
    ]
    return targets
