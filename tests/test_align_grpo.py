"""Tests for lmcourse.align.grpo (policy-gradient losses) and lmcourse.align.rewards."""
import math

import pytest
import torch

from lmcourse.align.grpo import (
    compute_group_normalized_rewards, compute_grpo_clip_loss, compute_naive_policy_gradient_loss,
    compute_policy_gradient_loss, grpo_microbatch_train_step, kl_k1, kl_k3,
)
from lmcourse.align.rewards import (
    answer_reward, extract_answer, format_reward, normalize_math_answer, r1_zero_reward_fn,
)


def table_reward(response, ground_truth):
    r = float(response)
    return {"reward": r, "format_reward": 1.0, "answer_reward": r}


# ---- group-normalized rewards -------------------------------------------------------------

def test_group_normalized_rewards_hand_values():
    responses = ["1", "0", "0", "1", "1", "1"]
    adv, raw, meta = compute_group_normalized_rewards(table_reward, responses, ["g"] * 6, 3, 0.0, False)
    assert adv.shape == raw.shape == (6,)
    assert torch.allclose(raw, torch.tensor([1., 0, 0, 1, 1, 1]))
    assert torch.allclose(adv, torch.tensor([2 / 3, -1 / 3, -1 / 3, 0, 0, 0]))
    assert meta["reward_mean"] == pytest.approx(4 / 6)
    assert meta["reward_max"] == 1.0 and meta["reward_min"] == 0.0
    assert "reward_std" in meta and meta["format_reward_mean"] == 1.0

    eps = 1e-6
    adv, _, _ = compute_group_normalized_rewards(table_reward, responses, ["g"] * 6, 3, eps, True)
    std = torch.tensor([1., 0, 0]).std().item()  # unbiased: sqrt(1/3)
    expected = torch.tensor([2 / 3, -1 / 3, -1 / 3]) / (std + eps)
    assert torch.allclose(adv[:3], expected)
    assert torch.equal(adv[3:], torch.zeros(3))  # all-equal group: eps avoids 0/0


def test_group_normalized_rewards_errors():
    with pytest.raises(ValueError, match="group_size"):
        compute_group_normalized_rewards(table_reward, ["1"] * 5, ["g"] * 5, 2, 1e-6, True)
    with pytest.raises(ValueError, match="repeated_ground_truths"):
        compute_group_normalized_rewards(table_reward, ["1"] * 4, ["g"] * 3, 2, 1e-6, True)
    with pytest.raises(ValueError, match="group_size"):
        compute_group_normalized_rewards(table_reward, ["1"] * 4, ["g"] * 4, 0, 1e-6, True)
    with pytest.raises(ValueError, match="advantage_eps"):
        compute_group_normalized_rewards(table_reward, ["1"] * 4, ["g"] * 4, 2, -1.0, True)


# ---- losses --------------------------------------------------------------------------------

def test_naive_policy_gradient_loss_gradient():
    torch.manual_seed(0)
    logp = torch.randn(3, 5, requires_grad=True)
    a = torch.randn(3, 1)
    loss = compute_naive_policy_gradient_loss(a, logp)
    assert loss.shape == (3, 5)
    loss.sum().backward()
    assert torch.allclose(logp.grad, -a.expand(3, 5))
    with pytest.raises(ValueError, match="raw_rewards_or_advantages"):
        compute_naive_policy_gradient_loss(torch.randn(4, 1), logp)


def grpo_clip_reference(a, logp, old, eps):
    """Loop-based reference for the GRPO-clip per-token loss."""
    out = torch.empty_like(logp)
    for i in range(logp.shape[0]):
        for t in range(logp.shape[1]):
            r = math.exp(logp[i, t].item() - old[i, t].item())
            out[i, t] = -min(r * a[i, 0].item(), min(max(r, 1 - eps), 1 + eps) * a[i, 0].item())
    return out


def test_grpo_clip_matches_loop_reference_and_on_policy_value():
    torch.manual_seed(1)
    logp, old, a = torch.randn(4, 6) * 0.3, torch.randn(4, 6) * 0.3, torch.randn(4, 1)
    loss, meta = compute_grpo_clip_loss(a, logp, old, 0.2)
    assert torch.allclose(loss, grpo_clip_reference(a, logp, old, 0.2), atol=1e-6)
    assert meta["clip_fraction"] == pytest.approx(meta["clipped"].float().mean().item())
    # On-policy: ratio 1, value -A, gradient -A (the same as REINFORCE with baseline).
    p = logp.clone().requires_grad_(True)
    loss, meta = compute_grpo_clip_loss(a, p, logp.clone(), 0.2)
    assert torch.allclose(loss, -a.expand(4, 6))
    assert meta["clip_fraction"] == 0.0
    loss.sum().backward()
    assert torch.allclose(p.grad, -a.expand(4, 6))


@pytest.mark.parametrize("adv, log_ratio, clipped", [
    (1.0, math.log(1.5), True),    # A > 0, ratio above 1+eps: clipped, no gradient
    (1.0, math.log(0.5), False),   # A > 0, ratio below 1-eps: min keeps the unclipped term
    (-1.0, math.log(0.5), True),   # A < 0, ratio below 1-eps: clipped
    (-1.0, math.log(1.5), False),  # A < 0, ratio above 1+eps: unclipped (pessimistic bound)
])
def test_grpo_clip_both_sides(adv, log_ratio, clipped):
    logp = torch.full((1, 1), log_ratio, requires_grad=True)
    loss, meta = compute_grpo_clip_loss(torch.tensor([[adv]]), logp, torch.zeros(1, 1), 0.2)
    assert bool(meta["clipped"].item()) is clipped
    ratio = math.exp(log_ratio)
    expected = -(min(max(ratio, 0.8), 1.2) if clipped else ratio) * adv
    assert loss.item() == pytest.approx(expected)
    loss.sum().backward()
    assert logp.grad.item() == pytest.approx(0.0 if clipped else -adv * ratio)


def test_grpo_clip_fraction():
    logp = torch.log(torch.tensor([[1.5, 1.0, 0.5, 1.1]]))
    _, meta = compute_grpo_clip_loss(torch.ones(1, 1), logp, torch.zeros(1, 4), 0.2)
    assert meta["clipped"].tolist() == [[True, False, False, False]]
    assert meta["clip_fraction"].item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="old_log_probs"):
        compute_grpo_clip_loss(torch.ones(1, 1), logp, torch.zeros(1, 3), 0.2)
    for bad in (0, -0.2, float("nan"), float("inf"), True, "0.2"):
        with pytest.raises(ValueError, match="cliprange must be a positive number"):
            compute_grpo_clip_loss(torch.ones(1, 1), logp, torch.zeros(1, 4), bad)


def test_grpo_clip_range_of_one_or_more_keeps_only_the_upper_clip():
    # ratios 1.5, 1.0, 0.5, 0.01: with eps = 1.5 the lower bound 1 - eps < 0 never binds, so a negative
    # advantage keeps every ratio's gradient, and a positive one is clipped only above 1 + eps = 2.5.
    logp = torch.log(torch.tensor([[1.5, 1.0, 0.5, 0.01]]))
    loss, meta = compute_grpo_clip_loss(-torch.ones(1, 1), logp, torch.zeros(1, 4), 1.5)
    assert not meta["clipped"].any() and torch.allclose(loss, torch.tensor([[1.5, 1.0, 0.5, 0.01]]))
    _, meta = compute_grpo_clip_loss(torch.ones(1, 1), torch.log(torch.tensor([[3.0, 2.0]])), torch.zeros(1, 2), 1.0)
    assert meta["clipped"].tolist() == [[True, False]]


def test_compute_policy_gradient_loss_dispatch_and_errors():
    torch.manual_seed(2)
    logp, old = torch.randn(2, 3), torch.randn(2, 3)
    r, a = torch.rand(2, 1), torch.randn(2, 1)
    loss, _ = compute_policy_gradient_loss(logp, "no_baseline", raw_rewards=r)
    assert torch.allclose(loss, -r * logp)
    loss, _ = compute_policy_gradient_loss(logp, "reinforce_with_baseline", advantages=a)
    assert torch.allclose(loss, -a * logp)
    loss, meta = compute_policy_gradient_loss(logp, "grpo_clip", advantages=a, old_log_probs=old, cliprange=0.2)
    assert torch.allclose(loss, compute_grpo_clip_loss(a, logp, old, 0.2)[0]) and "clip_fraction" in meta
    with pytest.raises(ValueError, match="raw_rewards"):
        compute_policy_gradient_loss(logp, "no_baseline", advantages=a)
    with pytest.raises(ValueError, match="advantages"):
        compute_policy_gradient_loss(logp, "reinforce_with_baseline", raw_rewards=r)
    with pytest.raises(ValueError, match="old_log_probs"):
        compute_policy_gradient_loss(logp, "grpo_clip", advantages=a, cliprange=0.2)
    with pytest.raises(ValueError, match="cliprange"):
        compute_policy_gradient_loss(logp, "grpo_clip", advantages=a, old_log_probs=old)
    with pytest.raises(ValueError, match="loss_type"):
        compute_policy_gradient_loss(logp, "ppo", advantages=a)


# ---- micro-batch step ----------------------------------------------------------------------

MASK = torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0], [0, 1, 1, 1, 0, 0]])


def loop_reference_loss(logp, mask, a, norm, constant, accum):
    total = 0.0
    for i in range(logp.shape[0]):
        s = sum(-a[i, 0] * logp[i, t] for t in range(logp.shape[1]) if mask[i, t])
        total = total + s / (mask[i].sum() if norm == "mean" else constant)
    return total / logp.shape[0] / accum


@pytest.mark.parametrize("norm", ["mean", "constant"])
def test_microbatch_step_gradient_matches_reference(norm):
    torch.manual_seed(3)
    base, a = torch.randn(3, 6), torch.randn(3, 1)
    p = base.clone().requires_grad_(True)
    loss, meta = grpo_microbatch_train_step(p, MASK, 4, "reinforce_with_baseline", advantages=a,
                                            length_normalization=norm, normalize_constant=6.0)
    q = base.clone().requires_grad_(True)
    ref = loop_reference_loss(q, MASK, a, norm, 6.0, 4)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    assert torch.allclose(p.grad, q.grad, atol=1e-6)
    assert torch.all(p.grad[MASK == 0] == 0)  # padding gets no gradient
    assert meta["per_sequence_loss"].shape == (3,)


def test_length_normalization_bias():
    """Same advantage, unequal lengths: the per-sequence mean gives each token of the short response
    a larger gradient than each token of the long one; Dr. GRPO's constant gives all tokens the same."""
    a = torch.ones(3, 1)
    grads = {}
    for norm in ("mean", "constant"):
        p = torch.zeros(3, 6, requires_grad=True)
        grpo_microbatch_train_step(p, MASK, 1, "reinforce_with_baseline", advantages=a,
                                   length_normalization=norm, normalize_constant=6.0)
        grads[norm] = p.grad
    # mean: each token gets -A / (batch * its response length): -1/15 (5 tokens), -1/6 (2 tokens).
    assert grads["mean"][0, 0].item() == pytest.approx(-1 / 15)
    assert grads["mean"][1, 0].item() == pytest.approx(-1 / 6)
    assert not torch.allclose(grads["mean"][MASK.bool()], grads["mean"][0, 0])
    assert torch.allclose(grads["constant"][MASK.bool()], torch.tensor(-1 / 18))
    assert not torch.allclose(grads["mean"], grads["constant"])


def test_microbatch_step_grpo_clip_and_errors():
    logp = torch.zeros(3, 6, requires_grad=True)
    _, meta = grpo_microbatch_train_step(logp, MASK, 1, "grpo_clip", advantages=torch.ones(3, 1),
                                         old_log_probs=torch.zeros(3, 6), cliprange=0.2)
    assert meta["clip_fraction"].item() == 0.0
    with pytest.raises(ValueError, match="response_mask"):
        grpo_microbatch_train_step(logp, MASK[:, :5], 1, "no_baseline", raw_rewards=torch.ones(3, 1))
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        grpo_microbatch_train_step(logp, MASK, 0, "no_baseline", raw_rewards=torch.ones(3, 1))
    with pytest.raises(ValueError, match="normalize_constant"):
        grpo_microbatch_train_step(logp, MASK, 1, "no_baseline", raw_rewards=torch.ones(3, 1),
                                   length_normalization="constant")
    with pytest.raises(ValueError, match="length_normalization"):
        grpo_microbatch_train_step(logp, MASK, 1, "no_baseline", raw_rewards=torch.ones(3, 1),
                                   length_normalization="sum")


# ---- KL estimators -------------------------------------------------------------------------

def test_kl_estimators_unbiased_and_k3_nonnegative():
    torch.manual_seed(4)
    p = torch.tensor([0.5, 0.3, 0.15, 0.05])
    q = torch.tensor([0.25, 0.25, 0.25, 0.25])
    exact = (p * (p.log() - q.log())).sum().item()
    x = torch.multinomial(p, 200_000, replacement=True, generator=torch.Generator().manual_seed(0))
    k1 = kl_k1(p.log()[x], q.log()[x])
    k3 = kl_k3(p.log()[x], q.log()[x])
    assert torch.all(k3 >= 0) and torch.any(k1 < 0)
    assert k1.mean().item() == pytest.approx(exact, abs=0.01)
    assert k3.mean().item() == pytest.approx(exact, abs=0.01)
    # exact expectations too: E_p[k3] == KL(p || q)
    assert (p * kl_k3(p.log(), q.log())).sum().item() == pytest.approx(exact, abs=1e-6)
    assert k3.var() < k1.var()
    with pytest.raises(ValueError, match="log_q"):
        kl_k3(torch.zeros(2), torch.zeros(3))


# ---- rewards -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("$\\boxed{42}$", "42"), (" 1,000,000. ", "1000000"), ("007", "7"), ("1.50", "1.5"),
    ("2.0", "2"), ("\\frac{3}{4}", "3/4"), ("\\dfrac{1}{2}", "1/2"), ("\\text{yes}", "yes"),
    ("\\boxed{\\frac{x+1}{2}}", "(x+1)/2"), ("x = 5", "x=5"), ("-0.0", "0"),
])
def test_normalize_math_answer(raw, expected):
    assert normalize_math_answer(raw) == expected


def test_normalize_math_answer_equal_forms_and_errors():
    assert normalize_math_answer("1.50") == normalize_math_answer("1.5")
    with pytest.raises(TypeError, match="s must be a str"):
        normalize_math_answer(3)


def test_extract_and_format_reward():
    good = "<think>2 + 2 is 4</think> <answer>4</answer>"
    assert extract_answer(good) == "4"
    assert extract_answer("no tags") is None
    assert extract_answer("<answer>1</answer> then <answer> 2 </answer>") == "2"
    assert format_reward(good) == 1.0
    assert format_reward("2 + 2 is 4</think> <answer>4</answer>") == 1.0  # prompt supplied <think>
    for bad in ["<answer>4</answer>", "<think>x</think> <answer>4", "<think>x <answer>4</answer>",
                "<answer>4</answer> <think>x</think>", "<think>x</think> <answer></answer>",
                "<think>x</think> <answer>4</answer> <answer>5</answer>",
                "<think>x</think> <answer>4</answer> trailing text", ""]:
        assert format_reward(bad) == 0.0, bad


def test_answer_reward_and_r1_zero():
    assert answer_reward("<think>.</think> <answer>$\\boxed{0.5}$</answer>", "\\frac{1}{2}") == 1.0
    assert answer_reward("<think>.</think> <answer>1,000</answer>", "1000") == 1.0
    assert answer_reward("<think>.</think> <answer>3</answer>", "4") == 0.0
    assert answer_reward("the answer is 4", "4") == 0.0
    assert r1_zero_reward_fn("<think>.</think> <answer>4</answer>", "4") == \
        {"format_reward": 1.0, "answer_reward": 1.0, "reward": 1.0}
    assert r1_zero_reward_fn("<think>.</think> <answer>5</answer>", "4")["reward"] == 0.0
    out = r1_zero_reward_fn("<answer>4</answer>", "4")  # right answer, bad format: no reward
    assert out == {"format_reward": 0.0, "answer_reward": 1.0, "reward": 0.0}
    with pytest.raises(TypeError, match="ground_truth"):
        answer_reward("<answer>4</answer>", 4)


def test_group_rewards_with_r1_zero_fn():
    responses = ["<think>.</think> <answer>4</answer>", "<think>.</think> <answer>5</answer>"]
    adv, raw, meta = compute_group_normalized_rewards(r1_zero_reward_fn, responses, ["4", "4"], 2, 1e-6, True)
    assert raw.tolist() == [1.0, 0.0] and adv[0] > 0 > adv[1]
    assert meta["answer_reward_mean"] == 0.5
