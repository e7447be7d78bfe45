"""The language-modeling loss and the logit soft cap, written from exp, log and tanh.

Covers: `cross_entropy` (mean negative log-likelihood of the targets, log-sum-exp stable, with
PaLM's optional z-loss) and `soft_cap` (Gemma 2's tanh cap on logits).

Leaves out: label smoothing, ignore_index / padding masks (the course trains on packed sequences
with no padding) and the MoE routers' auxiliary losses, which live in `lmcourse.nn.moe`.
"""

from __future__ import annotations

import torch

from lmcourse.nn.layers import at_least_fp32

__all__ = ["cross_entropy", "soft_cap"]


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, z_loss: float = 0.0) -> torch.Tensor:
    """Mean over all positions of -log softmax(logits)[target], plus z_loss * mean(logsumexp(logits)^2).

    logits (..., vocab_size), targets (...) integer ids in [0, vocab_size). Returns a scalar (fp32, or fp64 for fp64 logits).

    -log softmax(l)[t] = logsumexp(l) - l[t]: computed that way, never forming the probabilities,
    so a confident wrong prediction costs a large finite number instead of log(0) = -inf.
    The z-loss (PaLM, Chowdhery et al. 2022, with weight 1e-4) pulls log Z = logsumexp(l) towards 0:
    softmax ignores a constant shift of the logits, so without it they can drift, and bf16 loses
    precision on large numbers.
    """
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"cross_entropy: logits {tuple(logits.shape)} and targets {tuple(targets.shape)}; "
                         "expected logits (..., vocab_size) and targets (...)")
    if targets.dtype.is_floating_point or targets.dtype == torch.bool:
        raise TypeError(f"cross_entropy: targets have dtype {targets.dtype}; expected integer token ids")
    vocab_size = logits.shape[-1]
    if targets.numel() and (targets.min() < 0 or targets.max() >= vocab_size):
        raise ValueError(f"cross_entropy: targets range from {int(targets.min())} to {int(targets.max())}; "
                         f"expected ids in [0, {vocab_size})")
    # bf16 has 8 bits of mantissa: too few for a sum of 50k exponentials, so the loss runs in fp32
    flat = at_least_fp32(logits).reshape(-1, vocab_size)
    return _CrossEntropy.apply(flat, targets.reshape(-1).long(), float(z_loss))


class _CrossEntropy(torch.autograd.Function):
    """The loss on (N, vocab_size) logits, with the textbook gradient written out.

    d/dl [logsumexp(l) - l_t] = softmax(l) - onehot(t), and d/dl [z * logsumexp(l)^2] =
    2 z logsumexp(l) softmax(l): one pass over the logits, where autograd would retrace max, exp,
    sum, log and the gather. The logits are the largest activation of a small model (N x vocab_size).
    """

    @staticmethod
    def forward(ctx, logits, targets, z_loss):
        # logsumexp(l) = m + log(sum(exp(l - m))) with m = max(l): every exp is <= 1 and one is exactly 1
        m = logits.amax(dim=-1, keepdim=True)
        exp = (logits - m).exp_()  # (N, vocab_size)
        total = exp.sum(dim=-1, keepdim=True)  # (N, 1), >= 1
        log_z = (m + total.log()).squeeze(-1)  # (N,)
        loss = (log_z - logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)).mean()
        if z_loss:
            loss = loss + z_loss * log_z.pow(2).mean()
        ctx.z_loss = z_loss
        ctx.save_for_backward(exp, total, log_z, targets)
        return loss

    @staticmethod
    def backward(ctx, grad):
        exp, total, log_z, targets = ctx.saved_tensors
        per_token = grad / targets.numel()  # the mean's 1/N
        weight = per_token * (1 + 2 * ctx.z_loss * log_z)  # (N,)
        grad_logits = exp * (weight.unsqueeze(-1) / total)  # weight * softmax(l)
        grad_logits.scatter_add_(-1, targets.unsqueeze(-1), (-per_token).expand(targets.numel(), 1))  # - onehot
        return grad_logits, None, None


def soft_cap(x: torch.Tensor, cap: float) -> torch.Tensor:
    """cap * tanh(x / cap): about x while |x| << cap, never beyond ±cap (Gemma 2 caps logits at 30).

    Unlike clipping, it keeps a gradient everywhere, so a logit pushed towards the cap is slowed, not frozen.
    """
    if not cap > 0:
        raise ValueError(f"soft_cap: cap={cap}; expected a positive number")
    return cap * torch.tanh(x / cap)
