"""Chapter 7 (data parallelism): the exercises' references and checks."""

from __future__ import annotations

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


def zero_gb(num_params: float, num_gpus: int, stage: int) -> float:
    k = 12  # fp32 master weights, Adam's m and v: 4 + 4 + 4 bytes per parameter
    params = num_params * 2 / (num_gpus if stage == 3 else 1)  # fp16 parameters: stage 3 shards them
    grads = num_params * 2 / (num_gpus if stage >= 2 else 1)  # fp16 gradients: stage 2 and up
    state = num_params * k / (num_gpus if stage >= 1 else 1)  # optimiser state: every stage from 1
    return (params + grads + state) / 1e9


def _check_zero_gb(answer) -> None:
    from lmcourse.accounting import zero_memory

    for num_params in (7.5e9, 1e6):
        for stage in range(4):
            for num_gpus in (1, 8, 64, 1000):
                expect(answer(num_params, num_gpus, stage), zero_memory(num_params, num_gpus, stage).total / 1e9,
                       f"my_zero_gb({num_params:g}, {num_gpus}, stage={stage}) against zero_memory")


def llama_gpus() -> tuple:
    # Llama-2-70B has about 69e9 parameters. Stages 0 to 2 keep a part of the state whole on every
    # GPU, whatever their number: 16, 4 and 2 bytes per parameter (1.1 TB, 276 GB, 138 GB), each
    # more than 80 GB, so no number of GPUs suffices (None). Stage 3 shards all 16 bytes:
    # 16 x 69e9 / N <= 80e9 from N = 14.
    from lmcourse.accounting import PRESETS, count_parameters, zero_memory

    llama = count_parameters(PRESETS["llama2-70b"]).total
    fits = [[n for n in range(1, 4097) if zero_memory(llama, n, stage).total <= 80e9] for stage in range(4)]
    return tuple(f[0] if f else None for f in fits)


def num_buckets(sizes_bytes: list[int], capacity: float) -> int:
    buckets, used = 0, 0
    for size in reversed(sizes_bytes):  # backward meets the last parameters first
        if buckets == 0 or used + size > capacity:  # a new bucket when this tensor would overflow
            buckets, used = buckets + 1, 0
        used += size  # a tensor larger than a bucket fills one on its own
    return buckets


def _check_num_buckets(answer) -> None:
    from types import SimpleNamespace

    import torch

    from lmcourse.parallel import DDPBucketed

    cases = [([2, 3], 5), ([1, 3, 2, 4], 5), ([4, 4, 4], 5), ([100, 1, 1], 5), ([1, 1, 100], 5), ([], 5),
             ([3, 3, 3, 3], 1), ([3, 3, 3, 3], 1e12), ([512, 2048, 512, 128, 4096, 64], 2048)]
    for sizes, capacity in cases:
        tensors = [torch.empty(size, dtype=torch.uint8) for size in sizes]
        # the package's own bucketing, run on tensors of these byte sizes
        want = len(DDPBucketed._make_buckets(SimpleNamespace(_params=tensors), capacity))
        expect(answer(list(sizes), capacity), want, f"my_num_buckets({sizes}, {capacity:g})")


def max_gpus(b_crit: float, per_gpu: int) -> int:
    def speedup(n):  # S(per_gpu) / S(per_gpu * n); S_min cancels
        return (1 + b_crit / per_gpu) / (1 + b_crit / (per_gpu * n))

    n = 1
    while speedup(2 * n) >= n:  # efficiency speedup / (2n) >= 1/2 for the next power of two
        n *= 2
    return n


def _check_max_gpus(answer) -> None:
    for b_crit in (1.0, 16.0, 300.0, 1e3, 1e6):
        for per_gpu in (16, 4):
            expect(answer(b_crit, per_gpu), max_gpus(b_crit, per_gpu), f"my_max_gpus({b_crit:g}, {per_gpu})")


def zero3_volume(unit_sizes: list[int], kept: tuple[int, ...] = ()) -> int:
    # Per unit: an all-gather before its forward, another before its backward unless it is kept,
    # and one reduce-scatter of its gradients.
    return sum(size * (2 if i in kept else 3) for i, size in enumerate(unit_sizes))


EXERCISES = [
    function_exercise("zero_gb", "the stages by hand", zero_gb, check=_check_zero_gb),
    value_exercise("llama_gpus", "GPUs for Llama-2-70B", llama_gpus),
    function_exercise("num_buckets", "counting buckets", num_buckets, check=_check_num_buckets),
    function_exercise("max_gpus", "how many GPUs are worth it", max_gpus, check=_check_max_gpus),
    function_exercise("zero3_volume", "stage 3's extra third", zero3_volume,
                      [([10, 20, 30],), ([10, 20, 30], (2,)), ([10, 20, 30], (0, 1, 2)), ([],), ([7], (0,)),
                       ([5, 5], (1,))]),
    choice_exercise(
        "zero3_kept", "what keeping a unit gathered costs",
        {"a": "only the communication changes: the memory formula stays 16 Psi / N_d",
         "b": "both: a kept unit's full parameters live from its forward to its backward, so keeping "
              "every unit brings the parameters back to full size at the end of the forward pass",
         "c": "only the memory changes: the all-gathers are the same",
         "d": "neither: the second all-gather is only a scheduling detail"},
        "b", "Keeping a unit saves its second all-gather, but its parameters are then full-size for the "
             "whole time between its forward and its backward. Keep every unit and the peak holds all "
             "parameters at full size, stage 2's memory plus activations: the 1/N_d on the parameters is "
             "lost. Only the root, small and needed first in the backward pass, is worth keeping."),
]

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("Mixed-precision training with AdamW keeps bf16 weights and gradients, fp32 master weights and "
           "two fp32 moments. How many bytes of model state is that per parameter?",
           ["6", "8", "12", "16"],
           "d", "2 + 2 + 4 + 8 = 16, before any activation: 120 GB for the ZeRO paper's 7.5B model."),
    choice("Four GPUs each compute gradients on a quarter of the batch. What makes them take the same "
           "optimizer step?",
           ["each GPU steps with its own gradient, and the weights are averaged every hundred steps",
            "an all-reduce averages the gradients before the step, so every GPU applies the full-batch gradient",
            "one GPU computes the step and sends the new weights to the others",
            "nothing; they train four different models"],
           "b", "With a mean loss over equal shards, the mean of the shards' gradients is the full batch's."),
    open_question("Data parallelism keeps a full copy of Adam's moments on every GPU. What would you shard "
                  "first to save memory, and why is it safe?",
                  "The optimizer state (ZeRO stage 1): each rank updates only its 1/N slice of the parameters "
                  "and then all-gathers the updated weights. The step is elementwise, so no rank needs "
                  "another slice's moments."),
]

QUIZ = [
    choice("Per step, ZeRO-3 (FSDP) communicates how much compared with plain data parallelism?",
           ["the same", "1.5 times as much", "twice as much", "N_d times as much"],
           "b", "3 Psi against 2 Psi elements: the parameters are all-gathered once for the forward and once "
                "more for the backward, and the gradients reduce-scattered."),
    choice("In the worked problem, a 7B model with bf16-mixed AdamW goes on one node of eight 80 GB H100s. "
           "Which is the lowest ZeRO stage at which its model state fits?",
           ["stage 0 (plain data parallelism)", "stage 1", "stage 2", "stage 3"],
           "b", "Stage 0 needs 112 GB per GPU; stage 1 keeps 4 Psi replicated and shards 12 Psi: 38.5 GB."),
    choice("Why is ZeRO-3 still data parallelism, although it shards the weights?",
           ["because it uses all-reduce", "because every rank computes the whole model on its own examples; "
            "the weights travel to the computation, never the activations",
            "because it only shards the optimizer state", "it is not: it is tensor parallelism"],
           "b", "Model parallelism splits the computation of each example and moves activations instead."),
    choice("`DDPBucketed` groups gradients into buckets of a few megabytes before all-reducing them. What "
           "does that buy?",
           ["fewer bytes sent", "fewer, larger messages, each paying the network's latency once",
            "exact agreement with single-process training, which per-tensor all-reduces lack",
            "lower memory for gradients"],
           "b", "The volume is the same Psi elements either way; thousands of small messages pay a latency each."),
    choice("Why launch each gradient's all-reduce from a hook during the backward pass instead of after it?",
           ["it sends fewer bytes", "the last layers' gradients are final early, so their communication "
            "overlaps the computation of the earlier layers' gradients",
            "hooks run on a faster network", "PyTorch forbids collectives after backward"],
           "b", "Waiting for backward to finish leaves the network idle and then the GPU idle."),
    choice("A run's critical batch size is about 200 examples. What does doubling the data-parallel GPUs, and "
           "so the batch, from 1,024 to 2,048 examples do?",
           ["halves the steps to the target loss", "barely reduces the steps, and nearly doubles the compute",
            "makes training unstable", "halves the memory per GPU"],
           "b", "Far above the critical batch the gradient is already accurate; more examples per step are wasted."),
]
