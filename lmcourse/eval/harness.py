"""Running a language model on a benchmark: prompt formats, log-likelihood scoring, greedy generation.

Two ways to ask a model a multiple-choice question, as in lm-evaluation-harness and HELM:
- score each option: the log-likelihood of a continuation given the prompt, summed over its tokens
  (`continuation_log_likelihoods`), the option with the highest score wins. The continuation is the
  option's letter after "Answer:" (MMLU's format: the options are listed in the prompt) or the
  option's text itself ("cloze": the model never sees the other options), optionally divided by its
  length in tokens or bytes, since long options collect more negative log-probability;
- generate: greedy decoding from the prompt, then a parser reads the answer out of the text
  (`evaluate_generative` with `parsing.parse_gsm8k_response`, or `parse_mmlu_response`).

Prompts are built by `format_mc_prompt` / `format_math_prompt` from a `PromptFormat`; `PROMPT_FORMATS`
holds the variants chapter 12 compares (same questions, different wrapping). Results carry the
accuracy, its standard error and chance, so a score is never quoted without them.

A prompt and a continuation are encoded separately and concatenated; continuations start with a
space, and byte-level BPE pre-tokenization splits before a space, so this equals encoding the joined
text (checked in the tests). Leaves out: sampling-based metrics (pass@k), chat templates, calibration,
and LLM-as-judge scoring (chapter prose only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lmcourse.eval.parsing import parse_gsm8k_response
from lmcourse.eval.tasks import LETTERS, MathExample, MCExample

__all__ = ["PromptFormat", "PROMPT_FORMATS", "format_mc_prompt", "format_math_prompt",
           "continuation_log_likelihoods", "MCResult", "evaluate_multiple_choice",
           "generate_completions", "GenerativeResult", "evaluate_generative"]

NORMALIZATIONS = (None, "tokens", "bytes")


@dataclass(frozen=True)
class PromptFormat:
    """How a question is wrapped. `score` is "letter" (options listed, the letter is scored) or "text"
    (cloze: options not shown, each option's text is scored)."""

    header: str = "The following are multiple choice questions (with answers) about {subject}.\n\n"
    question: str = "{question}\n"
    option: str = "{letter}. {text}\n"  # one line per option; unused when score == "text"
    answer: str = "Answer:"
    score: str = "letter"

    def __post_init__(self):
        if self.score not in ("letter", "text"):
            raise ValueError(f"PromptFormat: score={self.score!r}; expected 'letter' or 'text'")


PROMPT_FORMATS = {
    "mmlu": PromptFormat(),
    "no header": PromptFormat(header=""),
    "(A) labels": PromptFormat(option="({letter}) {text}\n"),
    "Q:/A:": PromptFormat(header="", question="Q: {question}\n", answer="A:"),
    "cloze": PromptFormat(header="", score="text"),
}


def _check_format(fn: str, fmt) -> PromptFormat:
    if isinstance(fmt, str):
        if fmt not in PROMPT_FORMATS:
            raise ValueError(f"{fn}: fmt={fmt!r}; expected a PromptFormat or one of {sorted(PROMPT_FORMATS)}")
        return PROMPT_FORMATS[fmt]
    if not isinstance(fmt, PromptFormat):
        raise TypeError(f"{fn}: fmt must be a PromptFormat or a name, got {type(fmt).__name__}")
    return fmt


def _one_mc(example: MCExample, fmt: PromptFormat, with_answer: bool) -> str:
    text = fmt.question.format(question=example.question)
    if fmt.score == "letter":
        text += "".join(fmt.option.format(letter=l, text=o) for l, o in zip(LETTERS, example.options))
    text += fmt.answer
    if with_answer:
        text += " " + (example.answer if fmt.score == "letter" else example.options[example.answer_index])
    return text


def format_mc_prompt(example: MCExample, fmt: PromptFormat | str = "mmlu", shots: Sequence[MCExample] = ()) -> str:
    """The header, then each of `shots` with its answer, then `example` up to "Answer:" (no trailing space)."""
    fmt = _check_format("format_mc_prompt", fmt)
    if not isinstance(example, MCExample):
        raise TypeError(f"format_mc_prompt: example must be an MCExample, got {type(example).__name__}")
    header = fmt.header.format(subject=example.subject)
    return header + "".join(_one_mc(s, fmt, True) + "\n\n" for s in shots) + _one_mc(example, fmt, False)


def format_math_prompt(example: MathExample, shots: Sequence[MathExample] = ()) -> str:
    """GSM8K's usual few-shot layout: "Question: ...\\nAnswer: <solution>" blocks, then the open question."""
    if not isinstance(example, MathExample):
        raise TypeError(f"format_math_prompt: example must be a MathExample, got {type(example).__name__}")
    blocks = [f"Question: {s.question}\nAnswer: {s.solution}\n\n" for s in shots]
    return "".join(blocks) + f"Question: {example.question}\nAnswer:"


def _model_device(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def continuation_log_likelihoods(model, context_ids: Sequence[Sequence[int]], continuation_ids: Sequence[Sequence[int]],
                                 batch_size: int = 64) -> torch.Tensor:
    """log p(continuation | context) summed over the continuation's tokens, one float per pair.

    Each context is cut from the left so that context + continuation fits `model.config.context_length`
    (the continuation is never cut). Pairs are right-padded into batches: causal attention means the
    padding after a sequence cannot change the logits that score it.
    """
    if len(context_ids) != len(continuation_ids):
        raise ValueError(f"continuation_log_likelihoods: {len(context_ids)} contexts but "
                         f"{len(continuation_ids)} continuations; expected one each")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"continuation_log_likelihoods: batch_size={batch_size!r}; expected an int >= 1")
    max_len = model.config.context_length
    rows = []
    for i, (ctx, cont) in enumerate(zip(context_ids, continuation_ids)):
        ctx, cont = list(ctx), list(cont)
        if not ctx or not cont or len(cont) >= max_len:
            raise ValueError(f"continuation_log_likelihoods: pair {i} has {len(ctx)} context and {len(cont)} "
                             f"continuation tokens; expected both non-empty and the continuation < {max_len}")
        rows.append((ctx + cont)[-(max_len + 1):])  # the last token is only a target
    device, out = _model_device(model), []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        width = max(len(r) for r in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long, device=device)
        for j, r in enumerate(chunk):
            ids[j, :len(r)] = torch.tensor(r)
        log_probs = F.log_softmax(model(ids[:, :-1]).float(), dim=-1)  # (batch, width - 1, vocab)
        token_lp = log_probs.gather(-1, ids[:, 1:, None]).squeeze(-1)  # log p of each next token
        for j, r in enumerate(chunk):
            n_cont = len(continuation_ids[start + j])
            out.append(token_lp[j, len(r) - 1 - n_cont:len(r) - 1].sum())
    return torch.stack(out).cpu()


@dataclass
class MCResult:
    """Accuracy of one multiple-choice run, with the evidence: per-item scores and predictions."""

    accuracy: float
    n: int
    predictions: list[str]  # predicted letters
    scores: torch.Tensor  # (n, 4): the (normalized) log-likelihood of each option
    chance: float = 1 / len(LETTERS)

    @property
    def stderr(self) -> float:
        """Binomial standard error of the accuracy: sqrt(p (1 - p) / n)."""
        return math.sqrt(self.accuracy * (1 - self.accuracy) / self.n)


def evaluate_multiple_choice(model, tokenizer, examples: Sequence[MCExample], fmt: PromptFormat | str = "mmlu",
                             shots: Sequence[MCExample] = (), normalize: str | None = None,
                             batch_size: int = 64) -> MCResult:
    """Score every option of every example and pick the likeliest (ties go to the earliest letter).

    `normalize` (for text scoring): None (sum of log-probs), "tokens" (mean per token) or "bytes"
    (per UTF-8 byte, lm-evaluation-harness's acc_norm, which does not depend on the tokenizer).
    """
    fmt = _check_format("evaluate_multiple_choice", fmt)
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"evaluate_multiple_choice: normalize={normalize!r}; expected one of {NORMALIZATIONS}")
    if not examples or not all(isinstance(e, MCExample) for e in examples):
        raise ValueError("evaluate_multiple_choice: examples must be a non-empty sequence of MCExample")
    contexts, continuations, lengths = [], [], []
    for example in examples:
        context = tokenizer.encode(format_mc_prompt(example, fmt, shots))
        for letter, text in zip(LETTERS, example.options):
            continuation = " " + (letter if fmt.score == "letter" else text)
            ids = tokenizer.encode(continuation)
            contexts.append(context)
            continuations.append(ids)
            lengths.append({None: 1, "tokens": len(ids), "bytes": len(continuation.encode("utf-8"))}[normalize])
    ll = continuation_log_likelihoods(model, contexts, continuations, batch_size)
    scores = (ll / torch.tensor(lengths, dtype=ll.dtype)).view(len(examples), len(LETTERS))
    picks = scores.argmax(dim=1).tolist()
    predictions = [LETTERS[p] for p in picks]
    correct = sum(p == e.answer for p, e in zip(predictions, examples))
    return MCResult(correct / len(examples), len(examples), predictions, scores)


@torch.no_grad()
def generate_completions(model, tokenizer, prompts: Sequence[str], max_new_tokens: int, eos_id: int | None = None,
                         stop: Sequence[str] = ()) -> list[str]:
    """Greedy completions (the text after each prompt), cut at `eos_id` and at the first of `stop`.

    Prompts with the same number of tokens are decoded together as one batch (`model.generate` has
    no padding mask, so unequal prompts cannot share a batch).
    """
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"generate_completions: max_new_tokens={max_new_tokens!r}; expected an int >= 1")
    if isinstance(stop, str):
        raise TypeError("generate_completions: stop must be a sequence of strings, not one string")
    encoded = [tokenizer.encode(p) for p in prompts]
    by_length: dict[int, list[int]] = {}
    for i, ids in enumerate(encoded):
        by_length.setdefault(len(ids), []).append(i)
    device, out = _model_device(model), [""] * len(prompts)
    for length, rows in by_length.items():
        batch = torch.tensor([encoded[i] for i in rows], device=device)
        generated = model.generate(batch, max_new_tokens, temperature=0, eos_id=eos_id)[:, length:]
        for i, ids in zip(rows, generated.tolist()):
            if eos_id is not None and eos_id in ids:
                ids = ids[:ids.index(eos_id)]
            text = tokenizer.decode(ids)
            for s in stop:
                text = text.split(s, 1)[0]
            out[i] = text
    return out


@dataclass
class GenerativeResult:
    accuracy: float
    n: int
    outputs: list[str]  # the raw completions
    predictions: list[str | None]  # what the parser read out of them (None: unparseable)

    @property
    def parse_failures(self) -> int:
        return sum(p is None for p in self.predictions)

    @property
    def stderr(self) -> float:
        return math.sqrt(self.accuracy * (1 - self.accuracy) / self.n)


def evaluate_generative(model, tokenizer, examples: Sequence[MathExample], shots: Sequence[MathExample] = (),
                        max_new_tokens: int = 24, eos_id: int | None = None, stop: Sequence[str] = ("\n\n",),
                        parse: Callable[[str], str | None] = parse_gsm8k_response) -> GenerativeResult:
    """Exact-match accuracy of greedy answers: generate, parse (the last number), compare strings."""
    if not examples or not all(isinstance(e, MathExample) for e in examples):
        raise ValueError("evaluate_generative: examples must be a non-empty sequence of MathExample")
    prompts = [format_math_prompt(e, shots) for e in examples]
    outputs = generate_completions(model, tokenizer, prompts, max_new_tokens, eos_id, stop)
    predictions = [parse(o) for o in outputs]
    correct = sum(p == e.answer for p, e in zip(predictions, examples))
    return GenerativeResult(correct / len(examples), len(examples), outputs, predictions)
