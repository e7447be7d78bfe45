"""Chapter 9 (scaling laws): the exercises' references and checks."""

from __future__ import annotations

import math

import numpy as np

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise
from lmcourse.exercises.study import choice, open_question


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

WARM_UP = [
    choice("The squared error of a sample mean of n draws is sigma^2 / n. Plotted on log-log axes "
           "against n, what does it look like?",
           ["a straight line of slope -1", "a straight line of slope -1/2",
            "a curve that flattens out at a floor", "an exponential decay"],
           "a", "log(sigma^2 / n) = log sigma^2 - log n: a line of slope -1. A power law is a straight "
                "line on log-log axes, which is why scaling laws are fitted there."),
    open_question("A dense Transformer with N parameters trains on D tokens. About how many FLOPs does "
                  "that cost, and where does the constant come from?",
                  "About 6ND: 2 FLOPs per parameter per token for the forward pass (a multiply and an "
                  "add) and about twice that for the backward pass."),
    open_question("You can afford ten times more compute for your next model. Would you spend it on a "
                  "bigger model, on more data, or on both? Guess a split before reading.",
                  "Chinchilla's answer is both, about equally: N and D each grow as C^0.5, so ten times "
                  "the compute buys about 3.2 times the parameters and 3.2 times the tokens."),
]

QUIZ = [
    choice("Two IsoFLOP grids give the exponents a = 0.73 (Kaplan) and a = 0.50 (Chinchilla) for "
           "N_opt ~ C^a, anchored at the same model today. After four more decades of compute, how far "
           "apart are their recommended model sizes?",
           ["about 1.2 times", "about 2.5 times", "about 8 times", "about 10,000 times"],
           "c", "The ratio changes by 10^(0.23 * 4), about 8.3. A small difference in exponent compounds "
                "with every decade of extrapolation."),
    choice("Why is an IsoFLOP profile fitted with a parabola in log N rather than in N?",
           ["N is too large a number for a polynomial fit",
            "halving and doubling the model cost about the same loss, so the valley is symmetric in log N",
            "the loss is linear in N, and the parabola adds the floor E"],
           "b", "The valley is symmetric in the ratio N / N_opt. In N itself it is lopsided, and a "
                "parabola would pull the minimum towards the large models."),
    choice("Plugging Hoffmann et al.'s *published* Approach-3 parameters into the closed form at "
           "Chinchilla's budget gives about how many tokens per parameter?",
           ["about 20, as the paper's rule says", "over 90", "about 1.7, as GPT-3 used"],
           "b", "The chapter computes it: the published fit implies over 90 tokens per parameter. Besiroglu "
                "et al.'s refit brings it back to about 20, in line with the paper's other two approaches."),
    choice("A model will serve 10^13 tokens over its life. Compared with the Chinchilla-optimal model "
           "for the same loss, the model that minimises training plus inference compute is:",
           ["larger, and trained on fewer tokens", "the same model; inference does not change training",
            "smaller, and trained on more tokens per parameter"],
           "c", "Inference costs about 2N FLOPs per token, so a smaller model pays back its longer "
                "training on every request; the chapter finds over 40 tokens per parameter at 10^13 served."),
    choice("You have 1T unique tokens and a budget of 4T training tokens. What is four epochs worth?",
           ["almost 4T fresh tokens", "exactly 1T: repeats teach nothing", "about 2T: each repeat is worth half"],
           "a", "By Muennighoff et al.'s fit, up to about four epochs repeated data is worth over 90% of "
                "fresh data; only after that does its value decay."),
    open_question("Our tiny grid predicts fewer than one token per parameter at 10^24 FLOPs. Name two "
                  "reasons not to believe it.",
                  "It spans less than one decade of compute (the bootstrap interval covers orders of "
                  "magnitude), and its runs are biased: one learning rate for all sizes, a vocabulary head "
                  "that is a large share of N, and runs of a few hundred steps limited by optimisation."),
]
