import math

import torch


def _forgot_reads(numel, element_size):  # counts only the 9 writes
    return 9 * numel * element_size


def _no_rescale(m1, l1, m2, l2):  # adds the sums without moving them to the common maximum
    return max(m1, m2), l1 + l2


def _row_major(programs, tiles_n, group_m):  # ignores the grouping
    rows = math.ceil(programs / tiles_n)
    return rows + min(programs, tiles_n)


def _forgot_mean_term(x, weight, grad_out, eps):  # drops the term through the rms
    return torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * grad_out * weight


WRONG = {
    "unfused_bytes": _forgot_reads,
    "merge": _no_rescale,
    "working_set": _row_major,
    "rmsnorm_grad_x": _forgot_mean_term,
}
