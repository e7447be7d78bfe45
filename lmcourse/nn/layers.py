"""The building blocks of a Transformer, written from tensor primitives (matmul, exp, erf, mean).

Covers: `Linear`, `Embedding`, `RMSNorm`, `LayerNorm` (weight only), `softmax`, `silu`, `gelu`,
and the two feed-forward networks (`SwiGLU`, and `FeedForward` with GELU or ReLU). Which one a block
gets (or a mixture of experts, `lmcourse.nn.moe`) is `lmcourse.nn.model.make_ffn`'s choice.

Leaves out: biases (the modern recipe has none: they add parameters and little quality), dropout
(the course trains for less than one epoch, where it does not help), and fused kernels (see
`lmcourse.kernels`). Conventions are those of the CS336 assignments, so the state_dicts line up:
Linear weights are (d_out, d_in), Embedding weights (num_embeddings, embedding_dim).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["Linear", "Embedding", "RMSNorm", "LayerNorm", "softmax", "silu", "gelu",
           "SwiGLU", "FeedForward"]


def _truncated_normal(shape, std: float, device=None, dtype=None) -> nn.Parameter:
    """A parameter drawn from N(0, std^2) truncated at ±3 std: no rare huge weight starts out dominating."""
    weight = torch.empty(shape, device=device, dtype=dtype)
    return nn.Parameter(nn.init.trunc_normal_(weight, mean=0.0, std=std, a=-3 * std, b=3 * std))


def at_least_fp32(x: torch.Tensor) -> torch.Tensor:
    """x in fp32 if it is in a 16-bit type (fp64 stays fp64): for sums and statistics that need the digits."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


class Linear(nn.Module):
    """y = x W^T, with W of shape (d_out, d_in) and no bias."""

    def __init__(self, d_in: int, d_out: int, device=None, dtype=None):
        super().__init__()
        self.d_in, self.d_out = d_in, d_out
        # Glorot-style variance 2 / (d_in + d_out): keeps activations and gradients at about the
        # same scale going forward and backward, whatever the shape of the matrix.
        self.weight = _truncated_normal((d_out, d_in), math.sqrt(2 / (d_in + d_out)), device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., d_in) -> (..., d_out)
        # matmul with a 2-D right operand flattens the leading dims into one big GEMM, and the
        # transpose is only a view, so this is the same kernel call as F.linear.
        return torch.matmul(x, self.weight.t())

    def extra_repr(self) -> str:
        return f"d_in={self.d_in}, d_out={self.d_out}"


class Embedding(nn.Module):
    """Row lookup: token id i -> weight[i], with weight of shape (num_embeddings, embedding_dim)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = _truncated_normal((num_embeddings, embedding_dim), 1.0, device, dtype)

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:  # (...) long -> (..., embedding_dim)
        # Indexing is the one-hot matmul without building the one-hot matrix; its backward
        # scatter-adds into the rows that were used.
        return self.weight[token_ids]

    def extra_repr(self) -> str:
        return f"num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim}"


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight (Zhang & Sennrich 2019): LayerNorm without the mean."""

    def __init__(self, d_model: int, eps: float = 1e-5, device=None, dtype=None):
        super().__init__()
        self.d_model, self.eps = d_model, eps
        self.weight = nn.Parameter(torch.ones(d_model, device=device, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., d_model) -> same
        # Squares of bf16 activations lose most of their digits and a sum of thousands of them
        # can overflow fp16, so the statistic is computed in fp32 and only the result is cast back.
        in_dtype = x.dtype
        x = at_least_fp32(x)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return (x * self.weight).to(in_dtype)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, eps={self.eps}"


class LayerNorm(RMSNorm):
    """(x - mean) / sqrt(var + eps) * weight (Ba et al. 2016), without the bias, as in the no-bias recipe.

    Once the mean is subtracted, the root mean square is the (biased) standard deviation, so
    LayerNorm is RMSNorm of the centered input: the one idea this subclass adds.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = at_least_fp32(x)  # center in fp32 too, for the same reason as the statistics
        return super().forward(x32 - x32.mean(-1, keepdim=True)).to(x.dtype)


def softmax(x: torch.Tensor, dim: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """exp(x) / sum(exp(x)) along `dim`, shifted by the maximum so exp never overflows.

    softmax(x) = softmax(x - c) for any c; with c = max, the largest exponent is exp(0) = 1 and the
    sum is at least 1, so neither an overflow to inf nor a division by 0 can happen. `mask` (bool,
    broadcastable to x, True = keep) sets the other entries to -inf first: exp(-inf) = 0, so they get
    exactly zero weight (attention's causal mask). A row with nothing kept gives NaN, as torch's does.
    """
    return _Softmax.apply(x, dim, mask)


class _Softmax(torch.autograd.Function):
    """softmax with its backward written out, instead of autograd's trip through max, exp, sum and div.

    For y = softmax(x) and an upstream gradient g, the Jacobian-vector product is
    dL/dx = y * (g - sum(g * y)): two passes over the tensor, where the traced version takes six.
    For attention scores (batch x heads x seq x seq numbers) those passes are most of the cost.
    """

    @staticmethod
    def forward(ctx, x, dim, mask):
        if mask is None:
            y = x - x.amax(dim=dim, keepdim=True)
        else:
            y = torch.where(mask, x, float("-inf"))
            y -= y.amax(dim=dim, keepdim=True)
        y.exp_()  # in place: y is our own buffer, and the backward needs only the output
        y *= y.sum(dim=dim, keepdim=True).reciprocal_()
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        grad_x = grad * y
        # masked entries have y = 0, so their gradient is already 0: the mask needs no backward pass
        return grad_x.addcmul_(y, grad_x.sum(dim=ctx.dim, keepdim=True), value=-1), None, None


def silu(x: torch.Tensor) -> torch.Tensor:
    """x * sigmoid(x) (also called swish): a smooth ReLU that lets a little negative signal through."""
    return x * torch.sigmoid(x)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """x * Phi(x), Phi the standard normal CDF, in its exact erf form (GPT-2 used a tanh approximation)."""
    return 0.5 * x * (1.0 + torch.erf(x * (1.0 / math.sqrt(2.0))))


class SwiGLU(nn.Module):
    """w2(silu(w1 x) * w3 x) (Shazeer 2020): a gated FFN; w3's branch decides how much of w1's passes."""

    def __init__(self, d_model: int, d_ff: int, device=None, dtype=None):
        super().__init__()
        self.w1 = Linear(d_model, d_ff, device, dtype)
        self.w2 = Linear(d_ff, d_model, device, dtype)
        self.w3 = Linear(d_model, d_ff, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(silu(self.w1(x)) * self.w3(x))


_ACTIVATIONS = {"gelu": gelu, "relu": torch.relu}


class FeedForward(nn.Module):
    """w2(act(w1 x)): the original two-matrix FFN, with GELU (GPT-2) or ReLU (Vaswani et al. 2017)."""

    def __init__(self, d_model: int, d_ff: int, activation: str = "gelu", device=None, dtype=None):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"FeedForward: activation={activation!r}; expected one of {sorted(_ACTIVATIONS)}")
        self.activation = activation
        self.w1 = Linear(d_model, d_ff, device, dtype)
        self.w2 = Linear(d_ff, d_model, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(_ACTIVATIONS[self.activation](self.w1(x)))

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}"

