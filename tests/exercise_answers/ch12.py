import math

import torch


def _nats_per_byte(perplexity, tokens, num_bytes):  # forgets to divide by ln 2: nats, not bits
    return math.log(perplexity) * tokens / num_bytes


def _tokens_over_stride(num_tokens, context_length, stride):  # one window per stride of the text
    return math.ceil(num_tokens / stride)


def _strict_tail(correct, n, chance):  # P(X > correct): the tail starts one too late
    return sum(math.comb(n, k) * chance**k * (1 - chance) ** (n - k) for k in range(correct + 1, n + 1))


def _scale_over_128(w):  # int8 reaches -128, but a symmetric grid has 127 steps each way
    scale = w.abs().max() / 128
    return torch.round(w / scale).clamp(-128, 127) * scale


WRONG = {
    "bpb": _nats_per_byte,
    "perplexity_vs_tokenizer": "c",
    "num_windows": _tokens_over_stride,
    "p_value": _strict_tail,
    "per_tensor_int8": _scale_over_128,
    "why_per_channel": "b",
}
