"""Perplexity and bits per byte of a language model on held-out text longer than its context.

A model with a context of L tokens cannot score a long text in one pass. `sliding_windows` cuts it
into windows of at most L tokens whose starts are `stride` apart; each window scores only the tokens
that no earlier window scored, so every token is counted exactly once, and (after the first window)
each is predicted from at least L - stride tokens of context. stride = L gives disjoint windows (fast,
but the first tokens of each window see little context, which inflates perplexity); a smaller stride
costs L / stride times more compute and approaches the perplexity the model would have with its full
context everywhere.

`bits_per_byte` divides the total negative log-likelihood (in nats) by ln 2 times the number of UTF-8
bytes of the text. Perplexity per token depends on how much text a token holds, so models with
different tokenizers can only be compared per byte. Leaves out: evaluating with a KV cache (the
windows are recomputed), and document boundaries inside the text (pass documents separately).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["sliding_windows", "sequence_nll", "bits_per_byte", "TextScore", "evaluate_text"]


def sliding_windows(num_tokens: int, context_length: int, stride: int) -> list[tuple[int, int, int]]:
    """(begin, end, first) per window: the inputs are tokens [begin, end), the targets [begin + 1, end + 1),
    and only targets at positions >= first are scored (the others were scored by an earlier window).
    Together the windows score positions 1 .. num_tokens - 1 once each (token 0 has no context)."""
    for name, value, low in (("num_tokens", num_tokens, 2), ("context_length", context_length, 1),
                             ("stride", stride, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"sliding_windows: {name}={value!r}; expected an int >= {low}")
    if stride > context_length:
        raise ValueError(f"sliding_windows: stride={stride} > context_length={context_length} would skip tokens")
    windows, next_target, begin = [], 1, 0
    while next_target < num_tokens:
        end = min(begin + context_length, num_tokens - 1)
        windows.append((begin, end, next_target))
        next_target, begin = end + 1, begin + stride
    return windows


@torch.no_grad()
def sequence_nll(model, token_ids, stride: int | None = None, batch_size: int = 16) -> tuple[float, int]:
    """(total negative log-likelihood in nats, number of tokens scored) of one token sequence.

    Scores tokens 1 .. n-1 (token 0 is context only); `stride` defaults to the model's context_length.
    """
    if isinstance(token_ids, torch.Tensor) and token_ids.ndim != 1:
        raise ValueError(f"sequence_nll: token_ids has shape {tuple(token_ids.shape)}; expected one sequence (n,)")
    ids = torch.as_tensor(token_ids, dtype=torch.long).flatten()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"sequence_nll: batch_size={batch_size!r}; expected an int >= 1")
    context_length = model.config.context_length
    windows = sliding_windows(len(ids), context_length, stride or context_length)
    device, total = next(model.parameters()).device, torch.zeros((), dtype=torch.float64)
    for start in range(0, len(windows), batch_size):
        chunk = windows[start:start + batch_size]
        width = max(end - begin for begin, end, _ in chunk)
        inputs = torch.zeros(len(chunk), width, dtype=torch.long)
        targets = torch.zeros(len(chunk), width, dtype=torch.long)
        scored = torch.zeros(len(chunk), width, dtype=torch.bool)
        for j, (begin, end, first) in enumerate(chunk):
            n = end - begin
            inputs[j, :n], targets[j, :n] = ids[begin:end], ids[begin + 1:end + 1]
            scored[j, first - begin - 1:n] = True  # target at position p sits in column p - begin - 1
        logits = model(inputs.to(device)).float()
        nll = F.cross_entropy(logits.flatten(0, 1), targets.to(device).flatten(), reduction="none")
        total += nll.double().cpu()[scored.flatten()].sum()
    return total.item(), len(ids) - 1


def bits_per_byte(total_nats: float, num_bytes: int) -> float:
    """Total negative log-likelihood (nats) -> bits per UTF-8 byte: nats / (ln 2 * bytes)."""
    if isinstance(num_bytes, bool) or not isinstance(num_bytes, int) or num_bytes < 1:
        raise ValueError(f"bits_per_byte: num_bytes={num_bytes!r}; expected an int >= 1")
    if not total_nats >= 0:
        raise ValueError(f"bits_per_byte: total_nats={total_nats!r}; expected a number >= 0")
    return total_nats / (math.log(2) * num_bytes)


@dataclass(frozen=True)
class TextScore:
    """What a model's loss on a text comes to, in the units people quote."""

    nats: float  # total negative log-likelihood
    tokens: int  # tokens scored
    bytes: int  # UTF-8 bytes of the text those tokens spell

    @property
    def nats_per_token(self) -> float:
        return self.nats / self.tokens

    @property
    def perplexity(self) -> float:
        return math.exp(self.nats_per_token)

    @property
    def bits_per_byte(self) -> float:
        return bits_per_byte(self.nats, self.bytes)


def evaluate_text(model, tokenizer, text: str, bos_id: int, stride: int | None = None,
                  batch_size: int = 16) -> TextScore:
    """Score every token of `text`, each predicted from `bos_id` (e.g. the end-of-text token that separates
    training documents) plus the text before it, so every byte of the text is paid for."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"evaluate_text: text must be a non-empty str, got {type(text).__name__}")
    vocab_size = model.config.vocab_size
    if isinstance(bos_id, bool) or not isinstance(bos_id, int) or not 0 <= bos_id < vocab_size:
        raise ValueError(f"evaluate_text: bos_id={bos_id!r}; expected a token id in [0, {vocab_size})")
    nats, tokens = sequence_nll(model, [bos_id] + tokenizer.encode(text), stride, batch_size)
    return TextScore(nats, tokens, len(text.encode("utf-8")))
