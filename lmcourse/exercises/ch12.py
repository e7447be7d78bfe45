"""Chapter 12 (evaluation): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise
from lmcourse.exercises.study import choice, open_question


def bpb(perplexity: float, tokens: int, num_bytes: int) -> float:
    # log(perplexity) is nats per token; times tokens is the total in nats; divide by ln 2 for bits
    # and by the bytes. At fixed bits per byte, nats per token grow with bytes per token, and the
    # perplexity grows exponentially in them.
    return math.log(perplexity) * tokens / (math.log(2) * num_bytes)


def num_windows(num_tokens: int, context_length: int, stride: int) -> int:
    # Window k (from 0) scores targets up to k * stride + context_length; the last target is
    # num_tokens - 1, so the windows after the first must cover num_tokens - 1 - context_length more.
    if num_tokens - 1 <= context_length:
        return 1
    return 1 + math.ceil((num_tokens - 1 - context_length) / stride)


def _check_num_windows(answer) -> None:
    from lmcourse.eval import sliding_windows

    for n in (2, 9, 10, 64, 65, 66, 100, 1000):
        for L, s in ((8, 8), (8, 3), (64, 16), (64, 64), (16, 1)):
            expect(answer(n, L, s), len(sliding_windows(n, L, s)), f"my_num_windows({n}, {L}, {s})")


def p_value(correct: int, n: int, chance: float) -> float:
    # P(X >= correct) for X ~ Binomial(n, chance): the tail starts at `correct` itself.
    return sum(math.comb(n, k) * chance**k * (1 - chance) ** (n - k) for k in range(correct, n + 1))


def _check_p_value(answer) -> None:
    from scipy.stats import binom

    for correct, n, chance in ((75, 300, 0.25), (90, 300, 0.25), (5, 10, 0.25), (0, 20, 0.25), (20, 20, 0.5),
                               (1, 1, 0.25), (40, 100, 0.3)):
        expect(answer(correct, n, chance), float(binom.sf(correct - 1, n, chance)),
               f"my_p_value({correct}, {n}, {chance})", rel_tol=1e-6, abs_tol=1e-12)


def per_tensor_int8(w: torch.Tensor) -> torch.Tensor:
    # One step size for every row: rows with small weights are rounded on a grid made for the largest
    # row, so most of their weights collapse to a few levels (or to 0).
    scale = w.abs().max() / 127
    return torch.round(w / scale).clamp(-127, 127) * scale


def _check_per_tensor_int8(answer) -> None:
    from lmcourse.inference import dequantize_int8, quantize_weight_int8

    gen = torch.Generator().manual_seed(12)
    lopsided = torch.randn(64, 64, generator=gen) * torch.logspace(-2, 0, 64)[:, None]  # row scales over 100x
    for w in (lopsided, torch.randn(8, 16, generator=gen), torch.tensor([[0.5, -1.0], [0.0, 0.25]]),
              -torch.rand(3, 5, generator=gen)):
        expect(answer(w.clone()), per_tensor_int8(w), f"my_per_tensor_int8 on a {tuple(w.shape)} matrix",
               rel_tol=1e-5, abs_tol=1e-6)
    per_channel = dequantize_int8(*quantize_weight_int8(lopsided))
    if not (answer(lopsided) - lopsided).norm() > (per_channel - lopsided).norm():
        raise Mismatch("my_per_tensor_int8: expected a larger error than per-channel int8 on rows of unequal size")


EXERCISES = [
    function_exercise("bpb", "from perplexity to bits per byte", bpb,
                      [(10.0, 1000, 4000), (2.0, 1, 1), (1.0, 50, 200), (35.5, 7_000, 25_000), (256.0, 10, 10)]),
    choice_exercise(
        "perplexity_vs_tokenizer", "perplexity across tokenizers",
        {"a": "at the same bits per byte, twice the bytes per token is twice the nats per token, and the "
              "perplexity is exponential in the nats per token: it is squared",
         "b": "longer tokens need a larger vocabulary, and perplexity grows in proportion to the "
              "vocabulary size",
         "c": "a tokenizer with longer tokens leaves the model less context per prediction, so it "
              "predicts worse"},
        "a",
        "Perplexity = exp(nats per token) = 2^(bits per byte x bytes per token). With the same bits per "
        "byte, both models have the same total information; the one with longer tokens spends it in half "
        "as many predictions, each twice as surprising: a perplexity of 10 becomes 100."),
    function_exercise("num_windows", "the cost of a stride", num_windows, check=_check_num_windows),
    function_exercise("p_value", "is it above chance?", p_value, check=_check_p_value),
    function_exercise("per_tensor_int8", "one scale per matrix", per_tensor_int8, check=_check_per_tensor_int8),
    choice_exercise(
        "why_per_channel", "why per-tensor is worse",
        {"a": "int8 with a single scale cannot represent negative weights, so half of them are lost",
         "b": "per-tensor clips the largest weights of the matrix, which per-channel keeps",
         "c": "one step size serves every row: rows of small weights are rounded on a grid made for the "
              "largest row, so their weights collapse onto a few levels or to zero"},
        "c",
        "The rounding error is up to half a step, and the step is max|w| / 127 of the whole matrix. A row "
        "whose weights are 100 times smaller than the largest row's sees a relative error 100 times "
        "larger; with one scale per row each row gets a grid fitted to its own range. Neither clips."),
]

WARM_UP = [
    choice("A model answers 30 of 100 four-option questions correctly. Before anything else, what do "
           "you need to know to interpret the score?",
           ["only the model's size", "the chance level (25%) and the standard error (about 4.6 points)",
            "the perplexity of the model on the questions"],
           "b", "Guessing scores 25% on four options, and with 100 questions the standard error "
                "sqrt(p(1 - p)/n) is about 4.6 points: 30% is barely above chance."),
    open_question("Two models have perplexity 12 and 20 on the same text. Can you conclude the first is "
                  "better?",
                  "Only if they use the same tokenizer. Perplexity is per token, and a tokenizer with "
                  "shorter tokens makes each prediction easier; across tokenizers, compare bits per byte."),
    open_question("A benchmark's test questions were posted on the web before a model's training data were "
                  "crawled. What might its score then measure?",
                  "Partly memory of the items rather than the skill they test. The chapter plants leaks, "
                  "finds them with n-gram overlap and measures what they do to the loss and the accuracy."),
]

QUIZ = [
    choice("The chapter's model scores near chance when asked for the answer letter, and well above "
           "chance when each option's text is scored (cloze). What does that show?",
           ["the model guesses; cloze scoring is broken",
            "the model prefers right answers, but mapping an option to its letter is a skill it has "
            "not learned",
            "the letter questions are harder than the cloze ones"],
           "b", "Same questions, same model: only the reading procedure changed. Small models learn the "
                "letter indirection late, which is why they are evaluated in cloze form."),
    choice("A byte-level model has lower perplexity per token than a BPE model on the same text. Which "
           "is the better model?",
           ["the byte-level model: lower perplexity is better",
            "it cannot be told from perplexity per token; compare bits per byte",
            "the BPE model, always"],
           "b", "Predicting one byte is easier than predicting a whole BPE token. Per byte, in the "
                "chapter's run, the BPE model is the better one."),
    choice("An n-gram contamination check with n = 8 flags most of the test word problems, although "
           "only 8 of them were leaked. Why?",
           ["the check is broken", "short n-grams also match the template the problems share",
            "the planted problems were copied many times"],
           "b", "Problems built on the same template share 8-word phrases; 13-grams flag exactly the "
                "planted ones. Small n finds paraphrases and boilerplate alike."),
    choice("Suppose that with sixteen sampled answers per word problem, majority vote barely beats greedy "
           "decoding, while at least one of the sixteen is right on almost every problem. What explains "
           "the gap?",
           ["the samples were drawn at too low a temperature",
            "the model's mistakes are systematic: its wrong answers agree, so the vote picks them; a "
            "checker that recognises the right answer could pick it out",
            "majority vote only works for multiple choice"],
           "b", "Self-consistency helps when errors scatter and the right answer is the most common one. "
                "Picking the right one of sixteen needs a verifier, as in RL with verifiable rewards."),
    choice("int8 weights flip a few of the model's multiple-choice answers. Which answers flip?",
           ["random ones", "those where the two best options had nearly equal scores",
            "only the answers that were right before"],
           "b", "Rounding moves the logits by well under a percent, so only near ties change; the chapter "
                "checks that every flipped answer had a tiny fp32 margin."),
]
