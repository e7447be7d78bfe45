"""Speculative sampling: a small draft model guesses, the large target model checks several guesses at once.

Leviathan et al. 2023 ("Fast Inference from Transformers via Speculative Decoding") and Chen et al.
2023 ("Accelerating Large Language Model Decoding with Speculative Sampling"): the draft proposes
gamma tokens x_1..x_gamma from its distributions p; one target forward over all of them gives the
target's distributions q at every position. Draft token x_i is accepted with probability
min(1, q(x_i) / p(x_i)); at the first rejection a token is drawn from normalise((q - p)+) and the
rest are discarded; if all are accepted a bonus token comes from the target's last distribution.
Every emitted token is then distributed exactly as the target would have sampled it (the chapter
sketches the proof), so speculation changes the speed, never the output distribution.

With a per-token acceptance probability alpha (independent across positions), a target call yields
(1 - alpha^(gamma+1)) / (1 - alpha) tokens on average, and with c = cost(draft call) / cost(target call)
the speedup over plain decoding is that divided by (gamma * c + 1).

Covers: `accept_drafts` (the rule, on given distributions), `speculative_generate` (batch 1, both
models on KV caches rolled back after a rejection) with its statistics; the two formulas are
`lmcourse.accounting.speculative`'s, re-exported here.
Leaves out: batched speculation, tree drafts (SpecInfer, Medusa), self-drafting (early exit,
lookahead), and adapting gamma on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lmcourse.accounting.speculative import check_alpha_gamma, expected_speedup, expected_tokens_per_call
from lmcourse.inference.kv_cache import KVCache
from lmcourse.nn.sampling import check_sampling, probabilities

__all__ = ["accept_drafts", "speculative_generate", "SpeculativeResult", "expected_tokens_per_call",
           "expected_speedup"]


def accept_drafts(target_probs: torch.Tensor, draft_probs: torch.Tensor, draft_tokens: torch.Tensor,
                  generator: torch.Generator | None = None) -> tuple[list[int], int]:
    """The verification step: target_probs (gamma+1, vocab), draft_probs (gamma, vocab), draft_tokens (gamma,).

    Row i of target_probs / draft_probs is the distribution of the token after the prefix and the
    first i drafts. Returns (emitted tokens, number of drafts accepted): the accepted drafts followed
    by one token resampled from (q - p)+ or, when all gamma were accepted, drawn from the last q.
    """
    gamma = draft_tokens.shape[0]
    if target_probs.shape[0] != gamma + 1 or draft_probs.shape != (gamma, target_probs.shape[1]):
        raise ValueError(f"accept_drafts: target_probs {tuple(target_probs.shape)}, draft_probs "
                         f"{tuple(draft_probs.shape)}, draft_tokens {tuple(draft_tokens.shape)}; expected "
                         "(gamma+1, vocab), (gamma, vocab), (gamma,)")
    q, p = target_probs.double(), draft_probs.double()  # on the models' device, like the generator
    tokens = [int(t) for t in draft_tokens]
    for i, x in enumerate(tokens):
        # Accept with probability min(1, q/p): r < q/p, written r*p < q (p(x) > 0 since x was drawn from p).
        if torch.rand((), generator=generator, dtype=torch.float64, device=q.device) * p[i, x] < q[i, x]:
            continue
        # Rejection: what q wants more of than p already supplied. It sums to 1 - sum min(p, q) > 0
        # whenever a rejection is possible at all.
        residual = (q[i] - p[i]).clamp(min=0)
        resampled = int(torch.multinomial(residual / residual.sum(), 1, generator=generator))
        return tokens[:i] + [resampled], i
    bonus = int(torch.multinomial(q[gamma], 1, generator=generator))
    return tokens + [bonus], gamma


@dataclass
class SpeculativeResult:
    """Output ids (prompt + new) and, per step, the drafts proposed and how many were accepted."""
    ids: torch.Tensor
    gammas: list[int] = field(default_factory=list)
    accepted: list[int] = field(default_factory=list)
    draft_calls: int = 0

    @property
    def target_calls(self) -> int:
        return len(self.gammas)

    def _full(self) -> list[tuple[int, int]]:
        # The last steps may propose fewer drafts to stop exactly at max_new_tokens; the formula is for gamma.
        gamma = max(self.gammas, default=0)
        return [(g, a) for g, a in zip(self.gammas, self.accepted) if g == gamma]

    @property
    def acceptance_rate(self) -> float:
        """Per-token alpha as the formula assumes it: accepted / (accepted + rejected) over the drafts
        that were checked (drafts after a rejection are never looked at, so they do not count)."""
        steps = self._full()
        accepted = sum(a for _, a in steps)
        rejected = sum(a < g for g, a in steps)
        return accepted / (accepted + rejected) if accepted + rejected else float("nan")

    @property
    def tokens_per_target_call(self) -> float:
        """Mean tokens emitted per target forward (accepted drafts + 1), over the full-gamma steps."""
        steps = self._full()
        return sum(a + 1 for _, a in steps) / len(steps) if steps else float("nan")


@torch.no_grad()
def speculative_generate(target, draft, prompt_ids: torch.Tensor, max_new_tokens: int, gamma: int = 4, *,
                         temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                         generator: torch.Generator | None = None) -> SpeculativeResult:
    """Sample max_new_tokens after prompt_ids (seq,) from `target`, with `draft` proposing gamma at a time.

    Both are TransformerLMs with the same vocabulary; temperature/top_k/top_p shape both models'
    distributions (temperature 0: greedy, and the output equals greedy decoding with the target).
    """
    if prompt_ids.ndim != 1 or prompt_ids.shape[0] == 0:
        raise ValueError(f"speculative_generate: prompt_ids has shape {tuple(prompt_ids.shape)}; expected a "
                         "non-empty (seq,) (one sequence)")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"speculative_generate: max_new_tokens={max_new_tokens!r}; expected an integer >= 0")
    check_alpha_gamma(0, gamma)
    check_sampling(temperature, top_k, top_p)
    if draft.config.vocab_size != target.config.vocab_size:
        raise ValueError(f"speculative_generate: draft vocab_size={draft.config.vocab_size} differs from "
                         f"target vocab_size={target.config.vocab_size}")
    total = prompt_ids.shape[0] + max_new_tokens
    for name, model in (("target", target), ("draft", draft)):
        if total > model.config.context_length:
            raise ValueError(f"speculative_generate: prompt of {prompt_ids.shape[0]} + max_new_tokens={max_new_tokens} "
                             f"exceeds the {name}'s context_length={model.config.context_length}")
    target_cache, draft_cache = KVCache.for_model(target, 1, total), KVCache.for_model(draft, 1, total)
    ids = prompt_ids.tolist()
    result = SpeculativeResult(prompt_ids)
    while len(ids) < total:
        steps = min(gamma, total - len(ids) - 1)  # never propose past max_new_tokens
        seq, draft_rows = list(ids), []
        for _ in range(steps):
            # Feed what the draft cache has not seen (after a full acceptance: two tokens), get p for the next.
            logits = draft(_as_batch(seq[draft_cache.length:], prompt_ids), kv_cache=draft_cache)[0, -1]
            draft_rows.append(probabilities(logits, temperature, top_k, top_p))
            seq.append(int(torch.multinomial(draft_rows[-1], 1, generator=generator)))
            result.draft_calls += 1
        # One target call scores the last confirmed token and every draft: steps + 1 distributions.
        logits = target(_as_batch(seq[target_cache.length:], prompt_ids), kv_cache=target_cache)[0, -(steps + 1):]
        target_rows = probabilities(logits, temperature, top_k, top_p)
        draft_probs = torch.stack(draft_rows) if draft_rows else target_rows.new_zeros(0, target_rows.shape[1])
        emitted, accepted = accept_drafts(target_rows, draft_probs, torch.tensor(seq[len(ids):], dtype=torch.long),
                                          generator)
        # Roll back: both caches keep only positions that are still part of the sequence (all but its last token).
        target_cache.truncate(len(ids) + accepted)
        draft_cache.truncate(min(draft_cache.length, len(ids) + accepted))
        ids += emitted
        result.gammas.append(steps)
        result.accepted.append(accepted)
    result.ids = torch.tensor(ids, dtype=prompt_ids.dtype, device=prompt_ids.device)
    return result


def _as_batch(tokens: list[int], like: torch.Tensor) -> torch.Tensor:
    return torch.tensor([tokens], dtype=torch.long, device=like.device)
