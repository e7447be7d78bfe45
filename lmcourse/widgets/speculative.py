"""A widget for speculative decoding: how acceptance alpha, draft length gamma and draft cost c set the speedup.

Two sliders pick gamma (draft tokens per step) and c (one draft call's time over one target call's);
the panel plots, against the per-token acceptance probability alpha, the tokens each target call
yields, (1 - alpha^(gamma+1)) / (1 - alpha), and the expected speedup, that divided by (gamma c + 1)
(`lmcourse.accounting.speculative.expected_tokens_per_call` / `expected_speedup`). Measured runs
(alpha, tokens per call, speedup) can be overlaid as points; the caption tabulates both formulas at
a few alphas and says which gamma would be best there.

The arithmetic is in `speculative_curves`; `speculative_svg` and `speculative_panel_html` draw a
panel as plain SVG/HTML. `speculative_widget` is a live widget (`lmcourse.widgets._live`):
`js/speculative.js` redraws the same panel in the reader's browser, in the static book as in
JupyterLab or Colab. It ports the three formulas of `lmcourse.accounting.speculative` (a power and
a division each); the measured points come with the page.

Leaves out: an alpha slider (alpha is the x axis; the caption reads the curves off at chosen alphas),
and non-i.i.d. acceptance (real acceptance varies along the text, which the measured points show).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmcourse import checks
from lmcourse.accounting.speculative import best_gamma, expected_speedup, expected_tokens_per_call
from lmcourse.widgets._svg import Panel

__all__ = ["SpeculativeCurves", "speculative_curves", "speculative_svg", "speculative_panel_html",
           "speculative_widget", "GAMMA_CHOICES", "COST_CHOICES"]

GAMMA_CHOICES = (1, 2, 3, 4, 5, 6, 8)
COST_CHOICES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
TABLE_ALPHAS = (0.5, 0.6, 0.7, 0.8, 0.9)
BEST_GAMMA_LIMIT = 16  # the table's best gamma is the best of 1..16
_CURVE_POINTS = 101  # alphas the panel's curves pass through


class SpeculativeCurves(NamedTuple):
    gamma: int
    cost_ratio: float
    alpha: np.ndarray  # (num_points,) in [0, 1]
    tokens_per_call: np.ndarray  # (num_points,)
    speedup: np.ndarray  # (num_points,)


def speculative_curves(gamma: int, cost_ratio: float, num_points: int = _CURVE_POINTS) -> SpeculativeCurves:
    """Both formulas at num_points evenly spaced alphas in [0, 1]."""
    if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 2:
        raise ValueError(f"speculative_curves: num_points={num_points!r}; expected an int >= 2")
    alpha = np.linspace(0.0, 1.0, num_points)
    tokens = np.array([expected_tokens_per_call(float(a), gamma) for a in alpha])
    speedup = np.array([expected_speedup(float(a), gamma, cost_ratio) for a in alpha])
    return SpeculativeCurves(gamma, cost_ratio, alpha, tokens, speedup)


def speculative_svg(curves: SpeculativeCurves, measured=None) -> str:
    """One panel: tokens per target call (blue) and speedup (red) against alpha, the break-even line
    at 1, and `measured` points ((alpha, tokens_per_call, speedup or None), ...) if given."""
    top = curves.gamma + 1  # the y axis goes up to the most a step can yield
    panel = Panel((0.0, 1.0), (0.0, top))
    ticks = sorted({0, 1, top} | set(range(0, top + 1, max(1, top // 4))))
    break_even = "stroke='#999' stroke-dasharray='4 3'"  # 1: faster or slower than plain decoding
    grid = panel.grid(np.linspace(0, 1, 6), ticks, x_label="{:.1f}".format, y_label=str,
                      y_style=lambda t: break_even if t == 1 else None)
    axes = panel.frame("per-token acceptance alpha", "x (tokens per call, speedup)")
    lines = "".join(panel.polyline(zip(curves.alpha, values), color) for values, color
                    in ((curves.tokens_per_call, "#30609a"), (curves.speedup, "#c0392b")))
    legend = (f"<text x='{panel.left + 8}' y='{panel.top + 16}' font-size='11' fill='#30609a'>tokens per target call"
              f"</text><text x='{panel.left + 8}' y='{panel.top + 31}' font-size='11' fill='#c0392b'>"
              f"speedup at c = {curves.cost_ratio:g}</text>")
    dots = ""
    for alpha, tokens, speedup in measured or ():
        x, y = panel.x(alpha), panel.y(tokens)
        dots += f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='#30609a' stroke='#222' stroke-width='0.8'/>"
        if speedup is not None:
            x, y = panel.x(alpha), panel.y(speedup)
            dots += f"<rect x='{x - 4:.1f}' y='{y - 4:.1f}' width='8' height='8' fill='#c0392b' stroke='#222'/>"
    title = f"Speculative decoding with gamma = {curves.gamma} draft tokens, cost ratio c = {curves.cost_ratio:g}"
    return panel.svg(title, grid, axes, lines, legend, dots)


def speculative_panel_html(gamma: int, cost_ratio: float, measured=None, alphas=TABLE_ALPHAS) -> str:
    """The panel for (gamma, c): the SVG and a table of both formulas (and the best gamma) at `alphas`."""
    curves = speculative_curves(gamma, cost_ratio)
    rows = "".join(f"<tr><td>{a:g}</td><td>{expected_tokens_per_call(a, gamma):.2f}</td>"
                   f"<td>{expected_speedup(a, gamma, cost_ratio):.2f}</td>"
                   f"<td>{best_gamma(a, cost_ratio, BEST_GAMMA_LIMIT)}</td></tr>" for a in alphas)
    legend = (" Points: measured runs (circles: tokens per target call; squares: measured speedup)."
              if measured else "")
    table = (f"<table style='font-size:12px'><tr><th>alpha</th><th>tokens / target call</th>"
             f"<th>speedup (gamma = {gamma})</th><th>best gamma</th></tr>{rows}</table>")
    caption = (f"<p>gamma = <b>{gamma}</b> draft tokens per step; a draft call costs c = <b>{cost_ratio:g}</b> "
               f"target calls. Below the dashed line at 1 speculation is slower than plain decoding.{legend}</p>")
    return speculative_svg(curves, measured) + caption + table


def _measured_points(measured, gamma_choices) -> dict[int, list[tuple[float, float, float | None]]]:
    """`measured` as {gamma: [(alpha, tokens_per_call, speedup or None), ...]} of Python floats (the
    page carries them as JSON), or a ValueError saying what is wrong with it."""
    if measured is None:
        return {}
    if not isinstance(measured, dict):
        raise TypeError(f"speculative_widget: measured is a {type(measured).__name__}; expected a dict "
                        "gamma -> [(alpha, tokens_per_call, speedup or None), ...]")
    points = {}
    for gamma, runs in measured.items():
        checks.choice("measured gamma", gamma, gamma_choices, fn="speculative_widget")
        points[gamma] = []
        for run in runs:
            try:
                alpha, tokens, speedup = run
                point = (float(alpha), float(tokens), None if speedup is None else float(speedup))
            except (TypeError, ValueError):
                raise ValueError(f"speculative_widget: measured[{gamma}] holds {run!r}; expected "
                                 "(alpha, tokens_per_call, speedup or None)") from None
            if not 0 <= point[0] <= 1 or not all(np.isfinite(v) for v in point if v is not None):
                raise ValueError(f"speculative_widget: measured[{gamma}] holds {run!r}; expected alpha in [0, 1] "
                                 "and finite numbers")
            points[gamma].append(point)
    return points


def speculative_widget(gamma: int = 4, cost_ratio: float = 0.1, measured: dict | None = None, *,
                       gamma_choices=GAMMA_CHOICES, cost_choices=COST_CHOICES):
    """A live widget (it runs in the static book too, with `js/speculative.js`): sliders for gamma
    and c over `gamma_choices` x `cost_choices` and `speculative_panel_html` of the chosen pair, with
    the points `measured` maps gamma to ([(alpha, tokens_per_call, speedup or None), ...]).
    `.panel(**changes)` is the Python panel (controls `gamma` and `cost_ratio`).
    """
    from lmcourse.widgets import _live

    gamma_choices, cost_choices = tuple(gamma_choices), tuple(cost_choices)
    for value in gamma_choices:
        checks.positive_int("gamma_choices", value, fn="speculative_widget")
    for value in cost_choices:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"speculative_widget: cost_choices holds {value!r}; expected numbers >= 0")
    checks.choice("gamma", gamma, gamma_choices, fn="speculative_widget")
    checks.choice("cost_ratio", cost_ratio, cost_choices, fn="speculative_widget")
    points = _measured_points(measured, gamma_choices)

    def panel(gamma, cost_ratio):
        checks.choice("gamma", gamma, gamma_choices, fn="speculative_widget")
        checks.choice("cost_ratio", cost_ratio, cost_choices, fn="speculative_widget")
        return speculative_panel_html(gamma, cost_ratio, points.get(gamma))

    sliders = [_live.slider("gamma", "gamma", gamma_choices, gamma),
               _live.slider("cost_ratio", "cost c", [(f"{c:g}", c) for c in cost_choices], cost_ratio)]
    data = {"measured": {str(g): runs for g, runs in points.items()}, "alphas": TABLE_ALPHAS,
            "max_gamma": BEST_GAMMA_LIMIT, "num_points": _CURVE_POINTS}
    return _live.LiveWidget("speculative", [sliders], data, panel=panel, scripts=("svg",))
