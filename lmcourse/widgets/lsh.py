"""A widget for the LSH S-curve: how bands b and rows r decide which pairs MinHash dedup compares.

Two sliders pick b and r; the panel plots P(candidate) = 1 - (1 - s^r)^b against the Jaccard
similarity s (`lmcourse.data.lsh.lsh_candidate_probability`), marks the threshold (1/b)^(1/r), and
overlays as points the share of generated set pairs that real MinHash signatures made candidates
(`lmcourse.data.lsh.empirical_candidate_rate`). A dashed line marks the similarity the dedup run
verifies at (`jaccard_threshold`), and the caption gives the chance that a pair right at it is found.

The arithmetic is in `scurve_points`; `scurve_svg` and `scurve_panel_html` draw one panel as plain
SVG/HTML (no JavaScript, no matplotlib). `lsh_scurve_widget` is a live widget
(`lmcourse.widgets._live`): `js/lsh.js` redraws the same panel in the reader's browser, in the
static book as in JupyterLab or Colab. It ports the formula (two powers per point); the empirical
points are MinHash runs on random sets, so Python measures them for every (b, r) of the sliders'
grid when the widget is built (`empirical_points`, cached) and the page carries them.

Leaves out: choosing b and r automatically (see exercise 1 of chapter 14) and values of b and r
outside the grid the widget was built with.
"""

from __future__ import annotations

import functools
import html
from typing import NamedTuple

import numpy as np

from lmcourse import checks
from lmcourse.data.lsh import empirical_candidate_rate, lsh_candidate_probability, lsh_threshold
from lmcourse.widgets._svg import Panel

__all__ = ["SCurve", "scurve_points", "empirical_points", "scurve_svg", "scurve_panel_html",
           "lsh_scurve_widget", "BAND_CHOICES", "ROW_CHOICES"]

BAND_CHOICES = (1, 2, 4, 8, 16, 32)
ROW_CHOICES = (1, 2, 3, 4, 5, 6, 8, 10)
EMPIRICAL_SIMILARITIES = tuple(np.round(np.linspace(0, 1, 11), 2).tolist())

# Panel geometry (SVG user units): the plot area and the margins around it for ticks and labels.
_MARGINS = (52, 16, 14, 42)  # left, right, top, bottom
_CURVE_POINTS = 101  # similarities the panel's curve passes through


class SCurve(NamedTuple):
    """The S-curve of b bands of r rows, sampled at `similarity`; `threshold` = (1/b)^(1/r)."""
    num_bands: int
    rows: int
    similarity: np.ndarray  # (num_points,) in [0, 1]
    probability: np.ndarray  # (num_points,) P(candidate) at each similarity
    threshold: float


def scurve_points(num_bands: int, rows: int, num_points: int = _CURVE_POINTS) -> SCurve:
    """The S-curve 1 - (1 - s^rows)^num_bands at `num_points` evenly spaced similarities in [0, 1]."""
    if not isinstance(num_points, int) or isinstance(num_points, bool) or num_points < 2:
        raise ValueError(f"scurve_points: num_points={num_points!r}; expected an int >= 2")
    s = np.linspace(0.0, 1.0, num_points)
    return SCurve(num_bands, rows, s, lsh_candidate_probability(s, num_bands, rows), lsh_threshold(num_bands, rows))


@functools.lru_cache(maxsize=None)
def empirical_points(num_bands: int, rows: int, *, similarities: tuple[float, ...] = EMPIRICAL_SIMILARITIES,
                     num_pairs: int = 100, set_size: int = 100, seed: int = 0) -> tuple[tuple[float, ...], ...]:
    """((similarity, candidate rate), ...) measured with real MinHash signatures; cached per arguments
    (a tuple of tuples, so a cached result cannot be changed by its caller)."""
    exact, rates = empirical_candidate_rate(list(similarities), num_bands, rows, num_pairs=num_pairs,
                                            set_size=set_size, seed=seed)
    return tuple(zip(exact.tolist(), rates.tolist()))


def _vertical(panel: Panel, s: float, color: str, dash: str, label: str, anchor: str, height: float) -> str:
    """A vertical line at similarity s, labelled at `height` (in probability units) on the `anchor` side."""
    dx = -4 if anchor == "end" else 4
    x = panel.x(s)
    return (f"<line x1='{x:.1f}' y1='{panel.y(0):.1f}' x2='{x:.1f}' y2='{panel.y(1):.1f}' stroke='{color}' "
            f"stroke-width='1.5' stroke-dasharray='{dash}'/>"
            f"<text x='{x + dx:.1f}' y='{panel.y(height):.1f}' font-size='11' fill='{color}' "
            f"text-anchor='{anchor}'>{html.escape(label)}</text>")


def scurve_svg(curve: SCurve, empirical=None, jaccard_threshold: float | None = None) -> str:
    """One panel as an inline SVG: axes, the curve, the threshold line, the empirical points (pairs
    (similarity, rate)) if given, and a dashed line at `jaccard_threshold` if given."""
    panel = Panel((0.0, 1.0), (0.0, 1.0), margins=_MARGINS)
    ticks = [i / 5 for i in range(6)]
    grid = panel.grid(ticks, ticks, x_label="{:.1f}".format, y_label="{:.1f}".format)
    axes = panel.frame("Jaccard similarity s", "P(candidate pair)")
    line = panel.polyline(zip(curve.similarity, curve.probability), "#30609a")
    # Labels go where the curve is not: above it left of a high threshold, below it right of a low one;
    # the two labels sit at different heights so that they never write over each other.
    high = curve.threshold > 0.5
    marks = _vertical(panel, curve.threshold, "#c0392b", "none", f"(1/b)^(1/r) = {curve.threshold:.2f}",
                      "end" if high else "start", 0.93 if high else 0.04)
    if jaccard_threshold is not None:
        marks += _vertical(panel, jaccard_threshold, "#2a7d2a", "5 3", f"verify at {jaccard_threshold:g}",
                           "start" if high else "end", 0.04 if high else 0.12)
    dots = "".join(f"<circle cx='{panel.x(s):.1f}' cy='{panel.y(p):.1f}' r='3.5' fill='#f58518' stroke='#333' "
                   f"stroke-width='0.6'/>" for s, p in (empirical or ()))
    title = f"LSH S-curve for b = {curve.num_bands} bands of r = {curve.rows} rows"
    return panel.svg(title, grid, axes, marks, line, dots)


def scurve_panel_html(num_bands: int, rows: int, *, jaccard_threshold: float = 0.8, empirical: bool = True,
                      num_pairs: int = 100) -> str:
    """The panel the widget shows for (b, r): the SVG and a caption with the numbers it plots."""
    curve = scurve_points(num_bands, rows)
    points = empirical_points(num_bands, rows, num_pairs=num_pairs) if empirical else None
    at_threshold = lsh_candidate_probability(jaccard_threshold, num_bands, rows)
    at_half = lsh_candidate_probability(0.5, num_bands, rows)
    legend = (f" Orange points: the share of {num_pairs} generated pairs per similarity that real MinHash "
              f"signatures made candidates." if empirical else "")
    caption = (f"<p>b = {num_bands} bands &times; r = {rows} rows = <b>{num_bands * rows} hash functions</b>; "
               f"threshold (1/b)<sup>1/r</sup> = <b>{curve.threshold:.3f}</b>. A pair of similarity "
               f"{jaccard_threshold:g} becomes a candidate with probability <b>{at_threshold:.3f}</b> "
               f"(missed: {1 - at_threshold:.3f}); a pair of similarity 0.5 with probability "
               f"<b>{at_half:.3f}</b>.{legend}</p>")
    return scurve_svg(curve, points, jaccard_threshold) + caption


def lsh_scurve_widget(num_bands: int = 16, rows: int = 8, *, band_choices=BAND_CHOICES, row_choices=ROW_CHOICES,
                      jaccard_threshold: float = 0.8, empirical: bool = True, num_pairs: int = 100):
    """A live widget (it runs in the static book too, with `js/lsh.js`): sliders for b and r over
    `band_choices` x `row_choices` and `scurve_panel_html` of the chosen pair.

    With `empirical`, building it measures the points of every pair on the grid (`empirical_points`
    with `num_pairs` pairs per similarity; about half a second for the default grid), which the page
    carries. `.panel(**changes)` is the Python panel (controls `num_bands` and `rows`).
    """
    from lmcourse.widgets import _live

    band_choices, row_choices = tuple(band_choices), tuple(row_choices)
    for name, choices in (("band_choices", band_choices), ("row_choices", row_choices)):
        for value in choices:
            checks.positive_int(name, value, fn="lsh_scurve_widget")
    checks.choice("num_bands", num_bands, band_choices, fn="lsh_scurve_widget")
    checks.choice("rows", rows, row_choices, fn="lsh_scurve_widget")
    if isinstance(jaccard_threshold, bool) or not isinstance(jaccard_threshold, (int, float)) \
            or not 0 <= jaccard_threshold <= 1:
        raise ValueError(f"lsh_scurve_widget: jaccard_threshold={jaccard_threshold!r}; expected a number in [0, 1]")
    jaccard_threshold = float(jaccard_threshold)  # as the page's data carries it

    def panel(num_bands, rows):
        checks.choice("num_bands", num_bands, band_choices, fn="lsh_scurve_widget")
        checks.choice("rows", rows, row_choices, fn="lsh_scurve_widget")
        return scurve_panel_html(num_bands, rows, jaccard_threshold=jaccard_threshold, empirical=empirical,
                                 num_pairs=num_pairs)

    measured = ({f"{b},{r}": empirical_points(b, r, num_pairs=num_pairs) for b in band_choices for r in row_choices}
                if empirical else None)
    sliders = [_live.slider("num_bands", "bands b", band_choices, num_bands),
               _live.slider("rows", "rows r", row_choices, rows)]
    data = {"jaccard_threshold": jaccard_threshold, "num_pairs": num_pairs, "num_points": _CURVE_POINTS,
            "margins": _MARGINS, "empirical": measured}
    return _live.LiveWidget("lsh", [sliders], data, panel=panel, scripts=("svg",))
