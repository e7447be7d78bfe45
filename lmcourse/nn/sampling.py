"""Turning next-token logits into a token: greedy, temperature, top-k and top-p (nucleus) sampling.

Every function takes logits (..., vocab) and either filters them (masked entries become -inf),
returns the distribution actually sampled from (`probabilities`), or draws a token (`sample`).
The order is the usual one (Hugging Face, vLLM): divide by the temperature, keep the top k, then
keep the nucleus — the smallest set of likeliest tokens whose probability reaches top_p
(Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration"). Temperature 0 is greedy.

Leaves out: repetition/frequency penalties, beam search, min-p and typical sampling, and
constrained decoding (grammars); none changes the idea of a filtered distribution.

It sits in `nn`, below `inference`, because the model's own `generate` samples too: one sampler and
one set of generation checks (`check_generate`, `mark_finished`) serve `TransformerLM.generate` (the
uncached teaching loop) and `lmcourse.inference.generate` (the KV-cached one), so both draw the same
tokens from the same logits and refuse the same bad arguments.
"""

from __future__ import annotations

import torch

from lmcourse.nn.layers import softmax

__all__ = ["check_sampling", "check_generate", "mark_finished", "greedy", "top_k_filter", "top_p_filter",
           "probabilities", "sample"]


def check_sampling(temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None) -> None:
    """Raise ValueError naming the first invalid sampling parameter."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature >= 0:
        raise ValueError(f"temperature={temperature!r}; expected a number >= 0 (0 = greedy)")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k={top_k!r}; expected None or an integer >= 1")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ValueError(f"top_p={top_p!r}; expected None or a number in (0, 1]")


def check_generate(prompt_ids: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                   top_k: int | None = None, top_p: float | None = None) -> None:
    """Raise ValueError naming the first invalid argument of a `generate` call."""
    if not isinstance(prompt_ids, torch.Tensor) or prompt_ids.ndim not in (1, 2) or prompt_ids.shape[-1] == 0:
        raise ValueError(f"generate: prompt_ids has shape {tuple(getattr(prompt_ids, 'shape', ()))}; "
                         "expected a non-empty (seq,) or (batch, seq) tensor")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens={max_new_tokens!r}; expected an integer >= 0")
    check_sampling(temperature, top_k, top_p)


def mark_finished(next_ids: torch.Tensor, finished: torch.Tensor, eos_id: int | None):
    """One step of the end-of-sequence bookkeeping: rows that already produced `eos_id` get `eos_id`
    again (padding), and rows that produce it now join them. Returns (next_ids, finished)."""
    if eos_id is None:
        return next_ids, finished
    next_ids = next_ids.masked_fill(finished, eos_id)
    return next_ids, finished | (next_ids == eos_id)


def _check_logits(logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point() or logits.ndim == 0:
        raise TypeError(f"logits: expected a floating-point tensor (..., vocab), got "
                        f"{type(logits).__name__} {getattr(logits, 'dtype', '')}")


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """The likeliest token of each row: (..., vocab) -> (...)."""
    _check_logits(logits)
    return logits.argmax(dim=-1)


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits of each row (ties at the k-th value all kept), the rest -inf."""
    _check_logits(logits)
    check_sampling(top_k=k)
    if k >= logits.shape[-1]:
        return logits
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of likeliest tokens whose total probability is >= p, the rest -inf."""
    _check_logits(logits)
    check_sampling(top_p=p)
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    sorted_probs = softmax(sorted_logits.float(), dim=-1)
    # A token stays when the mass strictly before it is still short of p, so the likeliest token
    # always stays and the set stops at the first token that carries the total past p.
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    drop_sorted = mass_before >= p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def probabilities(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """The distribution `sample` draws from, in fp32: one-hot at the argmax when temperature is 0."""
    _check_logits(logits)
    check_sampling(temperature, top_k, top_p)
    logits = logits.float()
    if temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(dim=-1), logits.shape[-1]).float()
    logits = logits / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return softmax(logits, dim=-1)


def sample(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one token per row: logits (..., vocab) -> token ids (...). Temperature 0 is greedy."""
    if temperature == 0:
        check_sampling(temperature, top_k, top_p)
        return greedy(logits)
    probs = probabilities(logits, temperature, top_k, top_p)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])
