"""The memory widget shows what lmcourse.accounting computes, and follows its controls."""

import re

import pytest

from lmcourse.accounting import GPUS, PRESETS, MemoryBreakdown, count_parameters, training_memory
from lmcourse.widgets import memory_bar_html, memory_widget, training_time_html
from lmcourse.widgets.memory import custom_config, format_bytes


def _widths(html):
    return [float(w) for w in re.findall(r"width:([\d.]+)%", html)]


def test_bar_fits_and_scales_to_the_gpu():
    h100 = GPUS["H100-80GB"]
    breakdown = MemoryBreakdown(parameters=10e9, gradients=10e9, optimizer_state=20e9)
    html = memory_bar_html(breakdown, h100)
    assert _widths(html) == [12.5, 12.5, 25.0]  # of 80 GB; empty components get no segment
    assert "master weights" not in html and "fits</b> on one H100-80GB: 40.0 GB of 80.0 GB (50%)" in html
    assert "left:100.000%" in html  # the capacity line sits at the bar's end


def test_bar_that_does_not_fit_says_how_many_gpus():
    seven_b = training_memory(PRESETS["llama2-7b"], 1, 1024, "bf16-mixed", "adamw")
    html = memory_bar_html(seven_b, GPUS["A100-40GB"])
    needed = -(-seven_b.total // 40e9)
    assert f"does not fit</b> on one A100-40GB: {format_bytes(seven_b.total)} needs {needed:.0f} GPUs" in html
    assert sum(_widths(html)[:5]) == pytest.approx(100, abs=0.01)  # usage now spans the whole bar
    assert format_bytes(112e9) == "112.0 GB" and format_bytes(512) == "512 B"


def test_training_time_line():
    html = training_time_html(7e9, 1e12, GPUS["H100-80GB"], "bf16", 0.4, num_gpus=1)
    assert "4.2e+22 FLOPs" in html and "1,228.30 days</b> (3.4 years)" in html
    assert "(5.2 hours)" in training_time_html(124e6, 1e10, GPUS["H100-80GB"], "bf16", 0.4)


def test_custom_config_keeps_ratios():
    config = custom_config(PRESETS["llama2-70b"], num_layers=10, d_model=1024, vocab_size=5000, num_heads=16)
    assert config.d_ff == 3584 and config.num_kv_heads == 8 and config.num_layers == 10
    assert custom_config(PRESETS["llama2-70b"], 10, 1032, 5000, 12).num_kv_heads is None  # 8 does not divide 12


def test_controls_update_the_views():
    box = memory_widget("gpt2-small")
    c, views = box.controls, box.views

    def expected(config, gpu="H100-80GB", **kw):
        args = dict(batch_size=c["batch_size"].value, seq_len=c["seq_len"].value, precision=c["precision"].value,
                    optimizer=c["optimizer"].value, checkpointing=c["checkpointing"].value) | kw
        return memory_bar_html(training_memory(config, **args), GPUS[gpu])

    gpt2 = PRESETS["gpt2-small"]
    assert views["memory"].value == expected(gpt2)
    c["batch_size"].value = 32
    assert views["memory"].value == expected(gpt2, batch_size=32)
    c["checkpointing"].value, c["optimizer"].value, c["gpu"].value = True, "sgd", "A100-40GB"
    assert views["memory"].value == expected(gpt2, gpu="A100-40GB")
    c["preset"].value = "llama2-7b"
    assert c["d_model"].value == 4096 and views["memory"].value == expected(PRESETS["llama2-7b"], gpu="A100-40GB")
    c["num_layers"].value = 8  # editing the shape switches to "custom", built on the last preset
    assert c["preset"].value == "custom"
    assert views["memory"].value == expected(PRESETS["llama2-7b"].replace(num_layers=8), gpu="A100-40GB")
    c["mfu"].value, c["num_gpus"].value, c["precision"].value = 0.5, 8, "fp32"
    params = count_parameters(PRESETS["llama2-7b"].replace(num_layers=8)).active
    assert views["time"].value == training_time_html(params, c["tokens"].value, GPUS["A100-40GB"], "fp32", 0.5, 8)
    c["num_heads"].value = 31  # 4096 is not divisible by 31: an explanation, not an exception
    assert "not divisible by num_heads=31" in views["memory"].value


def test_unknown_preset():
    with pytest.raises(ValueError, match="preset='gpt-5'; expected one of"):
        memory_widget("gpt-5")
