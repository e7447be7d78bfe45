import torch


def _reward_times_beta(ref, reward, beta):  # exp(beta r) instead of exp(r / beta): right only at beta = 1
    pi = ref * torch.exp(beta * reward)
    return pi / pi.sum()


WRONG = {
    "dpo_by_hand": (3.0, 0.04858735157374206),  # forgot beta: margin (1) - (-2) = 3, loss log(1 + e^-3)
    "optimal_policy": _reward_times_beta,
    "mask_matters": "a",
}
