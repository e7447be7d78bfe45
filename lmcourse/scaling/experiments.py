"""A real IsoFLOP grid, small enough for a CPU: tiny Transformers trained at fixed compute budgets.

Covers `prepare_tokens` (the book's generated stories, tokenized by a BPE trained on them, split into
training and validation token arrays), `model_shape` (a `TransformerConfig` of a given width and
depth with the course's ratios), `IsoFLOPRun` (what one run records: budget, N, D, final validation
loss, smoothed training curve) and `run_isoflop_grid`, which trains every (budget, shape) pair with
C = 6ND fixing D for each N, each run with its own cosine schedule ending at its last step.

N is the non-embedding parameter count (the output head included: a matmul every token pays for,
see `lmcourse.accounting.ParamCount.non_embedding`). At these sizes attention's context-dependent
FLOPs and the Python overhead per step are not negligible, which is one reason tiny grids give
exponents that differ from those of real ones. Leaves out: tuning the learning rate per size
(one value for all runs), several seeds per run, and anything bigger than a GPU minute
(`benchmarks/isoflop.py` runs the same grid with larger budgets).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lmcourse.accounting import count_parameters
from lmcourse.config import TransformerConfig
from lmcourse.corpus import generate_text, write_corpus
from lmcourse.nn import TransformerLM
from lmcourse.tokenizer import Tokenizer, train_bpe
from lmcourse.train import TrainConfig, estimate_loss, train

__all__ = ["prepare_tokens", "model_shape", "IsoFLOPRun", "run_isoflop_grid"]

SPECIAL = "<|endoftext|>"


def prepare_tokens(train_bytes: int = 1_000_000, val_bytes: int = 100_000, vocab_size: int = 512,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) uint16 token arrays: generated stories (different seeds), one BPE trained on the first."""
    for name, value in (("train_bytes", train_bytes), ("val_bytes", val_bytes), ("vocab_size", vocab_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"prepare_tokens: {name}={value!r}; expected a positive int")
    if not 257 <= vocab_size <= 65536:
        raise ValueError(f"prepare_tokens: vocab_size={vocab_size}; expected 257..65536 (256 bytes + the "
                         "special token, and uint16 ids)")
    with tempfile.TemporaryDirectory(prefix="lmcourse-scaling-") as workdir:
        path = write_corpus(Path(workdir) / "train.txt", train_bytes, seed=seed, separator=SPECIAL)
        vocab, merges = train_bpe(path, vocab_size, [SPECIAL], num_workers=1, show_progress=False)
        tokenizer = Tokenizer(vocab, merges, [SPECIAL])
        train_ids = tokenizer.encode(path.read_text(encoding="utf-8"))
    val_ids = tokenizer.encode(generate_text(val_bytes, seed=seed + 1, separator=SPECIAL))
    return np.asarray(train_ids, dtype=np.uint16), np.asarray(val_ids, dtype=np.uint16)


def model_shape(d_model: int, num_layers: int, vocab_size: int = 512, context_length: int = 64,
                head_dim: int = 8) -> TransformerConfig:
    """The course's recipe at a given width and depth: SwiGLU with d_ff ~ 8/3 d_model (a multiple of 8),
    a fixed head dimension (more heads as the model widens, as in real model families)."""
    if isinstance(head_dim, bool) or not isinstance(head_dim, int) or head_dim < 2 or d_model % head_dim:
        raise ValueError(f"model_shape: head_dim={head_dim!r}; expected an even int >= 2 dividing d_model={d_model}")
    return TransformerConfig(vocab_size=vocab_size, context_length=context_length, d_model=d_model,
                             num_layers=num_layers, num_heads=d_model // head_dim,
                             d_ff=max(8, 8 * round(d_model / 3)))


@dataclass(frozen=True)
class IsoFLOPRun:
    """One training run of an IsoFLOP grid."""

    budget: float  # the nominal budget C this run belongs to (its IsoFLOP profile)
    d_model: int
    num_layers: int
    num_params: int  # N: non-embedding parameters
    num_tokens: int  # D: tokens actually trained on (whole steps)
    steps: int
    val_loss: float  # final validation loss, on the same batches for every run
    curve_flops: tuple[float, ...]  # 6 N (tokens so far), at each logged step
    curve_loss: tuple[float, ...]  # the training loss there, smoothed (an exponential moving average)

    @property
    def flops(self) -> float:
        """6 N D of the steps actually taken (within half a step of `budget`)."""
        return 6.0 * self.num_params * self.num_tokens


def _smooth(values: list[float], span: int) -> list[float]:
    """Exponential moving average with a bias correction, so the start is not pulled towards 0."""
    decay, average, out = 1 - 2 / (span + 1), 0.0, []
    for i, value in enumerate(values, start=1):
        average = decay * average + (1 - decay) * value
        out.append(average / (1 - decay**i))
    return out


def run_isoflop_grid(train_tokens: np.ndarray, val_tokens: np.ndarray, budgets, shapes, *, batch_size: int = 16,
                     context_length: int = 32, max_lr: float = 1e-2, tokens_per_param=(0.4, 40.0),
                     min_steps: int = 10, max_steps: int = 2000, eval_batches: int = 8, device: str = "cpu",
                     seed: int = 0, on_run=None) -> list[IsoFLOPRun]:
    """Train every shape (a (d_model, num_layers) pair) at every budget where D = C / (6N) is within
    `tokens_per_param` times N and gives `min_steps` to `max_steps` steps of batch_size * context_length
    tokens; return the runs. The D/N window keeps each IsoFLOP profile near its own valley, where a
    parabola in log N describes it (far from the optimum the profile is not symmetric).

    All runs share the seed, so they start from the same batches and are compared on the same
    validation batches (common random numbers: differences between runs are less noisy).
    `on_run(run)` is called after each run (for progress output).
    """
    budgets = [float(c) for c in budgets]
    if not budgets or any(not c > 0 for c in budgets):
        raise ValueError(f"run_isoflop_grid: budgets={budgets!r}; expected a non-empty list of FLOPs > 0")
    shapes = [tuple(s) for s in shapes]
    if not shapes or any(len(s) != 2 for s in shapes):
        raise ValueError(f"run_isoflop_grid: shapes={shapes!r}; expected a non-empty list of (d_model, num_layers)")
    if not 1 <= min_steps <= max_steps:
        raise ValueError(f"run_isoflop_grid: min_steps={min_steps}, max_steps={max_steps}; expected 1 <= min <= max")
    low, high = tokens_per_param
    if not 0 < low <= high:
        raise ValueError(f"run_isoflop_grid: tokens_per_param={tokens_per_param!r}; "
                         "expected (low, high) with 0 < low <= high")
    vocab_size = int(max(train_tokens.max(), val_tokens.max())) + 1
    configs = [model_shape(d, layers, vocab_size, context_length) for d, layers in shapes]
    tokens_per_step = batch_size * context_length
    runs = []
    for budget in budgets:
        for config in configs:
            num_params = count_parameters(config).non_embedding
            steps = round(budget / (6 * num_params * tokens_per_step))
            if not (min_steps <= steps <= max_steps and low <= steps * tokens_per_step / num_params <= high):
                continue
            torch.manual_seed(seed)
            model = TransformerLM.from_config(config)
            cfg = TrainConfig(batch_size=batch_size, max_iters=steps, max_lr=max_lr, min_lr=max_lr / 10,
                              warmup_iters=max(1, steps // 10), eval_iters=0, log_interval=1, device=device,
                              seed=seed, peak_flops=1.0)  # peak_flops: MFU is not looked at; skip measuring it
            history = train(model, train_tokens, None, cfg)
            val_loss = estimate_loss(model, val_tokens, batch_size, context_length, eval_batches,
                                     np.random.default_rng(seed + 1))
            smoothed = _smooth([row["loss"] for row in history], span=max(3, steps // 10))
            run = IsoFLOPRun(budget, config.d_model, config.num_layers, num_params, steps * tokens_per_step, steps,
                             val_loss, tuple(6.0 * num_params * row["iter"] * tokens_per_step for row in history),
                             tuple(smoothed))
            runs.append(run)
            if on_run is not None:
                on_run(run)
    return runs
