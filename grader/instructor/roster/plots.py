"""Score histograms as inline SVG (matplotlib, object API: no pyplot, no global state)."""

from __future__ import annotations

import html
import io
import math
import re

from grader.instructor.roster.stats import Distribution

__all__ = ["histogram_svg"]

_COLOR = "#3b6ea5"


def _bins(max_score: float, values: tuple[float, ...]) -> list[float]:
    top = max(max_score, *values) if values else max_score
    count = max(1, min(20, math.ceil(top)))  # one bar per point up to 20 bars
    width = top / count if top > 0 else 1.0
    return [i * width for i in range(count + 1)]


def histogram_svg(dist: Distribution, *, element_id: str) -> str:
    """The distribution as an ``<svg>`` element (no XML prolog), ids prefixed by ``element_id``.

    Deterministic: the same distribution gives the same bytes.
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(4.2, 2.4))
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    axes.hist(dist.values, bins=_bins(dist.max_score, dist.values), color=_COLOR, edgecolor="white")
    axes.set_xlabel(f"points (of {dist.max_score:g})")
    axes.set_ylabel("submissions")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(dist.max_score, *dist.values) if dist.values else dist.max_score or 1)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.StringIO()
    # Text stays text (small, selectable); a fixed salt makes the ids deterministic.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": element_id}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Several SVGs share one page: make their internal ids unique to this plot.
    svg = re.sub(r'id="([^"]+)"', rf'id="{element_id}-\1"', svg)
    svg = re.sub(r"#([A-Za-z_][\w.-]*)\)", rf"#{element_id}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{element_id}-\1"', svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(dist.title)}" ', 1)
