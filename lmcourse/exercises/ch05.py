"""Chapter 5 (GPUs): the exercises' references and checks."""

from __future__ import annotations

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise


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
