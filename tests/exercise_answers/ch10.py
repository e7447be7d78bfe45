def _forgot_half(p, q):  # 1 - sum |p - q|: the total variation distance without its 1/2
    return 1 - (p - q).abs().sum().item()


def _ignores_draft_cost(alpha, cost_ratio):  # maximises tokens per target call, which always wants more drafts
    from lmcourse.inference import expected_tokens_per_call

    return max(range(1, 17), key=lambda g: expected_tokens_per_call(alpha, g))


def _forgot_window(context, batch):  # caches every token of the context, as a model without a window would
    return 2 * 32 * 8 * 128 * 2 * context * batch / 1e9


WRONG = {
    "alpha": _forgot_half,
    "best_gamma": _ignores_draft_cost,
    "gamma_shrinks": "c",
    "cache_gb": _forgot_window,
    "ttft_and_latency": (0.029, 2 * 6.7e9 / 989e12),  # decode priced as compute-bound, like the prefill
}
