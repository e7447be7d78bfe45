"""Configurations of published models and of the course's own small ones, as `TransformerConfig`s.

The published shapes come from each model's paper or released config.json, so `count_parameters`
reproduces their parameter counts: exactly for the Llama, Mistral and Mixtral families (no biases,
like our TransformerLM), e.g. 6,738,415,616 for Llama-2-7B. GPT-2 has biases in every linear layer
and LayerNorm, which our model does not build: its counts come out ~0.1% low (124,337,664 for
GPT-2 small against the real 124,439,808). GPT-2's tanh-approximated GELU is modelled by the erf
form, which changes no count.

Left out: details that change neither parameter nor FLOP counts (initialization, dropout,
Llama 3's RoPE frequency scaling), and models whose blocks our TransformerConfig cannot express.
"""

from __future__ import annotations

from lmcourse import checks
from lmcourse.accounting.params import count_parameters
from lmcourse.config import TransformerConfig

__all__ = ["PRESETS", "REAL_MODELS", "architecture_table"]


def _gpt2(d_model, num_layers, num_heads):
    return TransformerConfig(vocab_size=50257, context_length=1024, d_model=d_model, num_layers=num_layers,
                             num_heads=num_heads, d_ff=4 * d_model, position="learned", ffn="gelu",
                             norm="layernorm", tie_embeddings=True)


def _llama(vocab_size, context_length, d_model, num_layers, num_heads, d_ff, num_kv_heads=None, **more):
    # The modern recipe is TransformerConfig's default: pre-norm RMSNorm, SwiGLU, RoPE, untied head.
    return TransformerConfig(vocab_size=vocab_size, context_length=context_length, d_model=d_model,
                             num_layers=num_layers, num_heads=num_heads, d_ff=d_ff, num_kv_heads=num_kv_heads,
                             **more)


PRESETS: dict[str, TransformerConfig] = {
    # GPT-2 (Radford et al., 2019): d_ff = 4 d_model, learned positions, head tied to the embeddings.
    "gpt2-small": _gpt2(768, 12, 12),
    "gpt2-medium": _gpt2(1024, 24, 16),
    "gpt2-large": _gpt2(1280, 36, 20),
    "gpt2-xl": _gpt2(1600, 48, 25),
    # Llama 2 (Touvron et al., 2023): d_ff ~ 8/3 d_model rounded up; the 70B uses GQA with 8 KV heads.
    "llama2-7b": _llama(32000, 4096, 4096, 32, 32, 11008),
    "llama2-13b": _llama(32000, 4096, 5120, 40, 40, 13824),
    "llama2-70b": _llama(32000, 4096, 8192, 80, 64, 28672, num_kv_heads=8),
    # Llama 3: a 4x larger vocabulary, GQA at every size, a much larger RoPE base for long context.
    "llama3-8b": _llama(128256, 8192, 4096, 32, 32, 14336, num_kv_heads=8, rope_theta=500000.0),
    # Mistral 7B v0.1: Llama-like with GQA and 4096-token sliding-window attention.
    "mistral-7b": _llama(32000, 32768, 4096, 32, 32, 14336, num_kv_heads=8, sliding_window=4096),
    # Mixtral 8x7B: Mistral's attention, 8 SwiGLU experts per block, 2 per token (46.7B total, 12.9B active).
    "mixtral-8x7b": _llama(32000, 32768, 4096, 32, 32, 14336, num_kv_heads=8, rope_theta=1e6,
                           num_experts=8, top_k=2),
    # The CS336 assignment-1 model trained on TinyStories (22.7M parameters, 17M of them non-embedding).
    "cs336-tinystories": _llama(10000, 256, 512, 4, 16, 1344),
    # Models the book trains on a laptop CPU in seconds to a minute.
    "course-tiny": _llama(512, 128, 64, 2, 4, 192),
    "course-small": _llama(2048, 256, 256, 4, 8, 704),
}

# The published models (chapter 3 compares their shapes); the rest of PRESETS is the course's own.
REAL_MODELS = ("gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "llama2-7b", "llama2-13b", "llama2-70b",
               "llama3-8b", "mistral-7b", "mixtral-8x7b")


def architecture_table(names=REAL_MODELS) -> list[dict]:
    """One row per preset: the shape ratios chapter 3 discusses, and the parameter count.

    ffn_ratio = d_ff / d_model (4 for GELU models, ~8/3 for SwiGLU ones so the three matrices cost
    what two would), aspect_ratio = d_model / num_layers (width per layer), head_dim = d_model / num_heads.
    """
    rows = []
    for name in names:
        checks.choice("names", name, PRESETS)
        config = PRESETS[name]
        counts = count_parameters(config)
        rows.append(dict(
            name=name, vocab_size=config.vocab_size, d_model=config.d_model, num_layers=config.num_layers,
            num_heads=config.num_heads, kv_heads=config.kv_heads, head_dim=config.head_dim, d_ff=config.d_ff,
            ffn_ratio=config.d_ff / config.d_model, aspect_ratio=config.d_model / config.num_layers,
            params=counts.total, active_params=counts.active,
        ))
    return rows
