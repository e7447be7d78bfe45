"""One small chart builder for the widgets' inline SVG panels: a plot area with data-to-pixel maps
(linear or log10), grid lines with tick labels, a framed axis with its labels, polylines, and the
`<svg>` envelope. Each widget keeps only what is its own (the curves, the marks, the caption).

Why not matplotlib: the panels are precomputed HTML strings shown by a static page without a
kernel, and small SVG text stays sharp at any zoom and in dark mode's grey plate. `js/svg.js` is
this Panel in JavaScript, for live widgets (`_live`) that draw charts in the browser: change the
two together (tests/test_live_widgets.py compares their markup).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable

WIDTH, HEIGHT = 460, 290
MARGINS = (44, 16, 14, 42)  # left, right, top, bottom: room for tick labels and axis titles


class Panel:
    """A `width` x `height` SVG whose plot area maps `x_range` and `y_range` (data units) onto the
    space inside `margins`; `log_x`/`log_y` make an axis logarithmic (ranges then in data units too)."""

    def __init__(self, x_range: tuple[float, float], y_range: tuple[float, float], *, log_x: bool = False,
                 log_y: bool = False, width: int = WIDTH, height: int = HEIGHT, margins=MARGINS):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = margins
        self._x = self._axis(x_range, log_x, self.left, width - self.right)
        self._y = self._axis(y_range, log_y, height - self.bottom, self.top)  # up is smaller y
        self.x_range, self.y_range = x_range, y_range

    @staticmethod
    def _axis(bounds, log: bool, start: float, end: float) -> Callable[[float], float]:
        f = math.log10 if log else float
        lo, hi = f(bounds[0]), f(bounds[1])
        if not hi > lo:
            raise ValueError(f"Panel: axis range {bounds!r}; expected low < high")
        return lambda v: start + (f(v) - lo) / (hi - lo) * (end - start)

    def x(self, value: float) -> float:
        return self._x(value)

    def y(self, value: float) -> float:
        return self._y(value)

    def grid(self, x_ticks: Iterable[float] = (), y_ticks: Iterable[float] = (), *,
             x_label: Callable[[float], str] = "{:g}".format, y_label: Callable[[float], str] = "{:g}".format,
             y_style: Callable[[float], str] | None = None, vertical_lines: bool = False) -> str:
        """Horizontal grid lines at `y_ticks` (and vertical ones at `x_ticks` when `vertical_lines`),
        labelled under the x axis and left of the y axis. `y_style(t)` may restyle one line (a
        break-even line, say); labels are SVG markup, so a label function may return <tspan>s."""
        (x0, x1), (y0, y1) = (self.x(v) for v in self.x_range), (self.y(v) for v in self.y_range)
        parts = []
        for t in y_ticks:
            style = (y_style(t) if y_style else None) or "stroke='#e4e4e4'"
            parts.append(f"<line x1='{x0:.1f}' y1='{self.y(t):.1f}' x2='{x1:.1f}' y2='{self.y(t):.1f}' {style}/>"
                         f"<text x='{x0 - 6:.1f}' y='{self.y(t) + 4:.1f}' font-size='11' text-anchor='end'>"
                         f"{y_label(t)}</text>")
        for t in x_ticks:
            if vertical_lines:
                parts.append(f"<line x1='{self.x(t):.1f}' y1='{y0:.1f}' x2='{self.x(t):.1f}' y2='{y1:.1f}' "
                             "stroke='#e4e4e4'/>")
            parts.append(f"<text x='{self.x(t):.1f}' y='{y0 + 16:.1f}' font-size='11' text-anchor='middle'>"
                         f"{x_label(t)}</text>")
        return "".join(parts)

    def frame(self, x_title: str, y_title: str, *, box: bool = True) -> str:
        """The plot area's border (when `box`) and the two axis titles (y rotated)."""
        (x0, x1), (y0, y1) = (self.x(v) for v in self.x_range), (self.y(v) for v in self.y_range)
        border = (f"<rect x='{x0:.1f}' y='{y1:.1f}' width='{x1 - x0:.1f}' height='{y0 - y1:.1f}' fill='none' "
                  "stroke='#888'/>") if box else ""
        return (border + f"<text x='{(x0 + x1) / 2:.1f}' y='{self.height - 6}' font-size='12' text-anchor='middle'>"
                f"{html.escape(x_title)}</text><text transform='translate(14 {(y0 + y1) / 2:.1f}) rotate(-90)' "
                f"font-size='12' text-anchor='middle'>{html.escape(y_title)}</text>")

    def polyline(self, points: Iterable[tuple[float, float]], color: str, width: float = 2, extra: str = "") -> str:
        """A line through data points (x, y)."""
        path = " ".join(f"{self.x(a):.1f},{self.y(b):.1f}" for a, b in points)
        return f"<polyline points='{path}' fill='none' stroke='{color}' stroke-width='{width}'{extra}/>"

    def svg(self, title: str, *parts: str) -> str:
        """The envelope: a fixed-size SVG with an accessible title around `parts`."""
        return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {self.width} {self.height}' "
                f"width='{self.width}' height='{self.height}' role='img' font-family='sans-serif'>"
                f"<title>{html.escape(title)}</title>{''.join(parts)}</svg>")
