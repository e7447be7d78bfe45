"""The accelerators the course's numbers refer to: memory, peak FLOP/s per dtype, memory bandwidth.

Figures are NVIDIA's published dense peaks for the SXM parts. Spec sheets often headline the
"with sparsity" tensor-core numbers, which assume 2:4 structured sparsity and are exactly 2x the
dense ones (an H100's 1979 TFLOP/s bf16 is 989.4 dense); training dense models never sees those.
Peaks themselves are rarely reached: real matmuls get 60-80% of them and whole models less (MFU).

Memory is the nominal capacity in decimal bytes (80 GB = 80e9), the unit the memory accounting
reports in; the runtime (CUDA context, allocator fragmentation) takes a few GB of it in practice.
Left out: interconnect (NVLink / InfiniBand) bandwidth, which the parallelism chapter needs, and
power; the roofline arithmetic that combines peak FLOP/s and bandwidth lives in `roofline`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from lmcourse import checks

__all__ = ["GPU", "GPUS", "get_gpu"]


@dataclass(frozen=True)
class GPU:
    name: str
    memory_bytes: float  # HBM capacity
    peak_flops: Mapping[str, float] = field(hash=False)  # dtype name -> dense FLOP/s on tensor cores
    bandwidth: float  # HBM bytes/s: what elementwise, memory-bound kernels are limited by

    def peak(self, dtype: str) -> float:
        """Dense peak FLOP/s in `dtype`; ValueError if this GPU has no such tensor-core mode."""
        checks.choice("dtype", dtype, self.peak_flops)
        return self.peak_flops[dtype]

    def needed_for(self, num_bytes: float) -> int:
        """How many of these GPUs num_bytes fill, were it split evenly among them (as FSDP / ZeRO-3 try)."""
        checks.positive_number("num_bytes", num_bytes)
        return math.ceil(num_bytes / self.memory_bytes)


def _gpu(name, memory_gb, bandwidth, **peak_flops):
    return GPU(name, memory_gb * 1e9, MappingProxyType(peak_flops), bandwidth)


# fp32 is the plain CUDA-core rate; tf32 is fp32 inputs rounded to 10 mantissa bits on tensor cores
# (PyTorch uses it only with torch.backends.cuda.matmul.allow_tf32 / set_float32_matmul_precision).
_AMPERE = dict(fp32=19.5e12, tf32=156e12, bf16=312e12, fp16=312e12)  # no fp8 on the A100
_HOPPER = dict(fp32=67e12, tf32=494.7e12, bf16=989.4e12, fp16=989.4e12, fp8=1978.9e12)

GPUS: dict[str, GPU] = {
    gpu.name: gpu for gpu in (
        _gpu("A100-40GB", 40, 1.555e12, **_AMPERE),
        _gpu("A100-80GB", 80, 2.039e12, **_AMPERE),
        _gpu("H100-80GB", 80, 3.35e12, **_HOPPER),  # SXM; the PCIe card is slower
        _gpu("H200-141GB", 141, 4.8e12, **_HOPPER),  # an H100's compute with more, faster HBM3e
    )
}


def get_gpu(name: str) -> GPU:
    """`GPUS[name]`, with an error listing the known names."""
    checks.choice("gpu", name, GPUS)
    return GPUS[name]
