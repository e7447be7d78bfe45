"""Matmuls against the roofline: measured throughput next to what `lmcourse.accounting.roofline` allows.

Two sweeps, both timed with `lmcourse.timing` (interleaved repeats, medians):

1. roofline sweep: square matmuls of growing size, batched matrix-vector products (b x d @ d x d)
   and one large elementwise add. For each: its arithmetic intensity, the roofline's bound and
   attainable FLOP/s, the measured FLOP/s and the share of the attainable it reached. The roofline
   is the datasheet one on a known GPU (`lmcourse.accounting.hardware.GPUS`, dense bf16) and the
   measured one (`measured_machine`: best matmul, large copy) otherwise; on a GPU both are printed.
2. shape sweep: an N x N x N matmul for every N in a range, summarized by the largest power of two
   dividing N (Horace He, "What shapes do matrix multiplications like?", 2024): on GPUs odd N run
   far slower than multiples of 8 or 16; on CPUs the effect is much smaller.

Usage:
    .venv/bin/python benchmarks/bench_matmul.py                  # CPU, fp32, one thread
    .venv/bin/python benchmarks/bench_matmul.py --quick          # fewer sizes, 3 repeats
    python benchmarks/bench_matmul.py --device cuda              # GPU, bf16, triton.testing.do_bench timing
"""

from __future__ import annotations

import argparse
import statistics

import torch

from _common import machine, table

from lmcourse.accounting.hardware import GPUS
from lmcourse.accounting.roofline import OpCost, attainable_flops, bound, elementwise_cost, matmul_cost
from lmcourse.timing import benchmark_many, measured_machine

TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
SETTINGS = {  # device type -> square sizes, matvec width, matvec batches, add size, shape range
    "cpu": dict(squares=(32, 64, 128, 256, 512, 1024), width=1024, batches=(1, 4, 16, 64), add=2**23,
                shapes=(160, 257)),
    "cuda": dict(squares=(256, 512, 1024, 2048, 4096, 8192, 16384), width=8192, batches=(1, 8, 64, 512, 4096),
                 add=2**28, shapes=(2048, 2305)),
}


def datasheet_gpu(device: torch.device):
    """The GPUS entry whose name matches the CUDA device (H100 -> H100-80GB), or None."""
    name = torch.cuda.get_device_name(device)
    for key, gpu in GPUS.items():
        if key.split("-")[0] in name and (key != "A100-40GB" or "40GB" in name):
            return gpu
    return None


def time_all(calls: dict, device: torch.device, repeats: int) -> dict:
    """Median seconds per call: do_bench on a GPU (CUDA events, L2 flushed), interleaved repeats on a CPU."""
    timings = benchmark_many(calls, repeats=repeats, do_bench=device.type == "cuda")
    return {name: timing.median for name, timing in timings.items()}


def unit(device: torch.device) -> tuple[float, str]:
    return (1e12, "TFLOP/s") if device.type == "cuda" else (1e9, "GFLOP/s")


def roofline_sweep(device, dtype, settings, rooflines, repeats):
    scale, name_unit = unit(device)
    torch_dtype, d = TORCH_DTYPES[dtype], settings["width"]
    shapes = {f"square {n}": (n, n, n) for n in settings["squares"]}
    shapes |= {f"matvec {b} x {d}^2": (b, d, d) for b in settings["batches"]}
    operands = {name: (torch.randn(m, k, device=device, dtype=torch_dtype),
                       torch.randn(k, n, device=device, dtype=torch_dtype)) for name, (m, k, n) in shapes.items()}
    calls = {name: (lambda a=a, b=b: a @ b) for name, (a, b) in operands.items()}
    costs: dict[str, OpCost] = {name: matmul_cost(*shape, dtype) for name, shape in shapes.items()}
    x, y = (torch.randn(settings["add"], device=device, dtype=torch_dtype) for _ in range(2))
    z = torch.empty_like(x)
    calls[f"add {settings['add']:,}"] = lambda: torch.add(x, y, out=z)
    costs[f"add {settings['add']:,}"] = elementwise_cost(settings["add"], dtype, inputs=2)
    seconds = time_all(calls, device, repeats)
    rows = []
    for name, cost in costs.items():
        achieved = cost.flops / seconds[name]
        row = [name, f"{cost.intensity:.1f}", f"{seconds[name] * 1e6:,.1f}", f"{achieved / scale:.3g}"]
        for gpu in rooflines:
            roof = attainable_flops(gpu, dtype, cost.intensity)
            row += [bound(gpu, dtype, cost), f"{roof / scale:.3g}", f"{100 * achieved / roof:.0f}%"]
        rows.append(row)
    header = ["operation", "FLOPs/byte", "median us", f"achieved {name_unit}"]
    for gpu in rooflines:
        header += [f"bound ({gpu.name})", f"attainable {name_unit}", "achieved / attainable"]
    return table(header, rows)


def shape_sweep(device, dtype, settings, peak, repeats):
    torch_dtype, (scale, name_unit) = TORCH_DTYPES[dtype], unit(device)
    sizes = range(*settings["shapes"])
    calls = {}
    for n in sizes:
        a, b = (torch.randn(n, n, device=device, dtype=torch_dtype) for _ in range(2))
        calls[n] = lambda a=a, b=b: a @ b
    seconds = time_all(calls, device, repeats)
    achieved = {n: 2 * n**3 / seconds[n] for n in sizes}
    groups: dict[int, list[int]] = {}
    for n in sizes:
        groups.setdefault(min(n & -n, 64), []).append(n)
    rows = []
    for power, ns in sorted(groups.items()):
        values = [achieved[n] for n in ns]
        rows.append([f"{power}" if power < 64 else ">= 64", len(ns), f"{statistics.median(values) / scale:.3g}",
                     f"{min(values) / scale:.3g}", f"{max(values) / scale:.3g}",
                     f"{100 * statistics.median(values) / peak:.0f}%"])
    best, worst = max(achieved, key=achieved.get), min(achieved, key=achieved.get)
    summary = (f"\nbest N = {best} ({achieved[best] / scale:.3g} {name_unit}), worst N = {worst} "
               f"({achieved[worst] / scale:.3g} {name_unit})")
    return table(["largest 2^k dividing N", "sizes", f"median {name_unit}", "min", "max", "median / peak"],
                 rows) + summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=tuple(TORCH_DTYPES), help="default: fp32 on CPU, bf16 on CUDA")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1: stable on a shared machine)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats per operation (CPU)")
    parser.add_argument("--quick", action="store_true", help="fewer sizes, 3 repeats")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available on this machine")
    dtype = args.dtype or ("bf16" if device.type == "cuda" else "fp32")
    settings = dict(SETTINGS[device.type])
    if args.quick:
        settings.update(squares=settings["squares"][::2], batches=settings["batches"][:2],
                        shapes=(settings["shapes"][0], settings["shapes"][0] + 33))
        args.repeats = 3
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    measured = measured_machine(device)
    rooflines = [measured]
    if device.type == "cuda" and (sheet := datasheet_gpu(device)) is not None:
        rooflines.insert(0, sheet)
    if dtype not in measured.peak_flops:
        rooflines = [gpu for gpu in rooflines if dtype in gpu.peak_flops]
    print(machine())
    print(f"- torch {torch.__version__}, device {device} ({measured.name}), {dtype}, "
          f"threads {torch.get_num_threads()}, medians of {args.repeats if device.type == 'cpu' else 100} repeats")
    for gpu in rooflines:
        print(f"- roofline {gpu.name}: peak {gpu.peak(dtype) / 1e12:.3g} TFLOP/s {dtype}, "
              f"bandwidth {gpu.bandwidth / 1e9:.1f} GB/s")
    print("\n### Roofline sweep\n")
    print(roofline_sweep(device, dtype, settings, rooflines, args.repeats))
    print(f"\n### Shape sweep: N x N x N, N in [{settings['shapes'][0]}, {settings['shapes'][1]})\n")
    print(shape_sweep(device, dtype, settings, rooflines[0].peak(dtype), args.repeats))


if __name__ == "__main__":
    main()
