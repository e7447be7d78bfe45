"""Appendix 18 (from the book to a real run): the exercises' references and checks.

One mechanism: what a run of `python -m lmcourse.train` costs and how its ranks share it (tokens of a
config, hours at a given MFU, the rows of the global batch each data-parallel rank reads).
"""

from __future__ import annotations

from lmcourse.exercises import choice_exercise, function_exercise


def run_tokens(config):
    train = config["train"]
    # train.context_length, when set, overrides the model's (shorter windows than the model was built for)
    context = train.get("context_length") or config["model"]["context_length"]
    return train["batch_size"] * context * train["max_iters"]  # every step sees batch_size windows of context tokens


def _configs():
    from lmcourse.train import preset
    from lmcourse.train.presets import PRESETS

    configs = [preset(name) for name in sorted(PRESETS)]
    short = preset("cpu")
    short["train"]["context_length"] = 64  # windows shorter than the model's context
    return configs + [short]


def _token_cases():
    return [(config,) for config in _configs()]


def run_hours(config, num_gpus, peak_flops, mfu):
    from lmcourse.accounting import training_flops_per_token
    from lmcourse.config import TransformerConfig

    model = TransformerConfig(vocab_size=config["data"]["vocab_size"], **config["model"])
    context = config["train"].get("context_length") or model.context_length
    # the FLOPs the CLI's MFU counts: forward + backward matmuls, attention included
    flops = run_tokens(config) * training_flops_per_token(model, context)
    return flops / (num_gpus * peak_flops * mfu) / 3600  # every GPU sustains mfu of its peak


def _hour_cases():
    from lmcourse.accounting import GPUS
    from lmcourse.train import preset

    h100 = GPUS["H100-80GB"].peak_flops["bf16"]
    return [(preset("cpu"), 1, 2e11, 0.3), (preset("colab-t4"), 1, 65e12, 0.2), (preset("h100"), 1, h100, 0.4),
            (preset("8xh100"), 8, h100, 0.4), (_configs()[-1], 2, 1e12, 0.5)]


def rank_rows(batch_size, world_size, rank):
    # Contiguous blocks, as lmcourse.train.get_batch(shard=(rank, world_size)) reads them: rank r takes
    # rows r*b .. (r+1)*b - 1 of the global batch, b = batch_size // world_size.
    rows = batch_size // world_size
    return list(range(rank * rows, (rank + 1) * rows))


EXERCISES = [
    function_exercise("run_tokens", "tokens of a run", run_tokens, _token_cases),
    function_exercise("run_hours", "hours of a run", run_hours, _hour_cases, rel_tol=1e-3),
    function_exercise("rank_rows", "which rows a rank reads", rank_rows,
                      [(8, 2, 0), (8, 2, 1), (128, 8, 3), (6, 3, 2), (4, 1, 0)]),
    choice_exercise(
        "why_curves_agree", "why two ranks draw one process's curve",
        {"a": "torchrun gives both ranks the same seed, so each trains the same model on the whole batch "
              "and rank 0 logs its own copy",
         "b": "each rank reads half of the same global batch and the gradients are averaged across the "
              "ranks before every step, so every update is the one-process update (up to the order of "
              "floating-point sums)",
         "c": "gloo is deterministic, so any two runs with the same config give the same losses whatever "
              "each process computes"},
        "b",
        "The mean of the two half-batch gradients is the gradient of the mean loss over the whole batch, "
        "so the all-reduce reproduces the one-process step exactly in real arithmetic; in floating point "
        "the sums run in another order, hence differences near 1e-6 rather than zero. With the same seed "
        "alone (a), each rank would take twice the work for nothing; determinism (c) says nothing about "
        "whether two different computations agree."),
]
