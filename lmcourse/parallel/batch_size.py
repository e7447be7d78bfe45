"""Batch size as a resource: how many steps a model needs to reach a loss, as the batch grows.

McCandlish et al. (2018, "An Empirical Model of Large-Batch Training") find that the steps S and
examples E needed to reach a given loss trade off as

    S = S_min (1 + B_crit / B),    E = B S = E_min (1 + B / B_crit),

so below the critical batch size B_crit doubling the batch (e.g. doubling the data-parallel GPUs)
nearly halves the steps, and above it buys almost nothing: the gradient of a batch that large is
already close to the true gradient. `steps_to_loss` measures S for one batch size on a synthetic
language (a random Markov chain over a small vocabulary, whose best possible loss is its entropy
rate) with bigram models trained by SGD at several learning rates, keeping the best;
`fit_critical_batch` fits the two constants.

Left out: Adam (its noise floor at a fixed learning rate blurs the picture), the gradient noise
scale that predicts B_crit, and real corpora.
"""

from __future__ import annotations

import math

import torch

from lmcourse.nn import cross_entropy

__all__ = ["MarkovLanguage", "steps_to_loss", "fit_critical_batch"]


class MarkovLanguage:
    """A random first-order Markov chain over vocab_size tokens; rows are peaked (Dirichlet(alpha))."""

    def __init__(self, vocab_size: int = 32, alpha: float = 0.3, seed: int = 0):
        if not (isinstance(vocab_size, int) and vocab_size >= 2):
            raise ValueError(f"MarkovLanguage: vocab_size={vocab_size!r}; expected an int >= 2")
        if not alpha > 0:
            raise ValueError(f"MarkovLanguage: alpha={alpha!r}; expected a number > 0")
        generator = torch.Generator().manual_seed(seed)
        gamma = torch.distributions.Gamma(torch.full((vocab_size, vocab_size), float(alpha)), torch.tensor(1.0))
        torch.manual_seed(seed)
        self.transitions = gamma.sample() + 1e-6
        self.transitions /= self.transitions.sum(-1, keepdim=True)
        self.vocab_size, self.generator = vocab_size, generator
        # The stationary distribution (the left eigenvector for eigenvalue 1), by power iteration.
        pi = torch.full((vocab_size,), 1.0 / vocab_size)
        for _ in range(500):
            pi = pi @ self.transitions
        self.stationary = pi

    @property
    def entropy_rate(self) -> float:
        """The lowest cross-entropy any model can reach, in nats per token."""
        logs = torch.log(self.transitions)
        return float(-(self.stationary[:, None] * self.transitions * logs).sum())

    def sample_pairs(self, num_pairs: int) -> tuple[torch.Tensor, torch.Tensor]:
        """num_pairs (current token, next token) pairs, the current one drawn from the stationary law."""
        current = torch.multinomial(self.stationary, num_pairs, replacement=True, generator=self.generator)
        following = torch.multinomial(self.transitions[current], 1, generator=self.generator).squeeze(-1)
        return current, following


def steps_to_loss(language: MarkovLanguage, batch_size: int, target_loss: float, *,
                  lrs=(0.3, 1.0, 3.0, 10.0, 30.0), max_steps: int = 4000) -> tuple[int, float]:
    """(steps, learning rate) of the fastest of several bigram models (logit tables, one per lr in lrs,
    trained side by side on the same batches with SGD) to bring the true loss to target_loss, with
    batch_size pairs per step; (max_steps + 1, nan) if none does. Taking the best lr for each batch
    size, as McCandlish et al. do, matters: a larger batch tolerates a larger step."""
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"steps_to_loss: batch_size={batch_size!r}; expected an int >= 1")
    if not target_loss > language.entropy_rate:
        raise ValueError(f"steps_to_loss: target_loss={target_loss!r} is not above the entropy rate "
                         f"{language.entropy_rate:.4f}, which no model can beat")
    lrs = torch.tensor([float(lr) for lr in lrs])
    vocab = language.vocab_size
    weight = torch.zeros(len(lrs), vocab, vocab, requires_grad=True)  # model k, row i: logits after token i
    for step in range(1, max_steps + 1):
        current, following = language.sample_pairs(batch_size)
        logits = weight[:, current].reshape(-1, vocab)  # (models * batch, vocab)
        # The sum over models of each model's mean loss: every model gets its own gradient.
        loss = cross_entropy(logits, following.repeat(len(lrs))) * len(lrs)
        (grad,) = torch.autograd.grad(loss, weight)
        with torch.no_grad():
            weight -= lrs[:, None, None] * grad
            reached = _true_loss(language, weight) <= target_loss
        if reached.any():
            return step, float(lrs[reached.nonzero()[0, 0]])
    return max_steps + 1, math.nan


@torch.no_grad()
def _true_loss(language: MarkovLanguage, weight: torch.Tensor) -> torch.Tensor:
    """Each model's expected cross-entropy under the chain itself, exactly (no sampling noise)."""
    log_probs = torch.log_softmax(weight, dim=-1)  # (models, vocab, vocab)
    return -(language.stationary[:, None] * language.transitions * log_probs).sum((-2, -1))


def fit_critical_batch(batch_sizes, steps) -> tuple[float, float]:
    """(S_min, B_crit) of S = S_min (1 + B_crit / B), fitted in log space (steps span decades, and
    a fit of S itself would only see the smallest batches). B_crit is searched on a fine log grid;
    for each candidate the best S_min is closed-form (the mean log residual). Leave out runs that
    never reached the target."""
    batch_sizes, steps = [float(b) for b in batch_sizes], [float(s) for s in steps]
    if len(batch_sizes) != len(steps) or len(steps) < 2:
        raise ValueError("fit_critical_batch: need at least two (batch size, steps) pairs of equal length")
    if min(batch_sizes) <= 0 or min(steps) <= 0:
        raise ValueError("fit_critical_batch: batch sizes and steps must be positive")
    log_steps = torch.tensor(steps, dtype=torch.float64).log()
    b = torch.tensor(batch_sizes, dtype=torch.float64)
    candidates = torch.logspace(math.log10(min(batch_sizes) / 100), math.log10(max(batch_sizes) * 100), 4000,
                                dtype=torch.float64)
    shape = torch.log1p(candidates[:, None] / b)  # (candidates, points): log(1 + B_crit / B)
    log_s_min = (log_steps - shape).mean(-1, keepdim=True)
    errors = ((log_steps - shape - log_s_min) ** 2).sum(-1)
    best = int(errors.argmin())
    return float(log_s_min[best].exp()), float(candidates[best])
