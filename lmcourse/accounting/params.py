"""Parameter counts of a `TransformerConfig`, per component, without building the model.

`count_parameters` follows `lmcourse.nn.TransformerLM` exactly, so its total equals
`sum(p.numel() for p in model.parameters())`: no biases anywhere, norms with a weight only,
attention q/output projections d_model x d_model and k/v projections (kv_heads * head_dim) x d_model,
a SwiGLU FFN with three d_model x d_ff matrices (a GELU/ReLU FFN with two), and for a
mixture-of-experts block a router plus (num_experts + num_shared_experts) SwiGLU experts.

Left out: the rotary and sinusoidal tables (buffers, not parameters), and the biases of models
such as GPT-2 that have them (see `presets`). The small argument checks shared by the other
accounting modules live at the bottom of this file.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmcourse.config import TransformerConfig

__all__ = ["ParamCount", "count_parameters"]


@dataclass(frozen=True)
class ParamCount:
    """Parameters per component; `active` is what one token touches (differs from `total` for MoE)."""

    embeddings: int  # token_embeddings (also the lm_head when tie_embeddings)
    position: int  # learned position_embeddings; 0 for rope / sinusoidal / none
    attention: int  # q, k, v and output projections of every block
    ffn: int  # every block's FFN; for MoE layers all experts (routed + shared) and the router
    norms: int  # ln1, ln2 of every block, ln_final, and q_norm / k_norm when qk_norm
    lm_head: int  # 0 when tied to the token embeddings
    active: int  # total minus the routed experts a token is not sent to (= total when dense)

    @property
    def total(self) -> int:
        return self.embeddings + self.position + self.attention + self.ffn + self.norms + self.lm_head

    @property
    def non_embedding(self) -> int:
        """Total without the token and position tables: the N of Kaplan et al. (2020) scaling laws.

        An untied lm_head stays in: unlike a table lookup it is a matmul every token pays for. A tied
        one is the token table itself, so it goes with the embeddings, and 6 * non_embedding then
        misses the output matmul (for GPT-2 small, a third of the FLOPs): use
        `forward_flops_per_token` for FLOPs, not this count.
        """
        return self.total - self.embeddings - self.position


def ffn_matrices(config: TransformerConfig) -> int:
    """Matrices in a dense FFN."""
    return 3 if config.ffn == "swiglu" else 2  # SwiGLU: w1, w2, w3; GELU/ReLU: w1, w2


def norms_per_block(config: TransformerConfig) -> int:
    """ln1 and ln2, except the parallel post-norm block, which normalizes its one sum with ln1 only."""
    return 1 if config.parallel_layers and config.norm_position == "post" else 2


def count_parameters(config: TransformerConfig) -> ParamCount:
    """Parameters of `TransformerLM.from_config(config)`, per component."""
    check_config(config)
    d, num_layers = config.d_model, config.num_layers
    kv_dim = config.kv_heads * config.head_dim  # GQA/MQA shrink only the k and v projections
    attention_per_layer = 2 * d * d + 2 * kv_dim * d
    # Experts are SwiGLUs whatever config.ffn says (DeepSeekMoE, Mixtral), hence the literal 3.
    expert = 3 * d * config.d_ff
    ffn = inactive = 0
    for layer in range(num_layers):
        if config.is_moe_layer(layer):
            ffn += config.num_experts * d + (config.num_experts + config.num_shared_experts) * expert
            inactive += (config.num_experts - config.top_k) * expert
        else:
            ffn += ffn_matrices(config) * d * config.d_ff
    qk_norms = 2 * config.head_dim if config.qk_norm else 0
    embeddings = config.vocab_size * d
    counts = dict(
        embeddings=embeddings,
        position=config.context_length * d if config.position == "learned" else 0,
        attention=num_layers * attention_per_layer,
        ffn=ffn,
        norms=num_layers * (norms_per_block(config) * d + qk_norms) + d,  # ln1 (+ ln2) per block, ln_final
        lm_head=0 if config.tie_embeddings else embeddings,
    )
    total = sum(counts.values())
    return ParamCount(**counts, active=total - inactive)


# The config check flops, memory and roofline share (generic checks: lmcourse.checks).

def check_config(config) -> None:
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config: expected a lmcourse.config.TransformerConfig, got {type(config).__name__}")

