"""A roofline widget: put an operation on a GPU's roofline and read off what bounds it.

The reader picks a GPU (the datasheet A100 / H100 / H200, or this machine as measured by
`lmcourse.timing.measured_machine`), a dtype the GPU has a peak for, and an operation with
its shape: a matmul m x k x n, an elementwise add of two m x n tensors, a softmax or RMSNorm over m
rows of n, attention prefill, a whole-model prefill, or one decode step with a KV cache (the last
three for a model preset, a batch and a sequence length). The panel plots the roof (log-log) with
the operation as a point on it and says whether it is memory- or compute-bound, the attainable
FLOP/s and the fastest possible time.

All arithmetic is `lmcourse.accounting.roofline`; `operation_cost` maps the controls to an
`OpCost`, and `roofline_svg` / `roofline_panel_html` draw the panel as plain SVG/HTML (no
JavaScript), so the state the book was built with is visible in the static page. Moving the
controls needs a live kernel (JupyterLab, Colab). Left out: several operations on one chart (call
`roofline_svg` with a list of points for that) and caches (see the accounting module).
"""

from __future__ import annotations

import html
import math

from lmcourse import checks
from lmcourse.accounting.hardware import GPU, GPUS
from lmcourse.accounting.presets import PRESETS
from lmcourse.accounting.roofline import (OpCost, attainable_flops, attention_prefill_cost, bound, decode_step_cost,
                                          elementwise_cost, matmul_cost, prefill_cost, ridge_point, rmsnorm_cost,
                                          roofline_time, softmax_cost)
from lmcourse.widgets._svg import Panel

__all__ = ["OPERATIONS", "MEASURED", "operation_cost", "roofline_svg", "roofline_panel_html", "roofline_widget"]

OPERATIONS = ("matmul", "elementwise add", "softmax", "rmsnorm", "attention prefill", "model prefill",
              "decode step")
MEASURED = "this machine (measured)"
_DATASHEET = ("A100-80GB", "H100-80GB", "H200-141GB")

# Panel geometry (SVG user units): plot area and margins for ticks and labels.
_WIDTH, _HEIGHT = 520, 320
_MARGINS = (62, 16, 16, 44)  # left, right, top, bottom: room for 10^k labels
_COLORS = ("#e45756", "#4c78a8", "#54a24b", "#b279a2", "#f58518", "#72b7b2", "#9d755d")


def operation_cost(operation: str, dtype: str = "bf16", *, m: int = 4096, k: int = 4096, n: int = 4096,
                   preset: str = "llama2-7b", batch: int = 1, seq: int = 1024) -> OpCost:
    """The OpCost of one of OPERATIONS: m, k, n shape the first four, preset / batch / seq the rest
    (seq is the context length for "decode step")."""
    checks.choice("operation", operation, OPERATIONS)
    if operation == "matmul":
        return matmul_cost(m, k, n, dtype)
    if operation == "elementwise add":
        return elementwise_cost(m * n, dtype, flops_per_element=1, inputs=2, outputs=1)
    if operation == "softmax":
        return softmax_cost(m, n, dtype)
    if operation == "rmsnorm":
        return rmsnorm_cost(m, n, dtype)
    checks.choice("preset", preset, PRESETS)
    config = PRESETS[preset]
    if operation == "attention prefill":
        return attention_prefill_cost(batch, seq, config.num_heads, config.head_dim, dtype, config.kv_heads)
    if operation == "model prefill":
        return prefill_cost(config, batch, seq, dtype)
    return decode_step_cost(config, batch, seq, dtype)


def _si(value: float, unit: str) -> str:
    """3 significant digits with an SI prefix: 9.894e14 FLOP/s -> '989 TFLOP/s'."""
    for prefix, size in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _duration(seconds: float) -> str:
    for unit, size in (("s", 1.0), ("ms", 1e-3)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds * 1e6:.3g} &micro;s"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%" if share >= 0.1 else f"{100 * share:.2g}%"


def _decades(low: float, high: float) -> tuple[int, int]:
    return math.floor(math.log10(low)), math.ceil(math.log10(high))


def roofline_svg(gpu: GPU, dtype: str, points) -> str:
    """The roof min(peak, I * bandwidth) of gpu in dtype, log-log, with each (label, OpCost) of
    `points` at (intensity, attainable FLOP/s); the axes span whole decades around roof and points."""
    points = list(points)
    if not points or not all(isinstance(cost, OpCost) for _, cost in points):
        raise ValueError(f"points={points!r}; expected a non-empty list of (label, OpCost) pairs")
    ridge, peak = ridge_point(gpu, dtype), gpu.peak(dtype)  # ridge_point checks the types first
    intensities = [cost.intensity for _, cost in points]
    x_lo, x_hi = _decades(min(*intensities, ridge / 100), max(*intensities, ridge * 10))
    y_lo, y_hi = _decades(attainable_flops(gpu, dtype, 10.0**x_lo), peak * 1.5)

    panel = Panel((10.0**x_lo, 10.0**x_hi), (10.0**y_lo, 10.0**y_hi), log_x=True, log_y=True,
                  width=_WIDTH, height=_HEIGHT, margins=_MARGINS)
    x, y = panel.x, panel.y
    grid = panel.grid([10.0**e for e in range(x_lo, x_hi + 1)], [10.0**e for e in range(y_lo, y_hi + 1)],
                      x_label=lambda t: f"10<tspan dy='-5' font-size='8'>{round(math.log10(t))}</tspan>",
                      y_label=lambda t: _si(t, ""), vertical_lines=True)
    axes = panel.frame("arithmetic intensity (FLOPs / byte)", "attainable FLOP/s", box=False)
    x_end = 10.0**x_hi
    roof = (f"<polyline points='{x(10.0**x_lo):.1f},{y(attainable_flops(gpu, dtype, 10.0**x_lo)):.1f} "
            f"{x(ridge):.1f},{y(peak):.1f} {x(x_end):.1f},{y(peak):.1f}' fill='none' stroke='#333' stroke-width='2.5'/>"
            f"<line x1='{x(ridge):.1f}' y1='{y(peak):.1f}' x2='{x(ridge):.1f}' y2='{y(10.0**y_lo):.1f}' "
            f"stroke='#888' stroke-dasharray='4 3'/><text x='{x(ridge) + 4:.1f}' y='{y(10.0**y_lo) - 6:.1f}' "
            f"font-size='11' fill='#555'>ridge {ridge:.3g} FLOPs/B</text>"
            f"<text x='{x(x_end) - 4:.1f}' y='{y(peak) - 6:.1f}' font-size='11' text-anchor='end'>"
            f"peak {_si(peak, 'FLOP/s')}</text>")
    dots = ""
    for i, (label, cost) in enumerate(points):
        color = _COLORS[i % len(_COLORS)]
        cx, cy = x(cost.intensity), y(attainable_flops(gpu, dtype, cost.intensity))
        anchor, dx = ("end", -8) if cx > _WIDTH * 0.6 else ("start", 8)
        dots += (f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='5' fill='{color}' stroke='#222'/>"
                 f"<text x='{cx + dx:.1f}' y='{cy + 16 + 13 * (i % 2):.1f}' font-size='11' fill='{color}' "
                 f"text-anchor='{anchor}'>{html.escape(str(label))}</text>")
    return panel.svg(f"Roofline of {gpu.name} in {dtype}", grid, axes, roof, dots)


def roofline_panel_html(gpu: GPU, dtype: str, cost: OpCost) -> str:
    """The roofline with `cost` on it, and a caption: intensity, ridge, the bound, attainable FLOP/s, time."""
    verdict = bound(gpu, dtype, cost)
    attainable = attainable_flops(gpu, dtype, cost.intensity)
    color = "#c0392b" if verdict == "memory" else "#2a7d2a"
    caption = (f"<p>{html.escape(cost.name)}: {_si(cost.flops, 'FLOP')} over {_si(cost.bytes, 'B')} = "
               f"<b>{cost.intensity:.3g} FLOPs/byte</b>; ridge point of {html.escape(gpu.name)} in {dtype}: "
               f"{ridge_point(gpu, dtype):.3g}. <b style='color:{color}'>{verdict}-bound</b>: at most "
               f"<b>{_si(attainable, 'FLOP/s')}</b> ({_percent(attainable / gpu.peak(dtype))} of peak), "
               f"so no faster than <b>{_duration(roofline_time(gpu, dtype, cost))}</b>.</p>")
    return roofline_svg(gpu, dtype, [(cost.name, cost)]) + caption


def roofline_widget(gpu: str = "H100-80GB", dtype: str = "bf16", operation: str = "decode step"):
    """Controls and the panel in a VBox; `.controls` (name -> control) and `.view` (HTML) for scripting.

    Choosing MEASURED times a matmul and a copy on this machine the first time (about a second).
    """
    import ipywidgets as widgets

    checks.choice("gpu", gpu, (*_DATASHEET, MEASURED))
    checks.choice("operation", operation, OPERATIONS)

    def get_gpu(name: str) -> GPU:
        if name == MEASURED:
            from lmcourse.timing import measured_machine
            return measured_machine()
        return GPUS[name]

    checks.choice("dtype", dtype, get_gpu(gpu).peak_flops)
    wide = {"description_width": "initial"}
    int_box = dict(min=1, max=10**7, style=wide, layout=widgets.Layout(width="10em"))
    c = {
        "gpu": widgets.Dropdown(options=[*_DATASHEET, MEASURED], value=gpu, description="GPU", style=wide),
        "dtype": widgets.Dropdown(options=list(get_gpu(gpu).peak_flops), value=dtype, description="dtype",
                                  style=wide),
        "operation": widgets.Dropdown(options=OPERATIONS, value=operation, description="operation", style=wide),
        **{name: widgets.BoundedIntText(value=4096, description=name, **int_box) for name in ("m", "k", "n")},
        "preset": widgets.Dropdown(options=list(PRESETS), value="llama2-7b", description="model", style=wide),
        "batch": widgets.BoundedIntText(value=1, description="batch", **int_box),
        "seq": widgets.BoundedIntText(value=1024, description="seq / context", **int_box),
    }
    view = widgets.HTML()

    def update(_=None):
        chosen = get_gpu(c["gpu"].value)
        try:
            cost = operation_cost(c["operation"].value, c["dtype"].value,
                                  **{name: c[name].value for name in ("m", "k", "n", "preset", "batch", "seq")})
        except ValueError as error:
            view.value = f"<p style='color:#c0392b'>{html.escape(str(error))}</p>"
            return
        view.value = roofline_panel_html(chosen, c["dtype"].value, cost)

    def gpu_changed(change):
        # Offer only the dtypes this GPU has a peak for (no fp8 on an A100, only fp32 measured on a CPU).
        options = list(get_gpu(change["new"]).peak_flops)
        if list(c["dtype"].options) != options:
            keep = c["dtype"].value if c["dtype"].value in options else ("bf16" if "bf16" in options else options[0])
            c["dtype"].options = options
            c["dtype"].value = keep
        update()

    c["gpu"].observe(gpu_changed, names="value")
    for name, control in c.items():
        if name != "gpu":
            control.observe(update, names="value")
    update()
    row = widgets.HBox
    box = widgets.VBox([row([c["gpu"], c["dtype"], c["operation"]]), row([c["m"], c["k"], c["n"]]),
                        row([c["preset"], c["batch"], c["seq"]]), view])
    box.controls, box.view = c, view
    return box
