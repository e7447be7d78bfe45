"""A toy RLVR task that trains on a CPU in seconds: a tiny policy learns to add two small numbers (ch. 16-17).

The task is generated here: prompts like "7+5=" with the answer "12" followed by an end token,
over a 14-symbol character vocabulary (digits, '+', '=', end '$', pad '_'). Operands are zero-padded
so every prompt has the same length and a batch of prompts is a plain tensor (no left padding or
attention mask). The reward is verifiable: 1 if the response is digits then the end token and the
digits are the sum, else 0 (a format reward is reported alongside, as in R1-Zero's reward).

- `encode` / `decode`, `make_problems`, `reward_fn` (compatible with `compute_group_normalized_rewards`).
- `sample_rollouts`: batched sampling, a plain loop over new tokens, with the old log-probs and the
  response mask that the GRPO loss needs.
- `grpo_step`: group-normalized advantages, then `grpo_microbatch_train_step` + AdamW.
- `train_rlvr`: a short SFT warm start, then GRPO iterations; returns the reward curve.

Left out: KV caching during sampling (sequences are ~10 tokens), a reference model and KL penalty,
learning-rate schedules, and any real (math-word-problem) data; the losses live in `grpo.py`.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lmcourse.align.grpo import LOSS_TYPES, compute_group_normalized_rewards, grpo_microbatch_train_step
from lmcourse.align.sft import get_response_log_probs, sft_microbatch_train_step
from lmcourse.nn import TransformerLM, sample
from lmcourse.train.optim import AdamW, clip_grad_norm

VOCAB = "0123456789+=$_"
END, PAD = "$", "_"
END_ID, PAD_ID = VOCAB.index(END), VOCAB.index(PAD)
_IDS = {c: i for i, c in enumerate(VOCAB)}


def encode(text: str) -> list[int]:
    """Characters to ids; raises ValueError on a character outside the vocabulary."""
    bad = sorted(set(text) - set(_IDS))
    if bad:
        raise ValueError(f"encode: characters {bad} are not in the vocabulary {VOCAB!r}")
    return [_IDS[c] for c in text]


def decode(ids) -> str:
    """Ids to text, cut after the first end token (kept, so the reward can check the format); pads dropped."""
    out = []
    for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
        if i == PAD_ID:
            continue
        out.append(VOCAB[i])
        if i == END_ID:
            break
    return "".join(out)


def make_problems(n: int, seed: int = 0, max_operand: int = 9) -> list[tuple[str, str]]:
    """n (prompt, answer) pairs, operands uniform in [0, max_operand]: ("7+3=", "10"), or ("07+12=", "19")
    when max_operand has two digits (zero-padded, so all prompts have one length)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"make_problems: n={n!r}; expected an int >= 1")
    if not (isinstance(max_operand, int) and 1 <= max_operand <= 99):
        raise ValueError(f"make_problems: max_operand={max_operand!r}; expected an int in [1, 99]")
    rng, width = random.Random(seed), len(str(max_operand))
    pairs = []
    for _ in range(n):
        a, b = rng.randint(0, max_operand), rng.randint(0, max_operand)
        pairs.append((f"{a:0{width}d}+{b:0{width}d}=", str(a + b)))
    return pairs


def reward_fn(response: str, answer: str) -> dict:
    """format_reward: digits followed by the end token; answer_reward: those digits equal `answer`.

    reward = answer_reward (a right number without the end token scores 0: stopping is part of the task).
    """
    m = re.fullmatch(r"(\d+)" + re.escape(END), response)
    fmt = 1.0 if m else 0.0
    ans = 1.0 if m and m.group(1) == answer else 0.0
    return {"reward": ans, "format_reward": fmt, "answer_reward": ans}


@torch.no_grad()
def sample_rollouts(model, prompts_ids: torch.Tensor, group_size: int, max_new_tokens: int,
                    temperature: float = 1.0, generator: torch.Generator | None = None) -> dict:
    """Sample `group_size` responses per prompt (consecutive rows form a group, as GRPO expects).

    Returns "prompt_ids" (B, P) with B = prompts * group_size, "response_ids" (B, T) right-padded with
    PAD after the end token, "response_mask" (B, T) bool, True up to and including the end token,
    and "old_log_probs" (B, T): log pi(token | prefix) of the sampled tokens under the untempered
    policy (what `get_response_log_probs` recomputes; with temperature 1 that is the sampling
    distribution itself), 0 on padding.
    """
    if prompts_ids.ndim != 2 or prompts_ids.shape[1] == 0:
        raise ValueError(f"sample_rollouts: prompts_ids shape {tuple(prompts_ids.shape)}; expected (n, P), P > 0")
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"sample_rollouts: group_size={group_size!r}; expected an int >= 1")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"sample_rollouts: max_new_tokens={max_new_tokens!r}; expected an int >= 1")
    if not temperature > 0:
        raise ValueError(f"sample_rollouts: temperature={temperature!r}; expected > 0")
    ctx = getattr(getattr(model, "config", None), "context_length", None)
    if ctx is not None and prompts_ids.shape[1] + max_new_tokens - 1 > ctx:
        raise ValueError(f"sample_rollouts: prompt length {prompts_ids.shape[1]} + max_new_tokens {max_new_tokens} "
                         f"needs context_length >= {prompts_ids.shape[1] + max_new_tokens - 1}, model has {ctx}")
    ids = prompts_ids.repeat_interleave(group_size, dim=0)
    B = ids.shape[0]
    finished = torch.zeros(B, dtype=torch.bool, device=ids.device)
    tokens, logps, masks = [], [], []
    for _ in range(max_new_tokens):
        logits = model(ids)[:, -1, :].float()
        nxt = sample(logits, temperature, generator=generator)  # the sampler every generate uses
        logp = F.log_softmax(logits, dim=-1).gather(-1, nxt.unsqueeze(-1)).squeeze(-1)
        live = ~finished  # rows that already emitted the end token only get padding
        nxt = torch.where(live, nxt, torch.full_like(nxt, PAD_ID))
        tokens.append(nxt)
        logps.append(torch.where(live, logp, torch.zeros_like(logp)))
        masks.append(live)
        finished = finished | (nxt == END_ID)
        ids = torch.cat((ids, nxt.unsqueeze(-1)), dim=-1)
        if bool(finished.all()):
            break
    return {"prompt_ids": prompts_ids.repeat_interleave(group_size, dim=0), "response_ids": torch.stack(tokens, 1),
            "response_mask": torch.stack(masks, 1), "old_log_probs": torch.stack(logps, 1)}


def _shifted(prompt_ids: torch.Tensor, response_ids: torch.Tensor, response_mask: torch.Tensor):
    """input_ids, labels and a label-aligned response mask for prompt + response (sft.py's convention)."""
    full = torch.cat((prompt_ids, response_ids), dim=1)
    pre = torch.zeros(prompt_ids.shape[0], prompt_ids.shape[1] - 1, dtype=torch.bool, device=full.device)
    return full[:, :-1], full[:, 1:], torch.cat((pre, response_mask.bool()), dim=1)


@dataclass
class RLVRConfig:
    max_operand: int = 9          # 0..9 + 0..9: 100 problems, answers of 1-2 digits
    n_problems: int = 256
    sft_steps: int = 25           # warm start; 0 = pure RL from the random policy (reward stays ~0)
    sft_batch: int = 32
    sft_lr: float = 3e-3
    grpo_steps: int = 100         # ~7 s on 2 CPU cores: reward ~0.2 -> ~0.8
    prompts_per_step: int = 16
    group_size: int = 8
    epochs_per_rollout: int = 1   # > 1 reuses rollouts (off-policy; grpo_clip's ratio matters then)
    microbatches: int = 2
    lr: float = 1e-3
    loss_type: str = "grpo_clip"
    cliprange: float = 0.2
    max_new_tokens: int = 4
    temperature: float = 1.0
    max_grad_norm: float = 1.0
    seed: int = 0

    def __post_init__(self):
        for name in ("max_operand", "n_problems", "sft_batch", "grpo_steps", "prompts_per_step",
                     "group_size", "epochs_per_rollout", "microbatches", "max_new_tokens"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"RLVRConfig: {name}={v!r}; expected an int >= 1")
        if isinstance(self.sft_steps, bool) or not isinstance(self.sft_steps, int) or self.sft_steps < 0:
            raise ValueError(f"RLVRConfig: sft_steps={self.sft_steps!r}; expected an int >= 0")
        if self.loss_type not in LOSS_TYPES:
            raise ValueError(f"RLVRConfig: loss_type={self.loss_type!r}; expected one of {LOSS_TYPES}")
        if self.group_size < 2 and self.loss_type != "no_baseline":
            raise ValueError("RLVRConfig: group_size must be >= 2 for a group baseline (one sample is its own mean)")
        if (self.prompts_per_step * self.group_size) % self.microbatches:
            raise ValueError(f"RLVRConfig: microbatches={self.microbatches} must divide prompts_per_step * "
                             f"group_size = {self.prompts_per_step * self.group_size}")
        for name in ("sft_lr", "lr", "temperature", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"RLVRConfig: {name}={getattr(self, name)!r}; expected > 0")
        if not 0 < self.cliprange < float("inf"):  # >= 1 is legal: only the upper clip is left
            raise ValueError(f"RLVRConfig: cliprange={self.cliprange!r}; expected a positive number")


def make_policy(config: RLVRConfig | None = None, d_model: int = 64, num_layers: int = 2, seed: int = 0):
    """A tiny TransformerLM over this vocabulary, long enough for prompt + max_new_tokens."""
    config = config or RLVRConfig()
    torch.manual_seed(seed)
    prompt_len = 2 * len(str(config.max_operand)) + 2
    return TransformerLM(len(VOCAB), prompt_len + config.max_new_tokens, d_model, num_layers, 4, 4 * d_model)


def grpo_step(model, optimizer, rollouts: dict, answers: list[str], config: RLVRConfig) -> dict:
    """Score one batch of rollouts, normalize within groups, take epochs_per_rollout optimizer steps."""
    responses = [decode(r) for r in rollouts["response_ids"]]
    advantages, raw, meta = compute_group_normalized_rewards(reward_fn, responses, answers, config.group_size,
                                                             advantage_eps=1e-6, normalize_by_std=True)
    input_ids, labels, mask = _shifted(rollouts["prompt_ids"], rollouts["response_ids"], rollouts["response_mask"])
    old = torch.cat((torch.zeros_like(input_ids[:, :rollouts["prompt_ids"].shape[1] - 1], dtype=torch.float32),
                     rollouts["old_log_probs"]), dim=1)
    B, k = input_ids.shape[0], config.microbatches
    for _ in range(config.epochs_per_rollout):
        optimizer.zero_grad()
        for rows in torch.arange(B).chunk(k):  # gradient accumulation: k micro-batches, one step
            logp = get_response_log_probs(model, input_ids[rows], labels[rows])["log_probs"]
            grpo_microbatch_train_step(logp, mask[rows], k, config.loss_type, raw_rewards=raw[rows, None],
                                       advantages=advantages[rows, None], old_log_probs=old[rows],
                                       cliprange=config.cliprange)
        clip_grad_norm(model.parameters(), config.max_grad_norm)
        optimizer.step()
    return meta


def sft_warm_start(model, problems: list[tuple[str, str]], config: RLVRConfig, generator: torch.Generator):
    """A few SFT steps on correct answers (+ end token); returns the per-step losses."""
    prompts = torch.tensor([encode(p) for p, _ in problems])
    width = config.max_new_tokens
    resp = torch.full((len(problems), width), PAD_ID, dtype=torch.long)
    rmask = torch.zeros_like(resp, dtype=torch.bool)
    for i, (_, a) in enumerate(problems):
        ids = encode(a + END)[:width]
        resp[i, :len(ids)], rmask[i, :len(ids)] = torch.tensor(ids), True
    input_ids, labels, mask = _shifted(prompts, resp, rmask)
    optimizer, losses = AdamW(model.parameters(), lr=config.sft_lr, weight_decay=0.0), []
    for _ in range(config.sft_steps):
        rows = torch.randint(len(problems), (config.sft_batch,), generator=generator)
        optimizer.zero_grad()
        logp = get_response_log_probs(model, input_ids[rows], labels[rows])["log_probs"]
        loss, _ = sft_microbatch_train_step(logp, mask[rows], 1)
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_rlvr(model, config: RLVRConfig | None = None, problems: list[tuple[str, str]] | None = None) -> dict:
    """SFT warm start, then GRPO. Returns {"reward", "format_reward", "sft_loss", "seconds"}.

    "reward" holds the mean reward of each GRPO step's rollouts (sampled before that step's update).
    `problems`: the (prompt, answer) pairs to train on (default: `config.n_problems` drawn by
    `make_problems`); pass a subset to keep other problems held out for evaluation.
    """
    config = config or RLVRConfig()
    if not isinstance(config, RLVRConfig):
        raise TypeError(f"train_rlvr: config must be an RLVRConfig, got {type(config).__name__}")
    if problems is not None and not problems:
        raise ValueError("train_rlvr: problems is empty; expected at least one (prompt, answer) pair")
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    if problems is None:
        problems = make_problems(config.n_problems, config.seed, config.max_operand)
    model.train()
    # RL can only reinforce answers the policy already samples: from a random policy a correct
    # "sum + end token" is rare (a one-digit answer about 1 sample in 200), so almost every group
    # scores 0, its advantages are 0 and it gives no gradient (chapter 16 measures a mean reward of
    # a few percent over ten steps). A brief SFT warm start puts the reward at a partial level, from
    # which GRPO's group comparisons have something to push toward (the R1 "cold start" in miniature).
    sft_losses = sft_warm_start(model, problems, config, gen) if config.sft_steps else []
    optimizer = AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    history = {"reward": [], "format_reward": [], "sft_loss": sft_losses}
    for _ in range(config.grpo_steps):
        picks = torch.randint(len(problems), (config.prompts_per_step,), generator=gen).tolist()
        prompts = torch.tensor([encode(problems[i][0]) for i in picks])
        answers = [problems[i][1] for i in picks for _ in range(config.group_size)]
        rollouts = sample_rollouts(model, prompts, config.group_size, config.max_new_tokens,
                                   config.temperature, gen)
        meta = grpo_step(model, optimizer, rollouts, answers, config)
        history["reward"].append(meta["reward_mean"])
        history["format_reward"].append(meta["format_reward_mean"])
    history["seconds"] = time.perf_counter() - start
    return history


@torch.no_grad()
def accuracy(model, problems: list[tuple[str, str]], max_new_tokens: int = 4) -> float:
    """Greedy-decoding accuracy (answer reward) over `problems`."""
    prompts = torch.tensor([encode(p) for p, _ in problems])
    out = model.generate(prompts, max_new_tokens, temperature=0, eos_id=END_ID)[:, prompts.shape[1]:]
    return sum(reward_fn(decode(o), a)["reward"] for o, (_, a) in zip(out, problems)) / len(problems)
