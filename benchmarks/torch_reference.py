"""The course's TransformerLM rebuilt from torch.nn's own parts, as the speed reference.

Same configuration, same parameter names and shapes, so `reference.load_state_dict(ours.state_dict())`
makes the two compute the same function (tests/test_torch_reference.py checks that). What differs
is only who implements each piece: nn.Linear, nn.Embedding and nn.RMSNorm, and
F.scaled_dot_product_attention (fused kernels on CPU and GPU) instead of our matmul-softmax-matmul.
Covers the default recipe only (pre-norm, RMSNorm, SwiGLU, RoPE, MHA/GQA); the other options of
TransformerConfig are not needed for a speed comparison.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lmcourse.config import TransformerConfig


def rope_tables(config: TransformerConfig, device=None):
    """cos and sin of shape (context_length, head_dim // 2) for interleaved-pair rotation."""
    inv_freq = config.rope_theta ** (-torch.arange(0, config.head_dim, 2, device=device).float() / config.head_dim)
    angles = torch.outer(torch.arange(config.context_length, device=device).float(), inv_freq)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """Rotate pairs (2i, 2i+1) of the last dimension; x is (batch, heads, seq, head_dim)."""
    n = x.shape[-2]
    x1, x2 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:n], sin[:n]
    return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        d, kv = config.d_model, config.kv_heads * config.head_dim
        self.num_heads, self.kv_heads, self.head_dim = config.num_heads, config.kv_heads, config.head_dim
        self.q_proj, self.k_proj = nn.Linear(d, d, bias=False), nn.Linear(d, kv, bias=False)
        self.v_proj, self.output_proj = nn.Linear(d, kv, bias=False), nn.Linear(d, d, bias=False)

    def forward(self, x, cos, sin):
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.kv_heads != self.num_heads)
        return self.output_proj(out.transpose(1, 2).reshape(b, n, -1))


class FFN(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.w1 = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.w2 = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.w3 = nn.Linear(config.d_model, config.d_ff, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.ln1 = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.attn = Attention(config)
        self.ln2 = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.ffn = FFN(config)

    def forward(self, x, cos, sin):
        x = x + self.attn(self.ln1(x), cos, sin)
        return x + self.ffn(self.ln2(x))


class TorchTransformerLM(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        if (config.ffn, config.norm, config.norm_position, config.position) != ("swiglu", "rmsnorm", "pre", "rope") \
                or config.parallel_layers or config.qk_norm or config.sliding_window or config.tie_embeddings \
                or config.logit_soft_cap or config.num_experts:
            raise ValueError("TorchTransformerLM covers the default recipe only "
                             "(pre-norm RMSNorm, SwiGLU, RoPE, untied, dense)")
        self.config = config
        self.token_embeddings = nn.Embedding(config.vocab_size, config.d_model)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.ln_final = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        cos, sin = rope_tables(config)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, token_ids):
        x = self.token_embeddings(token_ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin)
        return self.lm_head(self.ln_final(x))
