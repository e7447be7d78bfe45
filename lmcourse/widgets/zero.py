"""A widget for ZeRO: pick Psi, the number of data-parallel GPUs N_d, K and a stage; see each GPU's
memory for parameters, gradients and optimizer state, and the communication per step.

`zero_html` builds the view as plain HTML/CSS from `lmcourse.accounting.zero` (one bar per stage,
the chosen one highlighted, all drawn to the same scale so the savings are visible). `zero_widget`
is a live widget (`lmcourse.widgets._live`): `js/zero.js` redraws the same panel in the reader's
browser when a control moves, in the static book as in JupyterLab or Colab.

Left out: activations and other residual memory (the chapter-2 memory widget shows those), and
controls for the parameter and gradient bytes (`zero_html` takes them; the widget keeps 2 each).
"""

from __future__ import annotations

import html

from lmcourse import checks
from lmcourse.accounting.zero import ZERO_STAGES, zero_communication, zero_memory
from lmcourse.widgets.memory import format_bytes

__all__ = ["PSI_CHOICES", "zero_html", "zero_widget"]

_COLORS = {"parameters": "#4c78a8", "gradients": "#f58518", "optimizer_state": "#54a24b"}


def zero_html(num_params: float, num_gpus: int, stage: int, optimizer_bytes: float = 12, param_bytes: float = 2,
              grad_bytes: float = 2) -> str:
    """Per-GPU model state of every stage as bars (the chosen `stage` in bold) and its communication."""
    volume = zero_communication(num_params, stage)  # validates num_params and stage first
    rows = {s: zero_memory(num_params, num_gpus, s, param_bytes=param_bytes, grad_bytes=grad_bytes,
                           optimizer_bytes=optimizer_bytes) for s in ZERO_STAGES}
    scale = max(m.total for m in rows.values())
    lines = []
    for s, memory in rows.items():
        parts = [("parameters", memory.parameters), ("gradients", memory.gradients),
                 ("optimizer_state", memory.optimizer_state)]
        bar = "".join(f"<div title='{name.replace('_', ' ')}: {format_bytes(value)}' style='width:"
                      f"{100 * value / scale:.3f}%;background:{_COLORS[name]};height:100%'></div>"
                      for name, value in parts if value > 0)
        weight = "bold" if s == stage else "normal"
        outline = "2px solid currentColor" if s == stage else "1px solid #bbb"  # currentColor: visible in dark mode too
        lines.append(f"<tr style='font-weight:{weight}'><td style='white-space:nowrap;padding-right:1em'>"
                     f"{html.escape(ZERO_STAGES[s])}</td><td style='width:60%'><div style='display:flex;height:1.2em;"
                     f"border:{outline}'>{bar}</div></td><td style='text-align:right;padding-left:1em;white-space:nowrap'>"
                     f"{format_bytes(memory.total)}</td></tr>")
    legend = " ".join(f"<span style='margin-right:1em'><span style='display:inline-block;width:0.8em;height:0.8em;"
                      f"background:{color}'></span> {name.replace('_', ' ')}</span>" for name, color in _COLORS.items())
    chosen = rows[stage]
    return (f"<table style='width:100%'>{''.join(lines)}</table><div>{legend}</div>"
            f"<p>Stage {stage} on {num_gpus} GPUs, &Psi; = {num_params:.3g}, K = {optimizer_bytes:g}: each GPU holds "
            f"<b>{format_bytes(chosen.total)}</b> (parameters {format_bytes(chosen.parameters)}, gradients "
            f"{format_bytes(chosen.gradients)}, optimizer state {format_bytes(chosen.optimizer_state)}) and "
            f"communicates <b>{volume / num_params:g} &Psi;</b> = {volume:.3g} elements "
            f"({format_bytes(volume * grad_bytes)} at {grad_bytes:g} bytes each) per step.</p>")


def _count(value: float) -> str:
    """A parameter count as people say it: 7.5e9 -> '7.5B', 1.75e11 -> '175B'."""
    for suffix, size in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


# Parameter counts the slider offers: a 1-1.5-2-3-5-7.5 ladder from 100M to 10T, plus GPT-3's 175B and
# Llama 3's 405B, so the paper's 7.5B example and the usual model sizes are on it exactly.
PSI_CHOICES = sorted({m * 10.0**e for e in range(8, 13) for m in (1, 1.5, 2, 3, 5, 7.5)} | {1.75e11, 4.05e11, 1e13})


def zero_widget(num_params: float = 7.5e9, num_gpus: int = 64, stage: int = 1, optimizer_bytes: float = 12):
    """A live widget (it runs in the static book too) over `zero_html`: a slider for Psi (one of
    PSI_CHOICES), boxes for N_d and K, and the stage. `.panel(**changes)` is the Python panel."""
    from lmcourse.widgets import _live

    checks.choice("num_params", num_params, PSI_CHOICES)
    zero_html(num_params, num_gpus, stage, optimizer_bytes)  # validates the other starting values
    rows = [
        [_live.slider("num_params", "parameters Ψ", [(_count(v), v) for v in PSI_CHOICES], num_params),
         _live.number("num_gpus", "GPUs N_d", num_gpus, 1, 10**6)],
        [_live.number("optimizer_bytes", "K (bytes/param)", optimizer_bytes, 0, 64, integer=False),
         _live.select("stage", "stage", [(f"{s}: {name}", s) for s, name in ZERO_STAGES.items()], stage)],
    ]
    data = {"param_bytes": 2, "grad_bytes": 2, "colors": _COLORS,
            "stages": [html.escape(name) for name in ZERO_STAGES.values()]}
    return _live.LiveWidget("zero", rows, data, panel=zero_html)
