"""The attention hook: `TransformerLM.set_attention_core` swaps the layers' reference attention for PyTorch's
fused SDPA (`lmcourse.nn.sdpa_attention`) or the course's FlashAttention-2 kernel
(`lmcourse.kernels.flash_attention_core`), with the same logits and gradients; the CLI's `--attention`."""

from __future__ import annotations

import pytest
import torch

from lmcourse.config import TransformerConfig
from lmcourse.kernels import flash_attention_core
from lmcourse.kernels.flash_attention import FlashAttention2PyTorch, _flash_core
from lmcourse.nn import TransformerLM, cross_entropy, sdpa_attention

BASE = dict(vocab_size=50, context_length=24, d_model=32, num_layers=2, num_heads=4, d_ff=64)


def _model(**changes) -> TransformerLM:
    torch.manual_seed(0)
    return TransformerLM.from_config(TransformerConfig(**{**BASE, **changes}))


def _logits_and_grads(model, tokens):
    model.zero_grad()
    logits = model(tokens)
    cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1)).backward()
    return logits.detach(), {name: p.grad.clone() for name, p in model.named_parameters()}


def _compare(model, core, tokens):
    want, want_grads = _logits_and_grads(model.set_attention_core(None), tokens)
    got, got_grads = _logits_and_grads(model.set_attention_core(core), tokens)
    model.set_attention_core(None)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    for name, grad in want_grads.items():
        torch.testing.assert_close(got_grads[name], grad, atol=1e-5, rtol=1e-4, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("changes", [
    {},  # causal multi-head attention
    {"num_kv_heads": 2},  # GQA: two query heads per KV head
    {"num_kv_heads": 1, "qk_norm": True},  # MQA with QK-norm
    {"sliding_window": 5},  # local attention
    {"sliding_window": 7, "num_kv_heads": 2, "position": "learned"},
], ids=["mha", "gqa", "mqa-qknorm", "window", "window-gqa-learned"])
def test_sdpa_core_gives_the_reference_logits_and_gradients(changes):
    tokens = torch.randint(0, BASE["vocab_size"], (3, 19), generator=torch.Generator().manual_seed(1))
    _compare(_model(**changes), sdpa_attention, tokens)


@pytest.mark.parametrize("changes", [{}, {"num_kv_heads": 2}], ids=["mha", "gqa"])
def test_flash_core_plumbing_gives_the_reference_on_the_pytorch_function(changes):
    """The core's GQA repeat and causal alignment, run through the PyTorch twin of the Triton kernel."""
    tokens = torch.randint(0, BASE["vocab_size"], (2, 17), generator=torch.Generator().manual_seed(2))
    _compare(_model(**changes), lambda q, k, v, w: _flash_core(FlashAttention2PyTorch, q, k, v, w), tokens)


def test_the_reference_is_the_default_and_a_cache_keeps_it():
    model = _model(num_kv_heads=2)
    assert all(layer.attn.core is None for layer in model.layers)
    calls = []

    def spy(q, k, v, window):
        calls.append(q.shape)
        return sdpa_attention(q, k, v, window)

    model.set_attention_core(spy)
    prompt = torch.randint(0, BASE["vocab_size"], (1, 5))
    model(prompt)
    assert calls == [torch.Size([1, 4, 5, 8])] * 2  # one call per layer, (batch, heads, seq, head_dim)
    from lmcourse.inference import KVCache  # decoding with a cache: the reference, whatever the core

    calls.clear()
    cached = model(prompt, kv_cache=KVCache.for_model(model, batch_size=1))
    assert calls == []
    torch.testing.assert_close(cached, model.set_attention_core(None)(prompt), atol=1e-5, rtol=1e-5)


def test_bad_cores_and_inputs_are_refused():
    model = _model()
    with pytest.raises(TypeError, match="core='flash'"):
        model.set_attention_core("flash")
    q, k = torch.zeros(1, 4, 6, 8), torch.zeros(1, 3, 6, 8)
    with pytest.raises(ValueError, match="kv_heads dividing heads"):
        sdpa_attention(q, k, k)
    with pytest.raises(ValueError, match="is on cpu.*CUDA only"):
        flash_attention_core(q, q, q)
    with pytest.raises(ValueError, match="sliding_window=4"):
        _flash_core(FlashAttention2PyTorch, q, q, q, 4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("changes", [{}, {"num_kv_heads": 2}], ids=["mha", "gqa"])
def test_flash_and_sdpa_cores_on_cuda(changes):
    model = _model(**changes).cuda()
    tokens = torch.randint(0, BASE["vocab_size"], (2, 24), device="cuda")
    want, want_grads = _logits_and_grads(model, tokens)
    for core in (sdpa_attention, flash_attention_core):
        got, got_grads = _logits_and_grads(model.set_attention_core(core), tokens)
        torch.testing.assert_close(got, want, atol=2e-3, rtol=2e-3)  # TF32 matmuls inside the kernels
        for name, grad in want_grads.items():
            torch.testing.assert_close(got_grads[name], grad, atol=2e-3, rtol=2e-2)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = model.set_attention_core(flash_attention_core)(tokens)
    assert torch.isfinite(logits).all() and (logits.float() - want).abs().max() < 0.1


# -- the CLI's --attention ----------------------------------------------------------------------------------------
CONFIG = {"model": {"context_length": 16, "d_model": 32, "num_layers": 1, "num_heads": 4, "num_kv_heads": 2,
                    "d_ff": 64},
          "train": {"batch_size": 4, "max_iters": 3, "eval_interval": 3, "eval_iters": 1, "log_interval": 1,
                    "peak_flops": 1e9, "device": "cpu"},
          "data": {"corpus_bytes": 20_000, "vocab_size": 300}}


def _main(tmp_path, *args, config=CONFIG):
    import json

    from lmcourse.train.__main__ import main

    (tmp_path / "cfg.json").write_text(json.dumps(config))
    return main(["--config", str(tmp_path / "cfg.json"), "--workers", "1", "--sample", "0", *args])


def test_cli_attention_sdpa_trains_the_reference_curve(tmp_path, capsys, one_thread):
    from lmcourse.train.log import read_metrics

    assert _main(tmp_path, "--out", str(tmp_path / "reference")) == 0
    assert _main(tmp_path, "--out", str(tmp_path / "sdpa"), "--attention", "sdpa") == 0
    assert "attention sdpa" in capsys.readouterr().out
    reference, sdpa = read_metrics(tmp_path / "reference"), read_metrics(tmp_path / "sdpa")
    assert [r["loss"] for r in sdpa] == pytest.approx([r["loss"] for r in reference], abs=1e-4)
    assert sdpa[-1]["val_loss"] == pytest.approx(reference[-1]["val_loss"], abs=1e-4)


def test_cli_attention_flash_is_refused_off_cuda_and_with_windows(tmp_path, capsys):
    assert _main(tmp_path, "--out", str(tmp_path / "run"), "--attention", "flash") == 2
    err = capsys.readouterr().err
    assert "--attention flash" in err and "CUDA only" in err and "--attention sdpa" in err
    assert not (tmp_path / "run" / "ckpt.pt").exists()
    windowed = {**CONFIG, "model": {**CONFIG["model"], "sliding_window": 8},
                "train": {**CONFIG["train"], "device": "cuda"}}
    assert _main(tmp_path, "--out", str(tmp_path / "run"), "--attention", "flash", config=windowed) == 2
    assert "sliding_window=8" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _main(tmp_path, "--out", str(tmp_path / "run"), "--attention", "fast")
    assert "invalid choice: 'fast'" in capsys.readouterr().err
