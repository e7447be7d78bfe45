"""The Triton kernels of FlashAttention-2: one forward kernel and two backward kernels (chapter 6).

``flash_forward_triton`` launches one program per (query tile, batch row). The program keeps its
query tile, a running maximum, a running sum and an fp32 output accumulator on chip and streams key
and value tiles past them (the online softmax), then writes O and the logsumexp L once.

``flash_backward_triton`` recomputes P = exp(S - L) from the saved L, in two kernels, so that every
program owns the rows it writes and no two programs ever add into the same memory:

- ``_backward_dk_dv_kernel``: one program per *key* tile; it loops over the query tiles that see it
  and accumulates dK and dV for its keys in registers;
- ``_backward_dq_kernel``: one program per *query* tile; it loops over key tiles like the forward
  and accumulates dQ.

The alternative (FlashAttention-2's own CUDA code) is one pass over key tiles that adds each tile's
share of dQ with atomic adds: S and P are recomputed once instead of twice, but the atomics make
the result depend on the order of additions and need an fp32 dQ buffer. Two kernels read more
(the recomputation costs one extra Q K^T per tile pair) and are simpler and deterministic.
D = rowsum(dO * O) is a cheap O(n d) reduction with no tiles to reuse, so PyTorch computes it.

Two standard FlashAttention-2 savings on the inner loops:

- *Masks only where needed.* Each loop over tiles is split in two ranges: tiles that every row of the
  program sees whole take an unmasked path (no index compares, no ``tl.where`` on the scores), and
  only the tiles that straddle the causal diagonal, or stick out past the last key, take the masked
  one. Under the causal mask the ranges also stop (or start) at the diagonal, so tiles that are
  fully masked are never loaded: of a square causal problem about half the tiles are skipped, and
  of the rest only those that overlap the diagonal are masked (one or two per program with the GPU
  default 128 x 64 tiles). Loads keep their cheap bounds predicates on every tile.
- *exp2.* GPUs have no exp instruction: ``tl.exp(x)`` is compiled to ``2^(x log2 e)``, a multiply
  and ``ex2``. The kernels work in base 2 instead, folding log2(e) into the softmax scale (one
  multiply per score for both), and convert only L back: the saved L is the natural-log logsumexp,
  so the ctx contract (fp32 L of shape (..., n_queries)) is the same as the PyTorch version's.

Tensors arrive as contiguous (batch, n, d); d is held whole in one tile, so it must be a power of two
(``TRITON_HEAD_DIMS``). Left out: autotuning, because the tiles are the caller's (class attributes
that tests shrink to 16) and decide the launch grid. Warps and stages come from ``_launch_options``;
with the GPU defaults, 128 x 64 tiles, that is 8 warps and 2 stages, untuned. A sweep worth running
on a GPU, as in Triton's fused-attention tutorial: Q_TILE in {64, 128}, K_TILE in {32, 64, 128},
num_warps in {4, 8}, num_stages in {2, 3, 4}; that tutorial also gives each backward kernel a narrow
tile on the side it loops over (32 x 128 for dK/dV, 128 x 32 for dQ), which one (Q_TILE, K_TILE)
pair for all three kernels cannot express. Also left out: Hopper's TMA and warp specialisation,
and FlashAttention-3's fp8 paths.
"""

from __future__ import annotations

import math

import torch

from lmcourse.kernels._triton import tl, triton

__all__ = ["flash_forward_triton", "flash_backward_triton", "TRITON_HEAD_DIMS"]

TRITON_HEAD_DIMS = (16, 32, 64, 128)  # a power of two for tl.arange; 256 would overflow shared memory
LOG2E = tl.constexpr(1.4426950408889634)  # exp(x) = 2^(x log2 e)
LN2 = tl.constexpr(0.6931471805599453)  # log(x) = log2(x) ln 2


@triton.jit
def _load_rows(ptr, rows, num_rows, D: tl.constexpr):
    """Rows `rows` of a contiguous (num_rows, D) matrix; rows past the end read as zeros."""
    cols = tl.arange(0, D)
    return tl.load(ptr + rows[:, None] * D + cols[None, :], mask=rows[:, None] < num_rows, other=0.0)


@triton.jit
def _scores(q, k, q_idx, k_idx, n_keys, qk_scale, MASKED: tl.constexpr, IS_CAUSAL: tl.constexpr,
            PRECISION: tl.constexpr):
    """S * log2(e) = q k^T * qk_scale for one (Q_TILE, K_TILE) block. MASKED: -inf where a key is
    padding or in the future; the caller sets it only on tiles where some key can be either."""
    s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    if MASKED:
        visible = k_idx[None, :] < n_keys
        if IS_CAUSAL:
            visible = visible & (k_idx[None, :] <= q_idx[:, None])
        s = tl.where(visible, s, -float("inf"))
    return s


@triton.jit
def _key_ranges(q_start, n_queries, n_keys, Q_TILE: tl.constexpr, K_TILE: tl.constexpr, IS_CAUSAL: tl.constexpr):
    """For a query tile: key tiles in [0, k_full) are seen whole by all its rows, [k_full, k_end) need the mask."""
    k_full = (n_keys // K_TILE) * K_TILE  # a last, partial key tile needs the padding mask
    k_end = n_keys
    if IS_CAUSAL:
        # Tiles ending at or before the first query's own key are visible to every row; key tiles at
        # or past the tile's last query are fully masked: stop before them.
        k_full = tl.minimum(k_full, (q_start // K_TILE) * K_TILE)
        k_end = tl.minimum(n_keys, tl.minimum(q_start + Q_TILE, n_queries))
    return k_full, k_end


@triton.jit
def _forward_loop(acc, l, m, q, q_idx, k_ptr, v_ptr, k_lo, k_hi, n_keys, qk_scale, D: tl.constexpr,
                  K_TILE: tl.constexpr, MASKED: tl.constexpr, IS_CAUSAL: tl.constexpr, PRECISION: tl.constexpr):
    """The online softmax over key tiles [k_lo, k_hi); m and the scores are in base-2 units."""
    for k_start in range(k_lo, k_hi, K_TILE):
        k_idx = k_start + tl.arange(0, K_TILE)
        k = _load_rows(k_ptr, k_idx, n_keys, D)
        v = _load_rows(v_ptr, k_idx, n_keys, D)
        s = _scores(q, k, q_idx, k_idx, n_keys, qk_scale, MASKED, IS_CAUSAL, PRECISION)
        m_new = tl.maximum(m, tl.max(s, axis=1))
        p = tl.exp2(s - m_new[:, None])
        alpha = tl.exp2(m - m_new)  # rescales what was accumulated under the old maximum
        l = alpha * l + tl.sum(p, axis=1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m = m_new
    return acc, l, m


@triton.jit
def _forward_kernel(q_ptr, k_ptr, v_ptr, o_ptr, l_ptr, n_queries, n_keys, scale,
                    D: tl.constexpr, Q_TILE: tl.constexpr, K_TILE: tl.constexpr,
                    IS_CAUSAL: tl.constexpr, PRECISION: tl.constexpr):
    q_start = tl.program_id(0) * Q_TILE
    batch = tl.program_id(1).to(tl.int64)  # int64: batch * n * d can pass 2^31 for long sequences
    q_ptr, o_ptr, l_ptr = q_ptr + batch * n_queries * D, o_ptr + batch * n_queries * D, l_ptr + batch * n_queries
    k_ptr, v_ptr = k_ptr + batch * n_keys * D, v_ptr + batch * n_keys * D
    q_idx, cols = q_start + tl.arange(0, Q_TILE), tl.arange(0, D)
    q_rows = q_idx[:, None] < n_queries  # the last tile may stick out past n_queries
    q = _load_rows(q_ptr, q_idx, n_queries, D)
    m = tl.full((Q_TILE,), -float("inf"), dtype=tl.float32)  # running row maximum (base 2)
    l = tl.zeros((Q_TILE,), dtype=tl.float32)  # running sum of 2^(s - m)
    acc = tl.zeros((Q_TILE, D), dtype=tl.float32)  # running 2^(s - m) @ v
    qk_scale = scale * LOG2E
    k_full, k_end = _key_ranges(q_start, n_queries, n_keys, Q_TILE, K_TILE, IS_CAUSAL)
    # Unmasked tiles first: under the causal mask key 0 is among them whenever there are any, so every
    # row has a finite maximum before the masked tiles (where a row may see no key of a tile) arrive.
    acc, l, m = _forward_loop(acc, l, m, q, q_idx, k_ptr, v_ptr, 0, k_full, n_keys, qk_scale,
                              D, K_TILE, False, IS_CAUSAL, PRECISION)
    acc, l, m = _forward_loop(acc, l, m, q, q_idx, k_ptr, v_ptr, k_full, k_end, n_keys, qk_scale,
                              D, K_TILE, True, IS_CAUSAL, PRECISION)
    tl.store(o_ptr + q_idx[:, None] * D + cols[None, :], (acc / l[:, None]).to(o_ptr.dtype.element_ty), mask=q_rows)
    tl.store(l_ptr + q_idx, (m + tl.log2(l)) * LN2, mask=q_idx < n_queries)  # natural-log L, as the contract says


@triton.jit
def _dk_dv_loop(dk, dv, k, v, k_idx, q_ptr, do_ptr, l_ptr, delta_ptr, q_lo, q_hi, n_queries, n_keys, qk_scale,
                D: tl.constexpr, Q_TILE: tl.constexpr, MASKED: tl.constexpr, IS_CAUSAL: tl.constexpr,
                PRECISION: tl.constexpr):
    for q_start in range(q_lo, q_hi, Q_TILE):
        q_idx = q_start + tl.arange(0, Q_TILE)
        q = _load_rows(q_ptr, q_idx, n_queries, D)
        do = _load_rows(do_ptr, q_idx, n_queries, D)
        # L = +inf on padding rows makes their P exactly 0, so they add nothing to dK, dV.
        lse = tl.load(l_ptr + q_idx, mask=q_idx < n_queries, other=float("inf")) * LOG2E
        delta = tl.load(delta_ptr + q_idx, mask=q_idx < n_queries, other=0.0)
        p = tl.exp2(_scores(q, k, q_idx, k_idx, n_keys, qk_scale, MASKED, IS_CAUSAL, PRECISION) - lse[:, None])
        dv += tl.dot(tl.trans(p).to(do.dtype), do, input_precision=PRECISION)
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
        ds = p * (dp - delta[:, None])
        dk += tl.dot(tl.trans(ds).to(q.dtype), q, input_precision=PRECISION)
    return dk, dv


@triton.jit
def _backward_dk_dv_kernel(q_ptr, k_ptr, v_ptr, do_ptr, l_ptr, delta_ptr, dk_ptr, dv_ptr, n_queries, n_keys, scale,
                           D: tl.constexpr, Q_TILE: tl.constexpr, K_TILE: tl.constexpr,
                           IS_CAUSAL: tl.constexpr, PRECISION: tl.constexpr):
    k_start = tl.program_id(0) * K_TILE
    batch = tl.program_id(1).to(tl.int64)
    q_ptr, do_ptr = q_ptr + batch * n_queries * D, do_ptr + batch * n_queries * D
    l_ptr, delta_ptr = l_ptr + batch * n_queries, delta_ptr + batch * n_queries
    k_ptr, v_ptr = k_ptr + batch * n_keys * D, v_ptr + batch * n_keys * D
    dk_ptr, dv_ptr = dk_ptr + batch * n_keys * D, dv_ptr + batch * n_keys * D
    k_idx, cols = k_start + tl.arange(0, K_TILE), tl.arange(0, D)
    k_rows = k_idx[:, None] < n_keys
    k = _load_rows(k_ptr, k_idx, n_keys, D)
    v = _load_rows(v_ptr, k_idx, n_keys, D)
    dk = tl.zeros((K_TILE, D), dtype=tl.float32)
    dv = tl.zeros((K_TILE, D), dtype=tl.float32)
    qk_scale = scale * LOG2E
    # Padding keys need no mask here: a key's column of P and dS reaches only its own rows of dV = P^T dO
    # and dK = dS^T Q, which are never stored. So only the causal diagonal is masked: query tiles in
    # [q_first, q_full) straddle it, those from q_full on see every key of this tile.
    q_first, q_full = 0, 0
    if IS_CAUSAL:  # query tiles that end before k_start see none of these keys: start at the diagonal
        q_first = (k_start // Q_TILE) * Q_TILE
        q_full = tl.minimum(tl.cdiv(k_start + K_TILE, Q_TILE) * Q_TILE, n_queries)
    dk, dv = _dk_dv_loop(dk, dv, k, v, k_idx, q_ptr, do_ptr, l_ptr, delta_ptr, q_first, q_full, n_queries, n_keys,
                         qk_scale, D, Q_TILE, True, IS_CAUSAL, PRECISION)
    dk, dv = _dk_dv_loop(dk, dv, k, v, k_idx, q_ptr, do_ptr, l_ptr, delta_ptr, q_full, n_queries, n_queries, n_keys,
                         qk_scale, D, Q_TILE, False, IS_CAUSAL, PRECISION)
    out_ptrs = k_idx[:, None] * D + cols[None, :]
    tl.store(dk_ptr + out_ptrs, (dk * scale).to(dk_ptr.dtype.element_ty), mask=k_rows)
    tl.store(dv_ptr + out_ptrs, dv.to(dv_ptr.dtype.element_ty), mask=k_rows)


@triton.jit
def _dq_loop(dq, q, do, lse, delta, q_idx, k_ptr, v_ptr, k_lo, k_hi, n_keys, qk_scale, D: tl.constexpr,
             K_TILE: tl.constexpr, MASKED: tl.constexpr, IS_CAUSAL: tl.constexpr, PRECISION: tl.constexpr):
    for k_start in range(k_lo, k_hi, K_TILE):
        k_idx = k_start + tl.arange(0, K_TILE)
        k = _load_rows(k_ptr, k_idx, n_keys, D)
        v = _load_rows(v_ptr, k_idx, n_keys, D)
        p = tl.exp2(_scores(q, k, q_idx, k_idx, n_keys, qk_scale, MASKED, IS_CAUSAL, PRECISION) - lse[:, None])
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    return dq


@triton.jit
def _backward_dq_kernel(q_ptr, k_ptr, v_ptr, do_ptr, l_ptr, delta_ptr, dq_ptr, n_queries, n_keys, scale,
                        D: tl.constexpr, Q_TILE: tl.constexpr, K_TILE: tl.constexpr,
                        IS_CAUSAL: tl.constexpr, PRECISION: tl.constexpr):
    q_start = tl.program_id(0) * Q_TILE
    batch = tl.program_id(1).to(tl.int64)
    q_ptr, do_ptr = q_ptr + batch * n_queries * D, do_ptr + batch * n_queries * D
    dq_ptr = dq_ptr + batch * n_queries * D
    l_ptr, delta_ptr = l_ptr + batch * n_queries, delta_ptr + batch * n_queries
    k_ptr, v_ptr = k_ptr + batch * n_keys * D, v_ptr + batch * n_keys * D
    q_idx, cols = q_start + tl.arange(0, Q_TILE), tl.arange(0, D)
    q_rows = q_idx[:, None] < n_queries
    q = _load_rows(q_ptr, q_idx, n_queries, D)
    do = _load_rows(do_ptr, q_idx, n_queries, D)
    lse = tl.load(l_ptr + q_idx, mask=q_idx < n_queries, other=float("inf")) * LOG2E  # base 2, like the scores
    delta = tl.load(delta_ptr + q_idx, mask=q_idx < n_queries, other=0.0)
    dq = tl.zeros((Q_TILE, D), dtype=tl.float32)
    qk_scale = scale * LOG2E
    k_full, k_end = _key_ranges(q_start, n_queries, n_keys, Q_TILE, K_TILE, IS_CAUSAL)  # as the forward
    dq = _dq_loop(dq, q, do, lse, delta, q_idx, k_ptr, v_ptr, 0, k_full, n_keys, qk_scale,
                  D, K_TILE, False, IS_CAUSAL, PRECISION)
    dq = _dq_loop(dq, q, do, lse, delta, q_idx, k_ptr, v_ptr, k_full, k_end, n_keys, qk_scale,
                  D, K_TILE, True, IS_CAUSAL, PRECISION)
    tl.store(dq_ptr + q_idx[:, None] * D + cols[None, :], (dq * scale).to(dq_ptr.dtype.element_ty), mask=q_rows)


def _launch_options(q: torch.Tensor, q_tile: int, k_tile: int) -> dict:
    """Constexprs and launch settings shared by the three kernels (untuned defaults, see the docstring)."""
    return dict(D=q.shape[-1], Q_TILE=q_tile, K_TILE=k_tile,
                # fp32 inputs: full-precision dots, as PyTorch's fp32 attention (tf32 would cost ~1e-3)
                PRECISION="ieee" if q.dtype == torch.float32 else "tf32",
                num_warps=4 if q_tile * k_tile <= 64 * 64 else 8, num_stages=2)


def flash_forward_triton(q, k, v, is_causal: bool, q_tile: int, k_tile: int):
    """q (batch, n_queries, d), k, v (batch, n_keys, d) -> O like q, L (batch, n_queries) in float32."""
    q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
    (batch, n_queries, d), n_keys = q.shape, k.shape[1]
    out = torch.empty_like(q)
    logsumexp = torch.empty((batch, n_queries), device=q.device, dtype=torch.float32)
    grid = (triton.cdiv(n_queries, q_tile), batch)
    _forward_kernel[grid](q, k, v, out, logsumexp, n_queries, n_keys, 1 / math.sqrt(d), IS_CAUSAL=is_causal,
                          **_launch_options(q, q_tile, k_tile))
    return out, logsumexp


def flash_backward_triton(q, k, v, out, logsumexp, grad_out, is_causal: bool, q_tile: int, k_tile: int):
    """dq, dk, dv (input dtype) from the saved q, k, v, O, L and the incoming gradient dO."""
    q, k, v, grad_out = q.contiguous(), k.contiguous(), v.contiguous(), grad_out.contiguous()
    (batch, n_queries, d), n_keys = q.shape, k.shape[1]
    delta = (grad_out.float() * out.float()).sum(dim=-1).contiguous()  # D = rowsum(dO * O), (batch, n_queries)
    logsumexp = logsumexp.contiguous()
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    options = dict(IS_CAUSAL=is_causal, **_launch_options(q, q_tile, k_tile))
    scale = 1 / math.sqrt(d)
    _backward_dk_dv_kernel[(triton.cdiv(n_keys, k_tile), batch)](
        q, k, v, grad_out, logsumexp, delta, dk, dv, n_queries, n_keys, scale, **options)
    _backward_dq_kernel[(triton.cdiv(n_queries, q_tile), batch)](
        q, k, v, grad_out, logsumexp, delta, dq, n_queries, n_keys, scale, **options)
    return dq, dk, dv
