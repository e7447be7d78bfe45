"""FlashAttention-2 (Dao 2023): exact attention without the (n_queries, n_keys) score matrix in memory.

Standard attention writes the scores S = QK^T/sqrt(d) and the probabilities P = softmax(S) to memory:
two (n_queries, n_keys) arrays per head, read back for the backward. FlashAttention walks over
tiles of keys instead, keeping a running row maximum ``m``, a running sum ``l`` of ``exp(S - m)`` and
an unnormalised output (the online softmax), so a query tile only ever holds one (Q_TILE, K_TILE)
block of scores. The forward saves just the output O and the row logsumexp L = m + log(l)
(one number per query); the backward recomputes P = exp(S - L) tile by tile from q, k and L
(Dao 2023, Algorithm 2):

    D = rowsum(dO * O),  dV = P^T dO,  dP = dO V^T,  dS = P * (dP - D),
    dQ = dS K / sqrt(d),  dK = dS^T Q / sqrt(d).

Two autograd Functions with the same interface, ``.apply(q, k, v, is_causal=False)``:

- ``FlashAttention2PyTorch``: the algorithm in plain PyTorch, tiled in both passes
  (``tiled_forward``, ``tiled_backward``); slow (a Python loop over tiles) but readable, and its
  memory is O(tile^2) per pass, like the kernel's.
- ``FlashAttention2Triton``: the same algorithm as Triton kernels (``flash_triton.py``).

q is (..., n_queries, d), k and v (..., n_keys, d) with the same leading dimensions (batch, or batch
and heads: they are flattened into one batch dimension). ``is_causal`` masks key j for query i when
j > i (top-left aligned, as ``torch.nn.functional.scaled_dot_product_attention`` does) and skips
the key tiles that a query tile cannot see at all, which halves the work for n_queries = n_keys.
``ctx.saved_tensors`` is exactly (L, q, k, v, O), L of shape (..., n_queries) in float32.

``flash_attention_core`` plugs the Triton Function into the model as its attention core
(``TransformerLM.set_attention_core``, ``python -m lmcourse.train --attention flash``): CUDA only, GQA by
repeating k and v, no sliding window.

Left out: dropout, attention masks other than causal (sliding windows), grouped-query attention inside
the kernel (the core repeats k and v first), and autotuning of tile sizes (they are class attributes:
``Q_TILE``, ``K_TILE``).
"""

from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

from lmcourse.kernels._triton import INTERPRETED, check_tensor, falls_back_to
from lmcourse.kernels.flash_triton import TRITON_HEAD_DIMS, flash_backward_triton, flash_forward_triton

__all__ = ["FlashAttention2PyTorch", "FlashAttention2Triton", "flash_attention_core", "FLASH_DTYPES", "tiled_forward", "tiled_backward",
           "key_tile_end", "query_tile_start", "check_attention_inputs"]

FLASH_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def key_tile_end(q_start: int, q_end: int, n_keys: int, is_causal: bool) -> int:
    """One past the last key that queries q_start..q_end-1 may attend to: where their key loop stops.

    Under the causal mask query i sees keys 0..i, so every key tile starting at or after q_end is
    fully masked for this query tile and never visited.
    """
    return min(n_keys, q_end) if is_causal else n_keys


def query_tile_start(k_start: int, q_tile: int, is_causal: bool) -> int:
    """The first query tile (its first row) that sees any key of a key tile starting at k_start."""
    return (k_start // q_tile) * q_tile if is_causal else 0


def tiled_forward(q, k, v, is_causal: bool, q_tile: int, k_tile: int):
    """q (batch, n_queries, d), k, v (batch, n_keys, d) -> O like q, L (batch, n_queries) in float32."""
    n_queries, n_keys, scale = q.shape[1], k.shape[1], 1 / math.sqrt(q.shape[-1])
    out = torch.empty_like(q)
    logsumexp = torch.empty(q.shape[:2], device=q.device, dtype=torch.float32)
    for q_start in range(0, n_queries, q_tile):  # on a GPU: one program per query tile, in parallel
        q_end = min(q_start + q_tile, n_queries)
        q_i = q[:, q_start:q_end].float()  # tiles are computed in fp32 whatever the input dtype
        m = torch.full(q_i.shape[:2], -torch.inf, device=q.device)  # running row maximum
        l = torch.zeros_like(m)  # running sum of exp(s - m)
        acc = torch.zeros_like(q_i)  # running sum of exp(s - m) @ v: O before dividing by l
        for k_start in range(0, key_tile_end(q_start, q_end, n_keys, is_causal), k_tile):
            k_end = min(k_start + k_tile, n_keys)
            s = q_i @ k[:, k_start:k_end].float().transpose(1, 2) * scale
            if is_causal and k_end - 1 > q_start:  # only tiles crossing the diagonal have masked entries
                s = s.masked_fill(_causal_masked(q_start, q_end, k_start, k_end, q.device), -torch.inf)
            m_new = torch.maximum(m, s.amax(dim=-1))
            p = torch.exp(s - m_new[..., None])
            alpha = torch.exp(m - m_new)  # rescales what was summed under the old maximum
            l = alpha * l + p.sum(dim=-1)
            acc = alpha[..., None] * acc + p @ v[:, k_start:k_end].float()
            m = m_new
        out[:, q_start:q_end] = (acc / l[..., None]).to(q.dtype)
        logsumexp[:, q_start:q_end] = m + torch.log(l)
    return out, logsumexp


def tiled_backward(q, k, v, out, logsumexp, grad_out, is_causal: bool, q_tile: int, k_tile: int):
    """The FlashAttention-2 backward, tile by tile: P is recomputed from L, never stored whole.

    The outer loop runs over key tiles (each owns its dK, dV rows, as one GPU program would); the
    inner loop over the query tiles that see it adds to dQ. Returns dq, dk, dv in the input dtype.
    """
    n_queries, n_keys, scale = q.shape[1], k.shape[1], 1 / math.sqrt(q.shape[-1])
    delta = (grad_out.float() * out.float()).sum(dim=-1)  # D = rowsum(dO * O) = rowsum(P * dP)
    dq = torch.zeros(q.shape, device=q.device)
    dk, dv = torch.zeros(k.shape, device=k.device), torch.zeros(v.shape, device=v.device)
    for k_start in range(0, n_keys, k_tile):
        k_end = min(k_start + k_tile, n_keys)
        k_j, v_j = k[:, k_start:k_end].float(), v[:, k_start:k_end].float()
        for q_start in range(query_tile_start(k_start, q_tile, is_causal), n_queries, q_tile):
            q_end = min(q_start + q_tile, n_queries)
            q_i, do_i = q[:, q_start:q_end].float(), grad_out[:, q_start:q_end].float()
            s = q_i @ k_j.transpose(1, 2) * scale
            if is_causal and k_end - 1 > q_start:
                s = s.masked_fill(_causal_masked(q_start, q_end, k_start, k_end, q.device), -torch.inf)
            p = torch.exp(s - logsumexp[:, q_start:q_end, None])  # exactly softmax(S), from the saved L
            dv[:, k_start:k_end] += p.transpose(1, 2) @ do_i
            dp = do_i @ v_j.transpose(1, 2)
            ds = p * (dp - delta[:, q_start:q_end, None])  # the softmax Jacobian, applied row by row
            dq[:, q_start:q_end] += ds @ k_j * scale
            dk[:, k_start:k_end] += ds.transpose(1, 2) @ q_i * scale
    return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype)


def _causal_masked(q_start, q_end, k_start, k_end, device) -> torch.Tensor:
    """(q_end - q_start, k_end - k_start) booleans, True where key index > query index."""
    rows = torch.arange(q_start, q_end, device=device)
    cols = torch.arange(k_start, k_end, device=device)
    return cols[None, :] > rows[:, None]


def check_attention_inputs(q, k, v, is_causal, *, device=None) -> None:
    """Raise TypeError/ValueError naming the argument unless q, k, v, is_causal fit together."""
    check_tensor("q", q, dtypes=FLASH_DTYPES, device=device)
    if q.dim() < 3:
        raise ValueError(f"q has {q.dim()} dimensions (shape {tuple(q.shape)}); expected (batch, ..., n_queries, d)")
    for name, t in (("k", k), ("v", v)):
        check_tensor(name, t, dtypes=FLASH_DTYPES)
        if t.dtype != q.dtype:
            raise TypeError(f"{name} has dtype {t.dtype} but q has {q.dtype}; q, k and v must share a dtype")
        if t.device != q.device:
            raise ValueError(f"{name} is on {t.device} but q is on {q.device}; q, k and v must share a device")
        if t.dim() != q.dim() or t.shape[:-2] != q.shape[:-2] or t.shape[-1] != q.shape[-1]:
            raise ValueError(f"{name} has shape {tuple(t.shape)}; expected (*{tuple(q.shape[:-2])}, n_keys, "
                             f"{q.shape[-1]}) to match q of shape {tuple(q.shape)}")
    if v.shape != k.shape:
        raise ValueError(f"v has shape {tuple(v.shape)}; expected the shape of k, {tuple(k.shape)}")
    if not isinstance(is_causal, bool):
        raise TypeError(f"is_causal={is_causal!r}; expected True or False")


def _check_tile(cls, name: str, *, power_of_two: bool) -> int:
    """The class attribute cls.<name> (a tile size), validated before any work."""
    value = getattr(cls, name)
    if not isinstance(value, int) or value < 1 or (power_of_two and (value < 16 or value & (value - 1))):
        expected = "a power of two >= 16 (tl.dot's smallest tile)" if power_of_two else "a positive integer"
        raise ValueError(f"{cls.__name__}.{name}={value!r}; expected {expected}")
    return value


def _forward(ctx, tiled, q_tile, k_tile, q, k, v, is_causal):
    """Shared by both Functions: flatten leading dims, run `tiled`, save (L, q, k, v, O)."""
    flat = [t.reshape(-1, *t.shape[-2:]) for t in (q, k, v)]
    out, logsumexp = tiled(*flat, is_causal, q_tile, k_tile)
    out, logsumexp = out.reshape(q.shape), logsumexp.reshape(q.shape[:-1])
    ctx.save_for_backward(logsumexp, q, k, v, out)
    ctx.is_causal, ctx.tiles = is_causal, (q_tile, k_tile)
    return out


def _backward(ctx, tiled, grad_out):
    logsumexp, q, k, v, out = ctx.saved_tensors
    flat = [t.reshape(-1, *t.shape[-2:]) for t in (q, k, v, out)]
    grads = tiled(*flat, logsumexp.reshape(-1, q.shape[-2]), grad_out.reshape(flat[0].shape),
                  ctx.is_causal, *ctx.tiles)
    return *(g.reshape(t.shape) for g, t in zip(grads, (q, k, v))), None


class FlashAttention2PyTorch(torch.autograd.Function):
    """FlashAttention-2 in PyTorch: ``FlashAttention2PyTorch.apply(q, k, v, is_causal=False)``."""

    Q_TILE, K_TILE = 64, 64  # any positive sizes; tests use smaller ones to cover many tiles

    @staticmethod
    def forward(ctx, q, k, v, is_causal=False):
        check_attention_inputs(q, k, v, is_causal)
        cls = FlashAttention2PyTorch
        tiles = _check_tile(cls, "Q_TILE", power_of_two=False), _check_tile(cls, "K_TILE", power_of_two=False)
        return _forward(ctx, tiled_forward, *tiles, q, k, v, is_causal)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        return _backward(ctx, tiled_backward, grad_out)


@falls_back_to(FlashAttention2PyTorch)
class FlashAttention2Triton(torch.autograd.Function):
    """FlashAttention-2 as Triton kernels: ``FlashAttention2Triton.apply(q, k, v, is_causal=False)``.

    Tile sizes are class attributes: 128 x 64 when compiled for a GPU (untuned defaults), 32 x 32 under
    the CPU interpreter (each program runs in NumPy; tests set 16 to cover more tiles). tl.dot needs
    tiles of at least 16 rows and columns; d must be one of TRITON_HEAD_DIMS.
    """

    Q_TILE, K_TILE = (32, 32) if INTERPRETED else (128, 64)

    @staticmethod
    def forward(ctx, q, k, v, is_causal=False):
        check_attention_inputs(q, k, v, is_causal, device="triton")
        if q.shape[-1] not in TRITON_HEAD_DIMS:
            raise ValueError(f"q has head dimension d={q.shape[-1]}; the Triton kernel holds a whole row of d "
                             f"in one tile, so d must be one of {TRITON_HEAD_DIMS}")
        if INTERPRETED and q.dtype == torch.bfloat16:
            # Refuse rather than return garbage: the interpreter multiplies bf16 bit patterns in
            # tl.dot (triton-lang/triton#11584, "not supported yet"); float16 works there.
            raise TypeError("q has dtype torch.bfloat16, which Triton's CPU interpreter cannot multiply in tl.dot; "
                            "use float16 or float32 on the CPU, or run on a CUDA device")
        cls = FlashAttention2Triton
        tiles = _check_tile(cls, "Q_TILE", power_of_two=True), _check_tile(cls, "K_TILE", power_of_two=True)
        return _forward(ctx, flash_forward_triton, *tiles, q, k, v, is_causal)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        return _backward(ctx, flash_backward_triton, grad_out)


def flash_attention_core(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sliding_window=None) -> torch.Tensor:
    """The model's attention core (`lmcourse.nn.attention`) on the FlashAttention-2 Triton kernel.

    q (batch, heads, seq, d), k and v (batch, kv_heads, seq, d); causal. CUDA only: on a CPU the Triton
    interpreter would take minutes per step, so it refuses (use `lmcourse.nn.sdpa_attention` there).
    """
    if q.device.type != "cuda":
        raise ValueError(f"flash_attention_core: q is on {q.device}; the FlashAttention-2 Triton kernel runs "
                         "compiled on CUDA only (on a CPU use lmcourse.nn.sdpa_attention or the reference)")
    return _flash_core(FlashAttention2Triton, q, k, v, sliding_window)


def _flash_core(function, q, k, v, sliding_window):
    """`flash_attention_core` with any of the two Functions (the tests run the PyTorch one on a CPU)."""
    if sliding_window is not None:
        raise ValueError(f"flash_attention_core: sliding_window={sliding_window}; the kernel masks causally only "
                         "(use lmcourse.nn.sdpa_attention for sliding windows)")
    if q.dim() != 4 or k.dim() != 4 or q.shape[1] % k.shape[1]:
        raise ValueError(f"flash_attention_core: q {tuple(q.shape)}, k {tuple(k.shape)}; expected (batch, heads, "
                         "seq, d) and (batch, kv_heads, seq, d) with kv_heads dividing heads")
    group = q.shape[1] // k.shape[1]
    if group > 1:  # KV head j serves query heads j*group .. (j+1)*group - 1, as in the model
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    # Under autocast the projections come out in the autocast dtype but a norm may not: one dtype for all
    dtype = torch.get_autocast_dtype(q.device.type) if torch.is_autocast_enabled(q.device.type) else q.dtype
    return function.apply(q.to(dtype), k.to(dtype), v.to(dtype), True)
