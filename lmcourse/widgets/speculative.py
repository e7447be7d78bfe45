"""A widget for speculative decoding: how acceptance alpha, draft length gamma and draft cost c set the speedup.

Two sliders pick gamma (draft tokens per step) and c (one draft call's time over one target call's);
the panel plots, against the per-token acceptance probability alpha, the tokens each target call
yields, (1 - alpha^(gamma+1)) / (1 - alpha), and the expected speedup, that divided by (gamma c + 1)
(`lmcourse.accounting.speculative.expected_tokens_per_call` / `expected_speedup`). Measured runs
(alpha, tokens per call, speedup) can be overlaid as points; the caption tabulates both formulas at
a few alphas and says which gamma would be best there.

The arithmetic is in `speculative_curves`; `speculative_svg` and `speculative_panel_html` draw a
panel as plain SVG/HTML, which is what the tests check. Every (gamma, c) panel is rendered once into
nested `Stack`s linked to the sliders with `jslink`, so the sliders work in the static book too.

Leaves out: an alpha slider (alpha is the x axis; the caption reads the curves off at chosen alphas),
and non-i.i.d. acceptance (real acceptance varies along the text, which the measured points show).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmcourse.accounting.speculative import best_gamma, expected_speedup, expected_tokens_per_call
from lmcourse.widgets._pages import paged_panels
from lmcourse.widgets._svg import Panel

__all__ = ["SpeculativeCurves", "speculative_curves", "speculative_svg", "speculative_panel_html",
           "speculative_widget", "GAMMA_CHOICES", "COST_CHOICES"]

GAMMA_CHOICES = (1, 2, 3, 4, 5, 6, 8)
COST_CHOICES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
TABLE_ALPHAS = (0.5, 0.6, 0.7, 0.8, 0.9)



class SpeculativeCurves(NamedTuple):
    gamma: int
    cost_ratio: float
    alpha: np.ndarray  # (num_points,) in [0, 1]
    tokens_per_call: np.ndarray  # (num_points,)
    speedup: np.ndarray  # (num_points,)


def speculative_curves(gamma: int, cost_ratio: float, num_points: int = 101) -> SpeculativeCurves:
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
                    in ((curves.tokens_per_call, "#4c78a8"), (curves.speedup, "#e45756")))
    legend = (f"<text x='{panel.left + 8}' y='{panel.top + 16}' font-size='11' fill='#4c78a8'>tokens per target call"
              f"</text><text x='{panel.left + 8}' y='{panel.top + 31}' font-size='11' fill='#e45756'>"
              f"speedup at c = {curves.cost_ratio:g}</text>")
    dots = ""
    for alpha, tokens, speedup in measured or ():
        x, y = panel.x(alpha), panel.y(tokens)
        dots += f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='#4c78a8' stroke='#222' stroke-width='0.8'/>"
        if speedup is not None:
            x, y = panel.x(alpha), panel.y(speedup)
            dots += f"<rect x='{x - 4:.1f}' y='{y - 4:.1f}' width='8' height='8' fill='#e45756' stroke='#222'/>"
    title = f"Speculative decoding with gamma = {curves.gamma} draft tokens, cost ratio c = {curves.cost_ratio:g}"
    return panel.svg(title, grid, axes, lines, legend, dots)


def speculative_panel_html(gamma: int, cost_ratio: float, measured=None, alphas=TABLE_ALPHAS) -> str:
    """The panel for (gamma, c): the SVG and a table of both formulas (and the best gamma) at `alphas`."""
    curves = speculative_curves(gamma, cost_ratio)
    rows = "".join(f"<tr><td>{a:g}</td><td>{expected_tokens_per_call(a, gamma):.2f}</td>"
                   f"<td>{expected_speedup(a, gamma, cost_ratio):.2f}</td><td>{best_gamma(a, cost_ratio)}</td></tr>"
                   for a in alphas)
    legend = (" Points: measured runs (circles: tokens per target call; squares: measured speedup)."
              if measured else "")
    table = (f"<table style='font-size:12px'><tr><th>alpha</th><th>tokens / target call</th>"
             f"<th>speedup (gamma = {gamma})</th><th>best gamma</th></tr>{rows}</table>")
    caption = (f"<p>gamma = <b>{gamma}</b> draft tokens per step; a draft call costs c = <b>{cost_ratio:g}</b> "
               f"target calls. Below the dashed line at 1 speculation is slower than plain decoding.{legend}</p>")
    return speculative_svg(curves, measured) + caption + table


def speculative_widget(gamma: int = 4, cost_ratio: float = 0.1, measured: dict | None = None, *,
                       gamma_choices=GAMMA_CHOICES, cost_choices=COST_CHOICES):
    """Sliders for gamma and c; `measured` maps gamma -> [(alpha, tokens_per_call, speedup or None), ...].

    The VBox has `.sliders` ("gamma", "cost") and `.shown()`, the HTML of the visible panel.
    """
    for name, value, choices in (("gamma", gamma, gamma_choices), ("cost_ratio", cost_ratio, cost_choices)):
        if value not in choices:
            raise ValueError(f"speculative_widget: {name}={value!r}; expected one of {tuple(choices)}")
    measured = measured or {}
    return paged_panels(("gamma", "gamma", gamma_choices, gamma), ("cost", "cost c", cost_choices, cost_ratio),
                        lambda g, c: speculative_panel_html(g, c, measured.get(g)))
