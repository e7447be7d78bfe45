"""Chapter 8 (model parallelism): the exercises' references and checks."""

from __future__ import annotations

import math
import numbers

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


def bandwidths(num_bytes: float, seconds: float, world_size: int) -> tuple[float, float]:
    # algbw = size / time; the ring moves 2(n-1)/n of the message per rank, so busbw = algbw * 2(n-1)/n.
    # 2**30 / 6.2e-3 = 173 GB/s algbw, 303 GB/s busbw: about two thirds of NVLink's 450 GB/s, plausible.
    algbw = num_bytes / seconds
    return algbw, algbw * 2 * (world_size - 1) / world_size


def _check_bandwidths(answer) -> None:
    from lmcourse.parallel import algorithm_bandwidth, bus_bandwidth

    for num_bytes, seconds, world_size in ((2**30, 6.2e-3, 8), (2**20, 1e-4, 2), (1e9, 0.5, 1), (4096, 2e-5, 64)):
        expect(answer(num_bytes, seconds, world_size),
               (algorithm_bandwidth(num_bytes, seconds), bus_bandwidth("all_reduce", num_bytes, seconds, world_size)),
               f"my_bandwidths({num_bytes}, {seconds}, {world_size}) against nccl-tests' formulas")


def min_microbatches(num_stages: int, target: float) -> int:
    # (p-1)/(m+p-1) <= target  <=>  m >= (p-1)(1-target)/target; 16 stages at 5%: m >= 285,
    # i.e. 285 x 128 = 36,480 sequences per step: far beyond a useful batch, hence interleaving.
    # (The 1e-9 keeps an exact boundary, e.g. p=2 at 10%, from rounding up one too many.)
    return max(1, math.ceil((num_stages - 1) * (1 - target) / target - 1e-9))


def _check_min_microbatches(answer) -> None:
    from lmcourse.parallel import gpipe_bubble

    # Judged by the defining property, not by one formula's rounding: the bubble at m is within the
    # target and the bubble at m - 1 is not (or m is 1). The 1e-9 forgives float rounding at exact
    # boundaries (p=2 at 10%, p=4 at 20%), where a closed form's ceil can land either side.
    for p, target in [(2, 0.5), (2, 0.1), (4, 0.2), (16, 0.05), (8, 0.3), (1, 0.01), (3, 0.99)]:
        call = f"my_min_microbatches({p}, {target})"
        fewest = next(m for m in range(1, 10**5) if gpipe_bubble(p, m) <= target + 1e-9)
        got = answer(p, target)
        if isinstance(got, bool) or not isinstance(got, numbers.Real) or not math.isfinite(got) or got != int(got):
            raise Mismatch(f"{call}: expected a whole number of micro-batches, got {got!r}")
        m = int(got)
        if m < 1:
            raise Mismatch(f"{call}: expected at least 1 micro-batch, got {m}")
        if gpipe_bubble(p, m) > target + 1e-9:
            raise Mismatch(f"{call}: expected {fewest}, got {m}: its bubble {gpipe_bubble(p, m):.4g} is above "
                           f"the target {target}")
        if m > 1 and gpipe_bubble(p, m - 1) <= target - 1e-9:
            raise Mismatch(f"{call}: expected {fewest}, got {m}: {m - 1} micro-batches already keep the bubble "
                           f"({gpipe_bubble(p, m - 1):.4g}) within the target {target}")


def gpipe_in_flight(num_microbatches: int) -> int:
    # All forwards come before any backward, on every stage: all m micro-batches are in flight.
    return num_microbatches


def tp_comm_fraction(tp_degree: int, bandwidth: float, d_model: int, compute_us: float) -> float:
    # 4 all-reduces x d_model x 2 bytes, times the ring's 2(n-1)/n, over the link, while each GPU's
    # compute (compute_us on each of 8 GPUs) shrinks as 1/n. For the 405B layer over InfiniBand:
    # about 76% at n = 8, above 1 from n = 16; over NVLink it stays far below 1 within a node.
    comm_seconds = 4 * d_model * 2 * 2 * (tp_degree - 1) / tp_degree / bandwidth
    return comm_seconds * 1e6 / (compute_us * 8 / tp_degree)


def tp_crossover(d_model: int, compute_us: float, bandwidth: float) -> int:
    # The fraction grows as (n - 1) / 8 times its value per ring step: 7/8 of it at n = 8 is 76%
    # over InfiniBand, so it passes 1 between 8 and 16 GPUs.
    n = 1
    while tp_comm_fraction(n, bandwidth, d_model, compute_us) <= 1:
        n *= 2
    return n


EXERCISES = [
    function_exercise("bandwidths", "reading nccl-tests", bandwidths, check=_check_bandwidths),
    function_exercise("min_microbatches", "enough micro-batches", min_microbatches, check=_check_min_microbatches),
    function_exercise("gpipe_in_flight", "what GPipe keeps in memory", gpipe_in_flight, [(1,), (2,), (7,), (64,)]),
    choice_exercise(
        "one_f_one_b", "why 1F1B holds p - r",
        {"a": "stage r runs p - r forwards before its first micro-batch has come back from the p - r - 1 "
              "stages after it; from then on each backward frees one micro-batch as each forward adds one",
         "b": "1F1B drops the activations and recomputes them during the backward pass",
         "c": "each stage also holds the activations of the r stages before it",
         "d": "1F1B makes the micro-batches p - r times smaller"},
        "a", "The number in flight is set by how long the first backward takes to arrive: the last stage "
             "(r = p - 1) turns its first micro-batch around at once and holds 1, the first holds p. It no "
             "longer grows with m, which is what lets a pipeline use many micro-batches."),
    function_exercise("tp_comm_fraction", "tensor parallelism across nodes", tp_comm_fraction,
                      [(8, 50e9, 16384, 13.5), (16, 50e9, 16384, 13.5), (2, 450e9, 16384, 13.5),
                       (1, 50e9, 4096, 2.0), (32, 25e9, 4096, 2.0)], rel_tol=1e-9),
    value_exercise("tp_crossover", "where tensor parallelism stops paying", tp_crossover),
]

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("Which pair of collectives, one after the other, does the same as an all-reduce?",
           ["broadcast, then reduce", "reduce-scatter, then all-gather", "all-gather, then broadcast",
            "scatter, then gather"],
           "b", "Each rank first gets the sum of one slice, then every rank collects all the summed slices."),
    choice("Order these links from fastest to slowest, per GPU: InfiniBand between nodes, a GPU's own HBM, "
           "NVLink between the GPUs of a node.",
           ["NVLink, HBM, InfiniBand", "HBM, NVLink, InfiniBand", "HBM, InfiniBand, NVLink",
            "InfiniBand, NVLink, HBM"],
           "b", "Each step outward costs roughly another order of magnitude (Table 8.1)."),
    open_question("A model is split into 4 pipeline stages and each batch goes through as one piece. What "
                  "fraction of the time is each stage idle?",
                  "Three quarters: only one stage works at a time. In general (p - 1)/(m + p - 1) with m "
                  "micro-batches, here m = 1."),
]

QUIZ = [
    choice("A GPipe pipeline has p = 4 stages and m = 12 micro-batches. What idle fraction does the formula "
           "predict?",
           ["about 6%", "20%", "25%", "75%"],
           "b", "(p - 1)/(m + p - 1) = 3/15. Measured bubbles are larger: slow stages only add idle time."),
    choice("Why does tensor parallelism usually stay inside one node?",
           ["its weights do not fit across nodes",
            "it all-reduces activations several times per layer, on the critical path, so it needs NVLink's bandwidth",
            "it needs the same random seed on every rank", "InfiniBand does not support all-reduce"],
           "b", "Pipeline and data parallelism communicate far less often and can use the slower network."),
    choice("In a ring all-reduce of a message of S bytes over n ranks, how much does each rank send?",
           ["S / n", "S", "2 (n - 1) / n x S", "n x S"],
           "c", "(n - 1)/n of it in the reduce-scatter and as much in the all-gather; the factor is what bus "
                "bandwidth divides out."),
    choice("After a reduce-scatter over n ranks, what does each rank hold?",
           ["the full sum", "its own input, unchanged", "one n-th of the sum", "one n-th of its own input"],
           "c", "An all-gather of those slices then gives every rank the full sum."),
    choice("A Megatron-style MLP splits its first matrix by columns and its second by rows. How many "
           "all-reduces does its forward pass need?",
           ["none", "one, after the second matrix", "two, one after each matrix", "one per rank"],
           "b", "The column-parallel output stays sharded through the activation; the row-parallel products "
                "are partial sums, added by a single all-reduce (the g operator)."),
    choice("In the worked problem, each of Llama 3 405B's 128 pipelines sees 16 sequences per step across "
           "16 stages. What follows?",
           ["nothing: 16 micro-batches are plenty",
            "plain GPipe would be idle about half the time, hence interleaved schedules",
            "the model state does not fit", "the data-parallel all-reduce dominates the step"],
           "b", "(16 - 1)/(16 + 16 - 1) is about 48%; with 4 chunks per rank it falls under 20%."),
]
