"""Chapter 4 (mixture of experts): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


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

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("In a mixture-of-experts layer, what does the router decide?",
           ["how many layers a token passes through",
            "which few experts process each token, and with what weights their outputs are mixed",
            "the learning rate of each expert",
            "how the outputs of all experts are averaged, equally"],
           "b", "A linear map scores the experts for each token; the top k run, weighted by their gates."),
    choice("An MoE has 8 experts, each the size of the dense model's FFN, and routes each token to one "
           "(top-1). Against the dense model, its FLOPs per token are:",
           ["about the same, plus a small router", "about twice", "about eight times", "about one eighth"],
           "a", "A token pays only for the expert it is sent to; storage grows eightfold, compute does not."),
    open_question("Left to plain gradient descent, why do routers tend to send most tokens to a few experts?",
                  "A rich-get-richer loop: an expert that wins more tokens early is trained more, scores "
                  "higher and wins still more, while the router gets no gradient towards the experts it did "
                  "not pick. The others starve."),
]

QUIZ = [
    choice("Mixtral 8x7B stores about 47B parameters and uses about 13B per token. Which cost follows "
           "the 13B?",
           ["the memory needed to hold the weights", "the FLOPs per token", "both", "neither"],
           "b", "Compute follows the active parameters; every expert must still sit in memory."),
    choice("In the worked problem, 8 full-size experts with top-2 routing replace a dense FFN. How many "
           "FFN parameters does one token use, against the dense FFN?",
           ["the same", "about twice", "about eight times", "a quarter"],
           "b", "Two experts of the dense FFN's size, plus a router; half-width experts would bring it "
                "back to the dense cost."),
    choice("The Switch balancing loss is E times the sum over experts of f_i times P_i. When is it "
           "smallest, at 1?",
           ["when every token goes to the same expert",
            "when the dispatched fractions f_i and the mean router probabilities P_i are both uniform",
            "when the router's logits are all large",
            "when the experts' weights are equal"],
           "b", "Uniform routing gives E x E x (1/E)^2 = 1; collapse onto one expert with probability p "
                "gives E p."),
    choice("With a capacity factor of 1.0, what happens to an assignment that reaches an expert whose "
           "buffer is full?",
           ["it waits for the next batch", "it is sent to a random expert",
            "it is dropped: that expert adds nothing, and the token goes on through the residual connection",
            "the buffer grows to hold it"],
           "c", "Fixed buffers keep the shapes static; the price is dropped work, which a capacity factor "
                "above 1 reduces."),
    choice("Why can an MoE with expert capacity give a token a different output depending on its batch?",
           ["because the router is random at inference",
            "because whether the token's expert still has room depends on the other tokens in the batch",
            "because layer norms mix statistics across the batch",
            "it cannot: each token is routed independently"],
           "b", "Routing scores are per token, but capacity is shared: batch-mates can fill an expert first."),
    choice("With experts spread over GPUs (expert parallelism), which collective sends each token to the "
           "GPU that holds its expert?",
           ["all-reduce", "all-gather", "all-to-all", "broadcast"],
           "c", "Each GPU sends a different slice of its tokens to every other GPU, and a second all-to-all "
                "brings the outputs home."),
]
