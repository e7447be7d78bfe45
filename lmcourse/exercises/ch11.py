"""Chapter 11 (scaling and muP): the exercises' references and checks."""

from __future__ import annotations

import math

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise


def mup_lrs(base_lr, base_width, width):
    # A hidden matrix's Adam update moves each output by about lr per input, summed over `width`
    # coherent inputs: scale lr by base_width / width to keep that change the same at every width.
    # Embeddings, norms and the readout (which has its own 1/m multiplier) keep the base rate.
    return base_lr * base_width / width, base_lr


def _check_mup_lrs(answer) -> None:
    from lmcourse.nn import TransformerLM
    from lmcourse.scaling import model_shape, mup_param_groups

    for base_width, width in [(32, 32), (32, 64), (32, 128), (64, 32), (16, 48)]:
        model = TransformerLM.from_config(model_shape(width, 1, 64, 16))
        groups = mup_param_groups(model, base_width)  # the groups the package trains with
        got = answer(0.01, base_width, width)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise Mismatch(f"my_mup_lrs(...) should return a pair (hidden_lr, other_lr); got {got!r}")
        what = f"my_mup_lrs(0.01, base_width={base_width}, width={width})"
        expect(got[0], 0.01 * groups[0]["lr_scale"], f"the hidden learning rate of {what}")
        expect(got[1], 0.01 * groups[1]["lr_scale"], f"the other learning rate of {what}")


def scaled_lr(base_lr, base_batch, batch, rule):
    # k times the batch: k times less gradient noise. SGD's linear rule raises lr by k (Goyal et al.
    # 2017); for Adam, whose update is normalised by the gradient's scale, the SDE analysis gives
    # sqrt(k) (Malladi et al. 2022). Both hold only below the critical batch size.
    k = batch / base_batch
    return base_lr * (k if rule == "linear" else math.sqrt(k))


def wsd_cost(fractions, decay):
    # The main run covers the longest size, its own decay included; every shorter size costs only
    # its branch's decay, `decay` times its own length (the stable part is shared).
    return 1.0 + sum(decay * f for f in fractions if f < 1.0)


def run_plan(num_gpus, flops_per_gpu, mfu, days):
    budget = num_gpus * flops_per_gpu * mfu * days * 86_400  # useful FLOPs: peak x MFU x seconds
    lr, batch_tokens = 0.3118 * budget**-0.125, 0.292 * budget**0.3271  # DeepSeek's fits in C
    tokens = math.sqrt(20 * budget / 6)  # C = 6 N D with D = 20 N gives D = sqrt(20 C / 6)
    return budget, lr, batch_tokens, tokens / batch_tokens


EXERCISES = [
    function_exercise("mup_lrs", "transfer a learning rate", mup_lrs, check=_check_mup_lrs),
    function_exercise("scaled_lr", "batch-size rules", scaled_lr,
                      [(6e-4, 512, 8192, "linear"), (6e-4, 512, 8192, "sqrt"), (1e-3, 256, 256, "sqrt"),
                       (1e-3, 1024, 256, "linear"), (1e-3, 1024, 256, "sqrt"), (3e-4, 100, 900, "sqrt")]),
    choice_exercise(
        "batch_rule_trust", "which rule to trust",
        {"a": "the linear rule: Goyal et al. showed it works up to batches of 8k",
         "b": "the square-root rule, since the run uses Adam; but both assume the batch stays below the "
              "critical batch size, and beyond it neither should raise the learning rate further",
         "c": "neither: Adam normalises the gradient's scale, so its learning rate should not change "
              "with the batch at all"},
        "b",
        "Adam divides by the gradient's running scale, so the noise reduction from a k-times batch enters "
        "as sqrt(k), not k (the linear rule is SGD's; Goyal et al.'s 8k was SGD on ImageNet). A 16x "
        "larger batch may also pass the critical batch size, where it no longer saves steps: measure "
        "the gradient noise scale, or sweep the learning rate at the new batch."),
    function_exercise("wsd_cost", "the cost of WSD branches", wsd_cost,
                      [([i / 10 for i in range(1, 11)], 0.1), ((0.25, 0.5, 0.75, 1.0), 0.1), ((1.0,), 0.2),
                       ((0.5, 1.0), 0.0), ((0.3, 0.6, 1.0), 0.25)]),
    function_exercise("run_plan", "DeepSeek's rules at your budget", run_plan,
                      [(64, 4e14, 0.4, 14), (8, 1e15, 0.5, 1), (1024, 9.89e14, 0.35, 30), (1, 1e14, 1.0, 0.5)],
                      rel_tol=1e-9),
]
