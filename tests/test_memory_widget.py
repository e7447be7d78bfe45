"""The memory widget shows what lmcourse.accounting computes, and follows its controls, in Python
and in the reader's browser (its JavaScript renderer, checked against the Python panel)."""

import random
import re

import pytest

import browser
from lmcourse.config import TransformerConfig

from lmcourse.accounting import GPUS, PRECISIONS, PRESETS, MemoryBreakdown, count_parameters, training_memory
from lmcourse.widgets import memory_bar_html, memory_widget, training_time_html
from lmcourse.widgets.memory import custom_config, format_bytes

needs_browser = browser.needs_browser()


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


def test_panel_follows_the_settings():
    widget = memory_widget("gpt2-small")
    gpt2, llama = PRESETS["gpt2-small"], PRESETS["llama2-7b"]
    start = widget.panel()
    assert widget.settings["seq_len"] == 1024 and widget.settings["d_model"] == 768
    assert memory_bar_html(training_memory(gpt2, 8, 1024, "bf16-mixed", "adamw"), GPUS["H100-80GB"]) in start
    assert f"Model: gpt2-small, {count_parameters(gpt2).total:,} parameters." in start
    changed = widget.panel(batch_size=32, checkpointing=True, optimizer="sgd", gpu="A100-40GB")
    assert memory_bar_html(training_memory(gpt2, 32, 1024, "bf16-mixed", "sgd", True), GPUS["A100-40GB"]) in changed
    # a preset's own shape is the preset; another shape resizes its recipe
    seven_b = dict(preset="llama2-7b", num_layers=32, d_model=4096, vocab_size=32000, num_heads=32)
    assert "Model: llama2-7b, 6,738,415,616 parameters." in widget.panel(**seven_b)
    resized = widget.panel(**{**seven_b, "num_layers": 8}, mfu=0.5, num_gpus=8, precision="fp32")
    assert "llama2-7b's recipe resized: 8 layers, d_model 4096, d_ff 11008" in resized
    params = count_parameters(llama.replace(num_layers=8)).active
    assert training_time_html(params, 1e10, GPUS["H100-80GB"], "fp32", 0.5, 8) in resized
    mixtral = PRESETS["mixtral-8x7b"]
    assert f"({count_parameters(mixtral).active:,} active per token)" in widget.panel(
        preset="mixtral-8x7b", num_layers=32, d_model=4096, vocab_size=32000, num_heads=32)
    # 4096 is not divisible by 31: an explanation, not an exception
    assert "not divisible by num_heads=31" in widget.panel(**{**seven_b, "num_heads": 31})


def test_unknown_preset():
    with pytest.raises(ValueError, match="preset='gpt-5'; expected one of"):
        memory_widget("gpt-5")


def test_starting_values_are_checked():
    with pytest.raises(ValueError, match="tokens"):
        memory_widget(tokens=1.234e10)  # not on the slider
    with pytest.raises(ValueError, match="batch_size=0"):
        memory_widget(batch_size=0)


# ---- in the browser: js/memory.js draws what memory_panel_html draws ------------------------------

@pytest.fixture(scope="module")
def page():
    yield from browser.widget_page_in_own_browser(memory_widget())


def _random_settings(rng: random.Random, widget) -> dict:
    """A reader's setting: any preset, often resized (sometimes to a shape the config refuses),
    batches and sequences from 1 to far past any GPU (integers beyond 2**53 bytes)."""
    preset = rng.choice(list(PRESETS))
    config = PRESETS[preset]
    shape = {name: getattr(config, name) for name in ("num_layers", "d_model", "vocab_size", "num_heads")}
    if rng.random() < 0.6:
        heads = rng.choice([1, 2, 3, 4, 8, 12, 16, 25, 32, 64])
        shape = {"num_layers": rng.randint(1, 120), "vocab_size": rng.randint(1, 300_000), "num_heads": heads,
                 "d_model": heads * rng.choice([1, 2, 3, 16, 64, 128]) if rng.random() < 0.9 else rng.randint(1, 9000)}
    controls = widget.controls
    return dict(preset=preset, **shape, batch_size=rng.choice([1, 8, rng.randint(1, 10**6)]),
                seq_len=rng.choice([1, 128, 4096, rng.randint(1, 10**7)]),
                precision=rng.choice(controls["precision"].values), optimizer=rng.choice(controls["optimizer"].values),
                checkpointing=rng.random() < 0.5, gpu=rng.choice(list(GPUS)),
                tokens=rng.choice(controls["tokens"].values), mfu=rng.choice(controls["mfu"].values),
                num_gpus=rng.choice([1, 8, rng.randint(1, 10**6)]))


@needs_browser
def test_renderer_draws_the_python_panel(page):
    widget, rng = memory_widget(), random.Random(0)
    settings = [_random_settings(rng, widget) for _ in range(400)]
    for name in PRESETS:  # every preset as it is, with every policy, optimizer and GPU
        config = PRESETS[name]
        for precision, optimizer, gpu in zip(PRECISIONS, ("adamw", "sgd"), ("H100-80GB", "A100-40GB")):
            settings.append({**widget.settings, "preset": name, "precision": precision, "optimizer": optimizer,
                             "gpu": gpu, **{k: getattr(config, k) for k in ("num_layers", "d_model", "vocab_size",
                                                                            "num_heads")}})
    # d_ff = round(11008 * 24 / 4096) = round(64.5): Python rounds halves to even (64), not up
    settings.append({**widget.settings, "preset": "llama2-7b", "d_model": 24, "num_heads": 4})
    for s, js in zip(settings, browser.render(page, "memory", widget.data, settings)):
        assert js == widget.panel(**s), f"memory panel differs for {s}"
    assert "d_ff 64," in widget.panel(**settings[-1])


def _random_config(rng: random.Random) -> TransformerConfig:
    """Any architecture TransformerConfig can express, not only the presets' recipes."""
    heads = rng.choice([1, 2, 4, 6, 8])
    experts = rng.choice([0, 0, 4, 8])
    return TransformerConfig(
        vocab_size=rng.randint(2, 5000), context_length=rng.randint(8, 512), d_model=heads * 2 * rng.randint(1, 16),
        num_layers=rng.randint(1, 6), num_heads=heads, d_ff=rng.randint(1, 300),
        num_kv_heads=rng.choice([None, *[k for k in (1, 2) if heads % k == 0]]), ffn=rng.choice(["swiglu", "gelu", "relu"]),
        norm=rng.choice(["rmsnorm", "layernorm"]), norm_position=rng.choice(["pre", "post"]),
        parallel_layers=rng.random() < 0.4, position=rng.choice(["rope", "learned", "sinusoidal", "none"]),
        qk_norm=rng.random() < 0.4, tie_embeddings=rng.random() < 0.5,
        logit_soft_cap=rng.choice([None, 30.0]), num_experts=experts, top_k=rng.randint(1, experts or 1),
        num_shared_experts=rng.choice([0, 1]) if experts else 0, moe_every=rng.choice([1, 2]))


@needs_browser
def test_renderer_follows_every_architecture(page, monkeypatch):
    """The renderer mirrors the accounting for every feature of TransformerConfig (qk-norm, parallel
    and post-norm blocks, MoE with shared experts every other layer, ...), so a preset added with
    any of them is drawn right too: random architectures registered as presets for the test."""
    rng = random.Random(2)
    for i in range(150):
        monkeypatch.setitem(PRESETS, f"random-{i}", _random_config(rng))
    widget = memory_widget()
    settings = []
    for i in range(150):
        config = PRESETS[f"random-{i}"]
        settings.append({**widget.settings, "preset": f"random-{i}", "batch_size": rng.randint(1, 64),
                         "seq_len": rng.randint(1, 2048), "precision": rng.choice(list(PRECISIONS)),
                         "checkpointing": rng.random() < 0.5,
                         **{k: getattr(config, k) for k in ("num_layers", "d_model", "vocab_size", "num_heads")}})
    for s, js in zip(settings, browser.render(page, "memory", widget.data, settings)):
        assert js == widget.panel(**s), f"memory panel differs for {s} ({PRESETS[s['preset']]})"


@needs_browser
def test_moving_the_controls_redraws_the_panel(page):
    widget = memory_widget()
    panel = page.locator(".lmcourse-live-panel")
    assert panel.inner_html() == browser.same_markup(page, widget.panel())
    page.locator("[data-control=preset]").select_option(str(list(PRESETS).index("llama2-70b")))
    assert page.locator("[data-control=d_model]").input_value() == "8192"  # the preset's shape filled in
    seventy_b = dict(preset="llama2-70b", num_layers=80, d_model=8192, vocab_size=32000, num_heads=64)
    assert panel.inner_html() == browser.same_markup(page, widget.panel(**seventy_b))
    page.locator("[data-control=num_layers]").fill("40")
    page.locator("[data-control=checkpointing]").check()
    page.locator("[data-control=gpu]").select_option(str(list(GPUS).index("H200-141GB")))
    page.locator("[data-control=batch_size]").fill("2")
    page.locator("[data-control=num_gpus]").fill("64")
    expected = widget.panel(**seventy_b | {"num_layers": 40}, checkpointing=True, gpu="H200-141GB", batch_size=2,
                            num_gpus=64)
    assert "llama2-70b's recipe resized: 40 layers" in expected
    assert panel.inner_html() == browser.same_markup(page, expected)
    page.locator("[data-control=num_heads]").fill("60")
    assert "d_model=8192 is not divisible by num_heads=60" in panel.inner_text()
    page.locator("[data-control=seq_len]").fill("")
    assert "seq_len: empty; expected an integer from 1 to 10000000" in panel.inner_text()
