"""The roofline: FLOPs and minimum HBM bytes per operation, and what a GPU can do with them.

An operation that does F FLOPs and must move at least B bytes between HBM and the chip takes at
least max(F / peak, B / bandwidth) seconds (Williams, Waterman & Patterson, 2009). Its arithmetic
intensity F / B (FLOPs per byte) decides which term wins: below the GPU's ridge point
peak / bandwidth it is memory-bound and attains intensity * bandwidth FLOP/s, above it
compute-bound at the peak. The costs here are the *minimum* traffic (each input read once, each
output written once), i.e. what a perfectly fused, perfectly tiled kernel would move; real kernels
move more, which is the point of tiling (`matmul_hbm_bytes`) and fusion.

Also here: the chips' architecture figures (`GPU_ARCH`: SMs, shared memory, L2), peak FLOP/s and
bandwidth over GPU generations (`GPU_GENERATIONS`), and wave quantization (`wave_quantization`).
Pure arithmetic, no torch; a measured machine is just a `GPU(...)` (see `lmcourse.timing`).

Left out: caches (an operand that fits in L2 may be re-read for free), kernel-launch overhead
(which dominates tiny operations), and activation traffic in `decode_step_cost` / `prefill_cost`
(O(tokens * d_model) per layer, small next to weights and KV cache at the sizes that matter).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

from lmcourse import checks
from lmcourse.accounting.flops import forward_flops_per_token
from lmcourse.accounting.hardware import GPU
from lmcourse.accounting.memory import BYTES_PER_DTYPE, kv_cache_bytes_per_token
from lmcourse.accounting.params import check_config, count_parameters
from lmcourse.config import TransformerConfig

__all__ = ["OpCost", "DTYPE_BYTES", "matmul_cost", "elementwise_cost", "softmax_cost", "rmsnorm_cost",
           "attention_prefill_cost", "decode_step_cost", "prefill_cost", "attainable_flops", "ridge_point",
           "bound", "roofline_time", "matmul_hbm_bytes", "WaveCount", "wave_quantization", "WARP_SIZE", "GpuArch", "GPU_ARCH",
           "GpuGeneration", "GPU_GENERATIONS"]

# Bytes per stored value. tf32 is a tensor-core mode: its operands live in memory as fp32.
DTYPE_BYTES = {**BYTES_PER_DTYPE, "tf32": 4}


@dataclass(frozen=True)
class OpCost:
    """FLOPs an operation does and the minimum bytes it moves to and from HBM."""
    name: str
    flops: float
    bytes: float

    @property
    def intensity(self) -> float:
        """Arithmetic intensity, FLOPs per byte moved."""
        return self.flops / self.bytes


def _size(dtype: str) -> int:
    checks.choice("dtype", dtype, DTYPE_BYTES)
    return DTYPE_BYTES[dtype]


def _ints(**values) -> None:
    for name, value in values.items():
        checks.positive_int(name, value)


def matmul_cost(m: int, k: int, n: int, dtype: str = "bf16") -> OpCost:
    """(m, k) @ (k, n): 2mkn FLOPs; read both inputs once and write the output once.

    For square n x n in bf16 the intensity is 2n^3 / (3 n^2 * 2) = n / 3: big matmuls are
    compute-bound, a matrix-vector product (m = 1) never is.
    """
    _ints(m=m, k=k, n=n)
    size = _size(dtype)
    return OpCost(f"matmul {m}x{k}x{n}", 2.0 * m * k * n, float(m * k + k * n + m * n) * size)


def elementwise_cost(numel: int, dtype: str = "bf16", flops_per_element: float = 1, inputs: int = 1,
                     outputs: int = 1) -> OpCost:
    """An elementwise map over numel values of each of `inputs` tensors into `outputs` tensors."""
    _ints(numel=numel, inputs=inputs, outputs=outputs)
    checks.positive_number("flops_per_element", flops_per_element)
    size = _size(dtype)
    return OpCost(f"elementwise x{numel}", float(numel) * flops_per_element, float(numel) * (inputs + outputs) * size)


def softmax_cost(rows: int, cols: int, dtype: str = "bf16") -> OpCost:
    """Row softmax, fused: read once, write once; 5 FLOPs per element (max, subtract, exp, sum, divide)."""
    _ints(rows=rows, cols=cols)
    return dataclasses.replace(elementwise_cost(rows * cols, dtype, flops_per_element=5),
                               name=f"softmax {rows}x{cols}")


def rmsnorm_cost(rows: int, d_model: int, dtype: str = "bf16") -> OpCost:
    """RMSNorm over d_model, fused: square, sum, scale, times weight (4 FLOPs per element); x, y and the weight."""
    _ints(rows=rows, d_model=d_model)
    cost = elementwise_cost(rows * d_model, dtype, flops_per_element=4)
    return OpCost(f"rmsnorm {rows}x{d_model}", cost.flops, cost.bytes + d_model * _size(dtype))


def attention_prefill_cost(batch: int, seq: int, num_heads: int, head_dim: int, dtype: str = "bf16",
                           num_kv_heads: int | None = None, *, fused: bool = True) -> OpCost:
    """softmax(Q K^T) V over full (unmasked) seq x seq scores: 4 * batch * num_heads * seq^2 * head_dim FLOPs.

    fused (FlashAttention): read Q, K, V, write O; the score matrix never reaches HBM, so the
    intensity grows with seq. Unfused: the (seq, seq) scores and probabilities are written and read
    back once each (4 seq^2 values per head), which pins the intensity near a constant.
    The softmax's own FLOPs (5 per score) are left out, as in `lmcourse.accounting.flops`.
    """
    num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
    _ints(batch=batch, seq=seq, num_heads=num_heads, head_dim=head_dim, num_kv_heads=num_kv_heads)
    if num_heads % num_kv_heads:
        raise ValueError(f"num_kv_heads={num_kv_heads!r}; expected a divisor of num_heads={num_heads}")
    size = _size(dtype)
    flops = 4.0 * batch * num_heads * seq * seq * head_dim
    values = batch * seq * head_dim * (2 * num_heads + 2 * num_kv_heads)  # Q and O per query head; K, V per KV head
    if not fused:
        values += 4 * batch * num_heads * seq * seq
    return OpCost(f"attention {'fused' if fused else 'unfused'} b{batch} s{seq}", flops, float(values) * size)


def _weight_bytes(config: TransformerConfig, batch: int, size: int) -> float:
    """Weights one forward over `batch` tokens must read: every matrix it multiplies by, once.

    Embedding tables are gathered, not multiplied: only the tokens' rows are read (the whole table
    when it doubles as the tied lm_head). A routed expert is read if any token picks it; with
    uniform routing that is num_experts * (1 - (1 - top_k / num_experts)^batch) of them per layer.
    """
    counts = count_parameters(config)
    values = counts.total - counts.position - (0 if config.tie_embeddings else counts.embeddings)
    if not config.tie_embeddings:
        values += min(batch, config.vocab_size) * config.d_model
    if config.position == "learned":
        values += min(batch, config.context_length) * config.d_model
    if config.num_experts:
        moe_layers = sum(config.is_moe_layer(layer) for layer in range(config.num_layers))
        touched = config.num_experts * (1 - (1 - config.top_k / config.num_experts) ** batch)
        values -= moe_layers * (config.num_experts - touched) * 3 * config.d_model * config.d_ff
    return float(values) * size


def decode_step_cost(config: TransformerConfig, batch: int, context: int, dtype: str = "bf16") -> OpCost:
    """One new token for each of `batch` sequences, attending to `context` positions (itself included).

    FLOPs: batch * forward FLOPs per token. Bytes: the weights once for the whole batch, each
    sequence's KV cache (the last sliding_window positions when set) read once: context - 1 cached
    positions read and the new token's K and V written. At batch 1 this is ~1 FLOP per byte in bf16: decoding is memory-bound, and batching is
    the way to share the weight reads (the KV cache reads do not shrink with batch).
    """
    check_config(config)
    _ints(batch=batch, context=context)
    size = _size(dtype)
    storage = "fp32" if dtype == "tf32" else dtype
    attended = min(context, config.sliding_window or context)
    kv = kv_cache_bytes_per_token(config, storage)
    flops = batch * forward_flops_per_token(config, attended)
    return OpCost(f"decode b{batch} ctx{context}", flops,
                  _weight_bytes(config, batch, size) + batch * attended * kv)


def prefill_cost(config: TransformerConfig, batch: int, seq: int, dtype: str = "bf16") -> OpCost:
    """A forward over batch prompts of seq tokens that fills the KV cache: weights read once, cache written."""
    check_config(config)
    _ints(batch=batch, seq=seq)
    size = _size(dtype)
    storage = "fp32" if dtype == "tf32" else dtype
    flops = batch * seq * forward_flops_per_token(config, seq)
    return OpCost(f"prefill b{batch} s{seq}", flops,
                  _weight_bytes(config, batch * seq, size) + batch * seq * kv_cache_bytes_per_token(config, storage))


def _check_gpu(gpu) -> None:
    if not isinstance(gpu, GPU):
        raise TypeError(f"gpu: expected a lmcourse.accounting.hardware.GPU, got {type(gpu).__name__}")


def _check_cost(cost) -> None:
    if not isinstance(cost, OpCost):
        raise TypeError(f"cost: expected an OpCost, got {type(cost).__name__}")


def ridge_point(gpu: GPU, dtype: str) -> float:
    """The intensity (FLOPs/byte) where the roof turns flat: peak / bandwidth."""
    _check_gpu(gpu)
    return gpu.peak(dtype) / gpu.bandwidth


def attainable_flops(gpu: GPU, dtype: str, intensity: float) -> float:
    """The roof at `intensity`: min(peak, intensity * bandwidth) FLOP/s."""
    _check_gpu(gpu)
    checks.positive_number("intensity", intensity)
    return min(gpu.peak(dtype), intensity * gpu.bandwidth)


def bound(gpu: GPU, dtype: str, cost: OpCost) -> str:
    """"memory" below the ridge point, "compute" at or above it."""
    _check_cost(cost)
    return "memory" if cost.intensity < ridge_point(gpu, dtype) else "compute"


def roofline_time(gpu: GPU, dtype: str, cost: OpCost) -> float:
    """The fastest `cost` can run: max(flops / peak, bytes / bandwidth) seconds."""
    _check_gpu(gpu)
    _check_cost(cost)
    return max(cost.flops / gpu.peak(dtype), cost.bytes / gpu.bandwidth)


def matmul_hbm_bytes(m: int, k: int, n: int, dtype: str = "bf16", tile: int = 1) -> float:
    """HBM bytes of (m, k) @ (k, n) when each block computes a tile x tile patch of the output.

    A block reads a strip of `tile` rows of A (tile * k values) and `tile` columns of B, keeps them
    in shared memory and reuses each value `tile` times; the ceil(m/tile) * ceil(n/tile) blocks
    together read A ceil(n/tile) times and B ceil(m/tile) times. tile=1 is the naive kernel
    (every product re-reads its operands: 2mkn reads); tiling divides the reads by the tile size.
    """
    _ints(m=m, k=k, n=n, tile=tile)
    values = m * k * math.ceil(n / tile) + k * n * math.ceil(m / tile) + m * n
    return float(values) * _size(dtype)


class WaveCount(NamedTuple):
    tiles: int  # output tiles, one per thread block
    waves: int  # rounds of num_sms blocks running at once
    wave_efficiency: float  # tiles / (waves * num_sms): SMs busy in the average wave
    tile_efficiency: float  # m * n / (tiles * tile_m * tile_n): the padded tiles' useful share


def wave_quantization(m: int, n: int, num_sms: int, tile_m: int = 128, tile_n: int = 128) -> WaveCount:
    """How an (m, n) output splits into tile_m x tile_n tiles and waves of num_sms (one block per SM).

    133 tiles on a 132-SM H100 take two waves, the second with one busy SM: half the chip idles.
    """
    _ints(m=m, n=n, num_sms=num_sms, tile_m=tile_m, tile_n=tile_n)
    tiles = math.ceil(m / tile_m) * math.ceil(n / tile_n)
    waves = math.ceil(tiles / num_sms)
    return WaveCount(tiles, waves, tiles / (waves * num_sms), m * n / (tiles * tile_m * tile_n))


@dataclass(frozen=True)
class GpuArch:
    """What is on the chip: the memory hierarchy above HBM (bytes), per the vendor's whitepaper."""
    num_sms: int  # streaming multiprocessors
    max_threads_per_sm: int  # resident at once: 64 warps of WARP_SIZE threads
    registers_per_sm: int  # register file: 64K 32-bit registers
    shared_memory_per_sm: int  # the most of the L1/shared block that can be shared memory
    l1_shared_per_sm: int  # combined L1 data cache + shared memory
    l2_bytes: int
    source: str


WARP_SIZE = 32  # threads that execute one instruction together (SIMT), on every NVIDIA GPU so far
_KB, _MB = 1024, 1024**2
_A100 = GpuArch(108, 2048, 256 * _KB, 164 * _KB, 192 * _KB, 40 * _MB,
                "NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020)")
_H100 = GpuArch(132, 2048, 256 * _KB, 228 * _KB, 256 * _KB, 50 * _MB,
                "NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022), SXM5")
# Keyed like hardware.GPUS; the H200 is the H100's GH100 chip with 141 GB of HBM3e (H200 datasheet, 2024).
GPU_ARCH: dict[str, GpuArch] = {"A100-40GB": _A100, "A100-80GB": _A100, "H100-80GB": _H100, "H200-141GB": _H100}


class GpuGeneration(NamedTuple):
    name: str
    year: int
    peak_flops: float  # dense, in the fastest dtype the generation trains in (`dtype`)
    dtype: str
    bandwidth: float  # memory bytes/s
    source: str


# Datasheet figures (SXM parts where there is one); tensor-core dense rates from Volta on.
GPU_GENERATIONS: tuple[GpuGeneration, ...] = (
    GpuGeneration("K40", 2013, 4.29e12, "fp32", 288e9, "NVIDIA Tesla K40 datasheet"),
    GpuGeneration("M40", 2015, 7.0e12, "fp32", 288e9, "NVIDIA Tesla M40 datasheet"),
    GpuGeneration("P100", 2016, 21.2e12, "fp16", 732e9, "NVIDIA Tesla P100 datasheet (SXM2)"),
    GpuGeneration("V100", 2017, 125e12, "fp16", 900e9, "NVIDIA Tesla V100 datasheet (SXM2)"),
    GpuGeneration("A100", 2020, 312e12, "bf16", 2.039e12, "NVIDIA A100 datasheet (80GB SXM)"),
    GpuGeneration("H100", 2022, 989.4e12, "bf16", 3.35e12, "NVIDIA H100 datasheet (SXM5)"),
    GpuGeneration("H200", 2024, 989.4e12, "bf16", 4.8e12, "NVIDIA H200 datasheet (SXM)"),
    GpuGeneration("B200", 2025, 2.25e15, "bf16", 8.0e12, "NVIDIA HGX B200 datasheet (per GPU)"),
)
