"""The decoder-only Transformer language model: blocks of attention and feed-forward on a residual stream.

Covers: `make_ffn` (the feed-forward network a block gets: SwiGLU, GELU/ReLU or a mixture of
experts), `TransformerBlock` (pre-norm, post-norm or parallel, as `TransformerConfig` says) and
`TransformerLM` (embeddings, position information, blocks, final norm, output head), with
parameter counting, the MoE auxiliary loss of the last forward, plain autoregressive sampling, and
`set_attention_core` (every layer's attention on a fused kernel instead of the reference).

`forward` accepts a KV cache (`lmcourse.inference.KVCache` or a paged batch) so decoding feeds one new
token per step. Leaves out: the cache storage, cached generation, speculative decoding and batched
serving (`lmcourse.inference`; here `generate` recomputes the whole context for every new token,
which is simple, quadratic, and the reference the cached paths are tested against),
and weight loading from Hugging Face checkpoints. Parameter names follow CS336:
token_embeddings, layers.{i}.attn.{q,k,v,output}_proj, layers.{i}.ln1, layers.{i}.ffn.{w1,w2,w3},
layers.{i}.ln2, ln_final, lm_head.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lmcourse.config import TransformerConfig
from lmcourse.nn.attention import MultiHeadSelfAttention, RotaryEmbedding, check_positions, sinusoidal_positions
from lmcourse.nn.layers import Embedding, FeedForward, LayerNorm, Linear, RMSNorm, SwiGLU
from lmcourse.nn.losses import soft_cap
from lmcourse.nn.moe import MoEFeedForward
from lmcourse.nn.sampling import check_generate, mark_finished, sample

__all__ = ["TransformerBlock", "TransformerLM"]


def _norm(config: TransformerConfig, device=None, dtype=None) -> nn.Module:
    norm = RMSNorm if config.norm == "rmsnorm" else LayerNorm
    return norm(config.d_model, config.norm_eps, device, dtype)


def make_ffn(config, layer: int, device=None, dtype=None) -> nn.Module:
    """The feed-forward network of block `layer` (0-based) of a model shaped like `config`.

    SwiGLU keeps three matrices where GELU/ReLU keep two; configs that compare them at equal
    parameter count choose d_ff accordingly (SwiGLU's customary d_ff is 8/3 d_model, not 4 d_model).
    """
    if config.is_moe_layer(layer):
        return MoEFeedForward.from_config(config, device=device, dtype=dtype)
    if config.ffn == "swiglu":
        return SwiGLU(config.d_model, config.d_ff, device, dtype)
    return FeedForward(config.d_model, config.d_ff, config.ffn, device, dtype)


class TransformerBlock(nn.Module):
    """One block: attention then feed-forward, each added to the residual stream.

    pre-norm  (GPT-2 onwards):  h = x + attn(ln1(x));    out = h + ffn(ln2(h))
    post-norm (Vaswani 2017):   h = ln1(x + attn(x));    out = ln2(h + ffn(h))
    parallel, pre-norm (GPT-J, PaLM):  out = x + attn(ln1(x)) + ffn(ln2(x))
    parallel, post-norm:               out = ln1(x + attn(x) + ffn(x))   (one norm, no ln2)
    Pre-norm leaves an identity path from the embeddings to the output, which is why deep
    pre-norm stacks train without warmup tricks; post-norm normalizes that path at every block.
    """

    def __init__(self, config: TransformerConfig, layer: int, rope: RotaryEmbedding | None = None,
                 device=None, dtype=None):
        super().__init__()
        if config.position != "rope":
            rope = None
        elif rope is None:  # a block built on its own gets its own tables; TransformerLM shares one
            rope = RotaryEmbedding(config.rope_theta, config.head_dim, config.context_length, device, dtype)
        self.pre_norm, self.parallel = config.norm_position == "pre", config.parallel_layers
        self.attn = MultiHeadSelfAttention(config.d_model, config.num_heads, config.num_kv_heads, rope,
                                           config.qk_norm, config.sliding_window, config.norm_eps, device, dtype)
        self.ln1 = _norm(config, device, dtype)
        self.ffn = make_ffn(config, layer, device, dtype)
        if self.pre_norm or not self.parallel:
            self.ln2 = _norm(config, device, dtype)

    def forward(self, x: torch.Tensor, token_positions: torch.Tensor | None = None, kv_cache=None) -> torch.Tensor:
        if self.parallel and self.pre_norm:
            return x + self.attn(self.ln1(x), token_positions, kv_cache) + self.ffn(self.ln2(x))
        if self.parallel:
            return self.ln1(x + self.attn(x, token_positions, kv_cache) + self.ffn(x))
        if self.pre_norm:
            x = x + self.attn(self.ln1(x), token_positions, kv_cache)
            return x + self.ffn(self.ln2(x))
        x = self.ln1(x + self.attn(x, token_positions, kv_cache))
        return self.ln2(x + self.ffn(x))


class TransformerLM(nn.Module):
    """token ids (batch, seq) -> next-token logits (batch, seq, vocab_size).

    Keyword arguments are the fields of `lmcourse.config.TransformerConfig` (validated there),
    plus device and dtype; the resulting config is `model.config`.
    """

    def __init__(self, vocab_size: int, context_length: int, d_model: int, num_layers: int, num_heads: int,
                 d_ff: int, rope_theta: float = 10000.0, *, device=None, dtype=None, **config_fields):
        super().__init__()
        config = TransformerConfig(vocab_size, context_length, d_model, num_layers, num_heads, d_ff,
                                   rope_theta, **config_fields)
        self.config = config
        self.token_embeddings = Embedding(vocab_size, d_model, device, dtype)
        rope = None
        if config.position == "learned":
            self.position_embeddings = Embedding(context_length, d_model, device, dtype)
        elif config.position == "sinusoidal":
            table = sinusoidal_positions(context_length, d_model).to(device=device, dtype=dtype)
            self.register_buffer("position_table", table, persistent=False)
        elif config.position == "rope":  # one set of cos/sin tables, shared by every block
            rope = RotaryEmbedding(rope_theta, config.head_dim, context_length, device, dtype)
        self.layers = nn.ModuleList(TransformerBlock(config, i, rope, device, dtype) for i in range(num_layers))
        self.ln_final = _norm(config, device, dtype)
        # No 1/sqrt(d_model) on the output: Linear's init std sqrt(2 / (d_model + vocab_size)) is
        # already tiny for a large vocabulary, so the first logits are near 0 and the first loss is
        # near log(vocab_size), a uniform guess.
        if config.tie_embeddings:
            # One matrix both reads tokens in and scores them out (Press & Wolf 2017). Its std-1
            # embedding init would give logits of size sqrt(d_model), so it takes the output
            # head's small init instead, as GPT-2 does; pre-norm blocks do not mind small inputs.
            std = math.sqrt(2 / (d_model + vocab_size))
            nn.init.trunc_normal_(self.token_embeddings.weight, std=std, a=-3 * std, b=3 * std)
        else:
            self.lm_head = Linear(d_model, vocab_size, device, dtype)

    @classmethod
    def from_config(cls, config: TransformerConfig, device=None, dtype=None) -> "TransformerLM":
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"TransformerLM.from_config: expected a TransformerConfig, got {type(config).__name__}")
        return cls(**config.to_dict(), device=device, dtype=dtype)

    def forward(self, token_ids: torch.Tensor, token_positions: torch.Tensor | None = None,
                kv_cache=None) -> torch.Tensor:
        """token_ids (batch, seq) integers; token_positions (seq,) or (batch, seq), default 0..seq-1.

        kv_cache (e.g. `lmcourse.inference.KVCache`): token_ids are the tokens after those already
        cached; their positions come from the cache (`prepare`), every layer appends its keys and
        values, and the cache advances by seq at the end (`commit`). Prefill once, then one token a step.
        """
        config = self.config
        if token_ids.ndim != 2:
            raise ValueError(f"TransformerLM: token_ids has shape {tuple(token_ids.shape)}; expected (batch, seq)")
        if token_ids.dtype.is_floating_point or token_ids.dtype == torch.bool:
            raise TypeError(f"TransformerLM: token_ids has dtype {token_ids.dtype}; expected integer token ids")
        seq = token_ids.shape[1]
        if seq > config.context_length:
            raise ValueError(
                f"TransformerLM: a sequence of {seq} tokens is longer than context_length={config.context_length}; "
                f"the position tables (RoPE's cos/sin included) stop at position {config.context_length - 1}. "
                "Crop the input to its last context_length tokens (generate() does).")
        if token_ids.numel():
            # One reduction and one device sync for both ends (this runs at every decode step).
            low, high = torch.stack(torch.aminmax(token_ids)).tolist()
            if low < 0 or high >= config.vocab_size:
                raise ValueError(f"TransformerLM: token ids range from {low} to {high}; "
                                 f"expected ids in [0, vocab_size={config.vocab_size})")
        if kv_cache is not None:
            if token_positions is not None:
                raise ValueError("TransformerLM: pass token_positions or kv_cache, not both "
                                 "(with a cache the positions are the cache slots)")
            token_positions = kv_cache.prepare(token_ids.shape[0], seq)  # (batch or 1, seq); checks room
            last = int(token_positions.max())
            if last >= config.context_length:
                raise ValueError(
                    f"TransformerLM: {last + 1 - seq} cached tokens + {seq} new ones exceed "
                    f"context_length={config.context_length}; the position tables stop at {config.context_length - 1}")
        elif token_positions is not None:  # a cache's positions are built by prepare and bounded just above
            check_positions("TransformerLM", token_positions, seq, config.context_length)
        x = self.token_embeddings(token_ids)  # (batch, seq, d_model)
        if config.position in ("learned", "sinusoidal"):
            positions = torch.arange(seq, device=token_ids.device) if token_positions is None else token_positions
            table = self.position_table if config.position == "sinusoidal" else self.position_embeddings.weight
            x = x + table[positions]
        for i, layer in enumerate(self.layers):
            # the cache is passed only when there is one, so wrappers of a block that take
            # (x, token_positions), e.g. activation checkpointing, keep working
            x = layer(x, token_positions) if kv_cache is None else layer(x, token_positions, kv_cache.layer(i))
        if kv_cache is not None:
            kv_cache.commit(seq)
        x = self.ln_final(x)
        head = self.token_embeddings.weight if config.tie_embeddings else self.lm_head.weight
        logits = torch.matmul(x, head.t())  # (batch, seq, vocab_size)
        if config.logit_soft_cap is not None:
            logits = soft_cap(logits, config.logit_soft_cap)
        return logits

    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        """Parameters (a tied matrix once); exclude_embeddings drops the token and position tables
        (Kaplan et al. 2020 count non-embedding parameters; the output head still counts when untied)."""
        excluded = {"token_embeddings.weight", "position_embeddings.weight"} if exclude_embeddings else set()
        return sum(p.numel() for name, p in self.named_parameters() if name not in excluded)

    def set_attention_core(self, core=None) -> "TransformerLM":
        """Compute every layer's attention with `core` (e.g. `lmcourse.nn.sdpa_attention`, or
        `lmcourse.kernels.flash_attention_core` on CUDA), or with the layers' own reference when None.
        The weights do not change, so a checkpoint trains or samples with any core. Returns the model."""
        if core is not None and not callable(core):
            raise TypeError(f"set_attention_core: core={core!r}; expected None or a function "
                            "core(q, k, v, sliding_window) (see lmcourse.nn.attention)")
        for module in self.modules():
            if isinstance(module, MultiHeadSelfAttention):
                module.core = core
        return self

    def aux_loss(self) -> torch.Tensor:
        """Sum of the MoE layers' auxiliary losses (balance + router z-loss) from the last forward; 0 if dense."""
        total = torch.zeros((), device=self.token_embeddings.weight.device)
        for module in self.modules():
            if isinstance(module, MoEFeedForward) and getattr(module, "last_stats", None) is not None:
                total = total + module.last_stats.aux_loss()
        return total

    @torch.no_grad()
    def generate(self, prompt_ids: torch.Tensor, max_new_tokens: int, *, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, eos_id: int | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample up to max_new_tokens after prompt_ids ((seq,) or (batch, seq)); returns prompt + new tokens.

        temperature 0 is greedy decoding; top_k keeps only the k likeliest tokens, top_p the nucleus
        (`lmcourse.nn.sampling`). The model sees the last context_length tokens: this is the uncached
        teaching loop, which recomputes the whole window at every step; `lmcourse.inference.generate`
        has the same signature and draws the same tokens with a KV cache. Generation stops once every row has produced eos_id (included);
        a row that finished earlier is padded with eos_id while the others go on.
        """
        check_generate(prompt_ids, max_new_tokens, temperature, top_k, top_p)
        ids = prompt_ids if prompt_ids.ndim == 2 else prompt_ids.unsqueeze(0)
        finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
        for _ in range(max_new_tokens):
            logits = self(ids[:, -self.config.context_length:])[:, -1, :]  # (batch, vocab)
            next_ids, finished = mark_finished(sample(logits, temperature, top_k, top_p, generator), finished, eos_id)
            ids = torch.cat((ids, next_ids.unsqueeze(-1).to(ids.dtype)), dim=-1)
            if eos_id is not None and bool(finished.all()):
                break
        return ids if prompt_ids.ndim == 2 else ids.squeeze(0)
