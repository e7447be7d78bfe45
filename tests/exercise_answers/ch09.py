import numpy as np


def _forgot_the_six(E, A, B, alpha, beta, C):  # D = C / N: the budget counted as N * D FLOPs
    grid = np.logspace(6, 14, 200_001)
    n = grid[np.argmin(E + A / grid**alpha + B / (C / grid) ** beta)]
    return n, C / n


def _parabola_in_n(num_params, losses):  # fits the parabola in N rather than log N
    c2, c1, _ = np.polyfit(np.asarray(num_params, dtype=float), losses, 2)
    return -c1 / (2 * c2)


def _same_budget(law, num_params, num_tokens):  # the compute-optimal model of Llama's budget, not of its loss
    n_opt, d_opt = (float(x) for x in law.compute_optimal(6 * num_params * num_tokens))
    return float(law.loss(num_params, num_tokens)), n_opt, d_opt, 1.0


def _kept_every_budget(C, N, L):  # `C >= C.min()` keeps the smallest budget too
    from lmcourse.scaling import fit_isoflop

    keep = C >= C.min()
    return fit_isoflop(C[keep], N[keep], L[keep]).a


WRONG = {
    "compute_optimal": _forgot_the_six,
    "isoflop_minimum": _parabola_in_n,
    "log_parabola": "b",
    "overtraining": _same_budget,
    "two_budget_exponent": _kept_every_budget,
    "exponent_stability": "a",
}
