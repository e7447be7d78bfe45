"""The shape of a Transformer language model, in one dataclass that needs no torch.

`TransformerConfig` is shared by the three places that must agree on what a model is:
`lmcourse.nn.TransformerLM` builds it, `lmcourse.accounting` counts its parameters, FLOPs and memory
without building it, and `python -m lmcourse.train --config` reads it from JSON. Validation happens
here, once, so every one of them rejects an impossible model with the same clear message.

Defaults are the course's modern recipe (pre-norm, RMSNorm, SwiGLU, RoPE, no biases, untied
embeddings); the other choices exist so chapter 3 can compare them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lmcourse import checks

__all__ = ["TransformerConfig", "dataclass_from_dict"]

_CHOICES = {
    "ffn": ("swiglu", "gelu", "relu"),
    "norm": ("rmsnorm", "layernorm"),
    "norm_position": ("pre", "post"),
    "position": ("rope", "sinusoidal", "learned", "none"),
}


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int  # tokens in the vocabulary (rows of token_embeddings and lm_head)
    context_length: int  # longest sequence the model is built for (RoPE / position tables size)
    d_model: int  # width of the residual stream
    num_layers: int  # Transformer blocks
    num_heads: int  # query heads; head dimension is d_model // num_heads
    d_ff: int  # hidden width of each feed-forward network (of each expert, for MoE)
    rope_theta: float = 10000.0  # RoPE base; larger stretches the slowest rotation
    num_kv_heads: int | None = None  # None = num_heads (MHA); 1 = MQA; in between = GQA
    ffn: str = "swiglu"  # "swiglu" (w1, w2, w3) or a plain two-matrix "gelu" / "relu" FFN (w1, w2)
    norm: str = "rmsnorm"  # "rmsnorm" or "layernorm" (LayerNorm without bias, as in the no-bias recipe)
    norm_position: str = "pre"  # "pre": x + f(norm(x)); "post": norm(x + f(x)) (the 2017 original)
    parallel_layers: bool = False  # x + attn(norm(x)) + ffn(norm(x)) (GPT-J, PaLM) instead of serial
    position: str = "rope"  # "rope", "sinusoidal" / "learned" absolute embeddings, or "none" (NoPE)
    qk_norm: bool = False  # RMSNorm on each head's queries and keys before the dot product
    sliding_window: int | None = None  # attend only to the last `sliding_window` positions
    tie_embeddings: bool = False  # lm_head shares token_embeddings' weight
    logit_soft_cap: float | None = None  # cap * tanh(logits / cap) on the output logits (Gemma 2)
    norm_eps: float = 1e-5
    # Mixture of experts (chapter 4): 0 experts = a dense FFN in every block.
    num_experts: int = 0  # routed experts per MoE layer, each a SwiGLU of width d_ff
    top_k: int = 2  # experts each token is sent to
    num_shared_experts: int = 0  # experts every token always uses (DeepSeekMoE)
    capacity_factor: float | None = None  # None = no token dropping
    softmax_after_topk: bool = False  # False: softmax over all experts, keep top_k (Switch, DeepSeek); True: Mixtral
    moe_every: int = 1  # every n-th block is MoE (1 = all); the others keep a dense FFN

    def __post_init__(self):
        for name in ("vocab_size", "context_length", "d_model", "num_layers", "num_heads", "d_ff"):
            checks.positive_int(name, getattr(self, name), fn="TransformerConfig")
        if self.d_model % self.num_heads:
            raise ValueError(
                f"TransformerConfig: d_model={self.d_model} is not divisible by num_heads={self.num_heads}; "
                "each head gets d_model // num_heads dimensions")
        if self.num_kv_heads is not None:
            checks.positive_int("num_kv_heads", self.num_kv_heads, fn="TransformerConfig")
            if self.num_heads % self.num_kv_heads:
                raise ValueError(
                    f"TransformerConfig: num_heads={self.num_heads} is not a multiple of "
                    f"num_kv_heads={self.num_kv_heads}; each KV head serves a whole group of query heads")
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"TransformerConfig: {name}={getattr(self, name)!r}; expected one of {allowed}")
        if self.position == "rope":
            if self.head_dim % 2:
                raise ValueError(f"TransformerConfig: RoPE rotates pairs of dimensions, so the head dimension "
                                 f"d_model // num_heads = {self.head_dim} must be even")
            if not self.rope_theta > 0:
                raise ValueError(f"TransformerConfig: rope_theta={self.rope_theta}; expected a positive number")
        if self.sliding_window is not None:
            checks.positive_int("sliding_window", self.sliding_window, fn="TransformerConfig")
        if self.logit_soft_cap is not None and not self.logit_soft_cap > 0:
            raise ValueError(f"TransformerConfig: logit_soft_cap={self.logit_soft_cap}; expected None or > 0")
        if not self.norm_eps > 0:
            raise ValueError(f"TransformerConfig: norm_eps={self.norm_eps}; expected > 0")
        if self.num_experts:
            checks.positive_int("num_experts", self.num_experts, fn="TransformerConfig")
            checks.positive_int("top_k", self.top_k, fn="TransformerConfig")
            checks.positive_int("moe_every", self.moe_every, fn="TransformerConfig")
            if self.top_k > self.num_experts:
                raise ValueError(f"TransformerConfig: top_k={self.top_k} exceeds num_experts={self.num_experts}")
            if self.capacity_factor is not None and not self.capacity_factor > 0:
                raise ValueError(f"TransformerConfig: capacity_factor={self.capacity_factor}; expected None or > 0")
        if self.num_shared_experts < 0:
            raise ValueError(f"TransformerConfig: num_shared_experts={self.num_shared_experts}; expected >= 0")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads

    @property
    def kv_heads(self) -> int:
        """Number of key/value heads actually used (num_kv_heads, or num_heads when it is None)."""
        return self.num_kv_heads or self.num_heads

    def is_moe_layer(self, layer: int) -> bool:
        """Whether block `layer` (0-based) has a mixture-of-experts FFN."""
        return self.num_experts > 0 and (layer + 1) % self.moe_every == 0

    def replace(self, **changes) -> "TransformerConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TransformerConfig":
        return dataclass_from_dict(cls, d)


def dataclass_from_dict(cls, d: dict):
    """`cls(**d)` for a config dataclass read from JSON; unknown keys are an error naming them, not
    silently dropped (a typo such as "num_head" would otherwise train the default)."""
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__}.from_dict: expected a dict, got {type(d).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {unknown}; known fields are {sorted(known)}")
    return cls(**d)


