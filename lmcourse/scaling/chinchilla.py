"""The parametric scaling law L(N, D) = E + A / N^alpha + B / D^beta, and what follows from it.

Covers `ChinchillaLaw` (the loss of N parameters trained on D tokens, the compute-optimal split of a
budget C = 6ND in closed form, the tokens per parameter it implies), the published fit of Hoffmann et
al. (2022, eq. 10) and the refit of the same data by Besiroglu et al. (2024), `fit_chinchilla`
(Hoffmann et al.'s Approach 3: a Huber loss on log L, log-sum-exp parametrisation,
quasi-Newton from a grid of starts), `inference_optimal` (the model size that minimises training plus inference FLOPs
for a target loss, Sardana & Frankle 2023) and `effective_tokens` (repeated data is worth less,
Muennighoff et al. 2023).

Leaves out: the IsoFLOP and envelope approaches (`lmcourse.scaling.isoflop`), Kaplan et al.'s
(2020) form of L(N, D), and uncertainty (bootstrap the fit with `lmcourse.scaling.isoflop.bootstrap`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp

from lmcourse.scaling.power_law import check_positive_arrays

__all__ = ["ChinchillaLaw", "CHINCHILLA", "CHINCHILLA_REFIT", "fit_chinchilla", "inference_optimal",
           "effective_tokens"]


def _positive(fn: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not value > 0:
        raise ValueError(f"{fn}: {name}={value!r}; expected a number > 0")
    return float(value)


@dataclass(frozen=True)
class ChinchillaLaw:
    """L(N, D) = E + A / N**alpha + B / D**beta (nats per token)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, num_params, num_tokens):
        N, D = np.asarray(num_params, dtype=float), np.asarray(num_tokens, dtype=float)
        return self.E + self.A / N**self.alpha + self.B / D**self.beta

    @property
    def a(self) -> float:
        """N_opt grows as C**a."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """D_opt grows as C**b (a + b = 1, since C = 6ND)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        return (self.alpha * self.A / (self.beta * self.B)) ** (1 / (self.alpha + self.beta))

    def compute_optimal(self, compute):
        """(N_opt, D_opt) minimising L subject to 6ND = compute (Hoffmann et al. eq. 4).

        Setting dL/dN = 0 along D = C / (6N) gives alpha A / N^alpha = beta B / D^beta, whose solution
        is N_opt = G (C/6)^a and D_opt = (C/6)^b / G.
        """
        C = np.asarray(compute, dtype=float)
        if np.any(C <= 0):
            raise ValueError(f"compute_optimal: compute={compute!r}; expected FLOPs > 0")
        return self.G * (C / 6) ** self.a, (C / 6) ** self.b / self.G

    def tokens_per_parameter(self, compute):
        N, D = self.compute_optimal(compute)
        return D / N


# Hoffmann et al. (2022), eq. 10: the fit published with Chinchilla.
CHINCHILLA = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
# Besiroglu et al. (2024) refitted Hoffmann et al.'s own data points (read off their figure 4) and
# found the published parameters fit them poorly; theirs agree with approaches 1 and 2 (~20 tokens/param).
CHINCHILLA_REFIT = ChinchillaLaw(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)


def _huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss of residuals r and its derivative: quadratic within delta, linear outside (robust to outliers)."""
    small = np.abs(r) <= delta
    return np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)), np.where(small, r, delta * np.sign(r))


def _objective(theta, log_N, log_D, log_L, delta):
    """Sum of Huber(LSE(a - alpha log N, b - beta log D, e) - log L) and its gradient in (a, b, e, alpha, beta)."""
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * log_N, b - beta * log_D, np.full_like(log_N, e)])  # (3, points)
    top = terms.max(axis=0)
    exp = np.exp(terms - top)  # log-sum-exp by hand: scipy's adds checks that cost more than the sum here
    total = exp.sum(axis=0)
    loss, slope = _huber(top + np.log(total) - log_L, delta)
    weights = exp / total * slope  # d LSE / d term (the softmax), times d Huber / d residual
    grad = np.array([weights[0].sum(), weights[1].sum(), weights[2].sum(),
                     -(weights[0] * log_N).sum(), -(weights[1] * log_D).sum()])
    return loss.sum(), grad


def fit_chinchilla(num_params, num_tokens, losses, *, delta: float = 1e-3, num_starts: int = 4) -> ChinchillaLaw:
    """Fit L(N, D) to runs (N_i, D_i, L_i) the way Hoffmann et al. (2022, Approach 3) did.

    A = e^a, B = e^b, E = e^e keeps all three positive; log L is then a log-sum-exp of three linear
    terms. The loss is a Huber loss with delta = 1e-3 on log L (nearly an L1 loss: a few bad runs
    cannot pull the fit). The objective has many local minima, so a grid of starts (the paper's:
    alpha, beta in 0..2, e in -1..1, a, b in 0..25) is scored and the `num_starts` best are refined
    with BFGS; the best result wins. (The paper used L-BFGS, the limited-memory variant; with five
    parameters the full 5x5 BFGS matrix costs nothing, and scipy's L-BFGS-B call has a large fixed
    overhead when the BLAS thread pool competes for cores.)
    """
    N, D, L = check_positive_arrays("fit_chinchilla", 5, num_params=num_params, num_tokens=num_tokens, losses=losses)
    _positive("fit_chinchilla", "delta", delta)
    if isinstance(num_starts, bool) or not isinstance(num_starts, int) or num_starts < 1:
        raise ValueError(f"fit_chinchilla: num_starts={num_starts!r}; expected a positive int")
    log_N, log_D, log_L = np.log(N), np.log(D), np.log(L)
    grid = np.array(list(itertools.product(np.arange(0, 30, 5), np.arange(0, 30, 5), np.arange(-1, 1.5, 0.5),
                                           np.arange(0, 2.5, 0.5), np.arange(0, 2.5, 0.5))))  # (starts, 5)
    a, b, e, alpha, beta = grid.T[..., None]  # each (starts, 1): all starts scored at once
    terms = np.stack(np.broadcast_arrays(a - alpha * log_N, b - beta * log_D, e))  # (3, starts, points)
    scores = _huber(logsumexp(terms, axis=0) - log_L, delta)[0].sum(axis=1)
    best = None
    for start in grid[np.argsort(scores)[:num_starts]]:
        result = minimize(_objective, start, args=(log_N, log_D, log_L, delta), jac=True, method="BFGS")
        if best is None or result.fun < best.fun:
            best = result
    a, b, e, alpha, beta = best.x
    return ChinchillaLaw(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)), alpha=float(alpha),
                         beta=float(beta))


def inference_optimal(law: ChinchillaLaw, target_loss: float, inference_tokens: float) -> tuple[float, float, float]:
    """(N, D, total FLOPs) reaching `target_loss` at the least training + inference compute.

    Training costs 6ND, serving `inference_tokens` costs 2N per token. Along the curve L(N, D) =
    target, a smaller model needs more training tokens; with heavy inference the optimum moves to a
    smaller model trained on more tokens than the Chinchilla ratio.
    """
    if not isinstance(law, ChinchillaLaw):
        raise TypeError(f"inference_optimal: law must be a ChinchillaLaw, got {type(law).__name__}")
    target_loss = _positive("inference_optimal", "target_loss", target_loss)
    if not target_loss > law.E:
        raise ValueError(f"inference_optimal: target_loss={target_loss}; expected more than the law's floor E={law.E}")
    if isinstance(inference_tokens, bool) or not isinstance(inference_tokens, (int, float)) or inference_tokens < 0:
        raise ValueError(f"inference_optimal: inference_tokens={inference_tokens!r}; expected a number >= 0")
    # Below N_min the parameter term alone is above the target: no amount of data reaches it.
    log_N_min = np.log(law.A / (target_loss - law.E)) / law.alpha

    def tokens(log_N):
        gap = target_loss - law.E - law.A * np.exp(-law.alpha * log_N)
        return (law.B / gap) ** (1 / law.beta)

    def log_total(log_N):
        return np.log(6 * np.exp(log_N) * tokens(log_N) + 2 * np.exp(log_N) * inference_tokens)

    best = minimize_scalar(log_total, bounds=(log_N_min + 1e-6, log_N_min + 30), method="bounded",
                           options={"xatol": 1e-8})
    N = float(np.exp(best.x))
    return N, float(tokens(best.x)), float(np.exp(best.fun))


def effective_tokens(unique_tokens: float, epochs: float, r_star: float = 15.4) -> float:
    """What `epochs` passes over `unique_tokens` are worth in fresh tokens (Muennighoff et al. 2023).

    D' = U + U R* (1 - exp(-R / R*)) with R = epochs - 1 repetitions: the first few repeats are
    worth almost as much as new data, and the value of more saturates at U (1 + R*), about 16 epochs'
    worth with their fitted R* = 15.4.
    """
    U = _positive("effective_tokens", "unique_tokens", unique_tokens)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, float)) or not epochs >= 1:
        raise ValueError(f"effective_tokens: epochs={epochs!r}; expected a number >= 1")
    r_star = _positive("effective_tokens", "r_star", r_star)
    repeats = epochs - 1
    return U + U * r_star * (1 - np.exp(-repeats / r_star))
