import math


def _no_router(d_model, d_ff, num_experts, top_k, num_shared_experts=0):  # forgets the router
    expert = 3 * d_model * d_ff
    return (num_experts + num_shared_experts) * expert, (top_k + num_shared_experts) * expert


def _capacity_without_k(num_tokens, num_experts, top_k, capacity_factor):  # capacity from T, not T * k
    capacity = math.ceil(capacity_factor * num_tokens / num_experts)
    return top_k * max(0, num_tokens - capacity)


def _token_choice(probs, capacity):  # each token's top experts: the (tokens, capacity) of token choice
    return probs.topk(min(capacity, probs.shape[-1]), dim=-1).indices


def _no_rope_key(model):  # caches the latent but forgets DeepSeek's decoupled RoPE key
    return {"deepseek-v2": 60 * 512 * 2, "llama3-70b": 80 * 2 * 8 * 128 * 2}[model]


WRONG = {
    "moe_ffn_params": _no_router,
    "dropped_under_collapse": _capacity_without_k,
    "expert_choice": _token_choice,
    "half_collapse_balance": 8.0,  # f counted per token (1, 1, 0, ...) instead of per assignment
    "kv_bytes_per_token": _no_rope_key,
}
