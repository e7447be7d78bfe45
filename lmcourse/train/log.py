"""Training logs a learner can read: one line per logged step in the terminal, metrics.csv and
metrics.jsonl in the run directory, and `plot_loss` / `plot_runs` drawing the loss curves of one or
more runs (on a matplotlib axes, or into an image file).

Each logged row has iter, tokens (seen so far), loss, val_loss (at evaluation steps), lr,
grad_norm, tokens_per_s, mfu, memory_gb (peak accelerator memory, or the process's peak resident
memory on a CPU) and elapsed_s. Rows are appended and flushed one at a time, so a run that dies
keeps every row logged before; a resumed run appends to the same files. A row cut off by a crash
mid-line is skipped when reading (`read_metrics`).

Leaves out: TensorBoard / Weights & Biases (the JSONL is easy to feed to either), and smoothing.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from lmcourse.files import atomic_write

__all__ = ["COLUMNS", "MetricsLog", "read_metrics", "peak_memory_gb", "plot_loss", "plot_runs"]

COLUMNS = ("iter", "tokens", "loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "mfu", "memory_gb", "elapsed_s")


def peak_memory_gb(device: torch.device) -> float:
    """Peak memory so far: the accelerator's allocations on CUDA, else the process's peak resident set."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 1e9
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 1e9 if sys.platform == "darwin" else peak * 1024 / 1e9


class MetricsLog:
    """Called with each row of `lmcourse.train.train` (as its `on_log`): prints it and appends it to the files."""

    def __init__(self, run_dir, tokens_per_step: int, device: torch.device, quiet: bool = False):
        self.run_dir, self.tokens_per_step, self.device, self.quiet = Path(run_dir), tokens_per_step, device, quiet
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._start = time.perf_counter()
        new_csv = not (self.run_dir / "metrics.csv").exists()
        self._csv = open(self.run_dir / "metrics.csv", "a", newline="", encoding="utf-8")
        self._jsonl = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
        self._writer = csv.DictWriter(self._csv, COLUMNS)
        if new_csv:
            self._writer.writeheader()

    def __call__(self, row: dict) -> None:
        row = {**row, "tokens": row["iter"] * self.tokens_per_step, "memory_gb": peak_memory_gb(self.device),
               "elapsed_s": time.perf_counter() - self._start}
        row = {k: row.get(k) for k in COLUMNS}
        self._writer.writerow({k: "" if v is None else v for k, v in row.items()})
        self._jsonl.write(json.dumps(row) + "\n")
        for f in (self._csv, self._jsonl):
            f.flush()
        if not self.quiet:
            tqdm.write(format_row(row))

    def close(self) -> None:
        self._csv.close()
        self._jsonl.close()


def format_row(row: dict) -> str:
    """One terminal line: iter, loss (val), lr, tokens/s, MFU, memory."""
    val = f"  val {row['val_loss']:.3f}" if row.get("val_loss") is not None else ""
    mfu = f"  MFU {row['mfu']:.1%}" if row.get("mfu") is not None else ""
    return (f"iter {row['iter']:6d}  loss {row['loss']:.3f}{val}  lr {row['lr']:.2e}  "
            f"{row['tokens_per_s']:,.0f} tok/s{mfu}  mem {row['memory_gb']:.2f} GB")


def read_metrics(run_dir) -> list[dict]:
    """The rows of RUN_DIR/metrics.jsonl (a line cut off by a crash is skipped)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no metrics.jsonl; is it a run directory of python -m lmcourse.train?")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def plot_loss(run_dirs, ax=None, x: str = "tokens", labels=None):
    """Draw training (solid) and validation (dots) loss of each run against `x` ("tokens" or "iter"),
    one colour per run, on `ax` (a new figure's axes by default); `labels` name the runs (default:
    their directory names). Returns the axes. `plot_runs` is this, written to an image file."""
    import matplotlib.pyplot as plt

    if x not in ("tokens", "iter"):
        raise ValueError(f"plot_loss: x={x!r}; expected 'tokens' or 'iter'")
    runs = [(Path(d), read_metrics(d)) for d in run_dirs]
    if not runs:
        raise ValueError("plot_loss: no run directories given")
    labels = [d.name for d, _ in runs] if labels is None else [str(label) for label in labels]
    if len(labels) != len(runs):
        raise ValueError(f"plot_loss: {len(labels)} labels for {len(runs)} runs; give one label per run")
    if ax is None:
        ax = plt.subplots(figsize=(7, 4.2))[1]
    for i, ((run_dir, rows), label) in enumerate(zip(runs, labels)):
        if not rows:
            raise ValueError(f"{run_dir}: metrics.jsonl has no rows yet")
        color = f"C{i}"
        ax.plot([r[x] for r in rows], [r["loss"] for r in rows], color=color, label=f"{label} train")
        evaluated = [r for r in rows if r.get("val_loss") is not None]
        ax.plot([r[x] for r in evaluated], [r["val_loss"] for r in evaluated], "o--", color=color, markersize=4,
                label=f"{label} validation")
    ax.set(xlabel="tokens seen" if x == "tokens" else "iteration", ylabel="cross-entropy loss (nats)")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_runs(run_dirs, out, x: str = "tokens") -> Path:
    """Draw the loss curves of one or more runs (`plot_loss`) into the image `out` (written
    atomically); returns its path."""
    import matplotlib

    matplotlib.use("Agg")  # a file, not a window: works on a server without a display
    import matplotlib.pyplot as plt

    if x not in ("tokens", "iter"):
        raise ValueError(f"plot_runs: x={x!r}; expected 'tokens' or 'iter'")
    if not list(run_dirs):
        raise ValueError("plot_runs: no run directories given")
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=150)
    try:
        plot_loss(run_dirs, ax, x)
        fig.tight_layout()
        out = Path(out)
        with atomic_write(out, "wb") as f:
            fig.savefig(f, format=out.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return out
