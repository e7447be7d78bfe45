"""Chapter 10 (inference): the exercises' references and checks."""

from __future__ import annotations

import torch

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


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

WARM_UP = [
    choice("A chat model writes its answer one token at a time. For each new token, what must the "
           "model read from GPU memory?",
           ["only the new token's embedding", "all of its weights, plus the keys and values of earlier tokens",
            "only the last layer's weights"],
           "b", "Every decode step runs the whole network for one token per sequence, so it reads every "
                "weight and the sequence's KV cache while doing little arithmetic on each byte."),
    open_question("Serving 64 users at once instead of one: what happens to the tokens per second of the "
                  "server, and to the wait of each user between tokens?",
                  "Throughput rises a lot, because one pass over the weights serves 64 sequences; each "
                  "user's per-token latency rises a little, and more as the 64 KV caches take over the "
                  "bytes read. The worked problem computes both for Llama-2-7B."),
    open_question("Sampling at temperature 0 picks the most likely token every time. What does a "
                  "temperature of 2 do to the next-token distribution?",
                  "It divides the logits by 2 before the softmax, flattening the distribution: unlikely "
                  "tokens gain probability, so the text is more varied and more often wrong."),
]

QUIZ = [
    choice("At batch 1, a Llama-2-7B decode step in bf16 has an arithmetic intensity of about 1 FLOP "
           "per byte. The H100's ridge point is near 300. What bounds the step?",
           ["the tensor cores' peak FLOPs", "memory bandwidth: reading the weights and the KV cache",
            "the PCIe link to the host"],
           "b", "Far below the ridge point, a kernel waits for bytes; the chapter's roofline puts "
                "decoding at under half a percent of peak."),
    choice("Changing Llama-2-7B from 32 KV heads to 8 (GQA) does what to its KV cache?",
           ["divides it by 4", "divides it by 32", "nothing: the number of query heads is unchanged"],
           "a", "The cache stores keys and values per KV head; 32 / 8 = 4. MQA, with one KV head, would "
                "divide it by 32."),
    choice("Speculative sampling with a draft model accepts each draft token with probability "
           "min(1, q/p) and resamples on rejection. What distribution do its outputs follow?",
           ["the draft model's", "a mixture of the draft's and the target's, weighted by the acceptance rate",
            "exactly the target model's"],
           "c", "The rejection step corrects for the draft's errors: the chapter checks it with a chi-square "
                "test. Only the speed depends on how good the draft is."),
    choice("On this chapter's CPU, speculative decoding gave little or no speed-up. Why?",
           ["the draft costs about half a target step, since tiny models are dominated by per-call "
            "overhead, not by reading weights",
            "the acceptance rate was too low to ever help",
            "speculative decoding only works with greedy sampling"],
           "a", "The speedup formula needs a cheap draft (c near 0.1, as for a 7B draft of a 70B target on an "
                "H100); with c near 0.5 even the formula predicts about no gain."),
    choice("A server that reserves room for each request's longest possible answer serves fewer requests "
           "than one with a paged KV cache. Why?",
           ["paging compresses the keys and values",
            "most of each worst-case reservation is never used, and paging hands out blocks only as "
            "tokens arrive",
            "paging lets requests share their KV caches"],
           "b", "A block table maps a request's logical blocks to any free physical ones, so memory is "
                "taken one block at a time and returned when the request finishes."),
]
