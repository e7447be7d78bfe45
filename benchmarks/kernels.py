"""The chapter-6 kernels against PyTorch: softmax, RMSNorm fwd+bwd, cross-entropy fwd+bwd, GeLU, matmul.

Each operation runs in up to four implementations: ours in Triton, ours in PyTorch (the tiled
reference), PyTorch eager, and `torch.compile` of eager. Memory-bound operations are reported in
GB/s (the bytes a fused kernel must move, over the median time) and as a share of the bandwidth of
a device-to-device copy measured in the same run; the matmul in TFLOP/s and as a share of a large
torch matmul measured in the same run. The FlashAttention rows come from benchmarks/kernels_flash.py.

With CUDA, times are `triton.testing.do_bench` medians (via lmcourse.timing.benchmark_many with
do_bench=True) at large sizes, in bf16 by default. On the CPU, Triton kernels only run under the
interpreter (NumPy, useless for speed), so the CPU run compares our PyTorch references with torch
eager at small sizes, interleaved repeat by repeat; `--compile` adds torch.compile there (slow to
compile on a small CPU).

Usage:
    .venv/bin/python benchmarks/kernels.py                  # CPU, fp32, small sizes
    .venv/bin/python benchmarks/kernels.py --no-flash       # without the FlashAttention rows
    python benchmarks/kernels.py                            # CUDA: large sizes, bf16, Triton and compile
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from _common import machine, table
from kernels_flash import DTYPES, add_arguments as add_flash_arguments, flash_rows, format_rows

from lmcourse.kernels import (CrossEntropyPyTorch, CrossEntropyTriton, RMSNormPyTorch, RMSNormTriton, gelu_manual,
                              gelu_triton, matmul_reference, matmul_triton, softmax_reference, softmax_triton)
from lmcourse.timing import benchmark_many, measure_bandwidth, measure_matmul_flops

# (rows, cols) of the memory-bound cases, and the matmul's (m, k, n), per device
SIZES = {
    "cuda": dict(softmax=(16384, 8192), rmsnorm=(16384, 4096), cross_entropy=(8192, 50304), gelu=2**28,
                 matmul=(8192, 8192, 8192)),
    "cpu": dict(softmax=(1024, 2048), rmsnorm=(2048, 1024), cross_entropy=(512, 8192), gelu=2**20,
                matmul=(512, 512, 512)),
}


def fwd_bwd(fn, inputs, grad_out):
    """A step that runs fn forward and backward (gradients of all inputs; grad_out None for a scalar loss)."""
    def step():
        return torch.autograd.grad(fn(*inputs), inputs, grad_out)
    return step


def cases(device: str, dtype: torch.dtype, compile_ok: bool) -> list[dict]:
    """One dict per operation: its name, the bytes or FLOPs it must move or do, and name -> step."""
    size, g = SIZES[device], torch.Generator(device=device).manual_seed(0)
    esize = torch.tensor([], dtype=dtype).element_size()

    def randn(*shape, grad=False):
        return torch.randn(*shape, device=device, generator=g).to(dtype).requires_grad_(grad)

    out = []
    rows, cols = size["softmax"]
    x = randn(rows, cols)
    out.append(dict(op="softmax", shape=f"{rows}x{cols}", bytes=2 * x.numel() * esize, impls={
        "ours Triton": lambda: softmax_triton(x), "ours PyTorch": lambda: softmax_reference(x, 1024),
        "torch eager": lambda: F.softmax(x, dim=-1), "torch.compile": torch.compile(lambda: F.softmax(x, dim=-1))}))

    rows, d_model = size["rmsnorm"]
    x, w, gy = randn(rows, d_model, grad=True), randn(d_model, grad=True), randn(rows, d_model)
    eager_rms = lambda x, w: F.rms_norm(x, (d_model,), w, eps=1e-5)  # noqa: E731
    # forward reads x, writes y; backward reads x and dy, writes dx (the weight is negligible)
    out.append(dict(op="RMSNorm fwd+bwd", shape=f"{rows}x{d_model}", bytes=5 * x.numel() * esize, impls={
        "ours Triton": fwd_bwd(lambda x, w: RMSNormTriton.apply(x, w, 1e-5), (x, w), gy),
        "ours PyTorch": fwd_bwd(lambda x, w: RMSNormPyTorch.apply(x, w, 1e-5), (x, w), gy),
        "torch eager": fwd_bwd(eager_rms, (x, w), gy),
        "torch.compile": fwd_bwd(torch.compile(eager_rms), (x, w), gy)}))

    rows, vocab = size["cross_entropy"]
    logits, targets = randn(rows, vocab, grad=True), torch.randint(0, vocab, (rows,), device=device, generator=g)
    # forward reads the logits; backward reads them again and writes their gradient
    out.append(dict(op="cross-entropy fwd+bwd", shape=f"{rows}x{vocab}", bytes=3 * logits.numel() * esize, impls={
        "ours Triton": fwd_bwd(lambda l: CrossEntropyTriton.apply(l, targets), (logits,), None),
        "ours PyTorch": fwd_bwd(lambda l: CrossEntropyPyTorch.apply(l, targets), (logits,), None),
        "torch eager": fwd_bwd(lambda l: F.cross_entropy(l, targets), (logits,), None),
        "torch.compile": fwd_bwd(torch.compile(lambda l: F.cross_entropy(l, targets)), (logits,), None)}))

    x = randn(size["gelu"])
    out.append(dict(op="GeLU (tanh)", shape=f"{x.numel()}", bytes=2 * x.numel() * esize, impls={
        "ours Triton": lambda: gelu_triton(x), "ours PyTorch": lambda: gelu_manual(x),
        "torch eager": lambda: F.gelu(x, approximate="tanh"), "torch.compile": torch.compile(lambda: gelu_manual(x))}))

    m, k, n = size["matmul"]
    a, b = randn(m, k), randn(k, n)
    out.append(dict(op="matmul", shape=f"{m}x{k}x{n}", flops=2 * m * k * n, impls={
        "ours Triton": lambda: matmul_triton(a, b, block_m=128, block_n=128, block_k=64, num_warps=8),
        "ours PyTorch": lambda: matmul_reference(a, b, 256 if device == "cpu" else 1024),
        "torch eager": lambda: a @ b}))

    for case in out:
        if device != "cuda":
            case["impls"].pop("ours Triton")  # interpreted: timing it would measure NumPy
        if not compile_ok:
            case["impls"].pop("torch.compile", None)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_flash_arguments(parser)  # --repeats, --dtype, ... shared with the FlashAttention rows
    parser.add_argument("--compile", action="store_true", help="CPU: include torch.compile (always on with CUDA)")
    parser.add_argument("--no-flash", action="store_true", help="leave out the FlashAttention rows")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = DTYPES[args.dtype or ("bf16" if device == "cuda" else "fp32")]
    if device == "cpu":
        torch.set_num_threads(1)  # a shared machine: one thread keeps the sides comparable

    print(machine())
    bandwidth = measure_bandwidth(device, num_bytes=2**30 if device == "cuda" else 256 * 2**20)
    peak = measure_matmul_flops(device, n=8192 if device == "cuda" else 1024, dtype=dtype)
    timing = "do_bench medians" if device == "cuda" else f"median of {args.repeats} interleaved repeats"
    print(f"- torch {torch.__version__}, device {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}, "
          f"{str(dtype).removeprefix('torch.')}; {timing}")
    print(f"- ceilings measured here: copy {bandwidth / 1e9:.1f} GB/s, matmul {peak / 1e12:.3f} TFLOP/s")
    if device == "cpu":
        print("- Triton kernels run only interpreted on a CPU: their timings need a GPU (not measured here)")
    print()

    rows = []
    for case in cases(device, dtype, compile_ok=device == "cuda" or args.compile):
        timings = benchmark_many(case["impls"], repeats=args.repeats, do_bench=device == "cuda")
        seconds = {name: timing.median for name, timing in timings.items()}
        eager = seconds["torch eager"]
        for name, s in seconds.items():
            if "bytes" in case:
                rate, share = f"{case['bytes'] / s / 1e9:.1f} GB/s", case["bytes"] / s / bandwidth
            else:
                rate, share = f"{case['flops'] / s / 1e12:.3f} TFLOP/s", case["flops"] / s / peak
            rows.append([case["op"], case["shape"], name, f"{s * 1e3:.3f}", rate, f"{share:.0%}",
                         f"{s / eager:.2f}"])
    print(table(["op", "shape", "implementation", "median ms", "rate", "of ceiling", "time / eager"], rows))
    if not args.no_flash:
        print("\nFlashAttention-2, forward + backward (benchmarks/kernels_flash.py):\n")
        print(format_rows(flash_rows(args)))


if __name__ == "__main__":
    main()
