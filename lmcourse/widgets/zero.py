"""A widget for ZeRO: pick Psi, the number of data-parallel GPUs N_d, K and a stage; see each GPU's
memory for parameters, gradients and optimizer state, and the communication per step.

`zero_html` builds the view as plain HTML/CSS from `lmcourse.accounting.zero` (one bar per stage,
the chosen one highlighted, all drawn to the same scale so the savings are visible), so the state
the book was built with renders in the static page; moving the controls needs a live kernel.

Left out: activations and other residual memory (the chapter-2 memory widget shows those), and
controls for the parameter and gradient bytes (`zero_html` takes them; the sliders keep 2 each).
"""

from __future__ import annotations

import html

from lmcourse.accounting.zero import ZERO_STAGES, zero_communication, zero_memory
from lmcourse.widgets.memory import format_bytes

__all__ = ["zero_html", "zero_widget"]

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
        outline = "2px solid #222" if s == stage else "1px solid #bbb"
        lines.append(f"<tr style='font-weight:{weight}'><td style='white-space:nowrap;padding-right:1em'>"
                     f"{html.escape(ZERO_STAGES[s])}</td><td style='width:60%'><div style='display:flex;height:1.2em;"
                     f"border:{outline}'>{bar}</div></td><td style='text-align:right;padding-left:1em'>"
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


def zero_widget(num_params: float = 7.5e9, num_gpus: int = 64, stage: int = 1, optimizer_bytes: float = 12):
    """Sliders for Psi, N_d, K and the stage over `zero_html`; `.controls` and `.view` for scripting."""
    import ipywidgets as widgets

    zero_html(num_params, num_gpus, stage, optimizer_bytes)  # validates the starting values
    wide = {"description_width": "initial"}
    c = {
        "num_params": widgets.FloatLogSlider(value=num_params, base=10, min=8, max=12.5, step=0.025,  # 7.5e9 on the grid
                                             description="parameters Ψ", readout_format=".3g", style=wide),
        "num_gpus": widgets.IntSlider(value=num_gpus, min=1, max=1024, description="GPUs N_d", style=wide),
        "optimizer_bytes": widgets.BoundedFloatText(value=optimizer_bytes, min=0, max=64, step=1,
                                                    description="K (bytes/param)", style=wide),
        "stage": widgets.ToggleButtons(options=[(f"stage {s}", s) for s in ZERO_STAGES], value=stage),
    }
    view = widgets.HTML()

    def update(_=None):
        view.value = zero_html(c["num_params"].value, c["num_gpus"].value, c["stage"].value,
                               c["optimizer_bytes"].value)

    for control in c.values():
        control.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([c["num_params"], c["num_gpus"]]),
                        widgets.HBox([c["optimizer_bytes"], c["stage"]]), view])
    box.controls, box.view = c, view
    return box
