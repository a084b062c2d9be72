"""``report.html``: one self-contained page (inline CSS, SVG and a little JS; no CDN).

Rendered by Jinja2 with autoescaping on: everything a submission controls (its
folder name, test messages, its code) is escaped; the only markup inserted as is
comes from this module (the plots, made by matplotlib from numbers, and the
matching regions of code, escaped here piece by piece).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from markupsafe import Markup, escape

from grader.instructor.roster.plots import histogram_svg
from grader.instructor.roster.similarity import REFERENCE, Pair, SimilarityResult
from grader.instructor.roster.stats import Distribution, RosterStats

__all__ = ["PAIRS_SHOWN", "marked", "render"]

TEMPLATE = "report.html.j2"  # beside this module
PAIRS_SHOWN = 40  # side-by-side views in the page (every pair is in the CSV)
PAIRS_LISTED = 300  # rows of the pairs table

DISCLAIMER = (
    "Similarity is evidence to read, not a verdict. Two submissions can be alike for "
    "innocent reasons (a shared tutorial, the lesson's own code, a short answer with "
    "one natural shape). Read the matching regions side by side before concluding "
    "anything, and talk with the students first."
)


@dataclass(frozen=True)
class PlotView:
    """A distribution with its SVG (empty when it has nothing to plot)."""

    dist: Distribution
    svg: Markup


def marked(text: str, regions: Sequence[tuple[int, int]]) -> Markup:
    """``text`` escaped, with each ``(start, end)`` region wrapped in ``<mark>``."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(regions):
        start = max(start, position)
        if end <= start:
            continue
        pieces.append(str(escape(text[position:start])))
        pieces.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))


def _plot(dist: Distribution) -> PlotView:
    svg = histogram_svg(dist, element_id=f"plot-{dist.key}") if dist.plottable else ""
    return PlotView(dist, Markup(svg))


@dataclass(frozen=True)
class PairView:
    """One side-by-side view: the pair, its anchor index and both marked texts."""

    index: int
    pair: Pair
    left: Markup
    right: Markup


def render(stats: RosterStats, similarity: SimilarityResult | None = None) -> str:
    """The whole page. A pure function of its arguments."""
    from jinja2 import Environment

    environment = Environment(autoescape=True, keep_trailing_newline=True)
    source = (
        resources.files("grader.instructor.roster").joinpath(TEMPLATE).read_text(encoding="utf-8")
    )
    template = environment.from_string(source)
    plots = [_plot(stats.total), *(_plot(dist) for dist in stats.by_part)]
    pair_index: dict[tuple[str, str], int] = {}
    shown: list[PairView] = []
    if similarity is not None:
        ordered = [*similarity.student_pairs, *similarity.reference_matches]
        for index, pair in enumerate(ordered):
            pair_index[(pair.a, pair.b)] = index
        for pair in similarity.student_pairs[:PAIRS_SHOWN] + similarity.reference_matches[:5]:
            texts = similarity.texts
            shown.append(
                PairView(
                    index=pair_index[(pair.a, pair.b)],
                    pair=pair,
                    left=marked(texts.get(pair.a, ""), pair.a_regions),
                    right=marked(texts.get(pair.b, ""), pair.b_regions),
                )
            )
    flag_kinds = {item.name: ", ".join(item.kinds) for item in stats.flags}
    return template.render(
        stats=stats,
        plots=plots,
        similarity=similarity,
        disclaimer=DISCLAIMER,
        pair_index=pair_index,
        shown=shown,
        shown_ids={view.index for view in shown},
        pairs_listed=PAIRS_LISTED,
        flag_kinds=flag_kinds,
        reference=REFERENCE,
    )
