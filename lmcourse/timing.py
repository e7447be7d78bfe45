"""Timing a kernel honestly, and measuring the machine at hand for the roofline.

GPU work is asynchronous: a CUDA call returns as soon as the kernel is queued, so a timer around it
measures the launch, not the work. `benchmark` therefore synchronizes before starting and after
each call when CUDA is in use, runs a few warm-up calls first (the first call pays for kernel
selection, allocation and caches), and reports the median of the repeats, which one slow outlier
(another process, a frequency change) cannot move the way it moves a mean; `benchmark_many`
interleaves several functions so that such bursts hit them alike. With `do_bench=True`
it hands the timing to `triton.testing.do_bench` (CUDA events, L2 flushed between runs).

`measure_bandwidth` (a large copy: bytes read + bytes written) and `measure_matmul_flops` (a
square matmul) give the two numbers a roofline needs; `measured_machine` wraps them in a
`lmcourse.accounting.hardware.GPU` so the roofline functions treat "this machine" like an H100.
`saved_tensor_bytes` measures the other cost of a kernel, memory: what autograd keeps for backward.
Left out: clock locking and L2 flushing on the plain path (use `do_bench` on a GPU for those), and
any peak that needs special kernels (AVX-512 or tensor-core peaks beyond what torch's matmul reaches).
"""

from __future__ import annotations

import functools
import os
import platform
import statistics
import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Hashable, Mapping

import torch

from lmcourse import checks
from lmcourse.accounting.hardware import GPU

__all__ = ["Timing", "benchmark", "benchmark_many", "measure_bandwidth", "measure_matmul_flops", "measured_machine",
           "saved_tensor_bytes"]


@dataclass(frozen=True)
class Timing:
    times: list[float]  # seconds per call, one per repeat

    @property
    def median(self) -> float:
        return statistics.median(self.times)




def _synchronize() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def benchmark(fn: Callable[[], object], *, warmup: int = 3, repeats: int = 10, do_bench: bool = False) -> Timing:
    """Call fn() warmup times, then time `repeats` calls one by one; `.median` is the figure to quote.

    do_bench=True (CUDA only) lets `triton.testing.do_bench` choose the counts from its own time
    budgets (25 ms of warm-up, 100 ms of timed runs) instead; `warmup` and `repeats` are then unused.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable taking no arguments, got {type(fn).__name__}")
    checks.integer("warmup", warmup, least=0)
    checks.integer("repeats", repeats, least=1)
    if do_bench:
        if not torch.cuda.is_available():
            raise ValueError("do_bench=True needs a CUDA device (triton.testing.do_bench times with CUDA events)")
        # CUDA only, so Triton compiles rather than interprets: the interpreter switch that
        # lmcourse.kernels manages does not matter here, and timing stays below kernels
        import triton.testing

        times_ms = triton.testing.do_bench(fn, return_mode="all")
        return Timing([t / 1e3 for t in times_ms])
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _synchronize()
        start = time.perf_counter()
        fn()
        _synchronize()
        times.append(time.perf_counter() - start)
    return Timing(times)


def benchmark_many(fns: Mapping[Hashable, Callable[[], object]], *, warmup: int = 1,
                   repeats: int = 5, do_bench: bool = False) -> dict[Hashable, Timing]:
    """`benchmark` for several functions at once, interleaved: each repeat calls every function once,
    so a burst of load from another process slows all of them alike instead of one unlucky size.

    do_bench=True (CUDA only) times each function in turn with `triton.testing.do_bench` instead,
    whose CUDA events and L2 flushes make interleaving unnecessary; `warmup` and `repeats` are unused.
    """
    if not isinstance(fns, Mapping) or not fns or not all(callable(fn) for fn in fns.values()):
        raise TypeError(f"fns: expected a non-empty mapping of name -> callable, got {type(fns).__name__}")
    checks.integer("warmup", warmup, least=0)
    checks.integer("repeats", repeats, least=1)
    if do_bench:
        return {name: benchmark(fn, do_bench=True) for name, fn in fns.items()}
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].extend(benchmark(fn, warmup=0, repeats=1).times)
    return {name: Timing(values) for name, values in times.items()}


def saved_tensor_bytes(fn: Callable[..., object], *args) -> int:
    """Bytes that autograd keeps alive for the backward of fn(*args), beyond the arguments themselves.

    A saved-tensors hook sees every tensor autograd stores; tensors sharing a storage (views) count
    once, and the arguments' own storages (inputs saved for backward) not at all.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
    inputs = {a.untyped_storage().data_ptr() for a in args if isinstance(a, torch.Tensor)}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in inputs:
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args)
    return sum(kept.values())


def _device(device) -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device: expected a str or torch.device, got {type(device).__name__}")
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"device={device!r}; expected a torch device such as 'cpu' or 'cuda'") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}; CUDA is not available on this machine")
    return resolved


def measure_bandwidth(device="cpu", num_bytes: int = 64 * 2**20, repeats: int = 5) -> float:
    """Memory bandwidth in bytes/s: copying num_bytes reads num_bytes and writes num_bytes.

    Make num_bytes much larger than the last-level cache (a CPU's tens of MB, a GPU's L2), or the
    copy measures the cache instead of the memory behind it. The copy is of float32 values
    (num_bytes rounded down to a multiple of 4), which copies faster than bytes on CPUs. A CPU's
    write-allocate cache also reads each destination line before writing it, so the counted figure
    (as in the STREAM benchmark's copy) is somewhat below the traffic really moved.
    """
    device = _device(device)
    checks.integer("num_bytes", num_bytes, least=4)
    src = torch.ones(num_bytes // 4, dtype=torch.float32, device=device)
    num_bytes = src.nbytes
    dst = torch.empty_like(src)
    return 2 * num_bytes / benchmark(lambda: dst.copy_(src), warmup=1, repeats=repeats).median


def measure_matmul_flops(device="cpu", n: int = 1024, dtype: torch.dtype = torch.float32, repeats: int = 5) -> float:
    """FLOP/s of an (n, n) @ (n, n) matmul in dtype: 2 n^3 FLOPs over its median time."""
    device = _device(device)
    checks.integer("n", n, least=1)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating-point torch.dtype, got {dtype!r}")
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    return 2 * n**3 / benchmark(lambda: a @ b, warmup=1, repeats=repeats).median


def _name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "CPU"


@functools.lru_cache(maxsize=None)
def _measured(device: torch.device) -> GPU:
    if device.type == "cuda":
        memory = torch.cuda.get_device_properties(device).total_memory
        sizes, bandwidth = (4096, 8192), measure_bandwidth(device, 2**30)
        peaks = {name: max(measure_matmul_flops(device, n, dtype) for n in sizes)
                 for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    else:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        peaks = {"fp32": max(measure_matmul_flops(device, n) for n in (256, 512, 1024))}
        bandwidth = measure_bandwidth(device)
    return GPU(f"this machine ({_name(device)}, measured)", float(memory), MappingProxyType(peaks), bandwidth)


def measured_machine(device="cpu") -> GPU:
    """This machine as a roofline `GPU`: as peak, the best FLOP/s of square matmuls of a few sizes
    (fp32; bf16 too on CUDA; a CPU's best size depends on its caches), as bandwidth the copy's.
    Measured once per process and device (with the current torch thread count), then remembered."""
    return _measured(_device(device))
