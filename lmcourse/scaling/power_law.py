"""Power laws: fitting y = A x^k on log-log axes, and the saturating form y = E + A x^(-alpha).

Covers `PowerLaw` / `fit_power_law` (least squares on log y against log x: a straight line on a
log-log plot, the form of N_opt(C) and D_opt(C)), `OffsetPowerLaw` / `fit_offset_power_law` (a loss
that falls as a power of x towards an irreducible floor E, the form of L(N) and L(D)), and
`check_positive_arrays`, the argument check every fitting function in `lmcourse.scaling` shares.

Leaves out: weighted fits and the two-variable law L(N, D) (`lmcourse.scaling.chinchilla`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

__all__ = ["PowerLaw", "OffsetPowerLaw", "fit_power_law", "fit_offset_power_law", "check_positive_arrays"]


def check_positive_arrays(fn: str, min_points: int, **arrays) -> list[np.ndarray]:
    """The named arrays as 1-D float arrays of one length >= min_points, every value finite and > 0.

    Raises ValueError naming the argument otherwise: logarithms of zero or negative values, or a fit
    with fewer points than parameters, would fail later with a message about something else.
    """
    out, length = [], None
    for name, values in arrays.items():
        try:
            a = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{fn}: {name}={values!r}; expected a sequence of numbers") from None
        if a.ndim != 1:
            raise ValueError(f"{fn}: {name} has shape {a.shape}; expected a 1-D sequence")
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"{fn}: {name}={a.tolist()}; expected finite values > 0 (they are fitted in log space)")
        if length is not None and len(a) != length:
            raise ValueError(f"{fn}: {name} has {len(a)} values but {next(iter(arrays))} has {length}; "
                             "expected equal lengths")
        length = len(a)
        out.append(a)
    if length is not None and length < min_points:
        raise ValueError(f"{fn}: got {length} points; expected at least {min_points}")
    return out


@dataclass(frozen=True)
class PowerLaw:
    """y = coefficient * x ** exponent."""

    coefficient: float
    exponent: float

    def __call__(self, x):
        return self.coefficient * np.asarray(x, dtype=float) ** self.exponent


@dataclass(frozen=True)
class OffsetPowerLaw:
    """y = E + A * x ** (-alpha): a power-law fall towards the floor E."""

    E: float
    A: float
    alpha: float

    def __call__(self, x):
        return self.E + self.A * np.asarray(x, dtype=float) ** (-self.alpha)


def fit_power_law(x, y) -> PowerLaw:
    """Least-squares line through (log x, log y): the exponent is its slope."""
    x, y = check_positive_arrays("fit_power_law", 2, x=x, y=y)
    if np.ptp(np.log(x)) == 0:
        raise ValueError(f"fit_power_law: x={x.tolist()} has a single value; expected at least two distinct")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return PowerLaw(float(np.exp(intercept)), float(slope))


def fit_offset_power_law(x, y) -> OffsetPowerLaw:
    """Fit y = E + A x^(-alpha) by least squares on log y, with 0 <= E < min(y).

    With E fixed the model is a straight line in log-log space, so each E on a grid below min(y)
    gives a closed-form start; the best start is then refined jointly. Fitting log y rather than y
    weighs every point by its relative error, as the curves span orders of magnitude in x.
    """
    x, y = check_positive_arrays("fit_offset_power_law", 4, x=x, y=y)
    log_x, log_y = np.log(x), np.log(y)

    def residuals(theta):
        E, log_A, alpha = theta
        return np.log(E + np.exp(log_A - alpha * log_x)) - log_y

    best = None
    for E in np.linspace(0, 0.99 * y.min(), 25):
        slope, intercept = np.polyfit(log_x, np.log(y - E), 1)
        start = np.array([E, intercept, -slope])
        cost = np.sum(residuals(start) ** 2)
        if best is None or cost < best[0]:
            best = (cost, start)
    fit = least_squares(residuals, best[1], bounds=([0, -np.inf, 0], [y.min(), np.inf, np.inf]))
    E, log_A, alpha = fit.x
    return OffsetPowerLaw(float(E), float(np.exp(log_A)), float(alpha))
