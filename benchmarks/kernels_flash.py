"""FlashAttention-2, forward + backward: ours (Triton kernels, PyTorch tiles) against torch's SDPA.

Each timed call is `out = attention(q, k, v); out.backward(grad_out)` on (batch, heads, seq, d)
tensors. With CUDA, times come from `triton.testing.do_bench` (CUDA events, median) and the reference
is SDPA restricted to its FlashAttention backend (bf16/fp16; its memory-efficient backend for fp32,
which the flash backend does not take); the default case is the CS336 leaderboard's: batch 1,
16 heads, d = 64, sequence 16384, causal, bf16. `--sweep` runs sequence 128..65536 x d 16..128 x
bf16/fp32. Our PyTorch version loops over tiles in Python, so it is timed only up to --pytorch-max-seq.
On the CPU (no CUDA) it compares the PyTorch version with SDPA's math backend and its default CPU
kernel at small sizes, all interleaved repeat by repeat; Triton times need a GPU (the interpreter
runs kernels in NumPy and says nothing about kernel speed).

Besides the time, each row gives what autograd keeps for the backward beyond q, k, v (a saved-tensors
hook: the (n, n) probabilities for SDPA's math backend, O and L for FlashAttention) and, with CUDA,
the peak memory of one step. `flash_rows(args)` returns one dict per (case, implementation), for
benchmarks/kernels.py to merge; `add_arguments(parser)` adds the options it reads.

Usage:
    .venv/bin/python benchmarks/kernels_flash.py            # CPU: small sizes, fp32
    python benchmarks/kernels_flash.py                      # CUDA: the leaderboard case
    python benchmarks/kernels_flash.py --sweep              # CUDA: the full sweep
"""

from __future__ import annotations

import argparse
import itertools

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from _common import machine, table

from lmcourse.kernels.flash_attention import FlashAttention2PyTorch, FlashAttention2Triton
from lmcourse.timing import benchmark, benchmark_many, saved_tensor_bytes

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
CPU_SEQS, GPU_SEQ = (256, 512, 1024), 16384
SWEEP_SEQS, SWEEP_DIMS = tuple(2**i for i in range(7, 17)), (16, 32, 64, 128)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options flash_rows reads (benchmarks/kernels.py adds them to its own parser)."""
    parser.add_argument("--sweep", action="store_true", help="CUDA: sequence 128..65536 x d 16..128 x bf16/fp32")
    parser.add_argument("--heads", type=int, default=None, help="default: 16 on CUDA, 4 on the CPU")
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--dtype", choices=tuple(DTYPES), default=None, help="default: bf16 on CUDA, fp32 on CPU")
    parser.add_argument("--seq", type=int, nargs="+", default=None, help="sequence lengths (default per device)")
    parser.add_argument("--not-causal", action="store_true")
    parser.add_argument("--pytorch-max-seq", type=int, default=4096, help="longest sequence for the PyTorch version")
    parser.add_argument("--repeats", type=int, default=5, help="CPU: timed repeats (median)")


def _sdpa(backend):
    def attention(q, k, v, is_causal):
        with sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    return attention


def _sdpa_default(q, k, v, is_causal):
    return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)


def _implementations(device: str, dtype: torch.dtype, seq: int, args) -> dict:
    """name -> attention(q, k, v, is_causal); the first entry is the reference the ratios divide by."""
    if device == "cuda":
        reference = ("SDPA flash", SDPBackend.FLASH_ATTENTION) if dtype != torch.float32 else \
            ("SDPA mem-efficient", SDPBackend.EFFICIENT_ATTENTION)
        impls = {reference[0]: _sdpa(reference[1]), "ours Triton": FlashAttention2Triton.apply}
    else:
        impls = {"SDPA default (CPU)": _sdpa_default, "SDPA math": _sdpa(SDPBackend.MATH)}
    if seq <= args.pytorch_max_seq:
        impls["ours PyTorch tiles"] = FlashAttention2PyTorch.apply
    return impls


def _step(attention, q, k, v, grad_out, is_causal):
    def run():
        for t in (q, k, v):
            t.grad = None
        attention(q, k, v, is_causal).backward(grad_out)
    return run


def saved_mib(attention, q, k, v, is_causal) -> float:
    """MiB that autograd keeps for the backward of one call, beyond q, k and v themselves."""
    return saved_tensor_bytes(attention, q, k, v, is_causal) / 2**20


def _time_cuda(steps: dict) -> dict:
    """Median ms per step with do_bench, and peak memory of one step; None where a step runs out of
    memory (HBM, or a kernel's shared memory at large d in fp32)."""
    from triton.runtime.errors import OutOfResources

    results = {}
    for name, step in steps.items():
        try:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            step()
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() / 2**20
            ms = 1e3 * benchmark(step, do_bench=True).median
            results[name] = (ms, peak)
        except (torch.OutOfMemoryError, OutOfResources):
            results[name] = (None, None)
    return results


def _time_cpu(steps: dict, repeats: int) -> dict:
    timings = benchmark_many(steps, warmup=1, repeats=repeats)
    return {name: (1e3 * t.median, None) for name, t in timings.items()}


def flash_rows(args) -> list[dict]:
    """One dict per (case, implementation): median ms of forward + backward and the ratio to SDPA."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    get = lambda name, default: getattr(args, name, default)  # noqa: E731 (kernels.py may pass fewer options)
    if get("sweep", False) and device == "cuda":
        grid = list(itertools.product(SWEEP_SEQS, SWEEP_DIMS, ("bf16", "fp32")))
    else:
        seqs = get("seq", None) or ((GPU_SEQ,) if device == "cuda" else CPU_SEQS)
        dtype = get("dtype", None) or ("bf16" if device == "cuda" else "fp32")
        grid = [(seq, get("head_dim", 64), dtype) for seq in seqs]
    heads = get("heads", None) or (16 if device == "cuda" else 4)
    is_causal = not get("not_causal", False)
    options = argparse.Namespace(pytorch_max_seq=get("pytorch_max_seq", 4096))
    rows = []
    for seq, head_dim, dtype_name in grid:
        dtype = DTYPES[dtype_name]
        g = torch.Generator(device=device).manual_seed(0)
        q, k, v, grad_out = (torch.randn(1, heads, seq, head_dim, device=device, dtype=dtype, generator=g)
                             for _ in range(4))
        q, k, v = (t.requires_grad_() for t in (q, k, v))
        impls = _implementations(device, dtype, seq, options)
        steps = {name: _step(fn, q, k, v, grad_out, is_causal) for name, fn in impls.items()}
        results = _time_cuda(steps) if device == "cuda" else _time_cpu(steps, get("repeats", 5))
        reference_ms = next(iter(results.values()))[0]
        for name, (ms, peak) in results.items():
            saved = None if ms is None else saved_mib(impls[name], q, k, v, is_causal)
            rows.append({"case": f"b1 h{heads} n{seq} d{head_dim}", "dtype": dtype_name, "causal": is_causal,
                         "implementation": name, "fwd+bwd ms": None if ms is None else round(ms, 3),
                         "time / reference": None if ms is None or not reference_ms else round(ms / reference_ms, 2),
                         "saved for bwd MiB": None if saved is None else round(saved, 2),
                         "peak MiB": None if peak is None else round(peak)})
        del q, k, v, grad_out, steps
    return rows


def format_rows(rows: list[dict]) -> str:
    """The rows as a markdown table ("-" where a side ran out of memory or was not run)."""
    return table(list(rows[0]), [["-" if value is None else value for value in row.values()] for row in rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args()
    print(machine())
    cuda = torch.cuda.is_available()
    print(f"- torch {torch.__version__}, device {torch.cuda.get_device_name() if cuda else 'cpu'}; "
          + ("do_bench medians (ms)" if cuda else f"median of {args.repeats} interleaved repeats; "
             "Triton timings need a GPU (not measured here)") + "\n")
    print(format_rows(flash_rows(args)))


if __name__ == "__main__":
    main()
