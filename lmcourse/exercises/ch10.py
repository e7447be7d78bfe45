"""Chapter 10 (inference): the exercises' references and checks."""

from __future__ import annotations

import torch

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise


def alpha(p: torch.Tensor, q: torch.Tensor) -> float:
    # A draft x ~ q is accepted with probability min(1, p(x) / q(x)), so
    # P(accept) = sum_x q(x) min(1, p(x) / q(x)) = sum_x min(p(x), q(x)) = 1 - TV(p, q).
    return torch.minimum(p, q).sum().item()


def _rounded(t: torch.Tensor) -> list[float]:
    return [round(v, 3) for v in t.tolist()]


def _check_alpha(answer) -> None:
    gen = torch.Generator().manual_seed(10)
    pairs = [(torch.softmax(torch.randn(8, generator=gen) * s, -1), torch.softmax(torch.randn(8, generator=gen), -1))
             for s in (0.5, 1.0, 3.0)]
    p = torch.softmax(torch.randn(5, generator=gen), -1)
    pairs += [(p, p),  # the draft is the target: every token accepted
              (torch.tensor([0.5, 0.5, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.3, 0.7])),  # disjoint: none
              (torch.tensor([1.0, 0.0]), torch.tensor([0.25, 0.75]))]  # a one-hot target
    for p, q in pairs:
        want = 1 - 0.5 * (p - q).abs().sum().item()  # 1 - total variation distance
        expect(answer(p, q), want, f"my_alpha(p={_rounded(p)}, q={_rounded(q)})", rel_tol=1e-5, abs_tol=1e-6)


def best_gamma(alpha: float, cost_ratio: float) -> int:
    from lmcourse.inference import expected_speedup

    # More drafts add ever fewer expected tokens (alpha^gamma) but a constant cost c each.
    return max(range(1, 17), key=lambda g: expected_speedup(alpha, g, cost_ratio))


def _check_best_gamma(answer) -> None:
    from lmcourse.accounting import best_gamma as package_best_gamma

    for a, c in [(0.8, 0.05), (0.6, 0.2), (0.9, 0.01), (0.5, 0.5), (0.95, 0.0), (0.3, 0.02)]:
        expect(answer(a, c), package_best_gamma(a, c), f"my_best_gamma({a}, {c})")


def cache_gb(context: int, batch: int) -> float:
    from lmcourse.accounting import PRESETS, kv_cache_bytes_per_token

    mistral = PRESETS["mistral-7b"]
    # 2 (K and V) x 32 layers x 8 KV heads x 128 dims x 2 bytes = 128 KiB per token, and the ring
    # buffer holds at most the 4096 tokens of the window per sequence.
    return kv_cache_bytes_per_token(mistral) * min(context, mistral.sliding_window) * batch / 1e9


def ttft_and_latency() -> tuple[float, float]:
    from lmcourse.accounting import GPUS, PRESETS, decode_step_cost, prefill_cost, roofline_time

    llama, h100 = PRESETS["llama2-7b"], GPUS["H100-80GB"]
    # Prefill: compute-bound, about 2 x 6.7e9 x 2000 FLOPs / 989 TFLOP/s ~ 30 ms. Decode: memory-bound,
    # about 13.5 GB of weights (plus the cache) / 3.35 TB/s ~ 4 ms per token.
    return (roofline_time(h100, "bf16", prefill_cost(llama, 1, 2000, "bf16")),
            roofline_time(h100, "bf16", decode_step_cost(llama, 1, 2000, "bf16")))


EXERCISES = [
    function_exercise("alpha", "acceptance from two distributions", alpha, check=_check_alpha),
    function_exercise("best_gamma", "the best draft length", best_gamma, check=_check_best_gamma),
    choice_exercise(
        "gamma_shrinks", "why the best draft length shrinks",
        {"a": "each extra draft token costs c of a target call but adds only alpha^gamma expected tokens, "
              "which shrinks geometrically; the larger c, the sooner the cost overtakes the gain",
         "b": "a larger c means a larger, more accurate draft model, so fewer drafts are needed",
         "c": "the acceptance rate alpha falls as c grows, because a costlier draft disagrees more with "
              "the target"},
        "a",
        "The speedup is (1 - alpha^(gamma+1)) / ((1 - alpha)(gamma c + 1)): the numerator saturates at "
        "1 / (1 - alpha) while the denominator grows linearly in gamma with slope c. alpha and c are "
        "separate inputs; nothing ties one to the other."),
    function_exercise("cache_gb", "the cache of a sliding-window model", cache_gb,
                      [(1000, 1), (4096, 8), (4097, 1), (32768, 8), (1, 3)]),
    value_exercise("ttft_and_latency", "time to first token", ttft_and_latency, rel_tol=0.1,
                   explanation="Within 10%: a hand estimate from 2 N FLOPs per token and the weights' bytes "
                               "passes; the package's count adds attention and the KV cache."),
]
