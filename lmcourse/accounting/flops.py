"""FLOPs: what a forward pass and a training step cost, and what that means in GPU-days.

A FLOP is one floating-point add or multiply (FLOPs, a count, are not FLOP/s, a rate). Only matrix
multiplications are counted: for a model of any useful size they are nearly all the arithmetic,
and they are exactly what `torch.utils.flop_counter.FlopCounterMode` counts, which the tests
compare against. Why forward costs 2 FLOPs per parameter per token and training 6:

- forward: a linear layer y = x W^T with W of shape (d_out, d_in) does, for each token, d_out dot
  products of length d_in: d_in multiplies and d_in adds each, so 2 * d_in * d_out = 2 FLOPs per
  weight per token (`matmul_flops`).
- backward: the same layer needs two matmuls of the same size: the gradient with respect to its
  input, dL/dx = dL/dy W, to pass further down, and the gradient with respect to its weight,
  dL/dW = (dL/dy)^T x, for the optimizer. That is 2 + 2 = 4 FLOPs per weight per token.
- so a training step is 2 + 4 = 6 FLOPs per parameter per token: `training_flops` = 6 N D.

Attention's two matmuls with no weights (Q K^T and probabilities times V) grow with the sequence
length; `forward_flops_per_token` includes them over the full seq_len, as our attention computes
the whole score matrix and masks it (a causal kernel such as FlashAttention could skip half, and
sliding windows are not credited either). Left out: norms, softmax, activations, RoPE and the
optimizer step, all O(parameters) or O(activations) elementwise work, well under 1% at scale.
"""

from __future__ import annotations

from lmcourse import checks
from lmcourse.accounting.params import check_config, ffn_matrices
from lmcourse.config import TransformerConfig

__all__ = ["matmul_flops", "flops_breakdown", "forward_flops_per_token", "training_flops_per_token",
           "training_flops", "mfu", "training_days"]

SECONDS_PER_DAY = 86400


def matmul_flops(m: int, k: int, n: int) -> int:
    """FLOPs of (m, k) @ (k, n): m * n dot products of length k, a multiply and an add per term."""
    for name, value in (("m", m), ("k", k), ("n", n)):
        checks.positive_int(name, value)
    return 2 * m * k * n


def flops_breakdown(config: TransformerConfig, seq_len: int) -> dict[str, int]:
    """Forward FLOPs per token, per component, summed over the layers, for sequences of seq_len.

    Keys: attention_projections (q, k, v, output), attention_scores (Q K^T), attention_values
    (probabilities times V), ffn (only the top_k + shared experts a token uses in MoE layers),
    router, lm_head. The values add up to `forward_flops_per_token`.
    """
    check_config(config)
    checks.positive_int("seq_len", seq_len)
    d = config.d_model
    kv_dim = config.kv_heads * config.head_dim
    moe_layers = sum(config.is_moe_layer(layer) for layer in range(config.num_layers))
    dense_layers = config.num_layers - moe_layers
    experts_used = config.top_k + config.num_shared_experts
    return {
        "attention_projections": config.num_layers * matmul_flops(1, d, 2 * d + 2 * kv_dim),
        # Each query is dotted with seq_len keys in every head; num_heads * head_dim = d_model.
        "attention_scores": config.num_layers * matmul_flops(1, d, seq_len),
        # ...and takes a seq_len-long weighted sum of values: the same size again.
        "attention_values": config.num_layers * matmul_flops(1, seq_len, d),
        "ffn": (dense_layers * ffn_matrices(config) + moe_layers * experts_used * 3) * matmul_flops(1, d, config.d_ff),
        "router": moe_layers * 2 * d * config.num_experts,  # 0 when dense
        "lm_head": matmul_flops(1, d, config.vocab_size),
    }


def forward_flops_per_token(config: TransformerConfig, seq_len: int) -> float:
    """Forward matmul FLOPs per token; about 2 * active non-embedding parameters + attention."""
    return float(sum(flops_breakdown(config, seq_len).values()))


def training_flops_per_token(config: TransformerConfig, seq_len: int) -> float:
    """Forward + backward: 3x forward, as every matmul's backward is two matmuls of its size."""
    return 3 * forward_flops_per_token(config, seq_len)


def training_flops(num_params: float, num_tokens: float) -> float:
    """The 6 N D rule: 2 (forward) + 4 (backward) FLOPs per parameter per token.

    E.g. 10B parameters on 1T tokens: 6 * 1e10 * 1e12 = 6e22 FLOPs. It ignores attention's
    seq_len-dependent matmuls, which matter when seq_len is comparable to 6 * d_model.
    """
    checks.positive_number("num_params", num_params)
    checks.positive_number("num_tokens", num_tokens)
    return 6.0 * num_params * num_tokens


def mfu(tokens_per_second: float, flops_per_token: float, peak_flops: float) -> float:
    """Model FLOPs utilization: the FLOP/s the model's arithmetic needs at this throughput / peak.

    Pass the training FLOPs per token (6N, or `training_flops_per_token`) when measuring training.
    Only the model's own FLOPs count, not recomputation (checkpointing), so MFU compares runs fairly;
    large training runs reach roughly 0.4-0.6, and below ~0.3 something is usually starving the GPU.
    """
    checks.positive_number("tokens_per_second", tokens_per_second)
    checks.positive_number("flops_per_token", flops_per_token)
    checks.positive_number("peak_flops", peak_flops)
    return tokens_per_second * flops_per_token / peak_flops


def training_days(total_flops: float, peak_flops: float, mfu: float, num_gpus: int = 1) -> float:
    """Days to do total_flops on num_gpus GPUs that each sustain mfu * peak_flops."""
    checks.positive_number("total_flops", total_flops)
    checks.positive_number("peak_flops", peak_flops)
    checks.positive_int("num_gpus", num_gpus)
    checks.positive_number("mfu", mfu)
    if mfu > 1:
        raise ValueError(f"mfu={mfu!r}; expected a fraction of the peak in (0, 1]")
    return total_flops / (peak_flops * mfu * num_gpus) / SECONDS_PER_DAY
