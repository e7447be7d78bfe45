"""Tests for lmcourse.align.rlvr: the toy addition task, rollouts and the GRPO training loop."""
import pytest
import torch

from lmcourse.align.grpo import compute_group_normalized_rewards
from lmcourse.align.rlvr import (
    END_ID, PAD_ID, RLVRConfig, accuracy, decode, encode, make_policy, make_problems, reward_fn,
    sample_rollouts, train_rlvr,
)
from lmcourse.align.sft import get_response_log_probs


def test_problems_deterministic_and_correct():
    a, b = make_problems(50, seed=3), make_problems(50, seed=3)
    assert a == b and a != make_problems(50, seed=4)
    for prompt, answer in make_problems(200, seed=0, max_operand=19):
        assert len(prompt) == 6 and prompt.endswith("=")  # zero-padded: every prompt the same length
        x, y = prompt[:-1].split("+")
        assert int(x) + int(y) == int(answer) and 0 <= int(x) <= 19
    with pytest.raises(ValueError):
        make_problems(0)


def test_encode_decode():
    assert decode(encode("12+7=")) == "12+7="
    assert decode(encode("19$") + [PAD_ID, PAD_ID]) == "19$"
    assert decode(encode("19$3")) == "19$"  # cut after the end token
    with pytest.raises(ValueError):
        encode("1-2")


@pytest.mark.parametrize("response,answer,expected", [
    ("19$", "19", (1.0, 1.0, 1.0)),
    ("18$", "19", (0.0, 1.0, 0.0)),
    ("19", "19", (0.0, 0.0, 0.0)),      # no end token: bad format, no reward
    ("1+9$", "19", (0.0, 0.0, 0.0)),
    ("$", "0", (0.0, 0.0, 0.0)),
    ("019$", "19", (0.0, 1.0, 0.0)),    # exact string match: no leading zeros
])
def test_reward_fn(response, answer, expected):
    r = reward_fn(response, answer)
    assert (r["reward"], r["format_reward"], r["answer_reward"]) == expected


def test_reward_fn_with_group_normalization():
    adv, raw, meta = compute_group_normalized_rewards(reward_fn, ["3$", "4$", "3", "3$"], ["3"] * 4, 4, 1e-6, False)
    assert raw.tolist() == [1.0, 0.0, 0.0, 1.0] and adv.tolist() == [0.5, -0.5, -0.5, 0.5]
    assert meta["format_reward_mean"] == 0.75


@pytest.mark.slow
def test_sample_rollouts_shapes_masks_and_log_probs():
    cfg = RLVRConfig(max_new_tokens=5)
    model = make_policy(cfg, d_model=32, num_layers=1, seed=0)
    prompts = torch.tensor([encode(p) for p, _ in make_problems(3, seed=1)])
    out = sample_rollouts(model, prompts, group_size=4, max_new_tokens=5, generator=torch.Generator().manual_seed(0))
    resp, mask, old = out["response_ids"], out["response_mask"], out["old_log_probs"]
    assert out["prompt_ids"].shape == (12, prompts.shape[1])
    assert torch.equal(out["prompt_ids"][:4], prompts[:1].expand(4, -1))  # consecutive rows = one group
    assert resp.shape == mask.shape == old.shape and resp.shape[0] == 12 and resp.shape[1] <= 5
    assert mask[:, 0].all()
    for row, m in zip(resp, mask):
        n = int(m.sum())
        assert m[:n].all() and not m[n:].any()  # the mask is a prefix
        ends = (row[:n] == END_ID).nonzero().flatten().tolist()
        assert ends in ([], [n - 1])  # at most one end token, and the mask stops right after it
        assert (row[n:] == PAD_ID).all()
        if not ends:
            assert n == resp.shape[1]  # no end token: the row ran to the length limit
    assert (old[~mask] == 0).all() and (old[mask] < 0).all()
    # The old log-probs are what get_response_log_probs recomputes for the sampled tokens.
    P = prompts.shape[1]
    full = torch.cat((out["prompt_ids"], resp), 1)
    with torch.no_grad():
        lp = get_response_log_probs(model, full[:, :-1], full[:, 1:])["log_probs"][:, P - 1:]
    assert torch.allclose(lp[mask], old[mask], atol=1e-5)


def test_sample_rollouts_deterministic_with_generator():
    model = make_policy(RLVRConfig(), d_model=32, num_layers=1)
    prompts = torch.tensor([encode(p) for p, _ in make_problems(2)])
    a = sample_rollouts(model, prompts, 3, 4, generator=torch.Generator().manual_seed(5))
    b = sample_rollouts(model, prompts, 3, 4, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError):
        sample_rollouts(model, prompts, 0, 4)
    with pytest.raises(ValueError):
        sample_rollouts(model, prompts, 2, 4, temperature=0.0)


@pytest.mark.slow
def test_train_rlvr_reward_rises():
    cfg = RLVRConfig(grpo_steps=24, seed=0)
    model = make_policy(cfg)
    hist = train_rlvr(model, cfg)
    r = hist["reward"]
    assert len(r) == 24 and len(hist["sft_loss"]) == cfg.sft_steps
    first, last = sum(r[:6]) / 6, sum(r[-6:]) / 6
    assert 0.05 < first < 0.6  # the warm start leaves the reward partial: there is room to improve
    assert last > first + 0.1, (first, last)
    assert hist["format_reward"][-1] > 0.9
    assert 0.0 <= accuracy(model, make_problems(50, seed=9)) <= 1.0


@pytest.mark.slow
def test_on_policy_grpo_clip_matches_reinforce_with_baseline():
    # One update per rollout batch: the ratio is 1, so grpo_clip's gradient is REINFORCE-with-baseline's.
    curves = [train_rlvr(make_policy(c), c)["reward"] for c in (
        RLVRConfig(sft_steps=5, grpo_steps=4, loss_type=t) for t in ("grpo_clip", "reinforce_with_baseline"))]
    assert curves[0] == pytest.approx(curves[1], abs=1e-6)


@pytest.mark.parametrize("bad", [
    dict(group_size=0), dict(group_size=1), dict(loss_type="ppo"), dict(cliprange=0.0), dict(cliprange=-1.0), dict(lr=0.0),
    dict(sft_steps=-1), dict(microbatches=3), dict(temperature=-1.0), dict(grpo_steps=1.5),
])
def test_bad_config(bad):
    with pytest.raises(ValueError):
        RLVRConfig(**bad)


def test_train_rlvr_rejects_non_config():
    with pytest.raises(TypeError):
        train_rlvr(make_policy(), {"grpo_steps": 3})


def test_sample_rollouts_context_too_short():
    model = make_policy(RLVRConfig(max_new_tokens=2), d_model=32, num_layers=1)
    prompts = torch.tensor([encode(p) for p, _ in make_problems(2)])
    with pytest.raises(ValueError, match="context_length"):
        sample_rollouts(model, prompts, 2, 6)


def test_train_rlvr_trains_on_the_problems_given(monkeypatch):
    # Only the given problems are used (no draw from make_problems), so a held-out set stays unseen.
    import lmcourse.align.rlvr as rlvr

    def no_draw(*args, **kwargs):
        raise AssertionError("train_rlvr drew its own problems")

    monkeypatch.setattr(rlvr, "make_problems", no_draw)
    cfg = RLVRConfig(sft_steps=2, grpo_steps=2, prompts_per_step=2, group_size=2)
    hist = train_rlvr(make_policy(cfg), cfg, problems=[("1+2=", "3")])
    assert len(hist["reward"]) == 2 and len(hist["sft_loss"]) == 2
    with pytest.raises(ValueError, match="problems is empty"):
        train_rlvr(make_policy(cfg), cfg, problems=[])
