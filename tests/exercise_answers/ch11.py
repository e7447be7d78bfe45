import math


def _sqrt_width(base_lr, base_width, width):  # scales the hidden rate by sqrt(base/width), as for an init std
    return base_lr * math.sqrt(base_width / width), base_lr


def _inverted_ratio(base_lr, base_batch, batch, rule):  # k = base_batch / batch: the rate falls as the batch grows
    k = base_batch / batch
    return base_lr * (k if rule == "linear" else math.sqrt(k))


def _counts_main_decay_twice(fractions, decay):  # adds a branch's decay for the longest size as well
    return 1.0 + sum(decay * f for f in fractions)


def _steps_from_params(num_gpus, flops_per_gpu, mfu, days):  # divides N, not D, by the batch
    budget = num_gpus * flops_per_gpu * mfu * days * 86_400
    lr, batch_tokens = 0.3118 * budget**-0.125, 0.292 * budget**0.3271
    params = math.sqrt(budget / (6 * 20))
    return budget, lr, batch_tokens, params / batch_tokens


WRONG = {
    "mup_lrs": _sqrt_width,
    "scaled_lr": _inverted_ratio,
    "batch_rule_trust": "a",
    "wsd_cost": _counts_main_decay_twice,
    "run_plan": _steps_from_params,
}
