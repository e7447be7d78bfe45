import torch


def _leave_one_out(rewards, group_size, normalize_by_std):  # baseline = mean of the *other* rewards (RLOO)
    r = torch.tensor(rewards, dtype=torch.float32).view(-1, group_size)
    a = r - (r.sum(1, keepdim=True) - r) / (group_size - 1)
    if normalize_by_std:
        a = a / (r.std(1, keepdim=True) + 1e-6)
    return a.reshape(-1)


def _inverted_ratio(L1, L2, normalization):  # L1 / L2: the longer response's tokens taken as the heavier ones
    return L1 / L2 if normalization == "mean" else 1.0


def _small_numbers():  # enumerates 0..99: misses negative answers, fractions and larger answers
    return "<think>not sure</think> maybe " + " or ".join(str(i) for i in range(100))


WRONG = {
    "group_advantages": _leave_one_out,
    "length_bias_ratio": _inverted_ratio,
    "hack": _small_numbers,
    "lenient_grader": "a",
}
