"""Chapter 12 (evaluation): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise


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
