"""Policy-gradient losses for RL with verifiable rewards: REINFORCE, baselines, GRPO (chapters 16-17).

The language model is a policy: the state is the prompt plus the tokens so far, the action is the
next token, transitions are deterministic (append the token) and the reward arrives once, for the
whole response. We maximise J(θ) = E_{a~π_θ}[R(a)].

**REINFORCE.** The log-derivative trick, ∇π = π ∇log π, turns the gradient of an expectation into
an expectation we can sample: ∇J = E[R(a) ∇log π_θ(a)]. So the "loss" is -R · log π summed over the
response tokens: the SFT loss weighted by the reward (with R ∈ {0, 1} it is SFT on the correct
samples). Its value means nothing; only its gradient does.

**Baselines.** For any b that does not depend on the action, E[b ∇log π] = b ∇Σπ = b ∇1 = 0, so
(R - b) ∇log π is still unbiased, and a b correlated with R (the expected reward) cuts the
variance. GRPO's baseline is the mean reward of the group of G responses sampled for the same
prompt, optionally divided by the group's standard deviation ("group-normalized advantage"); no
value model is needed, which is why GRPO replaced PPO here.

**Importance ratio and clipping.** When a batch of rollouts is reused for several gradient steps
the samples come from an older policy, so the gradient is reweighted by the ratio
ρ = π_θ/π_old = exp(logp - old_logp). GRPO-clip (PPO's objective) takes
-min(ρA, clip(ρ, 1-ε, 1+ε)A): once the ratio has moved more than ε in the direction the advantage
favours, the term stops contributing gradient, which keeps off-policy updates from running away.
On-policy ρ = 1 in value, but ∇ρ = ∇log π, so the loss value is -A while the gradient equals
REINFORCE-with-baseline's.

**Length normalization.** GRPO averages the per-token loss over each response (masked mean), so a
token in a long response weighs less than one in a short response: long wrong answers are
penalized less per token, and responses drift longer. Dr. GRPO instead sums over tokens and divides
by a constant (e.g. the maximum generation length), removing that bias.

Also here: Schulman's k1 and k3 estimators of KL(p || q) from samples of p.
Left out: sampling rollouts and the training loop (the toy RLVR task), PPO's value model and GAE.
Shapes follow CS336 assignment 5: per-token tensors are (batch, seq); advantages (batch, 1).
"""
from __future__ import annotations

from typing import Callable

import torch

from lmcourse.align.sft import masked_mean, masked_normalize

LOSS_TYPES = ("no_baseline", "reinforce_with_baseline", "grpo_clip")


def compute_group_normalized_rewards(
    reward_fn: Callable[[str, str], dict],
    rollout_responses: list[str],
    repeated_ground_truths: list[str],
    group_size: int,
    advantage_eps: float,
    normalize_by_std: bool,
) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Score each rollout and turn rewards into group-normalized advantages.

    Rollouts come in consecutive groups of `group_size` for the same prompt. Returns
    `(advantages, raw_rewards, metadata)`, both tensors of shape (rollout_batch_size,);
    advantage = (r - group mean) / (group std + eps) if `normalize_by_std` else r - group mean.
    The std is the unbiased sample std, as in the CS336 reference.
    """
    if not isinstance(group_size, int) or isinstance(group_size, bool) or group_size < 1:
        raise ValueError(f"group_size must be a positive int, got {group_size!r}")
    n = len(rollout_responses)
    if len(repeated_ground_truths) != n:
        raise ValueError(f"repeated_ground_truths has length {len(repeated_ground_truths)}, expected "
                         f"{n} (one per rollout response)")
    if n == 0 or n % group_size != 0:
        raise ValueError(f"group_size={group_size} must divide the number of rollout responses ({n}), "
                         f"which must be positive")
    if advantage_eps < 0:
        raise ValueError(f"advantage_eps must be >= 0, got {advantage_eps!r}")
    scores = [reward_fn(r, g) for r, g in zip(rollout_responses, repeated_ground_truths)]
    raw_rewards = torch.tensor([float(s["reward"]) for s in scores], dtype=torch.float32)
    grouped = raw_rewards.view(-1, group_size)
    centered = grouped - grouped.mean(dim=1, keepdim=True)
    if normalize_by_std:
        # eps keeps groups where every sample got the same reward at advantage 0 instead of 0/0.
        std = grouped.std(dim=1, keepdim=True) if group_size > 1 else torch.zeros_like(centered)
        centered = centered / (std + advantage_eps)
    advantages = centered.reshape(-1)
    metadata = {"reward_mean": raw_rewards.mean().item(), "reward_std": raw_rewards.std().item()
                if n > 1 else 0.0, "reward_max": raw_rewards.max().item(), "reward_min": raw_rewards.min().item()}
    for key in ("format_reward", "answer_reward"):
        if all(key in s for s in scores):
            metadata[f"{key}_mean"] = sum(float(s[key]) for s in scores) / n
    return advantages, raw_rewards, metadata


def _check_per_sequence(name: str, values: torch.Tensor, policy_log_probs: torch.Tensor) -> torch.Tensor:
    """Accept (batch,) or (batch, 1) and return (batch, 1) so it broadcasts over the tokens."""
    if policy_log_probs.dim() != 2:
        raise ValueError(f"policy_log_probs must be (batch, seq), got shape {tuple(policy_log_probs.shape)}")
    if values.dim() == 1:
        values = values.unsqueeze(-1)
    if values.dim() != 2 or values.shape != (policy_log_probs.shape[0], 1):
        raise ValueError(f"{name} must have shape ({policy_log_probs.shape[0]}, 1) to match policy_log_probs "
                         f"{tuple(policy_log_probs.shape)}, got {tuple(values.shape)}")
    return values


def compute_naive_policy_gradient_loss(raw_rewards_or_advantages: torch.Tensor,
                                       policy_log_probs: torch.Tensor) -> torch.Tensor:
    """Per-token REINFORCE loss -A · log π, shape (batch, seq); A is one value per rollout."""
    a = _check_per_sequence("raw_rewards_or_advantages", raw_rewards_or_advantages, policy_log_probs)
    # The reward is a constant weight: no gradient flows into it.
    return -a.detach() * policy_log_probs


def compute_grpo_clip_loss(advantages: torch.Tensor, policy_log_probs: torch.Tensor,
                           old_log_probs: torch.Tensor, cliprange: float) -> tuple[torch.Tensor, dict]:
    """Per-token -min(ρA, clip(ρ, 1-ε, 1+ε)A) with ρ = exp(logp - old_logp); shape (batch, seq).

    metadata: "clipped" (bool mask where the clipped term is the smaller one, so the token gets
    no gradient), "clip_fraction" (its mean) and "ratio". Any positive ε is legal: from ε = 1 on,
    1 - ε <= 0 < ρ, so only the upper clip is left (a policy may drop a token's probability freely).
    """
    a = _check_per_sequence("advantages", advantages, policy_log_probs).detach()
    if old_log_probs.shape != policy_log_probs.shape:
        raise ValueError(f"old_log_probs shape {tuple(old_log_probs.shape)} must equal policy_log_probs "
                         f"shape {tuple(policy_log_probs.shape)}")
    if isinstance(cliprange, bool) or not isinstance(cliprange, (int, float)) or not 0 < cliprange < float("inf"):
        raise ValueError(f"cliprange must be a positive number, got {cliprange!r}")
    # Work in log space: the ratio of two tiny probabilities is computed stably as exp(difference).
    ratio = torch.exp(policy_log_probs - old_log_probs.detach())
    unclipped = ratio * a
    clipped = torch.clamp(ratio, 1 - cliprange, 1 + cliprange) * a
    loss = -torch.minimum(unclipped, clipped)
    was_clipped = clipped < unclipped
    return loss, {"clipped": was_clipped, "clip_fraction": was_clipped.float().mean(), "ratio": ratio.detach()}


def compute_policy_gradient_loss(policy_log_probs: torch.Tensor, loss_type: str,
                                 raw_rewards: torch.Tensor | None = None,
                                 advantages: torch.Tensor | None = None,
                                 old_log_probs: torch.Tensor | None = None,
                                 cliprange: float | None = None) -> tuple[torch.Tensor, dict]:
    """Dispatch on `loss_type`: "no_baseline" uses raw_rewards, "reinforce_with_baseline" uses
    advantages, "grpo_clip" uses advantages, old_log_probs and cliprange."""
    def need(name, value):
        if value is None:
            raise ValueError(f"loss_type={loss_type!r} requires {name}, got None")
        return value

    if loss_type == "no_baseline":
        return compute_naive_policy_gradient_loss(need("raw_rewards", raw_rewards), policy_log_probs), {}
    if loss_type == "reinforce_with_baseline":
        return compute_naive_policy_gradient_loss(need("advantages", advantages), policy_log_probs), {}
    if loss_type == "grpo_clip":
        return compute_grpo_clip_loss(need("advantages", advantages), policy_log_probs,
                                      need("old_log_probs", old_log_probs), need("cliprange", cliprange))
    raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")


def grpo_microbatch_train_step(policy_log_probs: torch.Tensor, response_mask: torch.Tensor,
                               gradient_accumulation_steps: int, loss_type: str,
                               raw_rewards: torch.Tensor | None = None,
                               advantages: torch.Tensor | None = None,
                               old_log_probs: torch.Tensor | None = None,
                               cliprange: float | None = None,
                               length_normalization: str = "mean",
                               normalize_constant: float | None = None) -> tuple[torch.Tensor, dict]:
    """Compute the micro-batch loss, call backward on it, and return (loss, metadata).

    "mean" (GRPO): masked mean of each response's per-token loss, then the batch mean.
    "constant" (Dr. GRPO): masked sum of each response divided by `normalize_constant`, then the
    batch mean. Either way the loss is divided by `gradient_accumulation_steps` so that summing the
    gradients of that many micro-batches gives the gradient of the mean.
    """
    if response_mask.shape != policy_log_probs.shape:
        raise ValueError(f"response_mask shape {tuple(response_mask.shape)} must equal policy_log_probs "
                         f"shape {tuple(policy_log_probs.shape)}")
    if not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 1:
        raise ValueError(f"gradient_accumulation_steps must be a positive int, got {gradient_accumulation_steps!r}")
    per_token, metadata = compute_policy_gradient_loss(policy_log_probs, loss_type, raw_rewards,
                                                       advantages, old_log_probs, cliprange)
    mask = response_mask.bool()
    if length_normalization == "mean":
        if (mask.sum(-1) == 0).any():
            raise ValueError("response_mask has a row with no response tokens; its mean is undefined")
        per_seq = masked_mean(per_token, mask, dim=-1)
    elif length_normalization == "constant":
        if normalize_constant is None or normalize_constant <= 0:
            raise ValueError(f"length_normalization='constant' needs normalize_constant > 0, "
                             f"got {normalize_constant!r}")
        per_seq = masked_normalize(per_token, mask, dim=-1, normalize_constant=normalize_constant)
    else:
        raise ValueError(f"length_normalization must be 'mean' or 'constant', got {length_normalization!r}")
    loss = per_seq.mean() / gradient_accumulation_steps
    loss.backward()
    metadata = dict(metadata, per_sequence_loss=per_seq.detach())
    if "clipped" in metadata:
        # Report the clip fraction over response tokens only; padding would dilute it.
        metadata["clip_fraction"] = masked_mean(metadata["clipped"].float(), mask)
    return loss.detach(), metadata


def kl_k1(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """k1 = log p(x) - log q(x) for x ~ p: unbiased for KL(p || q) but can be negative (high variance)."""
    if log_p.shape != log_q.shape:
        raise ValueError(f"log_p shape {tuple(log_p.shape)} must equal log_q shape {tuple(log_q.shape)}")
    return log_p - log_q


def kl_k3(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """Schulman's k3 = r - 1 - log r with r = q(x)/p(x), x ~ p.

    Unbiased for KL(p || q) because E_p[r - 1] = 0, and non-negative because log r <= r - 1;
    lower variance than k1. GRPO uses it with p the policy and q the reference model.
    """
    if log_p.shape != log_q.shape:
        raise ValueError(f"log_p shape {tuple(log_p.shape)} must equal log_q shape {tuple(log_q.shape)}")
    log_r = log_q - log_p
    return torch.exp(log_r) - 1 - log_r
