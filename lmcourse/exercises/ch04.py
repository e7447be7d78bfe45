"""Chapter 4 (mixture of experts): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import expect, function_exercise, value_exercise


def moe_ffn_params(d_model: int, d_ff: int, num_experts: int, top_k: int,
                   num_shared_experts: int = 0) -> tuple[int, int]:
    expert = 3 * d_model * d_ff  # w1, w2, w3 of one SwiGLU expert
    router = num_experts * d_model  # one score per routed expert; every token uses all of it
    # 8 experts, top-2: eight times the dense FFN's parameters stored, twice its parameters (and
    # FLOPs) used per token, plus a router of 8 x 512 weights.
    return ((num_experts + num_shared_experts) * expert + router,
            (top_k + num_shared_experts) * expert + router)


def _check_moe_ffn_params(answer) -> None:
    from lmcourse.accounting import count_parameters
    from lmcourse.config import TransformerConfig

    for d_model, d_ff, experts, k, shared in ((512, 1365, 8, 2, 0), (512, 1365, 64, 6, 2),
                                              (256, 100, 16, 1, 1), (64, 96, 4, 4, 0)):
        cfg = TransformerConfig(vocab_size=100, context_length=16, d_model=d_model, num_layers=1, num_heads=8,
                                d_ff=d_ff, num_experts=experts, top_k=k, num_shared_experts=shared)
        c = count_parameters(cfg)
        expect(answer(d_model, d_ff, experts, k, shared), (c.ffn, c.ffn - (c.total - c.active)),
               f"my_moe_ffn_params({d_model}, {d_ff}, {experts}, {k}, {shared}) against count_parameters")


def dropped_under_collapse(num_tokens: int, num_experts: int, top_k: int, capacity_factor: float) -> int:
    # capacity counts assignments: the T * k of them spread evenly, times the capacity factor
    capacity = math.ceil(capacity_factor * num_tokens * top_k / num_experts)
    # Each of the k favourite experts receives all T tokens and keeps min(T, capacity) of them.
    return top_k * max(0, num_tokens - capacity)


def _check_dropped_under_collapse(answer) -> None:
    from lmcourse.nn import MoEFeedForward

    torch.manual_seed(4)
    for num_tokens, num_experts, k, cf in ((40, 8, 2, 1.25), (64, 4, 1, 1.0), (30, 16, 4, 2.0), (10, 4, 2, 3.0),
                                           (7, 3, 1, 1.0)):
        layer = MoEFeedForward(8, 16, num_experts, top_k=k, capacity_factor=cf)
        with torch.no_grad():  # a collapsed router: expert 0 > 1 > 2 > ... for every token
            layer.router.weight.zero_()
            layer.router.weight[:, 0] = torch.arange(num_experts, 0, -1).float()
            tokens = torch.randn(1, num_tokens, 8)
            tokens[..., 0] = 5.0  # the one feature the router reads
            layer(tokens)
        expect(answer(num_tokens, num_experts, k, cf), layer.last_stats.dropped_tokens,
               f"my_dropped_under_collapse({num_tokens}, {num_experts}, {k}, {cf}) against a collapsed layer")


def expert_choice(probs: torch.Tensor, capacity: int) -> torch.Tensor:
    # probs: (tokens, experts). Transposed, each row is one expert's view of all tokens.
    # Every expert processes exactly `capacity` tokens, so nothing is dropped for lack of room and
    # no balancing loss is needed; but nothing forces each token to be chosen: popular tokens are
    # taken by several experts, some by none (they skip the FFN, like a dropped token). It also looks
    # at the whole batch to decide, so it does not fit autoregressive decoding.
    return probs.t().topk(capacity, dim=-1).indices


def _check_expert_choice(answer) -> None:
    gen = torch.Generator().manual_seed(4)
    for num_tokens, num_experts, capacity in ((256, 8, 32), (12, 3, 1), (10, 4, 10), (9, 9, 2)):
        probs = torch.softmax(torch.randn(num_tokens, num_experts, generator=gen) * 2, dim=-1)
        got, want = answer(probs.clone(), capacity), expert_choice(probs, capacity).sort(-1).values
        if torch.is_tensor(got) and got.shape == want.shape:
            got = got.sort(-1).values  # the order of the tokens inside one expert's row does not matter
        expect(got, want, f"my_expert_choice(probs of {num_tokens} tokens x {num_experts} experts, "
               f"capacity={capacity})")


def half_collapse_balance() -> float:
    # f = (1/2, 1/2, 0, ...) (each expert has half of the assignments), P = (1/2, 1/2, 0, ...):
    # E * (1/4 + 1/4) = 8 * 0.5 = 4. With top-2, f_i <= 1/2 for every i (an expert gets at most one
    # of each token's two slots), so sum_i f_i P_i <= 1/2 and the loss is at most E / 2 = 4: this
    # half collapse is the worst case.
    from lmcourse.nn.moe import balance_loss

    probs = torch.zeros(16, 8)
    probs[:, :2] = 0.5
    return balance_loss(probs, torch.tensor([[0, 1]] * 16)).item()


def kv_bytes_per_token(model: str) -> int:
    if model == "deepseek-v2":
        return 60 * (512 + 64) * 2  # one latent and one RoPE key per layer, 2 bytes each
    if model == "llama3-70b":
        return 80 * 2 * 8 * 128 * 2  # keys and values, 8 heads of 128, per layer
    # Llama 3 70B caches 327,680 bytes per token, DeepSeek-V2 69,120: about 4.7x less, for a model
    # with more than three times as many parameters (236B), because MLA compresses rather than shares.
    raise ValueError(f"kv_bytes_per_token: model={model!r}; expected 'deepseek-v2' or 'llama3-70b'")


EXERCISES = [
    function_exercise("moe_ffn_params", "parameters of one MoE layer", moe_ffn_params, check=_check_moe_ffn_params),
    function_exercise("dropped_under_collapse", "capacity under collapse", dropped_under_collapse,
                      check=_check_dropped_under_collapse),
    function_exercise("expert_choice", "expert choice", expert_choice, check=_check_expert_choice),
    value_exercise("half_collapse_balance", "a half collapse", half_collapse_balance, rel_tol=1e-4),
    function_exercise("kv_bytes_per_token", "KV cache of DeepSeek-V2", kv_bytes_per_token,
                      [("deepseek-v2",), ("llama3-70b",)]),
]
