"""The arithmetic of speculative decoding: expected tokens per target call, and the speedup.

With a per-token acceptance probability alpha (independent across positions), each call of the
target model checks gamma draft tokens and yields (1 - alpha^(gamma+1)) / (1 - alpha) tokens on
average (Leviathan et al. 2023, eq. 1); with c = cost(draft call) / cost(target call), a step costs
gamma c + 1 target calls, so the walltime speedup over plain decoding is the first quantity divided
by (gamma c + 1). The sampling itself (`accept_drafts`, `speculative_generate`) is in
`lmcourse.inference.speculative`; these formulas live here, free of torch, so widgets can plot them.

Leaves out: acceptance that varies with position or context (the formula assumes i.i.d. acceptance),
batching, and the time spent outside the models (sampling, bookkeeping), which the formula ignores.
"""

from __future__ import annotations

__all__ = ["check_alpha_gamma", "expected_tokens_per_call", "expected_speedup", "best_gamma"]


def check_alpha_gamma(alpha: float, gamma: int) -> None:
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha={alpha!r}; expected an acceptance probability in [0, 1]")
    if isinstance(gamma, bool) or not isinstance(gamma, int) or gamma < 0:
        raise ValueError(f"gamma={gamma!r}; expected an integer >= 0 (draft tokens per step)")


def expected_tokens_per_call(alpha: float, gamma: int) -> float:
    """(1 - alpha^(gamma+1)) / (1 - alpha): tokens per target call (gamma + 1 when alpha = 1)."""
    check_alpha_gamma(alpha, gamma)
    return gamma + 1.0 if alpha == 1 else (1 - alpha ** (gamma + 1)) / (1 - alpha)


def expected_speedup(alpha: float, gamma: int, cost_ratio: float) -> float:
    """Leviathan et al.'s walltime improvement (1 - alpha^(gamma+1)) / ((1 - alpha)(gamma c + 1))."""
    if not cost_ratio >= 0:
        raise ValueError(f"cost_ratio={cost_ratio!r}; expected >= 0 (draft call time / target call time)")
    return expected_tokens_per_call(alpha, gamma) / (gamma * cost_ratio + 1)


def best_gamma(alpha: float, cost_ratio: float, max_gamma: int = 16) -> int:
    """The gamma in 1..max_gamma with the largest expected speedup."""
    return max(range(1, max_gamma + 1), key=lambda g: expected_speedup(alpha, g, cost_ratio))
