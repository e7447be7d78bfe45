"""The KV cache: keep every layer's keys and values so a decode step computes only the new token.

Without a cache, generating token t+1 reruns the model on all t tokens (O(t^2) attention work per
step, O(t^3) for a whole sequence); with one, a step projects one query, appends one key and value
per layer and attends over the t stored ones (O(t)). The price is memory: 2 x num_layers x
num_kv_heads x head_dim numbers per token and sequence, which is why GQA, MQA and MLA exist.

Covers: `KVCache`, preallocated (batch, num_kv_heads, max_len, head_dim) per layer, with
`truncate` to roll back rejected tokens (speculative decoding), and `generate`, cached
autoregressive sampling for `TransformerLM` (prefill the prompt once, then one token per step).
The cache speaks the small protocol `TransformerLM.forward(..., kv_cache=)` expects:
`prepare(batch, seq) -> positions`, `layer(i).update(k, v) -> (k_all, v_all)`, `commit(seq)`.

Leaves out: a ring buffer for sliding-window layers (here the window is applied by the mask and the
whole history stays allocated), per-row lengths and block allocation (`lmcourse.inference.paged`).
"""

from __future__ import annotations

import torch

from lmcourse.nn.sampling import check_generate, mark_finished, sample

__all__ = ["KVCache", "generate"]


class KVCache:
    """Keys and values of num_layers attention layers for a batch of sequences of equal length."""

    def __init__(self, num_layers: int, batch_size: int, num_kv_heads: int, max_len: int, head_dim: int,
                 device=None, dtype=None):
        for name, value in (("num_layers", num_layers), ("batch_size", batch_size), ("num_kv_heads", num_kv_heads),
                            ("max_len", max_len), ("head_dim", head_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"KVCache: {name}={value!r}; expected a positive integer")
        shape = (num_layers, batch_size, num_kv_heads, max_len, head_dim)
        # Allocated once: growing tensors with torch.cat every step would copy the cache each time.
        self.keys = torch.zeros(shape, device=device, dtype=dtype)
        self.values = torch.zeros(shape, device=device, dtype=dtype)
        self.batch_size, self.max_len = batch_size, max_len
        self.length = 0  # tokens stored (the same for every row and layer)

    @classmethod
    def for_model(cls, model, batch_size: int = 1, max_len: int | None = None) -> "KVCache":
        """A cache shaped for `model` (a TransformerLM); max_len defaults to its context_length."""
        config = model.config
        weight = model.token_embeddings.weight
        return cls(config.num_layers, batch_size, config.kv_heads,
                   config.context_length if max_len is None else max_len, config.head_dim, weight.device, weight.dtype)

    def num_bytes(self) -> int:
        """Bytes allocated for keys and values (the whole max_len, used or not)."""
        return 2 * self.keys.numel() * self.keys.element_size()

    def prepare(self, batch_size: int, seq: int) -> torch.Tensor:
        """Check there is room for seq more tokens; return their positions (1, seq)."""
        if batch_size != self.batch_size:
            raise ValueError(f"KVCache: a batch of {batch_size} sequences; this cache holds "
                             f"batch_size={self.batch_size}")
        if self.length + seq > self.max_len:
            raise ValueError(f"KVCache: holds {self.length} tokens; {seq} more would make {self.length + seq} "
                             f"> max_len={self.max_len}")
        return torch.arange(self.length, self.length + seq, device=self.keys.device).unsqueeze(0)

    def layer(self, index: int) -> "_LayerCache":
        return _LayerCache(self, index)

    def commit(self, seq: int) -> None:
        """Called once every layer has stored its seq new keys and values."""
        self.length += seq

    def truncate(self, length: int) -> None:
        """Forget every token from position `length` on (rejected speculative tokens); slots are reused."""
        if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length <= self.length:
            raise ValueError(f"KVCache.truncate: length={length!r}; expected an integer 0 <= length <= {self.length} "
                             "(the stored tokens)")
        self.length = length


class _LayerCache:
    """One layer's view: `update` writes at the cache's current length and returns the history."""

    def __init__(self, cache: KVCache, index: int):
        self.cache, self.index = cache, index

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """k, v (batch, num_kv_heads, seq, head_dim) -> all keys and values so far (batch, kv_heads, length+seq, hd)."""
        cache, start = self.cache, self.cache.length
        end = start + k.shape[-2]
        keys, values = cache.keys[self.index], cache.values[self.index]
        if k.shape[1:2] + k.shape[3:] != keys.shape[1:2] + keys.shape[3:]:
            raise ValueError(f"KVCache: keys of shape {tuple(k.shape)}; expected (batch, {keys.shape[1]}, seq, "
                             f"{keys.shape[3]}) (num_kv_heads, head_dim)")
        keys[:, :, start:end] = k
        values[:, :, start:end] = v
        return keys[:, :, :end], values[:, :, :end]


@torch.no_grad()
def generate(model, prompt_ids: torch.Tensor, max_new_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, eos_id: int | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """`TransformerLM.generate` with a KV cache (same signature): prefill the prompt, then one token per step.

    prompt_ids (seq,) or (batch, seq); returns prompt + new tokens. The whole sequence must fit in
    context_length (no cropping: a cache cannot drop its first tokens and keep the positions right).
    Both use `sample` on the same logits (up to rounding), so with the same generator it draws the same
    tokens as `model.generate`: the cache changes the cost of a step, never its outcome (what the tests check).
    """
    check_generate(prompt_ids, max_new_tokens, temperature, top_k, top_p)
    context = model.config.context_length
    if prompt_ids.shape[-1] + max_new_tokens > context:
        raise ValueError(f"generate: a prompt of {prompt_ids.shape[-1]} tokens + max_new_tokens={max_new_tokens} "
                         f"exceeds context_length={context}; shorten the prompt or generate fewer tokens")
    ids = prompt_ids if prompt_ids.ndim == 2 else prompt_ids.unsqueeze(0)
    cache = KVCache.for_model(model, ids.shape[0], ids.shape[1] + max_new_tokens)
    finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
    new_ids = ids  # what the cache has not seen yet: the prompt, then the last token
    for _ in range(max_new_tokens):
        logits = model(new_ids, kv_cache=cache)[:, -1, :].float()  # (batch, vocab)
        next_ids, finished = mark_finished(sample(logits, temperature, top_k, top_p, generator), finished, eos_id)
        new_ids = next_ids.unsqueeze(-1).to(ids.dtype)
        ids = torch.cat((ids, new_ids), dim=-1)
        if eos_id is not None and bool(finished.all()):
            break
    return ids if prompt_ids.ndim == 2 else ids.squeeze(0)
