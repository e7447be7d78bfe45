"""Step time of the course's DDP (per-parameter and bucketed) against PyTorch's DistributedDataParallel.

Two real processes (gloo on CPU; NCCL when at least two GPUs are present) train the same
TransformerLM, each on its own batch, with torch.optim.AdamW; the three wrappers take turns,
repeat by repeat, in one run, so machine load hits them alike. A step is zero_grad, forward,
cross-entropy, backward, gradient synchronization and the optimizer step. The table gives rank 0's
median step time over repeats (each repeat: the median of `--steps` steps) and the ratio to
PyTorch's DDP. Target: bucketed within 1.2x of DistributedDataParallel.

Usage:
    .venv/bin/python benchmarks/bench_ddp.py            # CPU, 2 gloo processes
    .venv/bin/python benchmarks/bench_ddp.py --quick    # a smaller model, fewer repeats
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.distributed as dist

from _common import machine, table

from lmcourse.nn import TransformerLM, cross_entropy
from lmcourse.parallel.ddp import DDPBucketed, DDPIndividualParameters
from lmcourse.parallel.launch import spawn

VARIANTS = ("ours: per-parameter", "ours: bucketed", "torch DistributedDataParallel")


def _wrap(variant: str, model, bucket_mb: float, device):
    if variant == VARIANTS[0]:
        return DDPIndividualParameters(model)
    if variant == VARIANTS[1]:
        return DDPBucketed(model, bucket_mb)
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids, bucket_cap_mb=bucket_mb)


def worker(rank: int, world_size: int, config: dict, batch_size: int, steps: int, repeats: int, bucket_mb: float):
    device = torch.device(f"cuda:{rank}" if dist.get_backend() == "nccl" else "cpu")
    runs = {}
    for variant in VARIANTS:
        torch.manual_seed(0)
        model = TransformerLM(**config, device=device)
        runs[variant] = (_wrap(variant, model, bucket_mb, device), torch.optim.AdamW(model.parameters(), lr=1e-3))
    generator = torch.Generator().manual_seed(rank)
    tokens = torch.randint(0, config["vocab_size"], (batch_size, config["context_length"] + 1),
                           generator=generator).to(device)
    medians = {variant: [] for variant in VARIANTS}
    for repeat in range(repeats + 1):  # repeat 0 warms up (allocations, gloo buffers) and is dropped
        for variant in VARIANTS:
            wrapped, optimizer = runs[variant]
            times = []
            for _ in range(steps):
                dist.barrier()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start = time.perf_counter()
                optimizer.zero_grad(set_to_none=True)
                logits = wrapped(tokens[:, :-1])
                cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1)).backward()
                if hasattr(wrapped, "finish_gradient_synchronization"):
                    wrapped.finish_gradient_synchronization()
                optimizer.step()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                times.append(time.perf_counter() - start)
            if repeat:
                medians[variant].append(statistics.median(times))
    num_params = sum(p.numel() for p in runs[VARIANTS[0]][0].module.parameters())
    return {"medians": medians, "num_params": num_params, "threads": torch.get_num_threads()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4, help="sequences per rank")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--bucket-mb", type=float, default=25.0, help="bucket size for ours and for torch (MiB)")
    parser.add_argument("--quick", action="store_true", help="d_model 128, 2 layers, 2 repeats")
    args = parser.parse_args()
    if args.quick:
        args.d_model, args.layers, args.repeats, args.steps = 128, 2, 2, 3
    backend = "nccl" if torch.cuda.is_available() and torch.cuda.device_count() >= 2 else "gloo"
    config = dict(vocab_size=args.vocab, context_length=args.context, d_model=args.d_model, num_layers=args.layers,
                  num_heads=max(1, args.d_model // 64), d_ff=round(8 * args.d_model / 3 / 64) * 64)
    start = time.perf_counter()
    results = spawn(worker, 2, args=(config, args.batch, args.steps, args.repeats, args.bucket_mb), backend=backend,
                    timeout=3600)
    elapsed = time.perf_counter() - start
    medians = {variant: statistics.median(results[0]["medians"][variant]) for variant in VARIANTS}
    reference = medians[VARIANTS[2]]
    print(machine())
    num_params = results[0]["num_params"]
    print(f"- 2 processes, backend {backend}, {results[0]['threads']} CPU thread(s) each; model {config} "
          f"({num_params:,} parameters, {num_params * 4 / 2**20:.1f} MiB of fp32 gradients), batch {args.batch} x "
          f"{args.context} tokens per rank, bucket {args.bucket_mb:g} MiB; medians of {args.repeats} repeats x "
          f"{args.steps} steps; {elapsed:.0f} s in all\n")
    rows = [[variant, f"{1e3 * medians[variant]:.1f}", f"{medians[variant] / reference:.2f}x"] for variant in VARIANTS]
    print(table(["variant", "step (ms, median)", "vs torch DDP"], rows))


if __name__ == "__main__":
    main()
