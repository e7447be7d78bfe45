"""lmcourse.nn against PyTorch's own layers: every piece, then the whole TransformerLM."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lmcourse.accounting import count_parameters
from lmcourse.config import TransformerConfig
from lmcourse.nn import (Embedding, FeedForward, LayerNorm, Linear, MoEFeedForward, MultiHeadSelfAttention,
                         RMSNorm, RotaryEmbedding, SwiGLU, TransformerBlock, TransformerLM, causal_mask,
                         cross_entropy, gelu, make_ffn, scaled_dot_product_attention, silu, sinusoidal_positions,
                         soft_cap, softmax)

SMALL = dict(vocab_size=97, context_length=16, d_model=32, num_layers=2, num_heads=4, d_ff=48)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def small_model(**changes) -> TransformerLM:
    return TransformerLM(**{**SMALL, **changes})


def random_ids(batch=2, seq=SMALL["context_length"]):
    return torch.randint(0, SMALL["vocab_size"], (batch, seq))


# ---------------------------------------------------------------------------------------------- layers


def test_linear_matches_f_linear_and_init():
    layer = Linear(64, 48)
    assert layer.weight.shape == (48, 64)
    std = math.sqrt(2 / (64 + 48))
    assert layer.weight.abs().max() <= 3 * std + 1e-6
    assert abs(layer.weight.std().item() - std) < 0.15 * std
    x = torch.randn(2, 3, 64)
    torch.testing.assert_close(layer(x), F.linear(x, layer.weight))


def test_embedding_matches_f_embedding():
    emb = Embedding(50, 8)
    assert emb.weight.shape == (50, 8) and emb.weight.abs().max() <= 3.0
    ids = torch.randint(0, 50, (3, 5))
    torch.testing.assert_close(emb(ids), F.embedding(ids, emb.weight))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_rmsnorm_matches_torch(dtype):
    ours, ref = RMSNorm(16, eps=1e-5), nn.RMSNorm(16, eps=1e-5)
    with torch.no_grad():
        ours.weight.uniform_(0.5, 1.5)
        ref.weight.copy_(ours.weight)
    x = (torch.randn(2, 5, 16) * 3).to(dtype)
    out = ours(x)
    assert out.dtype == dtype
    torch.testing.assert_close(out, ref(x.float()).to(dtype))  # the fp32 reference, rounded once


def test_layernorm_matches_f_layer_norm_without_bias():
    norm = LayerNorm(16, eps=1e-5)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
    x = torch.randn(3, 16) * 2 + 1
    torch.testing.assert_close(norm(x), F.layer_norm(x, (16,), norm.weight, None, 1e-5))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_matches_torch_values_and_gradients(dim):
    x = torch.randn(4, 5, 6, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    g = torch.randn(4, 5, 6)
    out, ref = softmax(x, dim), torch.softmax(x_ref, dim)
    torch.testing.assert_close(out, ref)
    out.backward(g)
    ref.backward(g)
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_softmax_survives_huge_logits_and_masks():
    x = torch.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]])
    out = softmax(x, -1)
    assert not out.isnan().any()
    torch.testing.assert_close(out, torch.softmax(x, -1))
    mask = torch.tensor([[False, True, True], [True, False, True]])
    torch.testing.assert_close(softmax(x, -1, mask), torch.softmax(x.masked_fill(~mask, -math.inf), -1))


@pytest.mark.parametrize("ours, ref", [(silu, F.silu), (gelu, F.gelu)])
def test_activations_match_torch(ours, ref):
    x = torch.linspace(-8, 8, 101, requires_grad=True)
    torch.testing.assert_close(ours(x), ref(x))
    (g_ours,), (g_ref,) = torch.autograd.grad(ours(x).sum(), x), torch.autograd.grad(ref(x).sum(), x)
    torch.testing.assert_close(g_ours, g_ref)


def test_swiglu_and_feedforward_formulas():
    x = torch.randn(2, 3, 16)
    swiglu = SwiGLU(16, 24)
    w1, w2, w3 = swiglu.w1.weight, swiglu.w2.weight, swiglu.w3.weight
    assert (w1.shape, w2.shape, w3.shape) == ((24, 16), (16, 24), (24, 16))
    torch.testing.assert_close(swiglu(x), F.linear(F.silu(F.linear(x, w1)) * F.linear(x, w3), w2))
    for activation, act in [("gelu", F.gelu), ("relu", F.relu)]:
        ffn = FeedForward(16, 24, activation)
        torch.testing.assert_close(ffn(x), F.linear(act(F.linear(x, ffn.w1.weight)), ffn.w2.weight))
    with pytest.raises(ValueError, match="activation='tanh'"):
        FeedForward(16, 24, "tanh")


@pytest.mark.parametrize("changes, kinds", [
    ({}, [SwiGLU, SwiGLU]),
    ({"ffn": "gelu"}, [FeedForward, FeedForward]),
    ({"num_experts": 4, "moe_every": 2}, [SwiGLU, MoEFeedForward]),
])
def test_make_ffn_follows_the_config(changes, kinds):
    config = TransformerConfig(**{**SMALL, **changes})
    assert [type(make_ffn(config, layer)) for layer in range(2)] == kinds


# ------------------------------------------------------------------------------------ attention pieces


def complex_rope(x, positions, theta):
    """RoPE as multiplication of the complex numbers x_2i + i x_2i+1 by e^(i p theta^(-2i/d))."""
    d = x.shape[-1]
    freqs = theta ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    rotation = torch.polar(torch.ones(len(positions), d // 2, dtype=torch.float64),
                           positions.double()[:, None] * freqs)
    z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], d // 2, 2).contiguous())
    return torch.view_as_real(z * rotation).flatten(-2).to(x.dtype)


def test_rope_matches_complex_rotation():
    rope = RotaryEmbedding(theta=10000.0, d_k=8, max_seq_len=32)
    x = torch.randn(2, 3, 10, 8)
    torch.testing.assert_close(rope(x), complex_rope(x, torch.arange(10), 10000.0))
    positions = torch.tensor([3, 7, 0, 31, 5, 5, 9, 1, 2, 30])
    torch.testing.assert_close(rope(x, positions), complex_rope(x, positions, 10000.0))
    assert not dict(rope.named_buffers(prefix="rope")).keys() & rope.state_dict().keys()  # not saved


def test_rope_scores_depend_only_on_relative_position():
    rope = RotaryEmbedding(theta=10000.0, d_k=16, max_seq_len=64)
    q, k = torch.randn(16), torch.randn(16)

    def score(m, n):
        return rope(q[None], torch.tensor([m])) @ rope(k[None], torch.tensor([n]))[0]

    torch.testing.assert_close(score(5, 2), score(45, 42))
    torch.testing.assert_close(score(0, 9), score(20, 29))
    assert not torch.allclose(score(5, 2), score(5, 3))


def test_rope_rejects_bad_input():
    with pytest.raises(ValueError, match="d_k=7"):
        RotaryEmbedding(10000.0, 7, 16)
    rope = RotaryEmbedding(10000.0, 8, 16)
    with pytest.raises(ValueError, match="max_seq_len=16"):
        rope(torch.randn(17, 8))
    with pytest.raises(ValueError, match="position < 16"):
        rope(torch.randn(3, 8), torch.tensor([0, 1, 16]))
    with pytest.raises(ValueError, match="d_k=8"):
        rope(torch.randn(3, 6))


def test_sinusoidal_positions_formula():
    table = sinusoidal_positions(10, 8)
    assert table.shape == (10, 8)
    p, i = 7, 2
    angle = p / 10000 ** (2 * i / 8)
    torch.testing.assert_close(table[p, 2 * i], torch.tensor(math.sin(angle)))
    torch.testing.assert_close(table[p, 2 * i + 1], torch.tensor(math.cos(angle)))
    with pytest.raises(ValueError, match="d_model=7"):
        sinusoidal_positions(10, 7)


def random_mask(*shape):
    mask = torch.rand(shape) > 0.5
    mask[..., 0] = True  # every query sees something
    return mask


@pytest.mark.parametrize("batch, n_q, n_k, d_k, d_v, mask_kind", [
    ((2, 4), 8, 8, 16, 16, None),
    ((2, 4), 8, 8, 16, 16, "causal"),
    ((3,), 7, 7, 5, 9, "causal"),  # odd lengths and d_v != d_k
    ((2, 3, 2), 5, 11, 8, 8, "causal"),  # extra batch dims; queries are the last 5 of 11 keys
    ((2, 3), 6, 9, 8, 4, "random"),
])
def test_sdpa_matches_torch(batch, n_q, n_k, d_k, d_v, mask_kind):
    Q = torch.randn(*batch, n_q, d_k, requires_grad=True)
    K = torch.randn(*batch, n_k, d_k, requires_grad=True)
    V = torch.randn(*batch, n_k, d_v, requires_grad=True)
    mask = {None: None, "causal": causal_mask(n_q, n_k), "random": random_mask(*batch, n_q, n_k)}[mask_kind]
    out = scaled_dot_product_attention(Q, K, V, mask)
    ref = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
    torch.testing.assert_close(out, ref)
    g = torch.randn_like(out)
    grads = torch.autograd.grad(out, (Q, K, V), g)
    grads_ref = torch.autograd.grad(ref, (Q, K, V), g)
    for a, b in zip(grads, grads_ref):
        torch.testing.assert_close(a, b)


def test_sdpa_causal_mask_equals_is_causal():
    Q, K, V = torch.randn(3, 2, 9, 8), torch.randn(3, 2, 9, 8), torch.randn(3, 2, 9, 8)
    torch.testing.assert_close(scaled_dot_product_attention(Q, K, V, causal_mask(9, 9)),
                               F.scaled_dot_product_attention(Q, K, V, is_causal=True))


def test_sdpa_rejects_bad_input():
    Q, K, V = torch.randn(2, 4, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    with pytest.raises(ValueError, match="mask has shape"):
        scaled_dot_product_attention(Q, K, V, torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="torch.bool"):
        scaled_dot_product_attention(Q, K, V, torch.ones(4, 5))
    with pytest.raises(ValueError, match="expected Q"):
        scaled_dot_product_attention(Q, K, torch.randn(2, 6, 8))


def test_causal_mask_with_sliding_window():
    n_q, n_k, window = 4, 7, 3
    mask = causal_mask(n_q, n_k, sliding_window=window)
    for i in range(n_q):
        position = i + n_k - n_q
        for j in range(n_k):
            assert mask[i, j] == (position - window < j <= position)
    assert torch.equal(causal_mask(5, 5), torch.ones(5, 5, dtype=torch.bool).tril())
    with pytest.raises(ValueError, match="n_q=6, n_k=5"):
        causal_mask(6, 5)


def reference_attention(attn: MultiHeadSelfAttention, x, positions=None):
    """The same computation from F.linear, complex RoPE, repeat_interleave and F.scaled_dot_product_attention."""
    b, n, _ = x.shape
    h, kv, d = attn.num_heads, attn.num_kv_heads, attn.head_dim
    q = F.linear(x, attn.q_proj.weight).view(b, n, h, d).transpose(1, 2)
    k = F.linear(x, attn.k_proj.weight).view(b, n, kv, d).transpose(1, 2)
    v = F.linear(x, attn.v_proj.weight).view(b, n, kv, d).transpose(1, 2)
    if attn.qk_norm:
        q = F.rms_norm(q, (d,), attn.q_norm.weight, attn.q_norm.eps)
        k = F.rms_norm(k, (d,), attn.k_norm.weight, attn.k_norm.eps)
    if attn.rope is not None:
        positions = torch.arange(n) if positions is None else positions
        q, k = complex_rope(q, positions, attn.rope.theta), complex_rope(k, positions, attn.rope.theta)
    k, v = k.repeat_interleave(h // kv, dim=1), v.repeat_interleave(h // kv, dim=1)
    if attn.sliding_window is None:
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    else:
        mask = torch.ones(n, n, dtype=torch.bool).tril().triu(-(attn.sliding_window - 1))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return F.linear(out.transpose(1, 2).reshape(b, n, h * d), attn.output_proj.weight)


@pytest.mark.parametrize("num_kv_heads", [4, 2, 1], ids=["MHA", "GQA", "MQA"])
@pytest.mark.parametrize("extra", [{}, {"rope": True}, {"rope": True, "qk_norm": True}, {"sliding_window": 3}],
                         ids=["plain", "rope", "rope+qk_norm", "window"])
def test_attention_matches_torch_reference(num_kv_heads, extra):
    rope = RotaryEmbedding(10000.0, 8, 32) if extra.get("rope") else None
    attn = MultiHeadSelfAttention(32, 4, num_kv_heads, rope=rope, qk_norm=extra.get("qk_norm", False),
                                  sliding_window=extra.get("sliding_window"))
    assert attn.k_proj.weight.shape == (num_kv_heads * 8, 32)
    x = torch.randn(2, 10, 32)
    torch.testing.assert_close(attn(x), reference_attention(attn, x))
    if rope is not None:
        positions = torch.arange(10) + 5
        torch.testing.assert_close(attn(x, positions), reference_attention(attn, x, positions))


def test_attention_rejects_bad_input():
    attn = MultiHeadSelfAttention(32, 4)
    with pytest.raises(ValueError, match=r"expected \(batch, seq, d_model=32\)"):
        attn(torch.randn(10, 32))
    with pytest.raises(ValueError, match="num_kv_heads=3"):
        MultiHeadSelfAttention(32, 4, 3)


# ---------------------------------------------------------------------------------------------- losses


@pytest.mark.parametrize("scale", [1.0, 1e4])
@pytest.mark.parametrize("shape", [(6, 11), (2, 3, 11)])
def test_cross_entropy_matches_torch(shape, scale):
    logits = (torch.randn(shape) * scale).requires_grad_()
    targets = torch.randint(0, 11, shape[:-1])
    loss, ref = cross_entropy(logits, targets), F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(torch.autograd.grad(loss, logits)[0], torch.autograd.grad(ref, logits)[0])


def test_cross_entropy_z_loss_value_and_gradient():
    logits = (torch.randn(2, 5, 13, dtype=torch.float64) * 3).requires_grad_()
    targets = torch.randint(0, 13, (2, 5))
    loss = cross_entropy(logits, targets, z_loss=1e-2)
    ref = F.cross_entropy(logits.reshape(-1, 13), targets.reshape(-1)) + 1e-2 * logits.logsumexp(-1).pow(2).mean()
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(torch.autograd.grad(loss, logits)[0], torch.autograd.grad(ref, logits)[0])
    assert torch.autograd.gradcheck(lambda x: cross_entropy(x, targets, z_loss=0.3), (logits,))


def test_cross_entropy_runs_in_fp32_for_bf16_logits():
    logits = torch.randn(4, 50)
    targets = torch.randint(0, 50, (4,))
    loss = cross_entropy(logits.bfloat16(), targets)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, F.cross_entropy(logits.bfloat16().float(), targets))


def test_cross_entropy_rejects_bad_input():
    with pytest.raises(ValueError, match="targets range from 0 to 11"):
        cross_entropy(torch.randn(2, 11), torch.tensor([0, 11]))
    with pytest.raises(ValueError, match="expected logits"):
        cross_entropy(torch.randn(2, 11), torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer"):
        cross_entropy(torch.randn(2, 11), torch.tensor([0.0, 1.0]))


def test_soft_cap():
    x = torch.linspace(-1000, 1000, 201)
    capped = soft_cap(x, 30.0)
    torch.testing.assert_close(capped, 30.0 * torch.tanh(x / 30.0))
    assert capped.abs().max() <= 30.0
    torch.testing.assert_close(soft_cap(torch.tensor([0.01]), 30.0), torch.tensor([0.01]), rtol=1e-6, atol=0)
    with pytest.raises(ValueError, match="cap=0"):
        soft_cap(x, 0)


# ----------------------------------------------------------------------------------------------- model


def test_parameter_names_and_shapes_follow_cs336():
    model = small_model(num_layers=1, num_kv_heads=2)
    d, v, ff, kv = 32, 97, 48, 2 * 8
    assert {name: tuple(p.shape) for name, p in model.state_dict().items()} == {
        "token_embeddings.weight": (v, d),
        "layers.0.attn.q_proj.weight": (d, d), "layers.0.attn.k_proj.weight": (kv, d),
        "layers.0.attn.v_proj.weight": (kv, d), "layers.0.attn.output_proj.weight": (d, d),
        "layers.0.ln1.weight": (d,),
        "layers.0.ffn.w1.weight": (ff, d), "layers.0.ffn.w2.weight": (d, ff), "layers.0.ffn.w3.weight": (ff, d),
        "layers.0.ln2.weight": (d,),
        "ln_final.weight": (d,), "lm_head.weight": (v, d),
    }
    assert model.config == TransformerConfig(**{**SMALL, "num_layers": 1, "num_kv_heads": 2})
    assert (small_model(position="learned").position_embeddings.weight.shape == (16, 32))


def test_model_uses_none_of_torch_nn_layers(monkeypatch):
    model = small_model(num_kv_heads=2, qk_norm=True)
    assert not [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Embedding, nn.LayerNorm, nn.RMSNorm))]

    def forbidden(*args, **kwargs):
        raise AssertionError("the model must not call torch's fused layers")

    for name in ("linear", "embedding", "layer_norm", "rms_norm", "softmax", "silu", "gelu",
                 "scaled_dot_product_attention", "cross_entropy", "log_softmax"):
        monkeypatch.setattr(F, name, forbidden)
    monkeypatch.setattr(torch, "softmax", forbidden)
    cross_entropy(model(random_ids()), random_ids()).backward()


def test_tied_embeddings_share_one_matrix():
    model = small_model(tie_embeddings=True)
    assert "lm_head.weight" not in dict(model.named_parameters()) and not hasattr(model, "lm_head")
    assert model.num_parameters() == small_model().num_parameters() - 97 * 32
    model.layers = nn.ModuleList()  # only embeddings, final norm and the head remain
    ids = torch.tensor([[5, 6]])
    embeddings = model.token_embeddings.weight
    logits = model(ids)
    torch.testing.assert_close(logits, model.ln_final(embeddings[ids]) @ embeddings.t())
    logits.sum().backward()
    assert embeddings.grad[0].abs().sum() > 0  # token 0 is not in the input: its gradient came from the head


def test_initial_loss_is_a_uniform_guess():
    for tie in (False, True):
        loss = cross_entropy(small_model(tie_embeddings=tie)(random_ids(4)), random_ids(4))
        assert abs(loss.item() - math.log(97)) < 0.3


OPTIONS = [
    {}, {"norm_position": "post"}, {"parallel_layers": True}, {"parallel_layers": True, "norm_position": "post"},
    {"norm": "layernorm"}, {"ffn": "gelu"}, {"ffn": "relu"},
    {"position": "sinusoidal"}, {"position": "learned"}, {"position": "none"},
    {"num_kv_heads": 2}, {"num_kv_heads": 1}, {"qk_norm": True}, {"sliding_window": 4},
    {"tie_embeddings": True}, {"logit_soft_cap": 5.0}, {"rope_theta": 500.0},
    {"num_experts": 4, "top_k": 2, "moe_every": 2},
]


@pytest.mark.parametrize("changes", OPTIONS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_every_option_trains_and_stays_causal(changes):
    model = small_model(**changes)
    ids = random_ids(4)
    logits = model(ids)
    assert logits.shape == (4, 16, 97)
    if changes.get("logit_soft_cap"):
        assert logits.abs().max() <= 5.0
    (cross_entropy(logits, ids) + model.aux_loss()).backward()
    no_grad = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad
    counted = count_parameters(model.config)  # the accounting chapter's arithmetic agrees with the module
    assert model.num_parameters() == counted.total
    assert model.num_parameters(exclude_embeddings=True) == counted.non_embedding
    # causality: changing token t changes no logit before t
    changed = ids.clone()
    changed[:, 9] = (changed[:, 9] + 1) % 97
    with torch.no_grad():
        before, after = model(ids), model(changed)
    torch.testing.assert_close(before[:, :9], after[:, :9])
    assert not torch.allclose(before[:, 9:], after[:, 9:])


def test_moe_aux_loss_and_dense_zero():
    assert small_model().aux_loss().item() == 0.0
    model = small_model(num_experts=4, moe_every=1)
    model(random_ids())
    assert model.aux_loss().item() > 0


def test_block_alone_and_token_positions():
    config = TransformerConfig(**SMALL)
    block = TransformerBlock(config, 0)
    x = torch.randn(2, 8, 32)
    assert block(x).shape == (2, 8, 32)
    model = small_model()
    ids = random_ids(seq=8)
    torch.testing.assert_close(model(ids), model(ids, torch.arange(8)))
    assert not torch.allclose(model(ids), model(ids, torch.arange(8) + 8))
    with pytest.raises(ValueError, match="position < 16"):
        model(ids, torch.arange(8) + 9)


def test_model_rejects_bad_input():
    model = small_model()
    with pytest.raises(ValueError, match="17 tokens is longer than context_length=16.*RoPE"):
        model(random_ids(seq=17))
    with pytest.raises(ValueError, match=r"expected ids in \[0, vocab_size=97\)"):
        model(torch.tensor([[1, 97]]))
    with pytest.raises(ValueError, match=r"expected \(batch, seq\)"):
        model(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(1, 2))
    with pytest.raises(TypeError, match="TransformerConfig"):
        TransformerLM.from_config(SMALL)


def test_from_config_and_num_parameters():
    config = TransformerConfig(**{**SMALL, "num_kv_heads": 2})
    model = TransformerLM.from_config(config)
    assert model.config == config
    d, v, ff, layers = 32, 97, 48, 2
    per_layer = d * d * 2 + 2 * (16 * d) + 3 * d * ff + 2 * d
    assert model.num_parameters() == 2 * v * d + layers * per_layer + d == sum(p.numel() for p in model.parameters())
    assert model.num_parameters(exclude_embeddings=True) == model.num_parameters() - v * d
    learned = small_model(position="learned")
    assert learned.num_parameters() - learned.num_parameters(exclude_embeddings=True) == (97 + 16) * 32


def test_dtype_argument():
    model = small_model(dtype=torch.bfloat16)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert model(random_ids()).dtype == torch.bfloat16


# -------------------------------------------------------------------------------------------- generate


@pytest.mark.slow
def test_generate_greedy_is_deterministic_and_matches_argmax():
    model = small_model()
    prompt = torch.tensor([3, 1, 4])
    out = model.generate(prompt, max_new_tokens=20, temperature=0)
    assert out.shape == (23,) and torch.equal(out[:3], prompt)
    assert torch.equal(out, model.generate(prompt, max_new_tokens=20, temperature=0))
    with torch.no_grad():  # a late token by hand, from the last context_length tokens
        expected = model(out[None, :20][:, -16:])[0, -1].argmax()
    assert out[20] == expected
    assert torch.equal(model.generate(prompt, 20, top_k=1), out)  # top-1 sampling is greedy


def test_generate_batch_eos_and_sampling():
    model = small_model()
    prompts = random_ids(3, 5)
    out = model.generate(prompts, max_new_tokens=4, temperature=0.8, top_k=10,
                         generator=torch.Generator().manual_seed(1))
    assert out.shape == (3, 9)
    again = model.generate(prompts, 4, temperature=0.8, top_k=10, generator=torch.Generator().manual_seed(1))
    assert torch.equal(out, again)
    first = model.generate(prompts[0], 1, temperature=0)[-1].item()
    stopped = model.generate(prompts[0], 10, temperature=0, eos_id=first)
    assert stopped.tolist() == prompts[0].tolist() + [first]
    assert model.generate(prompts[0], 0).shape == (5,)


def test_generate_rejects_bad_arguments():
    model = small_model()
    with pytest.raises(ValueError, match="temperature=-1"):
        model.generate(torch.tensor([1]), 3, temperature=-1)
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate(torch.tensor([1]), -1)
    with pytest.raises(ValueError, match="prompt_ids"):
        model.generate(torch.zeros(1, 1, 1, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="top_k=0"):
        model.generate(torch.tensor([1]), 3, top_k=0)
