"""Tests for lmcourse.nn.moe: routing and dispatch against a per-token loop, losses, upcycling."""

import math

import pytest
import torch

from lmcourse.config import TransformerConfig
from lmcourse.nn.layers import SwiGLU
from lmcourse.nn.model import TransformerLM
from lmcourse.nn.moe import MoEFeedForward, balance_loss, router_z_loss, upcycle

D_MODEL, D_FF = 8, 12


def make_moe(seed=0, **kw):
    torch.manual_seed(seed)
    kw = {"num_experts": 4, "top_k": 2, **kw}
    return MoEFeedForward(D_MODEL, D_FF, dtype=torch.float64, **kw)


def make_x(batch=2, seq=5, seed=1):
    return torch.randn(batch, seq, D_MODEL, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def reference(moe, x):
    """One token at a time: sum over its kept experts of gate * expert(token), plus the shared experts.

    Capacity: the same rule as the layer, written as plain bookkeeping: first choices of all tokens
    in token order, then second choices, ..., each taken while its expert has room.
    """
    tokens = x.reshape(-1, moe.d_model)
    logits = tokens @ moe.router.weight.T
    if moe.softmax_after_topk:
        top_logits, idx = logits.topk(moe.top_k, dim=-1)
        gates = torch.softmax(top_logits, dim=-1)
    else:
        gates, idx = torch.softmax(logits, dim=-1).topk(moe.top_k, dim=-1)
    capacity = moe.capacity(len(tokens))
    load = [0] * moe.num_experts
    kept = set()
    for rank in range(moe.top_k):
        for t in range(len(tokens)):
            e = int(idx[t, rank])
            if capacity is None or load[e] < capacity:
                load[e] += 1
                kept.add((t, rank))
    rows = []
    for t, token in enumerate(tokens):
        y = sum(shared(token) for shared in moe.shared_experts) + torch.zeros_like(token)
        for rank in range(moe.top_k):
            if (t, rank) in kept:
                y = y + gates[t, rank] * moe.experts[int(idx[t, rank])](token)
        rows.append(y)
    return torch.stack(rows).reshape(x.shape), torch.tensor(load)


@pytest.mark.parametrize("softmax_after_topk", [False, True])
@pytest.mark.parametrize("num_shared_experts", [0, 2])
@pytest.mark.parametrize("capacity_factor", [None, 0.5, 1.0])
def test_matches_per_token_reference(softmax_after_topk, num_shared_experts, capacity_factor):
    moe = make_moe(softmax_after_topk=softmax_after_topk, num_shared_experts=num_shared_experts,
                   capacity_factor=capacity_factor)
    x = make_x()
    out = moe(x)
    expected, load = reference(moe, x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, expected)
    stats = moe.last_stats
    assert stats.tokens_per_expert.dtype == torch.long
    assert stats.tokens_per_expert.tolist() == load.tolist()
    assert stats.tokens_per_expert.sum() == x.shape[0] * x.shape[1] * moe.top_k - stats.dropped_tokens
    if capacity_factor == 0.5:  # capacity = ceil(0.5 * 10 * 2 / 4) = 3 < the 5 an even split needs
        assert stats.dropped_tokens > 0
    if capacity_factor is None:
        assert stats.dropped_tokens == 0


def test_top1_capacity_first_come_first_served():
    moe = make_moe(num_experts=2, top_k=1, capacity_factor=1.0)
    with torch.no_grad():  # every token prefers expert 0
        moe.router.weight.copy_(torch.zeros(2, D_MODEL))
        moe.router.weight[0, 0] = 1.0
    x = make_x(batch=1, seq=6)
    x[..., 0] = 10.0
    out = moe(x)
    assert moe.capacity(6) == 3
    assert moe.last_stats.tokens_per_expert.tolist() == [3, 0]
    assert moe.last_stats.dropped_tokens == 3
    assert out[0, :3].abs().sum() > 0 and torch.all(out[0, 3:] == 0)  # the last three were dropped


@pytest.mark.parametrize("softmax_after_topk", [False, True])
def test_gradients_reach_router_and_used_experts_only(softmax_after_topk):
    moe = make_moe(num_experts=8, top_k=2, num_shared_experts=1, softmax_after_topk=softmax_after_topk)
    x = make_x(batch=1, seq=2)
    moe(x).pow(2).sum().backward()  # no auxiliary loss: the router learns through its gates alone
    used = set(moe.last_stats.tokens_per_expert.nonzero().flatten().tolist())
    assert len(used) < 8
    assert moe.router.weight.grad is not None and moe.router.weight.grad.abs().sum() > 0
    for i, expert in enumerate(moe.experts):
        grad = expert.w1.weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == (i in used)
    assert moe.shared_experts[0].w2.weight.grad.abs().sum() > 0


def test_balance_loss_uniform_is_one_and_skew_is_larger():
    num_experts = 4
    # Perfectly uniform: token i goes to expert i, and the probabilities are a rotation per token.
    probs = torch.softmax(3.0 * torch.eye(num_experts), dim=-1)
    idx = torch.arange(num_experts)[:, None]
    assert balance_loss(probs, idx).item() == pytest.approx(1.0)
    # Everything routed to the expert it likes best: num_experts * p_0 > 1.
    skewed = probs[[0, 0, 0, 0]]
    zeros = torch.zeros(4, 1, dtype=torch.long)
    assert balance_loss(skewed, zeros).item() == pytest.approx(num_experts * skewed[0, 0].item())
    assert balance_loss(skewed, zeros) > 1.5
    # The gradient flows through P only, and pushes the overloaded expert's probability down.
    logits = torch.zeros(4, num_experts, requires_grad=True)
    balance_loss(torch.softmax(logits, dim=-1), zeros).backward()
    assert torch.all(logits.grad[:, 0] > 0) and torch.all(logits.grad[:, 1:] < 0)


def test_balance_loss_of_the_layer():
    moe = make_moe(num_experts=4, top_k=1)
    with torch.no_grad():
        moe.router.weight.zero_()
        moe.router.weight[:, :4] = 3.0 * torch.eye(4)
    x = torch.zeros(1, 8, D_MODEL, dtype=torch.float64)
    x[0, :, :4] = torch.eye(4).repeat(2, 1)  # two tokens aimed at each expert
    moe(x)
    assert moe.last_stats.balance_loss.item() == pytest.approx(1.0)
    torch.testing.assert_close(moe.last_stats.router_probs_mean, torch.full((4,), 0.25, dtype=torch.float64))
    x[0, :, :4] = torch.eye(4)[[0] * 8]  # all aimed at expert 0
    moe(x)
    assert moe.last_stats.tokens_per_expert.tolist() == [8, 0, 0, 0]
    assert moe.last_stats.balance_loss.item() > 1.5


def test_router_z_loss_matches_formula():
    moe = make_moe()
    x = make_x()
    moe(x)
    logits = x.reshape(-1, D_MODEL) @ moe.router.weight.T
    expected = (torch.log(torch.exp(logits).sum(-1)) ** 2).mean()
    torch.testing.assert_close(moe.last_stats.router_z_loss.double(), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(router_z_loss(logits), expected)
    stats = moe.last_stats
    torch.testing.assert_close(stats.aux_loss(), 0.01 * stats.balance_loss + 0.001 * stats.router_z_loss)
    torch.testing.assert_close(stats.aux_loss(balance_coef=1.0, z_coef=0.0), stats.balance_loss)


def test_upcycle_equals_dense_when_gates_sum_to_one():
    torch.manual_seed(0)
    dense = SwiGLU(D_MODEL, D_FF, dtype=torch.float64)
    x = make_x()
    moe = upcycle(dense, num_experts=4, top_k=2, softmax_after_topk=True)
    assert all(torch.equal(e.w3.weight, dense.w3.weight) for e in moe.experts)
    assert moe.router.weight.abs().max() <= 0.03
    torch.testing.assert_close(moe(x), dense(x))


def test_upcycle_softmax_then_topk_scales_by_kept_probability():
    torch.manual_seed(0)
    dense = SwiGLU(D_MODEL, D_FF, dtype=torch.float64)
    x = make_x()
    moe = upcycle(dense, num_experts=4, top_k=2)
    probs = torch.softmax(x @ moe.router.weight.T, dim=-1)
    kept = probs.topk(2, dim=-1).values.sum(-1, keepdim=True)  # close to 2/4 with a small router
    torch.testing.assert_close(moe(x), dense(x) * kept)
    assert torch.allclose(kept, torch.full_like(kept, 0.5), atol=0.05)


def test_from_config():
    config = TransformerConfig(vocab_size=32, context_length=8, d_model=D_MODEL, num_layers=1, num_heads=2,
                               d_ff=D_FF, num_experts=5, top_k=3, num_shared_experts=1, capacity_factor=1.25)
    moe = MoEFeedForward.from_config(config)
    assert (moe.num_experts, moe.top_k, moe.capacity_factor) == (5, 3, 1.25)
    assert len(moe.experts) == 5 and len(moe.shared_experts) == 1
    assert moe.router.weight.shape == (5, D_MODEL)
    assert moe.experts[0].w1.weight.shape == (D_FF, D_MODEL)
    assert moe.capacity(8) == math.ceil(1.25 * 8 * 3 / 5)
    assert moe(torch.randn(2, 4, D_MODEL)).shape == (2, 4, D_MODEL)


def test_transformer_lm_with_experts_trains_with_aux_loss():
    torch.manual_seed(0)
    model = TransformerLM(vocab_size=32, context_length=8, d_model=16, num_layers=2, num_heads=2, d_ff=24,
                          num_experts=4, top_k=2, num_shared_experts=1, capacity_factor=1.5, moe_every=2)
    assert isinstance(model.layers[1].ffn, MoEFeedForward) and not isinstance(model.layers[0].ffn, MoEFeedForward)
    tokens = torch.randint(0, 32, (2, 8))
    logits = model(tokens)
    aux = model.aux_loss()
    assert aux.ndim == 0 and aux.item() > 0 and aux.requires_grad
    (logits.logsumexp(-1).mean() + aux).backward()
    assert model.layers[1].ffn.router.weight.grad.abs().sum() > 0


def test_same_input_same_routing():
    moe = make_moe(capacity_factor=1.0)
    x = make_x()
    first, stats = moe(x), moe.last_stats
    assert torch.equal(moe(x), first)
    assert torch.equal(moe.last_stats.tokens_per_expert, stats.tokens_per_expert)


def test_a_tokens_output_depends_on_its_batch_mates_under_capacity():
    """Why an MoE served with capacity limits is not deterministic even at temperature 0.

    Our request is the same in both batches; only the other request sharing the batch changes.
    When that request floods expert 0 first, two of our tokens find expert 0 full and are dropped.
    """
    moe = make_moe(num_experts=2, top_k=1, capacity_factor=1.0)
    with torch.no_grad():  # route on the sign of feature 0
        moe.router.weight.zero_()
        moe.router.weight[0, 0], moe.router.weight[1, 0] = 5.0, -5.0
    ours = make_x(batch=1, seq=4)
    ours[0, :, 0] = torch.tensor([1.0, -1.0, 1.0, -1.0])  # two tokens per expert
    balanced, flooding = make_x(batch=1, seq=4, seed=2), make_x(batch=1, seq=4, seed=3)
    balanced[0, :, 0] = torch.tensor([1.0, -1.0, 1.0, -1.0])
    flooding[0, :, 0] = 1.0
    out_a = moe(torch.cat([balanced, ours]))[1]
    assert moe.last_stats.dropped_tokens == 0
    out_b = moe(torch.cat([flooding, ours]))[1]
    assert moe.last_stats.dropped_tokens == 2
    torch.testing.assert_close(out_a[[1, 3]], out_b[[1, 3]])  # expert 1's tokens are unaffected
    assert torch.all(out_b[[0, 2]] == 0) and not torch.allclose(out_a, out_b)
    moe.capacity_factor = None  # without a capacity the batch-mates do not matter
    torch.testing.assert_close(moe(torch.cat([balanced, ours]))[1], moe(torch.cat([flooding, ours]))[1])


def test_dtype_follows_the_layer():
    moe = MoEFeedForward(D_MODEL, D_FF, num_experts=3, top_k=1, dtype=torch.bfloat16)
    out = moe(torch.randn(1, 4, D_MODEL, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16 and moe.last_stats.balance_loss.dtype == torch.float32


@pytest.mark.parametrize("kwargs, match", [
    ({"num_experts": 4, "top_k": 5}, "top_k=5 exceeds num_experts=4"),
    ({"num_experts": 0}, "num_experts=0"),
    ({"num_experts": 4, "top_k": 0}, "top_k=0"),
    ({"num_experts": 4, "capacity_factor": 0.0}, "capacity_factor=0.0"),
    ({"num_experts": 4, "capacity_factor": -1}, "capacity_factor=-1"),
    ({"num_experts": 4, "num_shared_experts": -1}, "num_shared_experts=-1"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MoEFeedForward(D_MODEL, D_FF, **kwargs)


@pytest.mark.parametrize("shape", [(4, D_MODEL), (1, 4, D_MODEL + 1), (1, 1, 4, D_MODEL)])
def test_bad_input_shape(shape):
    moe = make_moe()
    with pytest.raises(ValueError, match=r"expected \(batch, seq, d_model=8\)"):
        moe(torch.randn(shape, dtype=torch.float64))


def test_upcycle_bad_input():
    with pytest.raises(TypeError, match="expected an lmcourse.nn.SwiGLU"):
        upcycle(torch.nn.Linear(4, 4), num_experts=4)
    with pytest.raises(ValueError, match="top_k=3 exceeds"):
        upcycle(SwiGLU(D_MODEL, D_FF), num_experts=2, top_k=3)


def test_a_trained_moe_model_can_be_deep_copied_and_configured_mixtral_style():
    import copy

    from lmcourse.config import TransformerConfig
    from lmcourse.nn import TransformerLM

    config = TransformerConfig(vocab_size=50, context_length=8, d_model=16, num_layers=1, num_heads=2, d_ff=24,
                               num_experts=4, top_k=2, softmax_after_topk=True)
    model = TransformerLM.from_config(config)
    ids = torch.randint(50, (2, 8))
    (model(ids).sum() + model.aux_loss()).backward()  # last_stats now holds tensors with a graph
    clone = copy.deepcopy(model)
    assert clone.layers[0].ffn.last_stats is None and clone.layers[0].ffn.softmax_after_topk
    torch.testing.assert_close(clone(ids), model(ids))
