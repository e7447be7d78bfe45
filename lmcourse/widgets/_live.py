"""Widgets whose controls run in the reader's browser, so they respond in the static book too.

A static book has no kernel to recompute a panel when a control moves, and a widget over free
numbers (a batch size, a GPU count, a matrix shape) or free text (the text BPE trains on) has too
many settings to precompute every panel. So a live widget ships its panel's renderer as JavaScript
(`lmcourse/widgets/js/<renderer>.js`) together with the numbers it needs from the package (model
presets, GPU datasheets, measurements that are expensive or random, such as MinHash runs, made
once in Python for every setting), and draws the panel in the browser whenever a control moves.
The same HTML output works in the static book, JupyterLab and Colab, with no kernel round trip.
Helpers several renderers share come along too: `js/svg.js` is `_svg.Panel`, for charts.

Each renderer mirrors one Python view function of the package (e.g. `zero.zero_html`) and returns
the very same string; `tests/test_live_widgets.py` checks that in Chromium over every discrete
choice and random numbers, and the rendered-book test moves every control in the built pages.
The panel the output starts with is the Python one, so a viewer that runs no scripts (an untrusted
notebook, a preview on a code host) still shows the figure the notebook was run with.

In the kernel, `widget.settings` are the starting values and `widget.panel(**changes)` is the
Python panel for them with some changed: what the chapters' checks read.

Left out: controls that depend on one another beyond what a renderer's `onchange` hook does, and
any call back into Python (nothing the browser shows needs the kernel).
"""

from __future__ import annotations

import html
import itertools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Sequence

from lmcourse import checks

__all__ = ["Control", "LiveWidget", "checkbox", "number", "select", "slider", "text"]

_KINDS = ("select", "slider", "number", "checkbox", "text")
_ids = itertools.count()


@dataclass(frozen=True)
class Control:
    """One control: `kind` is select (a drop-down), slider (a discrete slider with a readout),
    number (a free number between `min` and `max`, an integer unless `integer` is False), checkbox
    or text (a box of free text, its value the string). select and slider offer `values`, shown as
    `labels`."""

    name: str
    label: str
    kind: str
    value: Any
    values: tuple = ()
    labels: tuple = ()
    min: float | None = None
    max: float | None = None
    integer: bool = True

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"Control {self.name!r}: kind={self.kind!r}; expected one of {_KINDS}")
        if self.kind in ("select", "slider"):
            if self.value not in self.values:
                raise ValueError(f"{self.name}={self.value!r}; expected one of {list(self.labels)}")
        elif self.kind == "number" and not self.min <= self.value <= self.max:
            raise ValueError(f"{self.name}={self.value!r}; expected a number from {self.min} to {self.max}")
        elif self.kind == "text":
            checks.text(self.name, self.value)
            # A browser's text box turns "\r\n" and "\r" into "\n" and "\0" into U+FFFD, so it could
            # not hold this value: the page would start from another text than the Python panel.
            if "\r" in self.value or "\0" in self.value:
                raise ValueError(f"{self.name}: the text holds a \\r or \\0; expected text without them, "
                                 "which a text box cannot hold")

    def spec(self) -> dict:
        return {"name": self.name, "label": self.label, "kind": self.kind, "values": list(self.values),
                "labels": list(self.labels), "min": self.min, "max": self.max, "integer": self.integer}

    def html(self) -> str:
        label, name = html.escape(self.label), html.escape(self.name)
        if self.kind == "checkbox":
            checked = " checked" if self.value else ""
            return (f"<label class='lmcourse-live-control'><input type='checkbox' data-control='{name}'"
                    f"{checked}> {label}</label>")
        if self.kind == "text":
            # The newline after the start tag is dropped by the HTML parser, so a text that starts
            # with a newline keeps it.
            field = (f"<textarea data-control='{name}' rows='3' spellcheck='false'>\n"
                     f"{html.escape(self.value)}</textarea>")
            return f"<label class='lmcourse-live-control lmcourse-live-text'><span>{label}</span>{field}</label>"
        if self.kind == "number":
            step = "1" if self.integer else "any"
            field = (f"<input type='number' data-control='{name}' min='{self.min}' max='{self.max}' "
                     f"step='{step}' value='{self.value}'>")
        elif self.kind == "select":
            index = self.values.index(self.value)
            options = "".join(f"<option value='{i}'{' selected' if i == index else ''}>{html.escape(str(text))}"
                              f"</option>" for i, text in enumerate(self.labels))
            field = f"<select data-control='{name}'>{options}</select>"
        else:
            index = self.values.index(self.value)
            field = (f"<input type='range' data-control='{name}' min='0' max='{len(self.values) - 1}' step='1' "
                     f"value='{index}' aria-label='{label}'><output data-readout='{name}'>"
                     f"{html.escape(str(self.labels[index]))}</output>")
        return f"<label class='lmcourse-live-control'><span>{label}</span>{field}</label>"


def _choices(choices: Sequence) -> tuple[tuple, tuple]:
    """(values, labels) from values or (label, value) pairs."""
    pairs = [c if isinstance(c, tuple) else (str(c), c) for c in choices]
    return tuple(v for _, v in pairs), tuple(label for label, _ in pairs)


def select(name: str, label: str, choices: Sequence, value) -> Control:
    values, labels = _choices(choices)
    return Control(name, label, "select", value, values, labels)


def slider(name: str, label: str, choices: Sequence, value) -> Control:
    values, labels = _choices(choices)
    return Control(name, label, "slider", value, values, labels)


def number(name: str, label: str, value: float, low: float, high: float, integer: bool = True) -> Control:
    return Control(name, label, "number", value, min=low, max=high, integer=integer)


def checkbox(name: str, label: str, value: bool) -> Control:
    return Control(name, label, "checkbox", bool(value))


def text(name: str, label: str, value: str) -> Control:
    return Control(name, label, "text", value)


_STYLE = """<style>
.lmcourse-live .lmcourse-live-row { display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; margin: 0.3em 0; }
.lmcourse-live .lmcourse-live-control { display: inline-flex; align-items: center; gap: 0.4em; flex-wrap: wrap; }
.lmcourse-live .lmcourse-live-control > span { white-space: nowrap; }
.lmcourse-live input[type=range] { width: 12em; max-width: 60vw; }
.lmcourse-live input[type=number] { width: 7em; }
.lmcourse-live select, .lmcourse-live input,
.lmcourse-live textarea { font: inherit; color: inherit; background: transparent; }
.lmcourse-live .lmcourse-live-text { display: flex; flex: 1 1 100%; align-items: flex-start; }
.lmcourse-live textarea { flex: 1 1 16em; min-width: 0; font-family: monospace; }
.lmcourse-live select option { color: #222; background: #fff; }
.lmcourse-live output { min-width: 4em; font-variant-numeric: tabular-nums; }
.lmcourse-live .lmcourse-live-panel { margin-top: 0.5em; overflow-x: auto; }
.lmcourse-live .lmcourse-live-panel svg { max-width: 100%; height: auto; }
.lmcourse-live .lmcourse-live-error { color: #c0392b; }
</style>"""


def _script(name: str) -> str:
    return resources.files("lmcourse.widgets").joinpath("js", f"{name}.js").read_text(encoding="utf-8")


class LiveWidget:
    """Rows of controls over a panel drawn by the JavaScript `renderer` from `data`, starting from
    the Python `panel(**settings)`; see the module docstring."""

    def __init__(self, renderer: str, rows: Sequence[Sequence[Control]], data: dict,
                 panel: Callable[..., str], *, scripts: Sequence[str] = ()):
        """`scripts`: shared helpers the renderer uses (`js/<name>.js`, e.g. "svg"), loaded before it."""
        self.renderer, self.rows, self.data, self._panel = renderer, [list(r) for r in rows], data, panel
        self.scripts = (*scripts, renderer)
        self.controls = {c.name: c for row in self.rows for c in row}
        self.settings = {name: c.value for name, c in self.controls.items()}
        for name in self.scripts:
            _script(name)  # fail here, not in the reader's browser, if a script is missing
        self.initial = panel(**self.settings)

    def panel(self, **changes) -> str:
        """The Python panel for the starting settings with `changes` (control name -> value)."""
        unknown = sorted(set(changes) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; expected some of {sorted(self.controls)}")
        return self._panel(**{**self.settings, **changes})

    def spec(self) -> dict:
        return {"renderer": self.renderer, "controls": [c.spec() for c in self.controls.values()],
                "data": self.data}

    def _repr_html_(self) -> str:
        spec = json.dumps(self.spec(), separators=(",", ":")).replace("</", "<\\/")
        rows = "".join(f"<div class='lmcourse-live-row'>{''.join(c.html() for c in row)}</div>" for row in self.rows)
        code = "\n".join(_script(name) for name in ("live", *self.scripts)) + "\nwindow.lmcourseLive.mountAll();"
        return (f"{_STYLE}<div class='lmcourse-live' id='lmcourse-live-{next(_ids)}' "
                f"data-renderer='{html.escape(self.renderer)}'>{rows}"
                f"<div class='lmcourse-live-panel'>{self.initial}</div>"
                f"<script type='application/json' class='lmcourse-live-spec'>{spec}</script>"
                f"<script>{code}</script></div>")
