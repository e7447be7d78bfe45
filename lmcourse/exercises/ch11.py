"""Chapter 11 (scaling and muP): the exercises' references and checks."""

from __future__ import annotations

import math

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise
from lmcourse.exercises.study import choice, open_question


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

WARM_UP = [
    choice("You tuned the learning rate of a 64-wide model. Trained the standard way with Adam, a "
           "1,024-wide model of the same depth most likely wants:",
           ["the same learning rate", "a smaller learning rate", "a larger learning rate"],
           "b", "With Adam every update entry is about the learning rate in size, and a wider layer sums "
                "more of them: its output moves more per step, so the same learning rate is too large."),
    open_question("A run's cosine schedule is planned for 10,000 steps. Why is its checkpoint at step "
                  "5,000 not as good as a finished 5,000-step run?",
                  "At step 5,000 the cosine is still near its peak learning rate; a 5,000-step run would "
                  "have decayed by then, and the decay is where much of the loss drop comes from. The "
                  "worked problem measures the gap."),
]

QUIZ = [
    choice("Under muP with Adam, how does the learning rate of a hidden matrix change when the model "
           "becomes m times wider than the base width?",
           ["it stays the same", "it is divided by m", "it is divided by the square root of m",
            "it is multiplied by m"],
           "b", "Adam's update of a hidden matrix moves the output in proportion to the width, so muP "
                "divides its learning rate by the width multiplier m (and scales the output logits by 1/m)."),
    choice("In the chapter's sweep, what does muP change about the learning-rate valleys of widths 32, "
           "64 and 128?",
           ["they line up, so one sweep at a small width sets the learning rate of the large one",
            "they all get deeper by the same amount",
            "they move right, so wider models need larger learning rates"],
           "a", "That is the point of muP: the optimum is a property of the base width and transfers; "
                "under SP the valley moved left as the model widened."),
    choice("An Adam run at batch 256 used a learning rate of 3e-4. The batch grows to 4,096, still "
           "below the critical batch size. The square-root rule suggests:",
           ["3e-4, unchanged", "1.2e-3", "4.8e-3"],
           "b", "The batch grew 16 times; the square-root rule multiplies the learning rate by 4. The "
                "linear rule, meant for SGD, would give 4.8e-3."),
    choice("Past the critical batch size, doubling the batch:",
           ["still halves the number of steps to a given loss",
            "barely reduces the steps, so it mostly spends more tokens",
            "makes training diverge"],
           "b", "Once the gradient noise is small next to the gradient, a bigger batch gives a better "
                "estimate of a gradient that is already well estimated; chapter 7 measures the turn."),
    choice("You want finished models at four data sizes for a scaling-law fit. Why does WSD make "
           "this cheaper than cosine?",
           ["WSD trains faster per step",
            "one stable run can branch a short decay at each size, instead of one full run per size",
            "WSD needs no warmup"],
           "b", "The stable phase does not depend on where the run ends. The worked problem shows each "
                "branch reaching the loss of a full cosine run of its length for a fraction of the compute."),
]
