def _sequences_not_tokens(config):  # counts windows, not the tokens in them
    return config["train"]["batch_size"] * config["train"]["max_iters"]


def _one_gpu_does_it_all(config, num_gpus, peak_flops, mfu):  # forgets that the GPUs share the work
    from lmcourse.exercises.ch18 import run_hours

    return run_hours(config, 1, peak_flops, mfu)


def _strided(batch_size, world_size, rank):  # every world_size-th row: also a fair split, not get_batch's
    return list(range(rank, batch_size, world_size))


WRONG = {
    "run_tokens": _sequences_not_tokens,
    "run_hours": _one_gpu_does_it_all,
    "rank_rows": _strided,
    "why_curves_agree": "a",
}
