"""Chapter 5 (GPUs): the exercises' references and checks."""

from __future__ import annotations

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


def batched_matvec_intensity(b: int, d: int, bytes_per_value: int) -> float:
    # 2 b d^2 FLOPs; read b*d inputs and d*d weights, write b*d outputs. For b << d the weights
    # dominate and the intensity is 2 b d^2 / (d^2 * bytes) = 2b / bytes.
    return 2 * b * d * d / ((2 * b * d + d * d) * bytes_per_value)


def _check_batched_matvec_intensity(answer) -> None:
    from lmcourse.accounting import matmul_cost

    for b, d, dtype in ((1, 4096, "bf16"), (16, 4096, "bf16"), (64, 8192, "fp32"), (300, 8192, "bf16"),
                        (4096, 4096, "bf16"), (8, 128, "fp32")):
        expect(answer(b, d, 4 if dtype == "fp32" else 2), matmul_cost(b, d, d, dtype).intensity,
               f"my_batched_matvec_intensity({b}, {d}, {4 if dtype == 'fp32' else 2}) against matmul_cost")


def compute_bound_batch() -> int:
    # In bf16 the intensity is about 2b / 2 = b, so the batch must reach the H100's ridge point,
    # 989 TFLOP/s / 3.35 TB/s ~ 295 FLOPs per byte; a little more in fact (319), since the inputs
    # and outputs (2 b d values) add bytes too.
    from lmcourse.accounting import GPUS, bound, matmul_cost

    return next(b for b in range(1, 2000) if bound(GPUS["H100-80GB"], "bf16", matmul_cost(b, 8192, 8192)) == "compute")


def ridge(gpu_name: str, dtype: str) -> float:
    # The corner of the roof: FLOPs per byte at which the bandwidth can just feed the peak. The H100
    # and H200 share a peak, but the H200 has more bandwidth, so the H100 needs the most intense
    # operations in bf16; fp8 doubles the peak and so the ridge.
    from lmcourse.accounting import GPUS

    gpu = GPUS[gpu_name]
    return gpu.peak_flops[dtype] / gpu.bandwidth


def _check_ridge(answer) -> None:
    from lmcourse.accounting import GPUS, ridge_point

    for name, dtype in [("A100-80GB", "bf16"), ("H100-80GB", "bf16"), ("H200-141GB", "bf16"),
                        ("H100-80GB", "fp8"), ("A100-80GB", "fp32")]:
        expect(answer(name, dtype), ridge_point(GPUS[name], dtype), f"my_ridge({name!r}, {dtype!r})")


def best_n() -> int:
    # (N/128)^2 tiles in ceil(tiles / 132) waves; the best N fills its last wave most completely.
    # 3584 = 28 x 128 gives 784 tiles, 6 waves of which the last is 124/132 full; not a power of two.
    from lmcourse.accounting import wave_quantization

    def useful(n):
        count = wave_quantization(n, n, 132)
        return count.wave_efficiency * count.tile_efficiency

    return max(range(1024, 4097, 128), key=useful)


def decode_limit() -> float:
    # Per sequence: forward FLOPs of one token (about 2 x 6.7e9) against reading its 1024 positions
    # of K and V (2 x 32 layers x 4096 values x 2 bytes each). The limit (~26) is far below the
    # H100's 295: with full multi-head attention the cache reads alone keep decoding memory-bound.
    from lmcourse.accounting import PRESETS, forward_flops_per_token, kv_cache_bytes_per_token

    llama = PRESETS["llama2-7b"]
    return forward_flops_per_token(llama, 1024) / (1024 * kv_cache_bytes_per_token(llama, "bf16"))


EXERCISES = [
    function_exercise("batched_matvec_intensity", "batched matrix-vector products", batched_matvec_intensity,
                      check=_check_batched_matvec_intensity),
    value_exercise("compute_bound_batch", "the batch that is compute-bound", compute_bound_batch, rel_tol=0.1),
    function_exercise("ridge", "ridge points", ridge, check=_check_ridge),
    value_exercise("best_n", "the best size for a wave", best_n),
    value_exercise("decode_limit", "why decoding stays memory-bound", decode_limit, rel_tol=0.05),
    choice_exercise(
        "decode_fix", "what makes decoding compute-bound",
        {"a": "a larger batch",
         "b": "fewer KV heads (GQA, MQA), a shorter context or a quantized cache: fewer cache bytes per FLOP",
         "c": "a GPU with more FLOP/s",
         "d": "a fused attention kernel (FlashAttention), which reads the cache only once"},
        "b", "The limit is FLOPs per sequence over KV-cache bytes per sequence; the batch no longer "
             "appears in it, and a faster GPU only raises the ridge point. A fused kernel already reads "
             "each cache entry once. Only fewer bytes of cache per token (or more FLOPs per byte) move "
             "the limit towards the ridge."),
]

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("An H100 does about 1e15 bf16 FLOP/s and reads about 3.35e12 bytes/s from its memory. About how "
           "many FLOPs must an operation do per byte it reads to keep the arithmetic units busy?",
           ["about 3", "about 30", "about 300", "about 3,000"],
           "c", "Peak FLOP/s over bandwidth: 989e12 / 3.35e12, about 295. That ratio is the roofline's ridge."),
    choice("Adding two large bf16 matrices on a GPU: what limits its speed?",
           ["the arithmetic units", "memory bandwidth", "the number of SMs", "the size of the L2 cache"],
           "b", "One addition per six bytes moved (two reads, one write): far below the ridge."),
    open_question("What is a warp?",
                  "A group of 32 threads of one block that an SM issues together, one instruction for all "
                  "of them at a time (SIMT); threads of a warp that take different branches run one "
                  "branch after the other."),
]

QUIZ = [
    choice("A square n x n x n bf16 matmul has an arithmetic intensity of n/3 FLOPs per byte. From about "
           "which n is it compute-bound on an H100?",
           ["about 100", "about 900", "about 3,000", "never: matmuls are memory-bound"],
           "b", "n/3 must pass the ridge of about 295, so n of about 890; bigger matmuls are compute-bound."),
    choice("A matmul is computed in T x T tiles held in shared memory. How does its traffic to HBM change "
           "against reading every operand from HBM for each product?",
           ["it is unchanged; only the order of reads changes", "it falls by about a factor T",
            "it falls by about T squared", "it grows, because tiles overlap"],
           "b", "Each value brought on chip is used T times; Figure 5.4 measures the fall."),
    choice("On an H100 (132 SMs) with 128 x 128 tiles, a 1408 x 1408 output is 121 tiles and a 1536 x 1536 "
           "output is 144. About how long does the larger matmul take, against the smaller?",
           ["about the same", "about 20% longer", "about twice as long", "half as long"],
           "c", "121 tiles fit one wave; 144 need two, the second almost empty."),
    choice("In the worked problem, the SiLU-and-gate does under 0.1% of a SwiGLU layer's FLOPs. Its share "
           "of the layer's time at the roofline is:",
           ["also under 0.1%", "several percent, a hundred times its share of the FLOPs",
            "more than half", "zero: it runs at the same time as the matmul"],
           "b", "It is memory-bound: a few FLOPs for every byte it moves. Fusion removes that traffic."),
    choice("The 32 threads of a warp read 32 floats. Which pattern uses memory bandwidth best?",
           ["each thread reads the float after its neighbour's (consecutive addresses)",
            "each thread reads a float 1,024 addresses after its neighbour's",
            "all threads read random addresses",
            "the pattern does not matter on a GPU"],
           "a", "Consecutive addresses fall into a few bursts (coalesced); strided reads fetch whole bursts "
                "for one useful value each."),
    choice("Decoding one sequence with Llama-2-7B on an H100 uses well under 1% of the peak FLOP/s. Which "
           "change raises the share the most?",
           ["decoding many sequences in one batch", "storing the weights in fp32",
            "a GPU with more SMs but the same memory", "a longer prompt"],
           "a", "Each weight read from HBM then serves a whole batch of tokens: the intensity grows with the "
                "batch, up to the ridge."),
]
