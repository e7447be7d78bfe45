"""A widget that sizes a training run: does the model fit on a GPU, and how many days does it take?

The reader picks a model (a preset, or "custom" layers / d_model / vocab / heads on top of the
last preset), the batch, sequence length, precision policy, optimizer, activation checkpointing
and a GPU; a stacked bar shows parameters, gradients, optimizer state, master weights and
activations against the GPU's memory. Below it, 6 N D over the GPUs' sustained FLOP/s gives the
training time. Every number comes from `lmcourse.accounting`; `memory_bar_html` and
`training_time_html` build the views as plain HTML/CSS (no JavaScript), so the bar the book was
built with renders in the static page; moving the controls needs a live kernel (JupyterLab, Colab).
"""

from __future__ import annotations

import html

from lmcourse import checks
from lmcourse.accounting import (GPU, GPUS, PRECISIONS, PRESETS, MemoryBreakdown, count_parameters, training_days,
                                 training_flops, training_memory)
from lmcourse.config import TransformerConfig

_COLORS = {"parameters": "#4c78a8", "gradients": "#f58518", "optimizer_state": "#54a24b",
           "master_weights": "#b279a2", "activations": "#e45756"}
_OPTIMIZERS = [("SGD", "sgd"), ("SGD + momentum", "sgd-momentum"), ("AdaGrad", "adagrad"), ("Adam(W)", "adamw")]
_SHAPE = ("num_layers", "d_model", "vocab_size", "num_heads")  # what "custom" lets the reader change


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
              f"border-left:2px dashed #222'></div>")
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


def memory_widget(preset: str = "gpt2-small"):
    """The controls, the memory bar and the training-time line, in a VBox.

    `.controls` (name -> control) and `.views` ("memory", "time" -> HTML) are there for scripting
    and tests.
    """
    import ipywidgets as widgets

    checks.choice("preset", preset, PRESETS)
    config = PRESETS[preset]
    wide = {"description_width": "initial"}
    int_box = dict(min=1, max=10**9, style=wide, layout=widgets.Layout(width="11em"))
    c = {
        "preset": widgets.Dropdown(options=[*PRESETS, "custom"], value=preset, description="model", style=wide),
        **{name: widgets.BoundedIntText(value=getattr(config, name), description=name, **int_box) for name in _SHAPE},
        "batch_size": widgets.BoundedIntText(value=8, description="batch", **int_box),
        "seq_len": widgets.BoundedIntText(value=config.context_length, description="seq_len", **int_box),
        "precision": widgets.Dropdown(options=list(PRECISIONS), value="bf16-mixed", description="precision",
                                      style=wide),
        "optimizer": widgets.Dropdown(options=_OPTIMIZERS, value="adamw", description="optimizer", style=wide),
        "checkpointing": widgets.Checkbox(value=False, description="activation checkpointing"),
        "gpu": widgets.Dropdown(options=list(GPUS), value="H100-80GB", description="GPU", style=wide),
        "tokens": widgets.FloatLogSlider(value=1e10, base=10, min=6, max=14, step=0.1, description="tokens",
                                         readout_format=".2g"),
        "mfu": widgets.FloatSlider(value=0.4, min=0.05, max=1.0, step=0.05, description="MFU"),
        "num_gpus": widgets.BoundedIntText(value=1, description="GPUs", **int_box),
    }
    memory, time = widgets.HTML(), widgets.HTML()
    state = {"base": config, "syncing": False}  # base: the preset "custom" starts from

    def current_config() -> TransformerConfig:
        if c["preset"].value != "custom":
            return PRESETS[c["preset"].value]
        return custom_config(state["base"], *(c[name].value for name in _SHAPE))

    def update(_=None):
        try:
            config = current_config()
        except ValueError as error:  # e.g. d_model not divisible by num_heads
            memory.value = f"<p style='color:#c0392b'>{html.escape(str(error))}</p>"
            time.value = ""
            return
        breakdown = training_memory(config, c["batch_size"].value, c["seq_len"].value, c["precision"].value,
                                    c["optimizer"].value, c["checkpointing"].value)
        gpu = GPUS[c["gpu"].value]
        memory.value = memory_bar_html(breakdown, gpu)
        time.value = training_time_html(count_parameters(config).active, c["tokens"].value, gpu,
                                        PRECISIONS[c["precision"].value].compute, c["mfu"].value,
                                        c["num_gpus"].value)

    def preset_changed(change):
        if change["new"] != "custom":
            state["base"] = PRESETS[change["new"]]
            state["syncing"] = True  # filling in the preset's shape is not a custom edit
            for name in _SHAPE:
                c[name].value = getattr(state["base"], name)
            state["syncing"] = False
        update()

    def shape_changed(_):
        if state["syncing"]:
            return
        if c["preset"].value == "custom":
            update()
        else:
            c["preset"].value = "custom"  # triggers update() through preset_changed

    c["preset"].observe(preset_changed, names="value")
    for name, control in c.items():
        if name != "preset":
            control.observe(shape_changed if name in _SHAPE else update, names="value")
    update()
    row = widgets.HBox
    box = widgets.VBox([
        row([c["preset"], c["gpu"]]), row([c[name] for name in _SHAPE]),
        row([c["batch_size"], c["seq_len"], c["precision"], c["optimizer"]]), c["checkpointing"], memory,
        widgets.HTML("<b>Training time</b>"), row([c["tokens"], c["mfu"], c["num_gpus"]]), time,
    ])
    box.controls, box.views = c, {"memory": memory, "time": time}
    return box
