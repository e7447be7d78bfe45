"""lmcourse.scaling: power-law fits, the three Chinchilla approaches, the IsoFLOP runner and muP."""

import math

import numpy as np
import pytest
import torch

from lmcourse.accounting import count_parameters
from lmcourse.nn import TransformerLM
from lmcourse.scaling.chinchilla import (CHINCHILLA, CHINCHILLA_REFIT, ChinchillaLaw, effective_tokens, fit_chinchilla,
                                         inference_optimal)
from lmcourse.scaling.experiments import model_shape, prepare_tokens, run_isoflop_grid
from lmcourse.scaling.isoflop import (bootstrap, fit_envelope, fit_isoflop, isoflop_profile, percentile_interval)
from lmcourse.scaling.mup import MuPLM, apply_mup_init, hidden_matrices, logit_change, lr_sweep, mup_param_groups
from lmcourse.scaling.power_law import fit_offset_power_law, fit_power_law
from lmcourse.train import TrainConfig, train

TRUE = ChinchillaLaw(E=1.8, A=300.0, B=900.0, alpha=0.33, beta=0.36)


def synthetic_isoflop(law, budgets, rng, noise=0.003, sizes=9):
    """Runs on IsoFLOP slices of `law`: for each budget, sizes spread around the true optimum, noisy losses."""
    C, N, L = [], [], []
    for c in budgets:
        n_opt, _ = law.compute_optimal(c)
        for n in n_opt * np.logspace(-1, 1, sizes):
            C.append(c)
            N.append(n)
            L.append(law.loss(n, c / (6 * n)) * math.exp(rng.normal(0, noise)))
    return np.array(C), np.array(N), np.array(L)


# Power laws

def test_fit_power_law_recovers_noisy_exponent():
    rng = np.random.default_rng(0)
    x = np.logspace(1, 6, 40)
    y = 3.0 * x**-0.3 * np.exp(rng.normal(0, 0.02, x.size))
    fit = fit_power_law(x, y)
    assert fit.exponent == pytest.approx(-0.3, abs=0.01)
    assert fit.coefficient == pytest.approx(3.0, rel=0.1)
    assert fit(10.0) == pytest.approx(fit.coefficient * 10**fit.exponent)


def test_fit_power_law_matches_numpy_polyfit():
    x, y = np.array([2.0, 5.0, 9.0, 30.0]), np.array([1.0, 3.0, 2.0, 8.0])
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    fit = fit_power_law(x, y)
    assert fit.exponent == pytest.approx(slope) and fit.coefficient == pytest.approx(math.exp(intercept))


def test_fit_offset_power_law_recovers_floor_and_exponent():
    rng = np.random.default_rng(1)
    x = np.logspace(2, 7, 30)
    y = (1.7 + 40 * x**-0.35) * np.exp(rng.normal(0, 0.003, x.size))
    fit = fit_offset_power_law(x, y)
    assert fit.E == pytest.approx(1.7, abs=0.1)
    assert fit.alpha == pytest.approx(0.35, abs=0.05)


@pytest.mark.parametrize("x, y, match", [
    ([1, 2, 3], [1, 2], "equal lengths"),
    ([1, 0, 3], [1, 2, 3], "> 0"),
    ([1, 2, 3], [1, -2, 3], "> 0"),
    ([1, 2, float("nan")], [1, 2, 3], "finite"),
    ([1], [1], "at least 2"),
    ([[1, 2]], [[1, 2]], "1-D"),
    ([3, 3, 3], [1, 2, 3], "distinct"),
])
def test_fit_power_law_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_power_law(x, y)


def test_fit_bad_types_and_too_few_points():
    with pytest.raises(TypeError, match="x="):
        fit_power_law(["a", "b"], [1, 2])
    with pytest.raises(ValueError, match="at least 4"):
        fit_offset_power_law([1, 2, 3], [3, 2, 1])
    with pytest.raises(ValueError, match="at least 5"):
        fit_chinchilla([1, 2], [1, 2], [1, 2])


# The law and its closed-form optimum

def test_published_chinchilla_allocation():
    assert CHINCHILLA.a == pytest.approx(0.45, abs=0.01)  # Hoffmann et al. Table 2, Approach 3: a = 0.46
    assert CHINCHILLA.a + CHINCHILLA.b == pytest.approx(1.0)
    # Chinchilla itself: 70B parameters, 1.4T tokens, 5.88e23 FLOPs. The refit of Besiroglu et al.
    # puts the optimum there at ~20 tokens per parameter; the published fit at several times more.
    budget = 6 * 70e9 * 1.4e12
    N, D = CHINCHILLA_REFIT.compute_optimal(budget)
    assert 50e9 < N < 100e9 and 15 < D / N < 25
    assert 6 * N * D == pytest.approx(budget)
    assert CHINCHILLA.tokens_per_parameter(budget) > 50


def test_compute_optimal_is_the_minimum_along_the_isoflop():
    C = 1e21
    N_opt, _ = TRUE.compute_optimal(C)
    N = N_opt * np.logspace(-1, 1, 2001)
    losses = TRUE.loss(N, C / (6 * N))
    assert N[np.argmin(losses)] == pytest.approx(N_opt, rel=0.01)


def test_compute_optimal_rejects_non_positive_compute():
    with pytest.raises(ValueError, match="compute"):
        CHINCHILLA.compute_optimal(0)


# Approach 3

def test_fit_chinchilla_recovers_parameters():
    rng = np.random.default_rng(0)
    N = 10 ** rng.uniform(7, 10, 80)
    D = 10 ** rng.uniform(9, 12, 80)
    L = TRUE.loss(N, D) * np.exp(rng.normal(0, 0.005, N.size))
    fit = fit_chinchilla(N, D, L)
    assert fit.alpha == pytest.approx(TRUE.alpha, abs=0.05)
    assert fit.beta == pytest.approx(TRUE.beta, abs=0.05)
    assert fit.E == pytest.approx(TRUE.E, abs=0.1)
    assert fit.a == pytest.approx(TRUE.a, abs=0.03)


def test_fit_chinchilla_is_robust_to_an_outlier():
    rng = np.random.default_rng(2)
    N = 10 ** rng.uniform(7, 10, 60)
    D = 10 ** rng.uniform(9, 12, 60)
    L = TRUE.loss(N, D)
    L[0] *= 3  # a diverged run: the Huber loss (nearly L1 at delta=1e-3) barely notices it
    fit = fit_chinchilla(N, D, L)
    assert fit.alpha == pytest.approx(TRUE.alpha, abs=0.02) and fit.beta == pytest.approx(TRUE.beta, abs=0.02)


def test_fit_chinchilla_bad_arguments():
    N = D = L = np.ones(6) * 2
    with pytest.raises(ValueError, match="delta"):
        fit_chinchilla(N, D, L, delta=0)
    with pytest.raises(ValueError, match="num_starts"):
        fit_chinchilla(N, D, L, num_starts=0)
    with pytest.raises(ValueError, match="num_tokens"):
        fit_chinchilla(N, D[:5], L)


# Approaches 1 and 2, bootstrap

def test_fit_isoflop_recovers_exponents():
    C, N, L = synthetic_isoflop(TRUE, np.logspace(18, 21, 4), np.random.default_rng(0))
    fit = fit_isoflop(C, N, L)
    assert fit.a == pytest.approx(TRUE.a, abs=0.04)
    assert fit.b == pytest.approx(TRUE.b, abs=0.04)
    for profile in fit.profiles:
        n_true, _ = TRUE.compute_optimal(profile.compute)
        assert profile.n_opt == pytest.approx(n_true, rel=0.3)
    N23, D23 = fit.predict(1e23)
    assert 6 * N23 * D23 == pytest.approx(1e23, rel=0.01)


def test_isoflop_profile_errors():
    with pytest.raises(ValueError, match="3 distinct"):
        isoflop_profile(1e20, [1e8, 1e8, 1e9], [3.0, 3.0, 2.9])
    with pytest.raises(ValueError, match="valley"):
        isoflop_profile(1e20, [1e7, 1e8, 1e9], [3.0, 3.5, 3.0])
    with pytest.raises(ValueError, match="at least 2"):
        fit_isoflop([1e20] * 6, [1e7, 2e7, 4e7, 8e7, 1.6e8, 3.2e8], [3, 2.9, 2.8, 2.85, 2.9, 3])


def test_fit_envelope_recovers_exponent():
    law = TRUE
    grid_N = np.logspace(6, 10, 25)
    curves = []
    for n in grid_N:  # the final-loss curve of each size along its tokens: L(N, D) for D = C / (6N)
        D = np.logspace(7, 13, 60)
        curves.append((6 * n * D, law.loss(n, D)))
    compute_grid = np.logspace(17, 21, 12)
    fit = fit_envelope(grid_N, curves, compute_grid)
    assert fit.a == pytest.approx(law.a, abs=0.05)
    assert np.all(fit.loss <= law.loss(*law.compute_optimal(fit.compute)) + 0.05)
    with pytest.raises(ValueError, match="one each"):
        fit_envelope(grid_N[:3], curves, compute_grid)
    with pytest.raises(ValueError, match="not increasing"):
        fit_envelope([1e6, 1e7], [(np.array([2.0, 1.0]), np.array([3.0, 2.0]))] * 2, compute_grid)


def test_bootstrap_interval_covers_truth():
    C, N, L = synthetic_isoflop(TRUE, np.logspace(18, 21, 4), np.random.default_rng(3), noise=0.005)
    samples = bootstrap(lambda idx: fit_isoflop(C[idx], N[idx], L[idx]).a, len(C), num_samples=60, groups=C)
    assert len(samples) >= 50
    low, high = percentile_interval(samples, 0.9)
    assert low < high and low - 0.03 < TRUE.a < high + 0.03
    with pytest.raises(ValueError, match="groups"):
        bootstrap(len, 4, groups=[1, 2])
    with pytest.raises(ValueError, match="num_runs"):
        bootstrap(len, 1)
    with pytest.raises(ValueError, match="level"):
        percentile_interval([1.0, 2.0], 1.5)


# Inference-aware sizing and repeated data

def test_inference_optimal():
    target = 2.3
    N0, D0, total0 = inference_optimal(CHINCHILLA_REFIT, target, 0)
    assert CHINCHILLA_REFIT.loss(N0, D0) == pytest.approx(target, abs=1e-6)
    # Without inference the optimum is the compute-optimal model for its own budget.
    N_c, _ = CHINCHILLA_REFIT.compute_optimal(total0)
    assert N0 == pytest.approx(N_c, rel=0.01)
    N1, D1, _ = inference_optimal(CHINCHILLA_REFIT, target, 1e4 * D0)
    assert N1 < N0 and D1 / N1 > 2 * D0 / N0  # heavy use: a smaller model, many more tokens per parameter
    with pytest.raises(ValueError, match="floor"):
        inference_optimal(CHINCHILLA_REFIT, 1.0, 0)
    with pytest.raises(ValueError, match="inference_tokens"):
        inference_optimal(CHINCHILLA_REFIT, 2.3, -1)
    with pytest.raises(TypeError, match="ChinchillaLaw"):
        inference_optimal("chinchilla", 2.3, 0)


def test_effective_tokens():
    assert effective_tokens(1e9, 1) == pytest.approx(1e9)
    assert 3.5e9 < effective_tokens(1e9, 4) < 4e9  # a few epochs: nearly as good as new data
    assert effective_tokens(1e9, 1000) == pytest.approx(1e9 * 16.4, rel=1e-3)  # saturates at U (1 + R*)
    with pytest.raises(ValueError, match="epochs"):
        effective_tokens(1e9, 0.5)


# The runner

@pytest.fixture(scope="module")
def tokens():
    return prepare_tokens(200_000, 20_000, 300)


def test_prepare_tokens(tokens):
    train_ids, val_ids = tokens
    assert train_ids.dtype == np.uint16 and val_ids.dtype == np.uint16
    assert train_ids.max() < 300 and len(train_ids) > 10 * len(val_ids) // 2
    with pytest.raises(ValueError, match="vocab_size"):
        prepare_tokens(1000, 1000, 100)


def test_run_isoflop_grid(tokens, one_thread):
    train_ids, val_ids = tokens
    runs = run_isoflop_grid(train_ids, val_ids, [2e7], [(8, 1), (16, 1), (32, 1)], batch_size=4,
                            context_length=16, min_steps=2, max_steps=200, tokens_per_param=(0.001, 1000))
    assert [r.d_model for r in runs] == [8, 16, 32]
    for run in runs:
        assert run.flops == pytest.approx(2e7, rel=0.25)
        assert run.num_params == count_parameters(model_shape(run.d_model, 1, 300, 16)).non_embedding
        assert len(run.curve_flops) == run.steps and run.curve_flops[-1] == pytest.approx(run.flops)
        assert run.val_loss < math.log(300) + 0.5
    with pytest.raises(ValueError, match="budgets"):
        run_isoflop_grid(train_ids, val_ids, [], [(8, 1)])
    with pytest.raises(ValueError, match="shapes"):
        run_isoflop_grid(train_ids, val_ids, [1e8], [(8,)])


# muP

def test_mup_init_and_groups():
    base, wide = 16, 64
    lm = apply_mup_init(TransformerLM.from_config(model_shape(wide, 2, 100, 16)), base)
    assert torch.count_nonzero(lm.lm_head.weight) == 0
    for _, weight in hidden_matrices(lm):
        assert weight.std().item() == pytest.approx(1 / math.sqrt(weight.shape[1]), rel=0.15)
    model = MuPLM(lm, base)
    groups = mup_param_groups(model, base, weight_decay=0.1)
    assert groups[0]["lr_scale"] == pytest.approx(base / wide) and groups[1]["lr_scale"] == 1.0
    # AdamW decays by lr * wd per step: the muP library keeps that product fixed for hidden matrices
    assert groups[0]["lr_scale"] * groups[0]["weight_decay"] == pytest.approx(0.1)
    assert groups[1]["weight_decay"] == 0.1
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    assert len(groups[0]["params"]) == 2 * (4 + 3)  # per block: q, k, v, output; w1, w2, w3
    ids = torch.randint(0, 100, (2, 8))
    lm.lm_head.weight.data.normal_()
    assert torch.allclose(model(ids), lm(ids) * base / wide)


@pytest.mark.slow
def test_mup_keeps_the_update_size_fixed_as_width_grows():
    """The property muP is built for: at one learning rate, a step moves the outputs as much at any width.

    Under SP an Adam step on a d x d matrix changes its output by ~lr * d (d coherent terms).
    """
    ids = torch.randint(0, 64, (4, 17), generator=torch.Generator().manual_seed(1))
    x, y = ids[:, :-1], ids[:, 1:]
    sp = [logit_change(w, "sp", x, y, base_width=16) for w in (16, 128)]
    mup = [logit_change(w, "mup", x, y, base_width=16) for w in (16, 128)]
    assert sp[1] / sp[0] > 4  # 8x wider: the change grows roughly in proportion (about 10x measured)
    assert 0.25 < mup[1] / mup[0] < 4  # the same order (about 0.5x measured: finite-width effects)


def test_train_applies_group_lr_scale():
    lm = TransformerLM.from_config(model_shape(32, 1, 50, 8))
    model = MuPLM(apply_mup_init(lm, 8), 8)
    cfg = TrainConfig(batch_size=2, max_iters=2, eval_iters=0, log_interval=1, device="cpu", peak_flops=1.0,
                      max_lr=1e-2, min_lr=1e-2)
    optimizer = cfg.build_optimizer(mup_param_groups(model, 8))
    train(model, np.arange(200, dtype=np.uint16) % 50, None, cfg, optimizer=optimizer)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([1e-2 / 4, 1e-2])


def test_mup_errors():
    lm = TransformerLM.from_config(model_shape(16, 1, 50, 8))
    with pytest.raises(ValueError, match="base_width"):
        mup_param_groups(lm, 0)
    with pytest.raises(TypeError, match="TransformerLM"):
        apply_mup_init(torch.nn.Linear(2, 2), 8)
    with pytest.raises(ValueError, match="parametrization"):
        lr_sweep(np.zeros(10, np.uint16), np.zeros(10, np.uint16), [16], [1e-3], "ntk")
    ids = torch.zeros((1, 4), dtype=torch.long)
    with pytest.raises(ValueError, match="logit_change: parametrization"):
        logit_change(16, "ntk", ids, ids)
    with pytest.raises(ValueError, match="lr"):
        logit_change(16, "sp", ids, ids, lr=0.0)


def test_lr_sweep_shape(tokens, one_thread):
    train_ids, val_ids = tokens
    for parametrization in ("sp", "mup"):
        losses = lr_sweep(train_ids, val_ids, [8, 16], [1e-3, 1e-2], parametrization, base_width=8, num_layers=1,
                          steps=3, batch_size=2, context_length=16, eval_batches=1)
        assert losses.shape == (2, 2) and np.all(np.isfinite(losses))
