"""Compute-optimal model size from training runs: Hoffmann et al.'s (2022) Approaches 1 and 2, and the bootstrap.

Covers `fit_envelope` (Approach 1: at each FLOP count the lowest loss any run's training curve
reached, and the model size that reached it), `isoflop_profile` / `fit_isoflop` (Approach 2: at each
fixed budget a parabola in log N through the final losses, its minimum, then power laws through the
minima), and `bootstrap` / `percentile_interval` (resample the runs, refit, read the spread of any
derived number, e.g. the N_opt predicted for 1e23 FLOPs).

All three approaches take C = 6ND as the cost of a run; Approach 3 (a parametric L(N, D)) is in
`lmcourse.scaling.chinchilla`, and the runs themselves come from `lmcourse.scaling.experiments`.
Leaves out: weighting runs, and the learning-rate schedule tuned per run length that Approach 1
needs to be exact (Hoffmann et al. train four schedule lengths per model; we read one curve per run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lmcourse.scaling.power_law import PowerLaw, check_positive_arrays, fit_power_law

__all__ = ["EnvelopeFit", "fit_envelope", "IsoFLOPProfile", "isoflop_profile", "IsoFLOPFit", "fit_isoflop",
           "bootstrap", "percentile_interval"]


@dataclass(frozen=True)
class EnvelopeFit:
    """Approach 1: the envelope (compute, best loss, the N of the run that had it) and N_opt(C) through it."""

    compute: np.ndarray
    loss: np.ndarray
    num_params: np.ndarray
    n_opt: PowerLaw

    @property
    def a(self) -> float:
        return self.n_opt.exponent

    @property
    def b(self) -> float:
        return 1 - self.n_opt.exponent  # D_opt = C / (6 N_opt)

    def predict(self, compute):
        """(N_opt, D_opt) at `compute` FLOPs."""
        N = self.n_opt(compute)
        return N, np.asarray(compute, dtype=float) / (6 * N)


def fit_envelope(num_params, curves: Sequence[tuple], compute_grid) -> EnvelopeFit:
    """Approach 1. `curves[i]` = (FLOPs so far, loss) arrays of the run with `num_params[i]` parameters.

    Each curve is interpolated in log FLOPs, and at every point of `compute_grid` that at least one
    curve covers, the lowest interpolated loss wins. N_opt(C) is then a power law through the winners.
    """
    (num_params,) = check_positive_arrays("fit_envelope", 2, num_params=num_params)
    if len(curves) != len(num_params):
        raise ValueError(f"fit_envelope: {len(curves)} curves for {len(num_params)} num_params; expected one each")
    (grid,) = check_positive_arrays("fit_envelope", 2, compute_grid=compute_grid)
    table = np.full((len(curves), len(grid)), np.inf)  # (runs, grid points)
    for i, curve in enumerate(curves):
        flops, loss = check_positive_arrays("fit_envelope", 2, flops=curve[0], loss=curve[1])
        if np.any(np.diff(flops) <= 0):
            raise ValueError(f"fit_envelope: curves[{i}] FLOPs are not increasing")
        inside = (grid >= flops[0]) & (grid <= flops[-1])
        table[i, inside] = np.interp(np.log(grid[inside]), np.log(flops), loss)
    covered = np.isfinite(table).any(axis=0)
    if covered.sum() < 2:
        raise ValueError("fit_envelope: fewer than 2 points of compute_grid fall inside any curve")
    best = table[:, covered].argmin(axis=0)
    compute = grid[covered]
    winners = num_params[best]
    return EnvelopeFit(compute, table[best, np.flatnonzero(covered)], winners, fit_power_law(compute, winners))


@dataclass(frozen=True)
class IsoFLOPProfile:
    """One budget: loss = c2 (log N)^2 + c1 log N + c0 through its runs, and the minimum of that parabola."""

    compute: float
    coefficients: tuple[float, float, float]  # (c2, c1, c0), highest power first as np.polyval takes them
    n_opt: float
    loss_opt: float

    def __call__(self, num_params):
        return np.polyval(self.coefficients, np.log(np.asarray(num_params, dtype=float)))


def isoflop_profile(compute: float, num_params, losses) -> IsoFLOPProfile:
    """Fit the parabola in log N of one budget's final losses and return its minimum."""
    num_params, losses = check_positive_arrays("isoflop_profile", 3, num_params=num_params, losses=losses)
    if len(np.unique(num_params)) < 3:
        raise ValueError(f"isoflop_profile: num_params={num_params.tolist()} has fewer than 3 distinct sizes; "
                         "a parabola needs 3")
    c2, c1, c0 = np.polyfit(np.log(num_params), losses, 2)
    if not c2 > 0:
        raise ValueError(f"isoflop_profile: the losses at compute={compute:.3g} do not curve upwards on both sides "
                         f"(leading coefficient {c2:.3g}); expected a valley: add smaller and larger models")
    log_n = -c1 / (2 * c2)
    return IsoFLOPProfile(float(compute), (float(c2), float(c1), float(c0)), float(np.exp(log_n)),
                          float(np.polyval((c2, c1, c0), log_n)))


@dataclass(frozen=True)
class IsoFLOPFit:
    """Approach 2: one profile per budget, and N_opt = k C^a, D_opt = k' C^b through their minima."""

    profiles: tuple[IsoFLOPProfile, ...]
    n_opt: PowerLaw
    d_opt: PowerLaw

    @property
    def a(self) -> float:
        return self.n_opt.exponent

    @property
    def b(self) -> float:
        return self.d_opt.exponent

    def predict(self, compute):
        return self.n_opt(compute), self.d_opt(compute)


def fit_isoflop(compute, num_params, losses) -> IsoFLOPFit:
    """Approach 2 on runs (C_i, N_i, L_i); runs with equal C form one IsoFLOP profile (at least 2 budgets)."""
    compute, num_params, losses = check_positive_arrays("fit_isoflop", 6, compute=compute, num_params=num_params,
                                                        losses=losses)
    budgets = np.unique(compute)
    if len(budgets) < 2:
        raise ValueError(f"fit_isoflop: compute has {len(budgets)} distinct budget(s); expected at least 2")
    profiles = tuple(isoflop_profile(c, num_params[compute == c], losses[compute == c]) for c in budgets)
    n_opt = np.array([p.n_opt for p in profiles])
    return IsoFLOPFit(profiles, fit_power_law(budgets, n_opt), fit_power_law(budgets, budgets / (6 * n_opt)))


def bootstrap(statistic: Callable[[np.ndarray], object], num_runs: int, *, num_samples: int = 200,
              groups=None, seed: int = 0) -> list:
    """`statistic(indices)` on `num_samples` resamples (with replacement) of run indices 0..num_runs-1.

    With `groups` (one label per run) each group is resampled within itself, so every IsoFLOP budget
    keeps its number of runs. Resamples on which the statistic raises ValueError (e.g. too few
    distinct sizes left for a parabola) are dropped; the caller sees how many survived from the length.
    """
    if isinstance(num_runs, bool) or not isinstance(num_runs, int) or num_runs < 2:
        raise ValueError(f"bootstrap: num_runs={num_runs!r}; expected an int >= 2")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"bootstrap: num_samples={num_samples!r}; expected a positive int")
    labels = np.zeros(num_runs) if groups is None else np.asarray(groups)
    if labels.shape != (num_runs,):
        raise ValueError(f"bootstrap: groups has shape {labels.shape}; expected ({num_runs},), one label per run")
    members = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(num_samples):
        indices = np.concatenate([rng.choice(m, size=len(m), replace=True) for m in members])
        try:
            results.append(statistic(indices))
        except ValueError:
            continue
    return results


def percentile_interval(samples, level: float = 0.9) -> tuple[float, float]:
    """The central `level` interval of bootstrap samples (e.g. 0.9: 5th to 95th percentile)."""
    values = np.asarray(samples, dtype=float)
    if values.ndim != 1 or len(values) < 2 or not np.all(np.isfinite(values)):
        raise ValueError(f"percentile_interval: samples={samples!r}; expected at least 2 finite numbers")
    if not 0 < level < 1:
        raise ValueError(f"percentile_interval: level={level!r}; expected a number in (0, 1)")
    low, high = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)
