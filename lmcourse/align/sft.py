"""Supervised fine-tuning (SFT): response-masked tokenization, masked reductions, log-probs, one step.

SFT is next-token prediction on (prompt, response) pairs where only the response tokens are
scored: the model should learn to *answer*, not to reproduce prompts. Everything here follows the
CS336 assignment 5 interface so a reader can cross-check against it:

- `tokenize_prompt_and_output`: prompt+response ids, right padding, labels shifted by one, and a
  `response_mask` aligned with the labels (True where the label is a response token).
- `masked_mean`, `masked_normalize`: reductions over the masked entries only.
- `compute_entropy`: per-token entropy of the next-token distribution, from logits, stably.
- `get_response_log_probs`: log p(label | prefix) for every position (optionally the entropy).
- `sft_microbatch_train_step`: the masked negative log-likelihood, scaled for gradient
  accumulation, with `backward()` called.
- `PackedSFTDataset` and `iterate_batches`: examples packed end to end into fixed-length chunks
  (no padding is wasted), the response mask carried along.

Left out: chat templates (a prompt is whatever string the caller builds), attention masks that stop
packed examples from seeing each other (we accept the cross-example attention, as CS336's packed
variant does), and the optimizer / training loop (see `lmcourse.train`).
"""

from __future__ import annotations

import random
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F


def end_token_id(tokenizer) -> int:
    """The id used for padding and as an end-of-sequence marker: pad, then eos, then
    `<|endoftext|>` among special tokens, else 0 (padding is masked out, so 0 is harmless)."""
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    special = getattr(tokenizer, "special_ids", None) or {}
    return int(special.get("<|endoftext|>", 0))


def _encode(tokenizer, text: str, what: str) -> list[int]:
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected a str, got {type(text).__name__}")
    return list(tokenizer.encode(text))


def tokenize_prompt_and_output(prompt_strs: Sequence[str], output_strs: Sequence[str], tokenizer) -> dict:
    """Returns input_ids, labels (batch, max_len - 1) int64 and response_mask (same shape, bool).

    Prompt and output are encoded separately and concatenated, so the boundary is exact even when
    a BPE merge could have crossed it. labels[:, t] is the token after input_ids[:, t].
    """
    if isinstance(prompt_strs, str) or isinstance(output_strs, str):
        raise TypeError("prompt_strs, output_strs: expected lists of str, got a single str")
    if len(prompt_strs) != len(output_strs):
        raise ValueError(f"prompt_strs has {len(prompt_strs)} items but output_strs has {len(output_strs)}")
    if len(prompt_strs) == 0:
        raise ValueError("prompt_strs: expected at least one example, got an empty list")
    pad = end_token_id(tokenizer)
    seqs, masks = [], []
    for i, (p, o) in enumerate(zip(prompt_strs, output_strs)):
        p_ids, o_ids = _encode(tokenizer, p, f"prompt_strs[{i}]"), _encode(tokenizer, o, f"output_strs[{i}]")
        seqs.append(p_ids + o_ids)
        masks.append([False] * len(p_ids) + [True] * len(o_ids))
    width = max(len(s) for s in seqs)
    if width < 2:
        raise ValueError("prompt_strs/output_strs: every pair is shorter than 2 tokens; nothing to predict")
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.bool)
    for i, (s, m) in enumerate(zip(seqs, masks)):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, :len(m)] = torch.tensor(m, dtype=torch.bool)
    # The mask describes the *label* positions, so it is shifted exactly like the labels.
    return {"input_ids": ids[:, :-1], "labels": ids[:, 1:], "response_mask": mask[:, 1:]}


def _check_mask(tensor: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if not isinstance(tensor, torch.Tensor) or not isinstance(mask, torch.Tensor):
        raise TypeError("tensor, mask: expected torch.Tensors")
    if tensor.shape != mask.shape:
        raise ValueError(f"mask has shape {tuple(mask.shape)} but tensor has shape {tuple(tensor.shape)}")
    return mask.bool()


def masked_mean(tensor: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Mean over entries where mask is True (all of them, or along `dim`).

    A row with no True entries has no mean: it comes out NaN (0 / 0), as in CS336, rather than a
    silent 0 that would bias an average of rows. `torch.where` (not tensor * mask) keeps masked-out
    inf/NaN values from leaking in.
    """
    mask = _check_mask(tensor, mask)
    total = torch.where(mask, tensor, torch.zeros_like(tensor)).sum(dim=dim)
    return total / mask.sum(dim=dim).to(total.dtype)


def masked_normalize(tensor: torch.Tensor, mask: torch.Tensor, dim: int | None = None,
                     normalize_constant: float = 1.0) -> torch.Tensor:
    """Sum over masked entries divided by a fixed constant (an all-False row gives 0).

    A constant divisor (rather than the row's own token count) weights every token equally
    regardless of the length of its response: the Dr. GRPO fix to the length bias.
    """
    mask = _check_mask(tensor, mask)
    if not normalize_constant or normalize_constant != normalize_constant:
        raise ValueError(f"normalize_constant: expected a non-zero number, got {normalize_constant!r}")
    return torch.where(mask, tensor, torch.zeros_like(tensor)).sum(dim=dim) / normalize_constant


def compute_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of softmax(logits) over the last dim: H = logsumexp(z) - sum_i p_i z_i.

    Written with logsumexp so logits of size 1e3 neither overflow exp nor give 0 * log 0 = NaN.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError("logits: expected a floating-point tensor")
    lse = torch.logsumexp(logits, dim=-1)
    return lse - (torch.softmax(logits, dim=-1) * logits).sum(dim=-1)


def get_response_log_probs(model, input_ids: torch.Tensor, labels: torch.Tensor,
                           return_token_entropy: bool = False) -> dict:
    """log p_model(labels[b, t] | input_ids[b, :t+1]) for all positions, shape (batch, seq).

    Every position is returned; the caller applies the response mask (so the same call serves
    SFT, DPO and GRPO).
    """
    if input_ids.shape != labels.shape or input_ids.ndim != 2:
        raise ValueError(f"input_ids {tuple(input_ids.shape)} and labels {tuple(labels.shape)}: "
                         "expected the same (batch, seq) shape")
    logits = model(input_ids)
    log_probs = F.log_softmax(logits.float(), dim=-1)  # fp32: log-probs of rare tokens matter here
    out = {"log_probs": log_probs.gather(-1, labels.long().unsqueeze(-1)).squeeze(-1)}
    if return_token_entropy:
        with torch.no_grad():  # a diagnostic, not a loss term: keep it out of the graph
            out["token_entropy"] = compute_entropy(logits.float())
    return out


def sft_microbatch_train_step(policy_log_probs: torch.Tensor, response_mask: torch.Tensor,
                              gradient_accumulation_steps: int, normalize_constant: float = 1.0):
    """Masked NLL of one microbatch, divided by the accumulation steps; calls backward.

    loss = -mean_b( sum_t mask * log_prob / normalize_constant ) / gradient_accumulation_steps,
    so k microbatches accumulate the gradient of one batch k times as large.
    """
    if isinstance(gradient_accumulation_steps, bool) or not isinstance(gradient_accumulation_steps, int) \
            or gradient_accumulation_steps < 1:
        raise ValueError(f"gradient_accumulation_steps: expected an int >= 1, got {gradient_accumulation_steps!r}")
    if policy_log_probs.shape != response_mask.shape:
        raise ValueError(f"response_mask has shape {tuple(response_mask.shape)} but policy_log_probs has "
                         f"shape {tuple(policy_log_probs.shape)}")
    per_example = masked_normalize(policy_log_probs, response_mask, dim=-1, normalize_constant=normalize_constant)
    loss = -per_example.mean() / gradient_accumulation_steps
    loss.backward()
    n_tokens = response_mask.sum()
    metadata = {"nll_per_example": (-per_example).detach(), "response_tokens": n_tokens.detach(),
                "mean_token_nll": (-masked_mean(policy_log_probs, response_mask)).detach()}
    return loss.detach(), metadata


class PackedSFTDataset:
    """(prompt, response) examples packed into one stream, cut into chunks of `context_length`.

    Each example contributes prompt ids, response ids, then an end token; the end token is a
    response token (the model must learn to stop). Example order is shuffled with `seed` before
    packing so chunks mix examples. Item i: input_ids = stream[i*L : (i+1)*L], labels = the same
    window one token later, response_mask aligned with labels. The tail shorter than L is dropped.
    `examples` holds dicts with "prompt" and "response", or (prompt, response) pairs.
    """

    def __init__(self, examples, tokenizer, context_length: int, seed: int = 0, end_token: int | None = None):
        if isinstance(context_length, bool) or not isinstance(context_length, int) or context_length < 1:
            raise ValueError(f"context_length: expected an int >= 1, got {context_length!r}")
        pairs = []
        for i, ex in enumerate(examples):
            if isinstance(ex, dict):
                if "prompt" not in ex or "response" not in ex:
                    raise ValueError(f"examples[{i}]: expected keys 'prompt' and 'response', got {sorted(ex)}")
                ex = (ex["prompt"], ex["response"])
            if len(ex) != 2:
                raise ValueError(f"examples[{i}]: expected a (prompt, response) pair, got {ex!r}")
            pairs.append(ex)
        random.Random(seed).shuffle(pairs)
        end = end_token_id(tokenizer) if end_token is None else int(end_token)
        ids: list[int] = []
        is_response: list[bool] = []
        for i, (p, r) in enumerate(pairs):
            p_ids, r_ids = _encode(tokenizer, p, f"prompt {i}"), _encode(tokenizer, r, f"response {i}")
            ids += p_ids + r_ids + [end]
            is_response += [False] * len(p_ids) + [True] * (len(r_ids) + 1)
        n = (len(ids) - 1) // context_length
        if n < 1:
            raise ValueError(f"examples: {len(ids)} tokens in total, fewer than context_length + 1 = "
                             f"{context_length + 1}; nothing to pack")
        self.context_length = context_length
        self.tokens = torch.tensor(ids, dtype=torch.long)
        self.is_response = torch.tensor(is_response, dtype=torch.bool)
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> dict:
        if not -self._n <= i < self._n:
            raise IndexError(f"index {i} out of range for {self._n} chunks")
        start = (i % self._n) * self.context_length
        end = start + self.context_length
        return {"input_ids": self.tokens[start:end], "labels": self.tokens[start + 1:end + 1],
                "response_mask": self.is_response[start + 1:end + 1]}


def iterate_batches(dataset, batch_size: int, shuffle: bool = True,
                    generator: torch.Generator | None = None) -> Iterator[dict]:
    """One pass over `dataset` in batches of dicts of stacked tensors; the last batch may be short."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
    order = torch.randperm(len(dataset), generator=generator) if shuffle else torch.arange(len(dataset))
    for start in range(0, len(order), batch_size):
        items = [dataset[int(j)] for j in order[start:start + batch_size]]
        yield {k: torch.stack([it[k] for it in items]) for k in items[0]}
