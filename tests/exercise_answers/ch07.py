def _grads_sharded_at_stage_3(num_params, num_gpus, stage):  # stage 2 shards the optimiser state only
    params = num_params * 2 / (num_gpus if stage == 3 else 1)
    grads = num_params * 2 / (num_gpus if stage >= 3 else 1)
    state = num_params * 12 / (num_gpus if stage >= 1 else 1)
    return (params + grads + state) / 1e9


def _exact_fill_overflows(sizes_bytes, capacity):  # >= instead of >: a bucket filled exactly overflows
    buckets, used = 0, 0
    for size in reversed(sizes_bytes):
        if buckets == 0 or used + size >= capacity:
            buckets, used = buckets + 1, 0
        used += size
    return buckets


def _one_doubling_too_far(b_crit, per_gpu):  # returns the first N whose efficiency is below 1/2
    def speedup(n):
        return (1 + b_crit / per_gpu) / (1 + b_crit / (per_gpu * n))
    n = 1
    while speedup(n) >= n / 2:
        n *= 2
    return n


def _ignores_kept(unit_sizes, kept=()):  # every unit gathered twice, kept or not
    return 3 * sum(unit_sizes)


WRONG = {
    "zero_gb": _grads_sharded_at_stage_3,
    "llama_gpus": (None, None, None, 13),  # 16 x 69e9 / 80e9 = 13.8 rounded down
    "num_buckets": _exact_fill_overflows,
    "max_gpus": _one_doubling_too_far,
    "zero3_volume": _ignores_kept,
    "zero3_kept": "a",
}
