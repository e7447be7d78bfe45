"""Tensor parallelism, Megatron style (Shoeybi et al. 2019): each rank holds a slice of every weight matrix.

- `ColumnParallelLinear` keeps rows [r*d_out/n, (r+1)*d_out/n) of W (d_out, d_in): its output is this
  rank's slice of the features, no communication needed. `RowParallelLinear` keeps the matching columns
  of the next W: it consumes the sliced features and all-reduces the partial products into the full output.
- The two conjugate operators (autograd Functions): `copy_to_parallel` (f: identity forward, all-reduce
  of the gradient backward: every rank's slice of the input gradient is partial) and
  `reduce_from_parallel` (g: all-reduce forward, identity backward). A column-then-row pair therefore
  costs one all-reduce forward and one backward, whatever the hidden width.
- `tensor_parallel_swiglu` and `tensor_parallel_attention` shard the course's own `SwiGLU` and
  `MultiHeadSelfAttention` (d_ff, respectively the query and key/value heads, split across ranks) and
  run their unchanged forward with the projections swapped for the parallel ones; `ParallelRegion`
  applies f once at the entrance.
- `tensor_parallel_check` is a worker comparing forward and backward with the unsharded modules.

Left out: sequence parallelism of the norms and dropout regions (Korthikanti et al. 2022), sharded
embeddings / vocabulary-parallel cross-entropy, QK-norm (its weight is shared by heads and would need
its own gradient all-reduce), and overlapping the all-reduces with compute.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from lmcourse.nn.attention import MultiHeadSelfAttention
from lmcourse.nn.layers import Linear, SwiGLU

__all__ = [
    "copy_to_parallel",
    "reduce_from_parallel",
    "ColumnParallelLinear",
    "RowParallelLinear",
    "ParallelRegion",
    "check_divisible",
    "tensor_parallel_swiglu",
    "tensor_parallel_attention",
    "tensor_parallel_check",
]


class _CopyToParallel(torch.autograd.Function):
    """f: the input is replicated on every rank; each rank's backward only sees its own branch."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad


class _ReduceFromParallel(torch.autograd.Function):
    """g: sum the partial outputs of the ranks; the summed output's gradient is the same everywhere."""

    @staticmethod
    def forward(ctx, x):
        x = x.contiguous().clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


def copy_to_parallel(x: torch.Tensor) -> torch.Tensor:
    """Identity forward, all-reduce of the gradient backward (Megatron's f)."""
    return _CopyToParallel.apply(x)


def reduce_from_parallel(x: torch.Tensor) -> torch.Tensor:
    """All-reduce forward, identity backward (Megatron's g)."""
    return _ReduceFromParallel.apply(x)


def check_divisible(world_size: int, **sizes: int) -> None:
    """ValueError naming every size that world_size does not divide."""
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size={world_size!r}; expected an int >= 1")
    bad = {name: size for name, size in sizes.items() if size % world_size}
    if bad:
        listed = ", ".join(f"{name}={size}" for name, size in bad.items())
        raise ValueError(f"{listed} not divisible by world_size={world_size}; tensor parallelism splits them evenly")


class ColumnParallelLinear(Linear):
    """Rows [rank*d_out/n, (rank+1)*d_out/n) of a (d_out, d_in) weight: y_local = x W_local^T.

    With `sync_input` the input passes through f (needed when this layer alone reads a replicated
    input); blocks where several column layers read the same input apply f once instead.
    """

    def __init__(self, d_in: int, d_out: int, rank: int, world_size: int, sync_input: bool = True,
                 device=None, dtype=None):
        check_divisible(world_size, d_out=d_out)
        super().__init__(d_in, d_out // world_size, device, dtype)
        self.rank, self.world_size, self.sync_input = rank, world_size, sync_input

    @classmethod
    def from_linear(cls, linear: Linear, rank: int, world_size: int, sync_input: bool = True):
        layer = cls(linear.d_in, linear.d_out, rank, world_size, sync_input, device="meta")
        layer.weight = nn.Parameter(linear.weight.detach().chunk(world_size, dim=0)[rank].clone())
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(copy_to_parallel(x) if self.sync_input else x)


class RowParallelLinear(Linear):
    """Columns [rank*d_in/n, (rank+1)*d_in/n) of a (d_out, d_in) weight; the partial outputs go through g."""

    def __init__(self, d_in: int, d_out: int, rank: int, world_size: int, device=None, dtype=None):
        check_divisible(world_size, d_in=d_in)
        super().__init__(d_in // world_size, d_out, device, dtype)
        self.rank, self.world_size = rank, world_size

    @classmethod
    def from_linear(cls, linear: Linear, rank: int, world_size: int):
        layer = cls(linear.d_in, linear.d_out, rank, world_size, device="meta")
        layer.weight = nn.Parameter(linear.weight.detach().chunk(world_size, dim=1)[rank].clone())
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (..., d_in / n), this rank's features
        return reduce_from_parallel(super().forward(x))


class ParallelRegion(nn.Module):
    """inner(f(x)): one all-reduce of the input gradient for all the column layers inside."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return self.inner(copy_to_parallel(x), *args, **kwargs)


def tensor_parallel_swiglu(ffn: SwiGLU, rank: int, world_size: int) -> ParallelRegion:
    """This rank's shard of `ffn`: w1, w3 column-parallel (d_ff split), w2 row-parallel; same forward."""
    check_divisible(world_size, d_ff=ffn.w1.d_out)
    shard = SwiGLU(ffn.w1.d_in, ffn.w1.d_out, device="meta")
    # silu(w1 x) * w3 x is elementwise in d_ff, so each rank can finish it on its own slice.
    shard.w1 = ColumnParallelLinear.from_linear(ffn.w1, rank, world_size, sync_input=False)
    shard.w3 = ColumnParallelLinear.from_linear(ffn.w3, rank, world_size, sync_input=False)
    shard.w2 = RowParallelLinear.from_linear(ffn.w2, rank, world_size)
    return ParallelRegion(shard)


def tensor_parallel_attention(attn: MultiHeadSelfAttention, rank: int, world_size: int) -> ParallelRegion:
    """This rank's heads of `attn`: q/k/v column-parallel by head, output_proj row-parallel; same forward.

    Heads are independent until output_proj, so a rank computes num_heads / n whole heads (and the
    num_kv_heads / n key/value heads they read under GQA) without talking to anyone.
    """
    check_divisible(world_size, num_heads=attn.num_heads, num_kv_heads=attn.num_kv_heads)
    if attn.qk_norm:
        raise ValueError("tensor_parallel_attention: qk_norm=True is not supported (its weight is shared by heads)")
    shard = MultiHeadSelfAttention(attn.d_model, attn.num_heads, attn.num_kv_heads, attn.rope,
                                   sliding_window=attn.sliding_window, device="meta")
    for name in ("q_proj", "k_proj", "v_proj"):  # rows are ordered (head, head_dim): chunks are whole heads
        setattr(shard, name, ColumnParallelLinear.from_linear(getattr(attn, name), rank, world_size, False))
    shard.output_proj = RowParallelLinear.from_linear(attn.output_proj, rank, world_size)
    # The inherited forward reads these counts to reshape; head_dim stays that of the full module.
    shard.num_heads, shard.num_kv_heads = attn.num_heads // world_size, attn.num_kv_heads // world_size
    return ParallelRegion(shard)


def _shard_of(name: str, full: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    dim = 1 if name.split(".")[-2] in ("w2", "output_proj") else 0  # row-parallel layers split columns
    return full.chunk(world_size, dim=dim)[rank]


def tensor_parallel_check(rank: int, world_size: int, d_model: int = 32, num_heads: int = 4, d_ff: int = 64,
                          num_kv_heads: int | None = None, seed: int = 0) -> dict:
    """Worker: the TP SwiGLU and TP attention against the full modules (same seed on every rank).

    Returns {"swiglu"/"attention": {"output", "input_grad", "weight_grad"}: max abs differences},
    float64 throughout so the differences are rounding only.
    """
    from lmcourse.nn.attention import RotaryEmbedding

    torch.manual_seed(seed)
    head_dim = d_model // num_heads
    full_modules = {
        "swiglu": SwiGLU(d_model, d_ff, dtype=torch.float64),
        "attention": MultiHeadSelfAttention(d_model, num_heads, num_kv_heads,
                                            RotaryEmbedding(10000.0, head_dim, 16, dtype=torch.float64),
                                            dtype=torch.float64),
    }
    shard_fns = {"swiglu": tensor_parallel_swiglu, "attention": tensor_parallel_attention}
    x = torch.randn(2, 8, d_model, dtype=torch.float64)
    upstream = torch.randn(2, 8, d_model, dtype=torch.float64)  # a loss gradient, the same on every rank
    report = {}
    for key, full in full_modules.items():
        x_full, x_shard = x.clone().requires_grad_(), x.clone().requires_grad_()
        y_full = full(x_full)
        (y_full * upstream).sum().backward()
        shard = shard_fns[key](full, rank, world_size)
        y_shard = shard(x_shard)
        (y_shard * upstream).sum().backward()
        full_grads = {name: param.grad for name, param in full.named_parameters()}
        weight_diff = max(
            (param.grad - _shard_of(name, full_grads[name.removeprefix("inner.")], rank, world_size)).abs().max().item()
            for name, param in shard.named_parameters()
        )
        report[key] = {
            "output": (y_shard - y_full).abs().max().item(),
            "input_grad": (x_shard.grad - x_full.grad).abs().max().item(),
            "weight_grad": weight_diff,
        }
    return report
