"""A widget that sizes a training run: does the model fit on a GPU, and how many days does it take?

The reader picks a model (a preset, whose shape they can then change: its recipe resized), the
batch, sequence length, precision policy, optimizer, activation checkpointing and a GPU; a stacked
bar shows parameters, gradients, optimizer state, master weights and activations against the
GPU's memory. Below it, 6 N D over the GPUs' sustained FLOP/s gives the training time. Every
number comes from `lmcourse.accounting`; `memory_bar_html`, `training_time_html` and
`memory_panel_html` build the views as plain HTML/CSS. `memory_widget` is a live widget
(`lmcourse.widgets._live`): `js/memory.js` redraws the same panel in the reader's browser, in the
static book as in JupyterLab or Colab, from the presets, GPUs and policies the widget ships with it."""

from __future__ import annotations

import dataclasses
import html

from lmcourse import checks
from lmcourse.accounting import (BYTES_PER_DTYPE, GPU, GPUS, OPTIMIZER_STATES, PRECISIONS, PRESETS, MemoryBreakdown,
                                 count_parameters, training_days, training_flops, training_memory)
from lmcourse.config import TransformerConfig

_COLORS = {"parameters": "#4c78a8", "gradients": "#f58518", "optimizer_state": "#54a24b",
           "master_weights": "#b279a2", "activations": "#e45756"}
_OPTIMIZERS = [("SGD", "sgd"), ("SGD + momentum", "sgd-momentum"), ("AdaGrad", "adagrad"), ("Adam(W)", "adamw")]


def format_bytes(num_bytes: float) -> str:
    """Decimal units, as GPU memory is sold: 16e9 -> '16.0 GB'."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if num_bytes >= size:
            return f"{num_bytes / size:,.1f} {unit}"
    return f"{num_bytes:,.0f} B"


def memory_bar_html(breakdown: MemoryBreakdown, gpu: GPU) -> str:
    """A horizontal bar of the breakdown's components, a dashed line at the GPU's memory, a verdict."""
    total = breakdown.total
    scale = max(total, gpu.memory_bytes)  # the bar spans whichever is larger: usage or capacity
    parts = [(name, value) for name, value in breakdown.items() if value > 0]
    segments = "".join(
        f"<div title='{name.replace('_', ' ')}: {format_bytes(value)}' style='width:{100 * value / scale:.3f}%;"
        f"background:{_COLORS[name]};height:100%'></div>" for name, value in parts)
    marker = (f"<div style='position:absolute;left:{100 * gpu.memory_bytes / scale:.3f}%;top:-4px;bottom:-4px;"
              f"border-left:2px dashed currentColor'></div>")
    legend = " ".join(
        f"<span style='white-space:nowrap;margin-right:1em'><span style='display:inline-block;width:0.8em;"
        f"height:0.8em;background:{_COLORS[name]}'></span> {name.replace('_', ' ')} {format_bytes(value)}</span>"
        for name, value in parts)
    name = html.escape(gpu.name)
    if total <= gpu.memory_bytes:
        verdict = (f"<b style='color:#2a7d2a'>fits</b> on one {name}: {format_bytes(total)} of "
                   f"{format_bytes(gpu.memory_bytes)} ({100 * total / gpu.memory_bytes:.0f}%)")
    else:
        verdict = (f"<b style='color:#c0392b'>does not fit</b> on one {name}: {format_bytes(total)} needs "
                   f"{gpu.needed_for(total)} GPUs' memory ({format_bytes(gpu.memory_bytes)} each)")
    return (f"<div style='position:relative;display:flex;height:1.6em;margin:6px 0;border:1px solid #888'>"
            f"{segments}{marker}</div><div>{legend}</div><p>{verdict}; dashed line: one {name}.</p>")


def training_time_html(num_params: float, num_tokens: float, gpu: GPU, dtype: str, mfu: float,
                       num_gpus: int = 1) -> str:
    """6 N D FLOPs, and the days they take on num_gpus GPUs at mfu of the dtype's peak."""
    flops = training_flops(num_params, num_tokens)
    peak = gpu.peak(dtype)
    days = training_days(flops, peak, mfu, num_gpus)
    aside = f" ({24 * days:,.1f} hours)" if days < 2 else f" ({days / 365.25:,.1f} years)" if days > 365 else ""
    return (f"<p>6 &times; N &times; D = 6 &times; {num_params:.3g} parameters &times; {num_tokens:.3g} tokens = "
            f"<b>{flops:.3g} FLOPs</b>. At {100 * mfu:.0f}% MFU of {num_gpus} &times; {html.escape(gpu.name)} "
            f"({peak / 1e12:,.1f} TFLOP/s {dtype} each): <b>{days:,.2f} days</b>{aside}.</p>")


def custom_config(base: TransformerConfig, num_layers: int, d_model: int, vocab_size: int,
                  num_heads: int) -> TransformerConfig:
    """`base` resized: d_ff keeps base's d_ff / d_model ratio, GQA its KV heads if they still divide."""
    kv = base.num_kv_heads if base.num_kv_heads and num_heads % base.num_kv_heads == 0 else None
    return base.replace(num_layers=num_layers, d_model=d_model, vocab_size=vocab_size, num_heads=num_heads,
                        d_ff=max(1, round(base.d_ff * d_model / base.d_model)), num_kv_heads=kv)


def _count(value: float) -> str:
    """A count as people say it: 2e10 -> '20B', 3.2768e8 -> '327.68M'."""
    for suffix, size in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


# Token budgets the slider offers: a 1-2-3-5 ladder from 1M to 100T, plus budgets the book meets:
# CS336 assignment 1 (327.68M), GPT-3 (300B), Chinchilla (1.4T), Llama 2 (2T), Llama 3 (15T).
TOKEN_CHOICES = sorted({float(m * 10**e) for e in range(6, 14) for m in (1, 2, 3, 5)}
                       | {1e14, 3.2768e8, 1.4e12, 1.5e13})
MFU_CHOICES = [round(0.05 * i, 2) for i in range(1, 21)]


def memory_panel_html(preset: str, num_layers: int, d_model: int, vocab_size: int, num_heads: int, batch_size: int,
                      seq_len: int, precision: str, optimizer: str, checkpointing: bool, gpu: str, tokens: float,
                      mfu: float, num_gpus: int) -> str:
    """The widget's panel: the model (a preset, or its recipe resized to the shape given), its memory
    bar on `gpu` and the days `tokens` take; a shape the model cannot have gets the config's error."""
    checks.choice("preset", preset, PRESETS)
    checks.choice("gpu", gpu, GPUS)
    base = PRESETS[preset]
    try:
        config = custom_config(base, num_layers, d_model, vocab_size, num_heads)
    except ValueError as error:  # e.g. d_model not divisible by num_heads
        return f"<p style='color:#c0392b'>{html.escape(str(error))}</p>"
    counts = count_parameters(config)
    if config == base:
        model = html.escape(preset)
    else:
        model = (f"{html.escape(preset)}'s recipe resized: {num_layers} layers, d_model {d_model}, d_ff "
                 f"{config.d_ff}, vocab {vocab_size}, {num_heads} heads ({config.kv_heads} for keys and values)")
    active = f" ({counts.active:,} active per token)" if counts.active != counts.total else ""
    breakdown = training_memory(config, batch_size, seq_len, precision, optimizer, checkpointing)
    chosen = GPUS[gpu]
    return (f"<p>Model: {model}, {counts.total:,} parameters{active}.</p>" + memory_bar_html(breakdown, chosen)
            + "<p><b>Training time</b></p>"
            + training_time_html(counts.active, tokens, chosen, PRECISIONS[precision].compute, mfu, num_gpus))


def memory_widget(preset: str = "gpt2-small", batch_size: int = 8, seq_len: int | None = None,
                  precision: str = "bf16-mixed", optimizer: str = "adamw", gpu: str = "H100-80GB",
                  tokens: float = 1e10):
    """A live widget (it runs in the static book too, with `js/memory.js`) over `memory_panel_html`.

    The model menu picks a preset and fills in its shape; changing the shape resizes that preset's
    recipe (`custom_config`). `seq_len` defaults to the preset's context length.
    `.panel(**changes)` is the Python panel.
    """
    from lmcourse.widgets import _live

    checks.choice("preset", preset, PRESETS)
    checks.choice("tokens", tokens, TOKEN_CHOICES)
    config = PRESETS[preset]
    seq_len = config.context_length if seq_len is None else seq_len
    shape = {"num_layers": (1, 1000), "d_model": (1, 65536), "vocab_size": (1, 10**7), "num_heads": (1, 1024)}
    rows = [
        [_live.select("preset", "model", list(PRESETS), preset), _live.select("gpu", "GPU", list(GPUS), gpu)],
        [_live.number(name, name, getattr(config, name), *bounds) for name, bounds in shape.items()],
        [_live.number("batch_size", "batch", batch_size, 1, 10**6), _live.number("seq_len", "seq_len", seq_len, 1, 10**7),
         _live.select("precision", "precision", list(PRECISIONS), precision),
         _live.select("optimizer", "optimizer", _OPTIMIZERS, optimizer),
         _live.checkbox("checkpointing", "activation checkpointing", False)],
        [_live.slider("tokens", "tokens", [(_count(t), t) for t in TOKEN_CHOICES], tokens),
         _live.slider("mfu", "MFU", [(f"{m:.0%}", m) for m in MFU_CHOICES], 0.4),
         _live.number("num_gpus", "GPUs", 1, 1, 10**6)],
    ]
    fields = ("vocab_size", "context_length", "d_model", "num_layers", "num_heads", "d_ff", "num_kv_heads", "ffn",
              "norm", "norm_position", "parallel_layers", "position", "qk_norm", "tie_embeddings", "logit_soft_cap",
              "num_experts", "top_k", "num_shared_experts", "moe_every")
    data = {
        "presets": {name: {f: getattr(c, f) for f in fields} for name, c in PRESETS.items()},
        "gpus": {name: {"name": html.escape(g.name), "memory_bytes": g.memory_bytes, "peak": dict(g.peak_flops)}
                 for name, g in GPUS.items()},
        "precisions": {name: dataclasses.asdict(p) for name, p in PRECISIONS.items()},
        "bytes_per_dtype": BYTES_PER_DTYPE, "optimizer_states": OPTIMIZER_STATES, "colors": _COLORS,
    }
    return _live.LiveWidget("memory", rows, data, panel=memory_panel_html)
