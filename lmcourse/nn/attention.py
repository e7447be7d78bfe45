"""Causal self-attention and the ways a Transformer learns where a token is.

Covers: `scaled_dot_product_attention` (matmul, mask, softmax, matmul), `causal_mask` (with an
optional sliding window), `MultiHeadSelfAttention` with grouped-query attention (num_kv_heads:
MHA = num_heads, MQA = 1) and QK-norm, rotary position embeddings (`RotaryEmbedding`, interleaved
pairs (2i, 2i+1) as in the RoPE paper and CS336) and the sinusoidal table of Vaswani et al.

The attention takes an optional per-layer KV cache (any object with `update(k, v)` returning every
key and value so far; `lmcourse.inference.KVCache` and the paged cache provide one), so decoding can
feed one new token at a time. Leaves out: the cache storage itself (`lmcourse.inference`) and every
kernel-level trick (FlashAttention's tiling, skipping masked blocks, `lmcourse.kernels`); here the
whole (n_q, n_k) score matrix is built, which is what makes attention quadratic in memory.
Cross-attention and dropout are not needed by a decoder-only LM.

The attention core (the causal softmax(QK^T / sqrt(d)) V between the projections) is this module's
own by default. `MultiHeadSelfAttention.core` (set for a whole model with
`TransformerLM.set_attention_core`) swaps in another function computing the same thing, for speed:
`sdpa_attention` (PyTorch's fused `F.scaled_dot_product_attention`: FlashAttention or memory-efficient
kernels on a GPU, a fused C++ loop on a CPU) or `lmcourse.kernels.flash_attention_core` (the course's
FlashAttention-2 Triton kernel, CUDA only). A core is `core(q, k, v, sliding_window) -> out`, q of shape
(batch, num_heads, seq, head_dim), k and v (batch, num_kv_heads, seq, head_dim) after RoPE, queries and
keys at the same positions, causal; out (batch, num_heads, seq, head_dim). Decoding with a KV cache
always uses the reference (its queries sit at arbitrary positions).
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import nn

from lmcourse.nn.layers import Linear, RMSNorm, softmax

__all__ = ["RotaryEmbedding", "sinusoidal_positions", "scaled_dot_product_attention", "causal_mask",
           "positions_mask", "MultiHeadSelfAttention", "sdpa_attention"]


class RotaryEmbedding(nn.Module):
    """RoPE (Su et al. 2021): rotate each pair (x_2i, x_2i+1) by the angle position * theta^(-2i/d_k).

    Rotating queries and keys by angles proportional to their positions makes q_m . k_n depend on
    m - n only: attention sees relative positions without any added parameter. The cos/sin tables
    are computed once for every position below `max_seq_len` and kept as (non-saved) buffers.
    """

    def __init__(self, theta: float, d_k: int, max_seq_len: int, device=None, dtype=None):
        super().__init__()
        if d_k <= 0 or d_k % 2:
            raise ValueError(f"RotaryEmbedding: d_k={d_k}; RoPE rotates pairs of dimensions, so d_k must be even")
        if max_seq_len <= 0:
            raise ValueError(f"RotaryEmbedding: max_seq_len={max_seq_len}; expected a positive integer")
        if not theta > 0:
            raise ValueError(f"RotaryEmbedding: theta={theta}; expected a positive number")
        self.theta, self.d_k, self.max_seq_len = theta, d_k, max_seq_len
        # Angles in float64: position * frequency reaches ~max_seq_len radians, where fp32 would
        # already have lost the low digits that distinguish neighbouring positions.
        inv_freq = theta ** (-torch.arange(0, d_k, 2, dtype=torch.float64) / d_k)  # (d_k/2,)
        angles = torch.outer(torch.arange(max_seq_len, dtype=torch.float64), inv_freq)  # (max_seq_len, d_k/2)
        dtype = dtype or torch.get_default_dtype()
        self.register_buffer("cos", angles.cos().to(device=device, dtype=dtype), persistent=False)
        self.register_buffer("sin", angles.sin().to(device=device, dtype=dtype), persistent=False)

    def forward(self, x: torch.Tensor, token_positions: torch.Tensor | None = None) -> torch.Tensor:
        """x: (..., seq, d_k); token_positions: (..., seq) integers (default 0..seq-1) -> x rotated."""
        if x.shape[-1] != self.d_k:
            raise ValueError(f"RotaryEmbedding: x has last dimension {x.shape[-1]}; expected d_k={self.d_k}")
        seq = x.shape[-2]
        if token_positions is None:
            if seq > self.max_seq_len:
                raise ValueError(f"RotaryEmbedding: sequence of {seq} positions but the tables cover "
                                 f"max_seq_len={self.max_seq_len}")
            cos, sin = self.cos[:seq], self.sin[:seq]  # a slice: no gather on the common path
        else:
            check_positions("RotaryEmbedding", token_positions, seq, self.max_seq_len)
            cos, sin = self.cos[token_positions], self.sin[token_positions]  # (..., seq, d_k/2)
        x1, x2 = x[..., 0::2], x[..., 1::2]
        rotated = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # (..., seq, d_k/2, 2)
        return rotated.flatten(-2).to(x.dtype)

    def extra_repr(self) -> str:
        return f"theta={self.theta}, d_k={self.d_k}, max_seq_len={self.max_seq_len}"


def check_positions(where: str, token_positions: torch.Tensor, seq: int, limit: int) -> None:
    """Raise unless token_positions is an integer tensor (..., seq) with values in [0, limit)."""
    if token_positions.dtype.is_floating_point or token_positions.dtype == torch.bool:
        raise TypeError(f"{where}: token_positions has dtype {token_positions.dtype}; expected integers")
    if token_positions.shape[-1] != seq:
        raise ValueError(f"{where}: token_positions has shape {tuple(token_positions.shape)}; expected (..., {seq})")
    if token_positions.numel():
        # One reduction and one device sync for both ends: RoPE checks positions in every layer.
        low, high = torch.stack(torch.aminmax(token_positions)).tolist()
        if low < 0 or high >= limit:
            raise ValueError(f"{where}: token_positions range from {low} to {high}; "
                             f"expected 0 <= position < {limit} (the table size)")


def sinusoidal_positions(context_length: int, d_model: int) -> torch.Tensor:
    """Vaswani et al. (2017): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(same angle).

    Returns (context_length, d_model). Fixed, not learned: each pair of dimensions is a clock at
    its own frequency, and a shift in position is a rotation of every clock (the idea RoPE reuses).
    """
    if d_model <= 0 or d_model % 2:
        raise ValueError(f"sinusoidal_positions: d_model={d_model}; expected a positive even number (sin/cos pairs)")
    if context_length <= 0:
        raise ValueError(f"sinusoidal_positions: context_length={context_length}; expected a positive integer")
    inv_freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    angles = torch.outer(torch.arange(context_length, dtype=torch.float64), inv_freq)
    return torch.stack((angles.sin(), angles.cos()), dim=-1).flatten(-2).to(torch.get_default_dtype())


def causal_mask(n_q: int, n_k: int, sliding_window: int | None = None, device=None) -> torch.Tensor:
    """Bool (n_q, n_k), True where query i may attend to key j.

    The queries are the last n_q of the n_k positions (n_q < n_k when earlier keys are cached), so
    query i sits at position i + n_k - n_q and sees keys j <= that position; with a sliding window
    w it sees only the last w of them (itself included), as in Mistral and Gemma's local layers.
    """
    if not 0 < n_q <= n_k:
        raise ValueError(f"causal_mask: n_q={n_q}, n_k={n_k}; expected 0 < n_q <= n_k (queries are the last keys)")
    if sliding_window is not None and sliding_window <= 0:
        raise ValueError(f"causal_mask: sliding_window={sliding_window}; expected None or a positive integer")
    query_pos = torch.arange(n_k - n_q, n_k, device=device)[:, None]
    key_pos = torch.arange(n_k, device=device)[None, :]
    mask = key_pos <= query_pos
    if sliding_window is not None:
        mask &= key_pos > query_pos - sliding_window
    return mask


def positions_mask(query_positions: torch.Tensor, n_k: int, sliding_window: int | None = None) -> torch.Tensor:
    """Bool (batch, n_q, n_k) from query positions (batch, n_q): key slot j is visible to a query at
    position p when j <= p (and j > p - sliding_window). With a cache, slot j holds position j, so this
    is `causal_mask` for queries at arbitrary positions; slots past p (padding, or other rows' longer
    histories in a batch) are masked by the same rule."""
    key_pos = torch.arange(n_k, device=query_positions.device)
    query_pos = query_positions[..., None]  # (batch, n_q, 1)
    mask = key_pos <= query_pos
    if sliding_window is not None:
        mask &= key_pos > query_pos - sliding_window
    return mask


def scaled_dot_product_attention(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d_k)) V, with scores where mask is False set to -inf first.

    Q (..., n_q, d_k), K (..., n_k, d_k), V (..., n_k, d_v), mask bool broadcastable to
    (..., n_q, n_k), True = may attend. Returns (..., n_q, d_v).
    """
    d_k, n_q, n_k = Q.shape[-1], Q.shape[-2], K.shape[-2]
    if K.shape[-1] != d_k or V.shape[-2] != n_k:
        raise ValueError(f"scaled_dot_product_attention: Q {tuple(Q.shape)}, K {tuple(K.shape)}, "
                         f"V {tuple(V.shape)}; expected Q (..., n_q, d_k), K (..., n_k, d_k), V (..., n_k, d_v)")
    # With unit-variance entries, q . k sums d_k products and has variance d_k; dividing by sqrt(d_k)
    # keeps the scores O(1) so the softmax does not saturate into a one-hot with vanishing gradients.
    # Scaling Q (n_q x d_k numbers) instead of the scores (n_q x n_k) is the same product, done cheaper.
    scores = torch.matmul(Q * (1.0 / math.sqrt(d_k)), K.transpose(-2, -1))  # (..., n_q, n_k)
    if mask is not None:
        if mask.dtype != torch.bool:
            raise TypeError(f"scaled_dot_product_attention: mask has dtype {mask.dtype}; expected torch.bool")
        if not _broadcasts_to(mask.shape, scores.shape):
            raise ValueError(f"scaled_dot_product_attention: mask has shape {tuple(mask.shape)}; expected "
                             f"one broadcastable to (..., n_q={n_q}, n_k={n_k})")
    return torch.matmul(softmax(scores, dim=-1, mask=mask), V)


def sdpa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sliding_window: int | None = None) -> torch.Tensor:
    """An attention core (see the module docstring) on PyTorch's fused `F.scaled_dot_product_attention`.

    Causal with `is_causal=True` (which lets PyTorch pick its FlashAttention kernel on a GPU) or with
    the sliding-window mask; GQA by `enable_gqa`, which lets KV head j serve query heads
    j*group .. (j+1)*group - 1, as `MultiHeadSelfAttention` groups them.
    """
    if q.dim() != 4 or k.shape != v.shape or k.dim() != 4 or q.shape[0] != k.shape[0] or \
            q.shape[2:] != k.shape[2:] or q.shape[1] % k.shape[1]:
        raise ValueError(f"sdpa_attention: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}; expected q "
                         "(batch, heads, seq, d) and k, v (batch, kv_heads, seq, d) with kv_heads dividing heads")
    gqa = q.shape[1] != k.shape[1]
    if sliding_window is None:
        return nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=gqa)
    mask = causal_mask(q.shape[-2], k.shape[-2], sliding_window, q.device)
    return nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=gqa)


def _broadcasts_to(shape, target) -> bool:
    try:
        return torch.broadcast_shapes(shape, target) == target
    except RuntimeError:
        return False


class MultiHeadSelfAttention(nn.Module):
    """Causal multi-head self-attention with grouped-query attention, optional RoPE, QK-norm and sliding window.

    Each of the num_kv_heads key/value heads serves num_heads // num_kv_heads consecutive query
    heads (Ainslie et al. 2023): fewer K/V to cache at inference for nearly the quality of MHA.
    `core`: None (this module's own attention) or another attention core (see the module docstring).
    """

    core = None  # a class default: models saved before the hook existed load with the reference

    def __init__(self, d_model: int, num_heads: int, num_kv_heads: int | None = None,
                 rope: RotaryEmbedding | None = None, qk_norm: bool = False, sliding_window: int | None = None,
                 eps: float = 1e-5, device=None, dtype=None):
        super().__init__()
        num_kv_heads = num_kv_heads or num_heads
        if d_model % num_heads or num_heads % num_kv_heads:
            raise ValueError(f"MultiHeadSelfAttention: d_model={d_model}, num_heads={num_heads}, "
                             f"num_kv_heads={num_kv_heads}; expected num_heads to divide d_model and "
                             "num_kv_heads to divide num_heads")
        self.d_model, self.num_heads, self.num_kv_heads = d_model, num_heads, num_kv_heads
        self.head_dim = d_model // num_heads
        self.sliding_window = sliding_window
        if rope is not None and rope.d_k != self.head_dim:
            raise ValueError(f"MultiHeadSelfAttention: rope.d_k={rope.d_k}; expected head_dim={self.head_dim}")
        self.rope = rope
        kv_dim = num_kv_heads * self.head_dim
        self.q_proj = Linear(d_model, d_model, device, dtype)
        self.k_proj = Linear(d_model, kv_dim, device, dtype)
        self.v_proj = Linear(d_model, kv_dim, device, dtype)
        self.output_proj = Linear(d_model, d_model, device, dtype)
        if qk_norm:  # OLMo 2, Qwen 3: bounds the logits q . k, which otherwise grow and destabilize training
            self.q_norm = RMSNorm(self.head_dim, eps, device, dtype)
            self.k_norm = RMSNorm(self.head_dim, eps, device, dtype)
        self.qk_norm = qk_norm

    def forward(self, x: torch.Tensor, token_positions: torch.Tensor | None = None,
                kv_cache=None) -> torch.Tensor:
        """x: (batch, seq, d_model); token_positions: (seq,) or (batch, seq) -> (batch, seq, d_model).

        kv_cache: this layer's cache, an object whose `update(k, v)` stores the new keys and values
        ((batch, num_kv_heads, seq, head_dim), after RoPE) and returns all of them so far, the key
        at slot j being the token at position j. token_positions are then required: the absolute
        positions of x's tokens, from which the causal (and sliding-window) mask is built.
        """
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"MultiHeadSelfAttention: x has shape {tuple(x.shape)}; "
                             f"expected (batch, seq, d_model={self.d_model})")
        if kv_cache is not None and token_positions is None:
            raise ValueError("MultiHeadSelfAttention: a kv_cache needs token_positions (the new tokens' "
                             "absolute positions, which are also their cache slots)")
        seq, group = x.shape[1], self.num_heads // self.num_kv_heads
        q = rearrange(self.q_proj(x), "b n (h d) -> b h n d", d=self.head_dim)
        k = rearrange(self.k_proj(x), "b n (h d) -> b h n d", d=self.head_dim)
        v = rearrange(self.v_proj(x), "b n (h d) -> b h n d", d=self.head_dim)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        if self.rope is not None:
            # (..., seq) -> (..., 1, seq): the same positions for every head
            positions = None if token_positions is None else token_positions.unsqueeze(-2)
            q, k = self.rope(q, positions), self.rope(k, positions)
        # GQA without copying K and V: the `group` query heads that share a KV head are stacked
        # along the query axis, so one (group*seq, seq) score matrix per KV head does their work.
        if self.core is not None and kv_cache is None:  # another kernel for the same attention (module docstring)
            return self.output_proj(rearrange(self.core(q, k, v, self.sliding_window), "b h n d -> b n (h d)"))
        q = rearrange(q, "b (h g) n d -> b h (g n) d", g=group)
        if kv_cache is None:
            mask = causal_mask(seq, seq, self.sliding_window, x.device).repeat(group, 1)
        else:
            # Only num_kv_heads heads are stored: GQA/MQA shrink the cache by num_heads / num_kv_heads.
            k, v = kv_cache.update(k, v)  # (b, kv_heads, n_k, d), every cached position so far
            mask = positions_mask(token_positions.reshape(-1, seq), k.shape[-2], self.sliding_window)
            mask = mask.repeat(1, group, 1).unsqueeze(1)  # (b or 1, 1, group*seq, n_k)
        out = scaled_dot_product_attention(q, k, v, mask)  # (b, kv_heads, group*seq, d)
        return self.output_proj(rearrange(out, "b h (g n) d -> b n (h g d)", g=group))

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, num_heads={self.num_heads}, num_kv_heads={self.num_kv_heads}, "
                f"qk_norm={self.qk_norm}, sliding_window={self.sliding_window}")
