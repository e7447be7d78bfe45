"""lmcourse.accounting against published figures and against what PyTorch measures on real models.

Parameters are compared with `TransformerLM.parameters()`, FLOPs with `FlopCounterMode`, activation
bytes with the tensors autograd saves (`saved_tensors_hooks`), the Cruncher with a real stack of
linear layers and a real AdaGrad step.
"""

import subprocess
import sys

import pytest
import torch
from torch.utils.checkpoint import checkpoint
from torch.utils.flop_counter import FlopCounterMode

from lmcourse import accounting as A
from lmcourse.config import TransformerConfig
from lmcourse.nn import Linear, TransformerLM, cross_entropy

BASE = TransformerConfig(vocab_size=257, context_length=64, d_model=64, num_layers=2, num_heads=4, d_ff=96)
VARIANTS = {
    "base": BASE,
    "gqa": BASE.replace(num_kv_heads=2),
    "mqa-qk-norm-nope": BASE.replace(num_kv_heads=1, qk_norm=True, position="none"),
    "gpt2-like": BASE.replace(tie_embeddings=True, position="learned", ffn="gelu", norm="layernorm"),
    "relu-sinusoidal-post": BASE.replace(ffn="relu", position="sinusoidal", norm_position="post"),
    "parallel": BASE.replace(parallel_layers=True),
    "parallel-post": BASE.replace(parallel_layers=True, norm_position="post", qk_norm=True),
    "soft-cap-window": BASE.replace(logit_soft_cap=30.0, sliding_window=8),
    "moe-shared": BASE.replace(num_experts=4, top_k=2, num_shared_experts=1),
    "moe-every-2": BASE.replace(num_experts=4, top_k=1, moe_every=2, ffn="gelu"),
}
# FLOPs depend on the matmul shapes only: norms, positions and block layout need not be repeated
# (FlopCounterMode dispatches every op through Python, which is slow).
FLOP_VARIANTS = ["base", "gqa", "mqa-qk-norm-nope", "gpt2-like", "moe-shared", "moe-every-2"]
BF16_VARIANTS = ["base", "gpt2-like", "parallel", "soft-cap-window", "moe-shared"]
BATCH, SEQ = 3, 48


def _model(config, dtype=torch.float32):
    torch.manual_seed(0)
    return TransformerLM.from_config(config, dtype=dtype)


def _batch(config):
    generator = torch.Generator().manual_seed(1)
    return [torch.randint(0, config.vocab_size, (BATCH, SEQ), generator=generator) for _ in range(2)]


def _saved_bytes(model, run) -> int:
    """Bytes of the distinct storages autograd saves for backward while run() executes (weights excluded)."""
    constant = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    saved = {}

    def pack(tensor):
        ptr = tensor.untyped_storage().data_ptr()
        if ptr not in constant:  # views share a storage: count each storage once
            saved[ptr] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        run()
    return sum(saved.values())


# ---------------------------------------------------------------- parameters

@pytest.mark.parametrize("name, published", [
    ("llama2-7b", 6_738_415_616), ("llama2-13b", 13_015_864_320), ("llama2-70b", 68_976_648_192),
    ("llama3-8b", 8_030_261_248), ("mistral-7b", 7_241_732_096), ("mixtral-8x7b", 46_702_792_704),
])
def test_published_parameter_counts_exactly(name, published):
    assert A.count_parameters(A.PRESETS[name]).total == published


def test_moe_active_parameters_and_gpt2_without_biases():
    assert A.count_parameters(A.PRESETS["mixtral-8x7b"]).active == 12_879_925_248  # "12.9B active"
    gpt2 = A.count_parameters(A.PRESETS["gpt2-small"])
    assert gpt2.total == 124_337_664 and gpt2.total == pytest.approx(124_439_808, rel=1e-3)  # HF's count has biases
    assert gpt2.lm_head == 0 and gpt2.position == 1024 * 768
    assert gpt2.non_embedding == gpt2.total - gpt2.embeddings - gpt2.position


def _component(name: str) -> str:
    if "norm" in name or name.startswith("ln") or ".ln" in name:
        return "norms"
    for prefix, component in (("token_embeddings", "embeddings"), ("position_embeddings", "position"),
                              ("lm_head", "lm_head"), (".attn.", "attention"), (".ffn.", "ffn")):
        if prefix in name:
            return component
    raise AssertionError(f"unexpected parameter {name}")


@pytest.mark.parametrize("variant", VARIANTS)
def test_count_parameters_matches_the_model(variant):
    config = VARIANTS[variant]
    model = _model(config)
    counts = A.count_parameters(config)
    by_component = dict.fromkeys(("embeddings", "position", "attention", "ffn", "norms", "lm_head"), 0)
    for name, p in model.named_parameters():
        by_component[_component(name)] += p.numel()
    assert counts.total == sum(p.numel() for p in model.parameters()) == model.num_parameters()
    assert {key: getattr(counts, key) for key in by_component} == by_component
    assert counts.non_embedding == model.num_parameters(exclude_embeddings=True)
    if config.num_experts:
        expert = 3 * config.d_model * config.d_ff
        moe_layers = sum(config.is_moe_layer(i) for i in range(config.num_layers))
        assert counts.total - counts.active == moe_layers * (config.num_experts - config.top_k) * expert
    else:
        assert counts.active == counts.total


# ---------------------------------------------------------------- FLOPs

@pytest.mark.slow
@pytest.mark.parametrize("variant", FLOP_VARIANTS)
def test_flops_match_flop_counter(variant):
    config = VARIANTS[variant]
    model = _model(config)
    ids, targets = _batch(config)
    with FlopCounterMode(display=False) as forward:
        model(ids)
    with FlopCounterMode(display=False) as training:
        cross_entropy(model(ids), targets).backward()
    expected = A.forward_flops_per_token(config, SEQ) * BATCH * SEQ
    assert expected == pytest.approx(forward.get_total_flops(), rel=0.01)
    assert A.training_flops_per_token(config, SEQ) * BATCH * SEQ == pytest.approx(training.get_total_flops(), rel=0.03)


def test_flops_breakdown_and_six_n_d():
    config = A.PRESETS["llama2-7b"]
    parts = A.flops_breakdown(config, 4096)
    assert sum(parts.values()) == A.forward_flops_per_token(config, 4096)
    assert parts["router"] == 0 and parts["lm_head"] == 2 * 4096 * 32000
    # Without attention's seq_len terms, forward is 2 FLOPs per non-embedding parameter per token.
    matmuls = sum(v for k, v in parts.items() if k not in ("attention_scores", "attention_values"))
    counts = A.count_parameters(config)
    assert matmuls == 2 * (counts.non_embedding - counts.norms)
    assert A.matmul_flops(2, 3, 4) == 48
    assert A.training_flops(10e9, 1e12) == pytest.approx(6e22)  # lecture 2's warm-up question
    moe = A.PRESETS["mixtral-8x7b"]
    assert A.flops_breakdown(moe, 1)["ffn"] == 32 * 2 * 2 * 3 * 4096 * 14336  # only the top-2 experts


def test_mfu_and_training_days():
    h100 = A.GPUS["H100-80GB"]
    flops = A.training_flops(7e9, 1e12)
    days = A.training_days(flops, h100.peak("bf16"), mfu=0.4)
    assert days == pytest.approx(4.2e22 / (989.4e12 * 0.4) / 86400) and 1200 < days < 1250  # ~3.4 years
    assert A.training_days(flops, h100.peak("bf16"), 0.4, num_gpus=1024) == pytest.approx(days / 1024)
    # The seed notes' micro-application: 7B on 20B tokens at 50% MFU ~ 19.7 days.
    assert A.training_days(A.training_flops(7e9, 20e9), h100.peak("bf16"), 0.5) == pytest.approx(19.65, abs=0.1)
    assert A.mfu(tokens_per_second=1e4, flops_per_token=6 * 7e9, peak_flops=989.4e12) == pytest.approx(0.4245, abs=1e-4)


# ---------------------------------------------------------------- memory

def test_model_state_worked_problems():
    adam = A.model_state_bytes(1e9, "fp32", "adamw")
    assert adam.total == 16e9 and adam.master_weights == 0 and adam.optimizer_state == 8e9
    mixed = A.model_state_bytes(7e9, "bf16-mixed", "adamw")
    assert (mixed.parameters, mixed.gradients, mixed.master_weights, mixed.optimizer_state) == (14e9, 14e9, 28e9, 56e9)
    assert mixed.total == 112e9 > A.GPUS["H100-80GB"].memory_bytes
    assert A.GPUS["H100-80GB"].needed_for(mixed.total) == 2
    assert [A.model_state_bytes(1, "fp32", opt).optimizer_state for opt in ("sgd", "sgd-momentum", "adagrad", "adam")] \
        == [0, 4, 4, 8]
    llama = A.training_memory(A.PRESETS["llama2-7b"], 1, 4096, "bf16-mixed", "adamw")
    assert llama.total - llama.activations == 16 * 6_738_415_616 and llama.activations > 32 * 32 * 4096**2 * 2  # probabilities: 32 layers x (32 heads, 4096, 4096) bf16


@pytest.mark.parametrize("variant, dtype, precision", [
    *((variant, torch.float32, "fp32") for variant in VARIANTS),
    *((variant, torch.bfloat16, "bf16-mixed") for variant in BF16_VARIANTS),  # norms and loss stay fp32
])
def test_activation_bytes_match_saved_tensors(variant, dtype, precision):
    config = VARIANTS[variant]
    model = _model(config, dtype)
    ids, targets = _batch(config)
    measured = _saved_bytes(model, lambda: cross_entropy(model(ids), targets))
    assert A.activation_bytes(config, BATCH, SEQ, precision) == pytest.approx(measured, rel=0.05)


class _Checkpointed(torch.nn.Module):
    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x, token_positions=None):
        return checkpoint(self.block, x, token_positions, use_reentrant=True)  # saves only x


def test_activation_checkpointing_keeps_block_inputs_plus_one_block():
    config = BASE.replace(num_layers=3)
    model = _model(config)
    ids, targets = _batch(config)
    full = _saved_bytes(model, lambda: cross_entropy(model(ids), targets))
    one_block = _saved_bytes(model, lambda: model.layers[0](torch.randn(BATCH, SEQ, 64, requires_grad=True)))
    model.layers = torch.nn.ModuleList(_Checkpointed(block) for block in model.layers)
    checkpointed = _saved_bytes(model, lambda: cross_entropy(model(ids), targets))
    predicted = A.activation_bytes(config, BATCH, SEQ, checkpointing=True)
    assert predicted == pytest.approx(checkpointed + one_block, rel=0.05)
    assert A.activation_bytes(config, BATCH, SEQ) == pytest.approx(full, rel=0.05)


def test_attention_scores_grow_quadratically():
    config = A.PRESETS["llama2-7b"]
    short, long = (A.activation_breakdown(config, 1, seq)["attention"] for seq in (1024, 4096))
    assert 10 < long / short < 16  # 4x the sequence: ~16x the (seq, seq) tensors, 4x the rest


def test_deep_linear_memory_matches_a_real_cruncher():
    d, num_layers, batch = 32, 3, 5
    layers = torch.nn.ModuleList([*(Linear(d, d) for _ in range(num_layers)), Linear(d, 1)])
    x = torch.randn(batch, d)  # data, not an activation

    def forward():
        h = x
        for layer in layers:
            h = layer(h)
        return h.squeeze(-1).sum()

    activations = _saved_bytes(layers, forward) - x.untyped_storage().nbytes()
    loss = forward()
    loss.backward()
    optimizer = torch.optim.Adagrad(layers.parameters())
    optimizer.step()
    state = sum(s["sum"].nbytes for s in optimizer.state.values())
    expected = A.deep_linear_memory(d, num_layers, batch)
    assert expected.parameters == sum(p.nbytes for p in layers.parameters()) == 4 * (d * d * num_layers + d)
    assert expected.gradients == sum(p.grad.nbytes for p in layers.parameters())
    assert expected.optimizer_state == state
    assert expected.activations == activations == 4 * batch * d * num_layers
    assert expected.total == 4 * (3 * (d * d * num_layers + d) + batch * d * num_layers)


# ---------------------------------------------------------------- hardware, presets, bad input

def test_gpus_and_architecture_table():
    assert set(A.GPUS) == {"A100-40GB", "A100-80GB", "H100-80GB", "H200-141GB"}
    h100, h200 = A.GPUS["H100-80GB"], A.GPUS["H200-141GB"]
    assert dict(h200.peak_flops) == dict(h100.peak_flops) and h200.bandwidth == 4.8e12
    assert A.GPUS["A100-80GB"].peak("bf16") == 312e12
    assert h100.peak("fp8") == pytest.approx(2 * h100.peak("bf16"), rel=1e-4)  # fp8: twice the bf16 rate
    with pytest.raises(ValueError, match="dtype='fp8'; expected one of"):
        A.GPUS["A100-40GB"].peak("fp8")
    rows = {row["name"]: row for row in A.architecture_table()}
    assert set(rows) == set(A.REAL_MODELS)
    assert rows["gpt2-small"]["ffn_ratio"] == 4 and rows["llama2-7b"]["head_dim"] == 128
    assert rows["llama2-70b"]["kv_heads"] == 8 and rows["llama3-8b"]["vocab_size"] == 128256
    assert rows["gpt2-small"]["aspect_ratio"] == 64


@pytest.mark.parametrize("call, message", [
    (lambda: A.model_state_bytes(1e9, "fp64"), "precision='fp64'; expected one of"),
    (lambda: A.model_state_bytes(1e9, "fp32", "lion"), "optimizer='lion'; expected one of"),
    (lambda: A.model_state_bytes(-1, "fp32"), "num_params=-1; expected a positive number"),
    (lambda: A.activation_bytes(BASE, 0, 8), "batch_size=0; expected a positive integer"),
    (lambda: A.activation_bytes(BASE, 2, 8.5), "seq_len=8.5; expected a positive integer"),
    (lambda: A.forward_flops_per_token(BASE, -4), "seq_len=-4"),
    (lambda: A.training_days(1e20, 1e15, 1.5), "mfu=1.5; expected a fraction"),
    (lambda: A.training_days(1e20, 1e15, 0.4, num_gpus=0), "num_gpus=0"),
    (lambda: A.get_gpu("V100"), "gpu='V100'; expected one of"),
    (lambda: A.deep_linear_memory(-3, 2, 1), "d=-3"),
    (lambda: A.architecture_table(["gpt5"]), "names='gpt5'; expected one of"),
    (lambda: A.training_flops(float("nan"), 1e9), "num_params=nan"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(")):
        call()


def test_config_type_is_checked():
    with pytest.raises(TypeError, match="config: expected a lmcourse.config.TransformerConfig, got dict"):
        A.count_parameters(BASE.to_dict())


def test_accounting_never_imports_torch():
    code = "import sys, lmcourse.accounting, lmcourse.widgets.memory; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("num_kv_heads", [None, 2, 1])
def test_kv_cache_bytes_per_token_match_the_projections_of_a_real_model(num_kv_heads):
    config = TransformerConfig(vocab_size=50, context_length=16, d_model=32, num_layers=3, num_heads=4,
                               num_kv_heads=num_kv_heads, d_ff=64)
    model = TransformerLM.from_config(config)
    # what a cache stores per token: the outputs of every layer's k_proj and v_proj, here in bf16
    per_token = sum(layer.attn.k_proj.weight.shape[0] + layer.attn.v_proj.weight.shape[0] for layer in model.layers)
    assert A.kv_cache_bytes_per_token(config) == per_token * torch.finfo(torch.bfloat16).bits // 8
    assert A.kv_cache_bytes_per_token(config, "fp32") == 2 * A.kv_cache_bytes_per_token(config)
    with pytest.raises(ValueError, match="dtype"):
        A.kv_cache_bytes_per_token(config, "int3")
