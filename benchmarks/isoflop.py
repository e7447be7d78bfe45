"""A larger IsoFLOP grid than chapter 9's: (C, N, D, loss) per run and the exponents of the three approaches.

The same runner as the chapter (`lmcourse.scaling.experiments.run_isoflop_grid`: tiny Transformers
on the book's generated stories, D = C / (6N) per run, a cosine schedule ending at each run's last
step). On a CPU the default is the chapter's grid; on a GPU (`--device cuda`) the budgets, widths,
batch and corpus grow so that the grid spans two orders of magnitude of compute. This script has no
reference implementation to race: the comparison it prints is between the three approaches of
Hoffmann et al. (2022), and against their published a = 0.50 / 0.49 / 0.46.

Usage:
    .venv/bin/python benchmarks/isoflop.py                    # CPU: the chapter-9 grid (under a minute)
    .venv/bin/python benchmarks/isoflop.py --quick            # two budgets, for a smoke test
    python benchmarks/isoflop.py --device cuda                # GPU: budgets 1e13 .. 1e15 FLOPs
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from _common import machine, table

from lmcourse.scaling.chinchilla import fit_chinchilla
from lmcourse.scaling.experiments import prepare_tokens, run_isoflop_grid
from lmcourse.scaling.isoflop import bootstrap, fit_envelope, fit_isoflop, percentile_interval

# device -> (budgets, (d_model, num_layers) shapes, batch_size, context_length, corpus bytes, max_steps).
# The GPU grid's largest runs see the 20 MB corpus a few times over (chapter 9: a few epochs are
# worth nearly as much as fresh data); it has not been run yet (no GPU in the session that wrote it).
GRIDS = {
    "cpu": ([5e9, 1e10, 3e10], [(8, 1), (16, 1), (24, 1), (32, 1), (32, 2), (48, 2)], 16, 32, 600_000, 600),
    "cuda": ([1e13, 3e13, 1e14, 3e14, 1e15],
             [(64, 2), (96, 2), (128, 3), (192, 3), (256, 4), (384, 4), (512, 6), (768, 8)], 64, 128, 20_000_000,
             5000),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--quick", action="store_true", help="the two smallest budgets only")
    parser.add_argument("--lr", type=float, default=1e-2, help="peak learning rate of every run")
    parser.add_argument("--bootstrap", type=int, default=300, help="resamples for the Approach-2 interval")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    if args.device == "cpu":
        torch.set_num_threads(1)  # tiny models: threads cost more in synchronisation than they save
    budgets, shapes, batch_size, context_length, corpus_bytes, max_steps = GRIDS[args.device]
    if args.quick:
        budgets = budgets[:2]

    print(machine())
    print(f"- command: benchmarks/isoflop.py --device {args.device}{' --quick' if args.quick else ''}\n")
    start = time.perf_counter()
    vocab_size = 512 if args.device == "cpu" else 4096
    train_ids, val_ids = prepare_tokens(corpus_bytes, corpus_bytes // 10, vocab_size)
    runs = run_isoflop_grid(train_ids, val_ids, budgets, shapes, batch_size=batch_size,
                            context_length=context_length, max_lr=args.lr, max_steps=max_steps, device=args.device,
                            on_run=lambda r: print(f"  C={r.budget:.0e} d_model={r.d_model} N={r.num_params:,} "
                                                   f"loss={r.val_loss:.3f}", flush=True))
    elapsed = time.perf_counter() - start
    rows = [[f"{r.budget:.0e}", r.d_model, r.num_layers, f"{r.num_params:,}", f"{r.num_tokens:,}",
             f"{r.num_tokens / r.num_params:.1f}", r.steps, f"{r.val_loss:.3f}"] for r in runs]
    print()
    print(table(["C (FLOPs)", "d_model", "layers", "N", "D", "D/N", "steps", "val loss"], rows))

    C = np.array([r.budget for r in runs])
    N = np.array([r.num_params for r in runs], dtype=float)
    D = np.array([r.num_tokens for r in runs], dtype=float)
    L = np.array([r.val_loss for r in runs])
    envelope = fit_envelope(N, [(np.array(r.curve_flops), np.array(r.curve_loss)) for r in runs],
                            np.logspace(np.log10(min(budgets) / 2), np.log10(max(budgets)), 20))
    isoflop = fit_isoflop(C, N, L)
    law = fit_chinchilla(N, D, L)
    samples = bootstrap(lambda idx: fit_isoflop(C[idx], N[idx], L[idx]).a, len(runs), num_samples=args.bootstrap,
                        groups=C)
    low, high = percentile_interval(samples, 0.9) if len(samples) >= 2 else (float("nan"), float("nan"))
    print()
    print(table(["approach", "a (N_opt ~ C^a)", "b (D_opt ~ C^b)", "Hoffmann et al. a"], [
        ["1: envelope of training curves", f"{envelope.a:.2f}", f"{envelope.b:.2f}", "0.50"],
        [f"2: IsoFLOP parabolas (90% bootstrap {low:.2f} .. {high:.2f}, {len(samples)} resamples)",
         f"{isoflop.a:.2f}", f"{isoflop.b:.2f}", "0.49"],
        [f"3: L(N,D) = {law.E:.2f} + {law.A:.3g}/N^{law.alpha:.2f} + {law.B:.3g}/D^{law.beta:.2f}",
         f"{law.a:.2f}", f"{law.b:.2f}", "0.46"],
    ]))
    print(f"\n{len(runs)} runs, {elapsed:.0f} s in all")


if __name__ == "__main__":
    main()
