import torch


def _forgot_baseline(theta, reward):  # pi * R: drops the -pi * E[R] that comes from the softmax's normaliser
    return torch.softmax(theta, -1) * reward


def _mean_reward(pi, reward):  # E[R], the usual baseline, not the variance-minimising one
    return (pi * reward).sum().item()


def _clip_without_min(advantages, logp, old_logp, eps):  # always the clipped term, never the pessimistic min
    ratio = torch.exp(logp - old_logp)
    return -ratio.clamp(1 - eps, 1 + eps) * advantages


WRONG = {
    "softmax_policy_gradient": _forgot_baseline,
    "optimal_baseline": _mean_reward,
    "grpo_clip_loss": _clip_without_min,
    "wrong_way_move": "a",
}
