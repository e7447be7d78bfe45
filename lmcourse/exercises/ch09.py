"""Chapter 9 (scaling laws): the exercises' references and checks."""

from __future__ import annotations

import math

import numpy as np

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise


def compute_optimal(E, A, B, alpha, beta, C):
    # Minimise L(N, C / (6N)) over a fine grid of N: 1M to 100T parameters, 25,000 points per decade,
    # so the grid's step (0.01%) is far below the 1% the check asks for. No closed form needed.
    grid = np.logspace(6, 14, 200_001)
    losses = E + A / grid**alpha + B / (C / (6 * grid)) ** beta
    n = grid[np.argmin(losses)]
    return n, C / (6 * n)  # the budget fixes D once N is chosen


def _check_compute_optimal(answer) -> None:
    from lmcourse.scaling import CHINCHILLA, CHINCHILLA_REFIT, ChinchillaLaw

    lopsided = ChinchillaLaw(E=1.5, A=300.0, B=3000.0, alpha=0.25, beta=0.5)  # swapping alpha and beta shows
    for law in (CHINCHILLA, CHINCHILLA_REFIT, lopsided):
        for budget in (1e19, 1e21, 1e24):
            got = answer(law.E, law.A, law.B, law.alpha, law.beta, budget)
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                raise Mismatch(f"my_compute_optimal(...) should return a pair (N_opt, D_opt); got {got!r}")
            n_ref, d_ref = law.compute_optimal(budget)  # the closed form
            what = f"my_compute_optimal for {law} at C={budget:.0e}"
            expect(got[0], float(n_ref), f"N_opt of {what}", rel_tol=0.01)
            expect(got[1], float(d_ref), f"D_opt of {what}", rel_tol=0.01)


def isoflop_minimum(num_params, losses):
    # The profile is roughly symmetric when model sizes are spaced by factors, i.e. in log N: a
    # model 2x too small and one 2x too large lose about equally. In N it would be badly lopsided.
    c2, c1, _ = np.polyfit(np.log(num_params), losses, 2)
    return math.exp(-c1 / (2 * c2))  # the vertex of c2 x^2 + c1 x + c0, back from log N to N


def _isoflop_cases():
    rng = np.random.default_rng(9)
    sizes = np.array([5e3, 1e4, 2e4, 4e4, 8e4])
    exact = 4 + 0.2 * (np.log(sizes) - np.log(1.5e4)) ** 2  # a parabola in log N with its minimum at 15,000
    lopsided = np.array([6e3, 9e3, 3e4, 9e4])  # sizes not centred on the minimum, plus noise
    noisy = 3.5 + 0.3 * (np.log(lopsided) - np.log(2e4)) ** 2 + rng.normal(0, 0.01, 4)
    three = np.array([1e4, 3e4, 1e5])  # the fewest points a parabola takes
    return [(sizes, exact), (lopsided, noisy), (three, 5 + 0.1 * (np.log(three) - np.log(2e4)) ** 2)]


def _check_isoflop_minimum(answer) -> None:
    from lmcourse.scaling import isoflop_profile

    for sizes, losses in _isoflop_cases():
        want = isoflop_profile(1.0, sizes, losses).n_opt  # the package's Approach-2 profile
        expect(answer(sizes, losses), want, f"my_isoflop_minimum on sizes {sizes.tolist()}", rel_tol=1e-6)


def overtraining(law, num_params, num_tokens):
    from lmcourse.scaling import inference_optimal

    loss = float(law.loss(num_params, num_tokens))  # what the overtrained model reaches
    # the cheapest model in training compute that reaches the same loss: no inference tokens
    n_opt, d_opt, flops = inference_optimal(law, loss, 0)
    return loss, n_opt, d_opt, 6 * num_params * num_tokens / flops


def _check_overtraining(answer) -> None:
    from lmcourse.scaling import CHINCHILLA, CHINCHILLA_REFIT

    models = [(8e9, 15e12), (7e9, 2e12), (70e9, 1.4e12)]
    for law in (CHINCHILLA_REFIT, CHINCHILLA):
        n_star, d_star = law.compute_optimal(1e23)  # a model that is already compute-optimal: saving 1
        for n, d in models + [(float(n_star), float(d_star))]:
            got = answer(law, n, d)
            if not (isinstance(got, (tuple, list)) and len(got) == 4):
                raise Mismatch(f"my_overtraining(...) should return (loss, N_opt, D_opt, saving); got {got!r}")
            loss, n_opt, d_opt, saving = (float(x) for x in got)
            what = f"my_overtraining({law}, {n:.3g}, {d:.3g})"
            expect(loss, float(law.loss(n, d)), f"the loss of {what}", rel_tol=1e-9)
            expect(float(law.loss(n_opt, d_opt)), loss, f"the loss of your (N_opt, D_opt) in {what}", abs_tol=1e-6)
            # compute-optimal for its own budget, not just any model on the same loss contour
            expect(float(law.compute_optimal(6 * n_opt * d_opt)[0]), n_opt,
                   f"the compute-optimal N at your model's own budget in {what}", rel_tol=1e-3)
            expect(saving, n * d / (n_opt * d_opt), f"the saving of {what}", rel_tol=1e-6)


def two_budget_exponent(C, N, L):
    from lmcourse.scaling import fit_isoflop

    # With two budgets the exponent is the slope between two minima a factor of 3 apart in compute:
    # an error of 20% in either minimum moves a by about 0.2. Any exponent from a grid this narrow
    # is uncertain by tenths, and 0.1 in a is a factor 10^(0.1 * 14) = 25 in N_opt at 1e24 FLOPs.
    keep = C > C.min()
    return fit_isoflop(C[keep], N[keep], L[keep]).a


def _grid(budgets, off):
    """Runs of a synthetic IsoFLOP grid: N_opt = 0.05 C^0.5, the smallest budget's minimum off by `off`."""
    C, N, L = [], [], []
    for i, c in enumerate(budgets):
        n_opt = 0.05 * c**0.5 * (off if i == 0 else 1.0) * (1.1 if i == 2 else 1.0)
        sizes = n_opt * np.array([0.3, 0.6, 1.2, 2.5, 5.0])
        C += [c] * 5
        N += list(sizes)
        L += list(3 + 0.15 * (np.log(sizes) - np.log(n_opt)) ** 2 - 0.1 * math.log10(c))
    return np.array(C), np.array(N), np.array(L)


def _two_budget_cases():
    return [_grid([5e9, 1e10, 3e10], 0.6), _grid([1e9, 1e10, 1e11, 1e12], 2.0), _grid([3e10, 5e9, 1e10], 1.5)]


EXERCISES = [
    function_exercise("compute_optimal", "the closed form, numerically", compute_optimal,
                      check=_check_compute_optimal),
    function_exercise("isoflop_minimum", "IsoFLOP by hand", isoflop_minimum, check=_check_isoflop_minimum),
    choice_exercise(
        "log_parabola", "why a parabola in log N",
        {"a": "np.polyfit loses precision on numbers as large as N, so the fit must be done on log N",
         "b": "the loss is a power law in N, a straight line in log N, and the parabola corrects that line",
         "c": "models k times too small and k times too large lose about equally, so the valley is "
              "symmetric in log N (and the sizes are spaced by factors); in N it is lopsided"},
        "c",
        "An IsoFLOP valley is symmetric in the ratio N / N_opt, not in the difference N - N_opt: halving "
        "and doubling the model cost about the same loss. A parabola, symmetric by construction, fits "
        "that in log N; in N it would put the minimum too far towards the large models."),
    function_exercise("overtraining", "overtrained models", overtraining, check=_check_overtraining),
    function_exercise("two_budget_exponent", "how stable is the exponent?", two_budget_exponent,
                      _two_budget_cases, rel_tol=1e-6),
    choice_exercise(
        "exponent_stability", "what the exponent's wobble says",
        {"a": "the bootstrap interval is too pessimistic: dropping a whole budget is a bigger change than "
              "resampling runs, so the exponent is really pinned down to a few hundredths",
         "b": "wide intervals are honest: over less than a decade of compute, moving one minimum by tens "
              "of percent moves a by tenths, and 0.1 in a is a factor of about 25 in N_opt at 1e24 FLOPs",
         "c": "the exponent hardly matters for extrapolation: N_opt at 1e24 FLOPs is set by the constant "
              "in front of C^a, which the bootstrap pins down"},
        "b",
        "The slope between minima a factor of 3 apart in compute is only as good as those minima, and "
        "extrapolating 14 orders of magnitude multiplies any error in a by 14 in log10 N_opt. The "
        "bootstrap, if anything, understates this: it knows the noise between runs, not whether the "
        "law bends at larger scale."),
]
