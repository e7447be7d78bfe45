"""A roofline widget: put an operation on a GPU's roofline and read off what bounds it.

The reader picks a GPU (the datasheet A100 / H100 / H200, or this machine as measured by
`lmcourse.timing.measured_machine`), a dtype the GPU has a peak for, and an operation with
its shape: a matmul m x k x n, an elementwise add of two m x n tensors, a softmax or RMSNorm over m
rows of n, attention prefill, a whole-model prefill, or one decode step with a KV cache (the last
three for a model preset, a batch and a sequence length). The panel plots the roof (log-log) with
the operation as a point on it and says whether it is memory- or compute-bound, the attainable
FLOP/s and the fastest possible time.

All arithmetic is `lmcourse.accounting.roofline`; `operation_cost` maps the controls to an
`OpCost`, and `roofline_svg` / `roofline_panel_html` draw the panel as plain SVG/HTML.
`roofline_widget` is a live widget (`lmcourse.widgets._live`): `js/roofline.js` redraws the same
panel in the reader's browser, in the static book as in JupyterLab or Colab. It ports the cost
formulas (min() caps, sliding windows and MoE routing make them no polynomials to ship as
coefficients) and takes each preset's counts from Python; the tests check its costs against
`operation_cost` double for double and its panel against `roofline_panel_html`.

Left out: several operations on one chart (call `roofline_svg` with a list of points for that) and
caches (see the accounting module).
"""

from __future__ import annotations

import html
import math

from lmcourse import checks
from lmcourse.accounting.flops import forward_flops_per_token
from lmcourse.accounting.hardware import GPU, GPUS
from lmcourse.accounting.memory import kv_cache_bytes_per_token
from lmcourse.accounting.params import count_parameters
from lmcourse.accounting.presets import PRESETS
from lmcourse.accounting.roofline import (DTYPE_BYTES, OpCost, attainable_flops, attention_prefill_cost, bound,
                                          decode_step_cost, elementwise_cost, matmul_cost, prefill_cost, ridge_point,
                                          rmsnorm_cost, roofline_time, softmax_cost)
from lmcourse.widgets._svg import Panel

__all__ = ["OPERATIONS", "MEASURED", "operation_cost", "roofline_svg", "roofline_panel_html", "roofline_widget"]

OPERATIONS = ("matmul", "elementwise add", "softmax", "rmsnorm", "attention prefill", "model prefill",
              "decode step")
MEASURED = "this machine (measured)"
_DATASHEET = ("A100-80GB", "H100-80GB", "H200-141GB")

# Panel geometry (SVG user units): plot area and margins for ticks and labels.
_WIDTH, _HEIGHT = 520, 320
_MARGINS = (62, 16, 16, 44)  # left, right, top, bottom: room for 10^k labels
# Dark enough for text: a label in a point's colour keeps 3:1 on the light plate dark mode puts widgets on.
_COLORS = ("#c0392b", "#30609a", "#2a7d2a", "#b279a2", "#f58518", "#72b7b2", "#9d755d")


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


def _preset_data(name: str) -> dict:
    """What `js/roofline.js` needs of a preset for the attention, prefill and decode costs: the
    numbers of `lmcourse.accounting`, not its formulas (which the renderer ports, and the tests pin)."""
    config = PRESETS[name]
    counts = count_parameters(config)
    # forward_flops_per_token is affine in seq_len (only the attention scores and values grow with
    # it): ship its two coefficients, checked at a few lengths so that a new term cannot slip past.
    base = forward_flops_per_token(config, 1)
    slope = forward_flops_per_token(config, 2) - base
    for seq in (3, 1000, 2**20):
        if forward_flops_per_token(config, seq) != base + slope * (seq - 1):
            raise ValueError(f"preset {name!r}: forward FLOPs per token are not affine in seq_len")
    moe_layers = sum(config.is_moe_layer(layer) for layer in range(config.num_layers))
    data = {
        "num_heads": config.num_heads, "head_dim": config.head_dim, "kv_heads": config.kv_heads,
        "flops_base": int(base - slope), "flops_per_position": int(slope), "window": config.sliding_window,
        # _weight_bytes: the weights every forward reads, plus the rows it gathers of these tables
        # ([rows, row width]); the tied embedding doubles as the head, so it is in `weights`, read whole.
        "weights": counts.total - counts.position - (0 if config.tie_embeddings else counts.embeddings),
        "gathered": ([] if config.tie_embeddings else [[config.vocab_size, config.d_model]])
                    + ([[config.context_length, config.d_model]] if config.position == "learned" else []),
        "moe": ([moe_layers, config.num_experts, config.top_k, config.d_model, config.d_ff]
                if config.num_experts else None),
        # KV cache bytes per token in each dtype (tf32 computes on fp32 operands and stores fp32)
        "kv": {dtype: kv_cache_bytes_per_token(config, "fp32" if dtype == "tf32" else dtype) for dtype in DTYPE_BYTES},
    }
    # The renderer does exact integer arithmetic from these (BigInt): they must arrive exact as doubles.
    numbers = [*data.values(), *(v for pair in data["gathered"] for v in pair), *(data["moe"] or ()),
               *data["kv"].values()]
    if any(isinstance(v, int) and abs(v) > 2**53 for v in numbers):
        raise ValueError(f"preset {name!r}: an integer above 2**53 in {data}; a JavaScript double cannot hold it")
    return data


def roofline_widget(gpu: str = "H100-80GB", dtype: str = "bf16", operation: str = "decode step", *,
                    m: int = 4096, k: int = 4096, n: int = 4096, preset: str = "llama2-7b", batch: int = 1,
                    seq: int = 1024, machine: GPU | None = None):
    """A live widget (it runs in the static book too, with `js/roofline.js`) over `roofline_panel_html`.

    The GPU menu offers the datasheet GPUs and MEASURED: `machine`, by default this machine as
    `lmcourse.timing.measured_machine()` measures it when the widget is built (about a second, once
    per process); the page carries its numbers. The dtype menu offers only the dtypes the chosen
    GPU has a peak for. `.panel(**changes)` is the Python panel.
    """
    from lmcourse.widgets import _live

    if machine is None:
        from lmcourse.timing import measured_machine
        machine = measured_machine()
    if not isinstance(machine, GPU):
        raise TypeError(f"machine: expected a lmcourse.accounting.hardware.GPU, got {type(machine).__name__}")
    gpus = {**{name: GPUS[name] for name in _DATASHEET}, MEASURED: machine}
    checks.choice("gpu", gpu, gpus)
    dtypes = list(dict.fromkeys(d for g in gpus.values() for d in g.peak_flops))  # fp32, tf32, bf16, ...

    def panel(gpu, dtype, operation, m, k, n, preset, batch, seq):
        checks.choice("gpu", gpu, gpus)
        cost = operation_cost(operation, dtype, m=m, k=k, n=n, preset=preset, batch=batch, seq=seq)
        return roofline_panel_html(gpus[gpu], dtype, cost)

    size = (1, 2**20)  # up to a million: any matrix side, prompt or context a reader would try
    rows = [
        [_live.select("gpu", "GPU", list(gpus), gpu), _live.select("dtype", "dtype", dtypes, dtype),
         _live.select("operation", "operation", OPERATIONS, operation)],
        [_live.number(name, name, value, *size) for name, value in (("m", m), ("k", k), ("n", n))],
        [_live.select("preset", "model", list(PRESETS), preset), _live.number("batch", "batch", batch, 1, 2**16),
         _live.number("seq", "seq / context", seq, *size)],
    ]
    data = {
        "gpus": {key: {"name": g.name, "memory_bytes": g.memory_bytes, "peak_flops": dict(g.peak_flops),
                       "bandwidth": g.bandwidth} for key, g in gpus.items()},  # GPU(**...) rebuilds one
        "dtype_bytes": DTYPE_BYTES,
        "presets": {name: _preset_data(name) for name in PRESETS},
        "geometry": {"width": _WIDTH, "height": _HEIGHT, "margins": _MARGINS},
        "colors": _COLORS,
    }
    return _live.LiveWidget("roofline", rows, data, panel=panel, scripts=("svg",))
