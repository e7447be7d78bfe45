"""The training loop: batches -> loss -> gradients -> clipped AdamW step, with a learning-rate schedule.

`TrainConfig` holds every knob (validated, JSON-friendly); `train` runs the loop and returns the
logged rows (iteration, loss, learning rate, gradient norm, tokens/s, MFU and, at evaluation steps,
validation loss); `estimate_loss` averages the loss over a few random batches. The loop is lean on
purpose: it reads numbers back from the device (which waits for it) only at logging steps, and a
chapter can train a small language model on two CPU cores in half a minute.

Resuming: checkpoints store the iteration and the RNG states, and `train(..., start_iter,
rng_state)` continues exactly as an uninterrupted run would (same batches, same schedule, same
bits). Validation batches come from their own generator, reseeded at every evaluation, so each
evaluation scores the same batches and the curve is comparable from point to point.

Many processes: pass a `strategy` (`lmcourse.train.distributed`; DDP, ZeRO and FSDP are in
`lmcourse.parallel.strategies`). Every rank draws the same global batch of windows and reads only its
rows of it, so N ranks train on exactly the batches one process would; the logged loss and validation
loss are averaged over the ranks, and only rank 0 writes checkpoints (gathered to the single-process form).

Leaves out: gradient accumulation, loss scaling for fp16 (bf16 needs none), torch.compile (the CLI
applies it), early stopping.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

import lmcourse
from lmcourse.accounting import GPUS, mfu, training_flops_per_token
from lmcourse.config import dataclass_from_dict
from lmcourse.nn import cross_entropy
from lmcourse.timing import measure_matmul_flops
from lmcourse.train.checkpoint import restore_rng_state, save_checkpoint
from lmcourse.train.data import get_batch
from lmcourse.train.distributed import SingleProcess
from lmcourse.train.optim import AdamW
from lmcourse.train.schedule import cosine_lr

__all__ = ["TrainConfig", "train", "estimate_loss", "measure_peak_flops", "datasheet_peak_flops", "gpu_named"]

PRECISIONS = ("fp32", "bf16-mixed")


@dataclass
class TrainConfig:
    batch_size: int = 32  # sequences per step
    max_iters: int = 1000  # optimizer steps in the whole run
    context_length: int | None = None  # tokens per sequence; None = the model's config.context_length
    max_lr: float = 1e-3  # peak learning rate, reached at the end of warmup
    min_lr: float = 1e-4  # floor of the cosine decay
    warmup_iters: int = 0  # linear warmup from 0 to max_lr
    cosine_cycle_iters: int | None = None  # where the cosine reaches min_lr; None = max_iters
    weight_decay: float = 0.1  # AdamW's decoupled decay, applied to every parameter (as in CS336)
    betas: tuple[float, float] = (0.9, 0.95)  # 0.95, not 0.999: v follows the gradients' scale faster
    eps: float = 1e-8
    grad_clip: float | None = 1.0  # max global gradient L2 norm; None = no clipping
    eval_interval: int = 100  # steps between validation-loss estimates (and always at the end)
    eval_iters: int = 10  # batches per estimate; 0 = never evaluate
    log_interval: int = 10  # steps between history rows
    checkpoint_interval: int | None = None  # steps between checkpoints; None = only at the end
    checkpoint_path: str | None = None  # where to save; None = no checkpoints
    seed: int = 0  # seeds the batch sampler (the model is seeded where it is built)
    device: str | None = None  # None = lmcourse.device() (cuda, mps, then cpu)
    precision: str = "fp32"  # or "bf16-mixed": fp32 weights, bf16 matmuls under torch.autocast
    aux_loss_coef: float = 1.0  # multiplies model.aux_loss() (MoE balance + z-loss, already weighted)
    peak_flops: float | None = None  # for MFU; None = measured once with a large matmul on the device

    def __post_init__(self):
        for name in ("batch_size", "max_iters", "eval_interval", "log_interval"):
            _check(name, getattr(self, name), _is_int(getattr(self, name), 1), "a positive int")
        for name in ("context_length", "cosine_cycle_iters", "checkpoint_interval"):
            value = getattr(self, name)
            _check(name, value, value is None or _is_int(value, 1), "None or a positive int")
        for name in ("warmup_iters", "eval_iters", "seed"):
            _check(name, getattr(self, name), _is_int(getattr(self, name), 0), "an int >= 0")
        for name in ("min_lr", "weight_decay", "aux_loss_coef"):
            _check(name, getattr(self, name), _is_number(getattr(self, name), 0), "a number >= 0")
        _check("max_lr", self.max_lr, _is_number(self.max_lr, self.min_lr), f"a number >= min_lr={self.min_lr}")
        _check("eps", self.eps, _is_number(self.eps, 0) and self.eps > 0, "a number > 0")
        for name in ("grad_clip", "peak_flops"):
            value = getattr(self, name)
            _check(name, value, value is None or (_is_number(value, 0) and value > 0), "None or a number > 0")
        self.betas = tuple(self.betas) if isinstance(self.betas, (list, tuple)) else self.betas
        _check("betas", self.betas, len(self.betas) == 2 and all(_is_number(b, 0) and b < 1 for b in self.betas)
               if isinstance(self.betas, tuple) else False, "two numbers in [0, 1)")
        _check("precision", self.precision, self.precision in PRECISIONS, f"one of {PRECISIONS}")
        cycle = self.cosine_cycle_iters or self.max_iters
        _check("warmup_iters", self.warmup_iters, self.warmup_iters <= cycle,
               f"at most cosine_cycle_iters (or max_iters) = {cycle}")
        # Plain strings, so the config can go into a checkpoint that torch.load(weights_only=True) reads.
        if self.checkpoint_path is not None:
            self.checkpoint_path = str(self.checkpoint_path)
        if self.device is not None:
            self.device = str(self.device)

    def lr_at(self, it: int) -> float:
        """The learning rate of step `it` (0-based)."""
        return cosine_lr(it, self.max_lr, self.min_lr, self.warmup_iters, self.cosine_cycle_iters or self.max_iters)

    def torch_device(self) -> torch.device:
        """`device` as a torch.device, or `lmcourse.device()`'s choice when it is None."""
        return torch.device(self.device) if self.device else lmcourse.device()

    def optimizer_kwargs(self) -> dict:
        """AdamW's arguments from this config (lr is set again every step by the schedule)."""
        return dict(lr=self.max_lr, betas=self.betas, eps=self.eps, weight_decay=self.weight_decay)

    def build_optimizer(self, params) -> AdamW:
        """The loop's default optimizer: AdamW with these betas, eps and weight decay (lr is set every step)."""
        return AdamW(params, **self.optimizer_kwargs())

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return dataclass_from_dict(cls, d)


def _is_int(value, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_number(value, minimum: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= minimum


def _check(name: str, value, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"TrainConfig: {name}={value!r}; expected {expected}")


def _autocast(precision: str, device: torch.device):
    if precision == "bf16-mixed":  # matmuls in bf16, reductions (norms, softmax, the loss) in fp32
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


_PEAK_FLOPS: dict[tuple[str, torch.dtype], float] = {}
_DATASHEET_DTYPES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


def datasheet_peak_flops(device, dtype: torch.dtype = torch.float32) -> float | None:
    """The datasheet peak of `device` for `dtype` when it is a GPU `lmcourse.accounting.GPUS` knows,
    else None (measure it instead). Matched by name (`gpu_named`): an H100 PCIe card is credited with
    the SXM figure, so its MFU reads low."""
    device = torch.device(device)
    if device.type != "cuda" or dtype not in _DATASHEET_DTYPES:
        return None
    gpu = gpu_named(torch.cuda.get_device_name(device))
    return None if gpu is None else gpu.peak(_DATASHEET_DTYPES[dtype])


def gpu_named(device_name: str):
    """The `lmcourse.accounting.GPUS` entry for a CUDA device name ("NVIDIA H100 80GB HBM3" -> H100-80GB), or None."""
    name = device_name.upper()
    return next((gpu for gpu in GPUS.values() if gpu.name.split("-")[0] in name), None)


def measure_peak_flops(device, dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of a large square matmul on `device`, measured once per process and remembered.

    A CPU has no datasheet peak to divide by, so MFU on it is relative to what a big matmul reaches;
    on a known GPU pass the datasheet figure (`lmcourse.accounting.GPUS[...].peak_flops`) instead.
    The measurement is `lmcourse.timing.measure_matmul_flops` (warm-up, synchronized, median).
    """
    device = torch.device(device)
    key = (str(device), dtype)
    if key not in _PEAK_FLOPS:
        cuda = device.type == "cuda"
        _PEAK_FLOPS[key] = measure_matmul_flops(device, n=4096 if cuda else 1024, dtype=dtype,
                                                repeats=10 if cuda else 3)
    return _PEAK_FLOPS[key]


@torch.no_grad()
def estimate_loss(model: torch.nn.Module, tokens, batch_size: int, context_length: int, iters: int,
                  generator: np.random.Generator, precision: str = "fp32", shard: tuple[int, int] = (0, 1)) -> float:
    """Mean cross-entropy of `model` over `iters` random batches of `tokens` (in eval mode, no gradients).

    `shard` = (rank, world_size): score only this rank's rows of each batch (see `get_batch`); the
    mean over the ranks of what they return is then the one-process estimate."""
    if not _is_int(iters, 1):
        raise ValueError(f"estimate_loss: iters={iters!r}; expected a positive int")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        losses = []
        for _ in range(iters):
            x, y = get_batch(tokens, batch_size, context_length, device, generator, shard=shard)
            with _autocast(precision, device):
                losses.append(cross_entropy(model(x), y))
        return torch.stack(losses).mean().item()
    finally:
        model.train(was_training)


def train(model: torch.nn.Module, train_tokens, val_tokens, cfg: TrainConfig,
          optimizer: torch.optim.Optimizer | None = None, start_iter: int = 0, rng_state: dict | None = None,
          on_log=None, *, strategy: SingleProcess | None = None, loss_fn=cross_entropy) -> list[dict]:
    """Train `model` on random windows of `train_tokens` for steps start_iter .. cfg.max_iters - 1.

    The model is moved to `cfg.torch_device()`. `optimizer` defaults to `cfg.build_optimizer(...)`
    (AdamW); its learning rate is set from `cfg.lr_at(it)` every step, times a group's "lr_scale" if it
    has one (muP's per-layer rates, `lmcourse.scaling.mup`). To resume, move the model to that
    device, load a checkpoint into model and optimizer (so the optimizer's state sits with the
    parameters), and pass its iteration as `start_iter` and its "rng" entry as `rng_state`.
    `val_tokens` may be None (no evaluation). `on_log(row)` is called with each row as it is made.

    `strategy`: how the ranks share the work (`lmcourse.train.distributed`), built around `model`,
    already on its device, with its own optimizer (so `optimizer` must be None). Every rank calls
    `train`; each gets the same rows back, and `on_log` and checkpoints happen on rank 0 only.
    `loss_fn(logits, targets)`: the training loss (a fused kernel's, `lmcourse.kernels.cross_entropy_triton`,
    gives the same numbers as the default `lmcourse.nn.cross_entropy`); evaluation uses the default.

    Returns the rows: dicts with iter (steps done), loss (that step's cross-entropy, without any aux
    loss), lr, grad_norm (before clipping), tokens_per_s, mfu (None if the model has no config) and,
    at evaluation steps, val_loss.
    """
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"train: cfg must be a TrainConfig, got {type(cfg).__name__}")
    if not _is_int(start_iter, 0):
        raise ValueError(f"train: start_iter={start_iter!r}; expected an int >= 0")
    config = getattr(model, "config", None)
    context_length = cfg.context_length or getattr(config, "context_length", None)
    if context_length is None:
        raise ValueError("train: the model has no config.context_length; set TrainConfig.context_length")
    if val_tokens is not None and len(val_tokens) <= context_length:  # fail now, not at the first evaluation
        raise ValueError(f"train: val_tokens has {len(val_tokens)} tokens; context_length={context_length} "
                         f"needs at least {context_length + 1}")
    if strategy is None:
        device = cfg.torch_device()
        model.to(device)
        strategy = SingleProcess(model, optimizer or cfg.build_optimizer(p for p in model.parameters()
                                                                         if p.requires_grad))
    elif optimizer is not None or strategy.model is not model:
        raise ValueError("train: with a strategy, pass the strategy's own model and no optimizer "
                         "(the strategy builds the optimizer that matches its sharding)")
    else:
        device = next(model.parameters()).device
    module, optimizer, shard = strategy.module, strategy.optimizer, (strategy.rank, strategy.world_size)
    if cfg.batch_size % strategy.world_size:
        raise ValueError(f"train: batch_size={cfg.batch_size} is not divisible by the {strategy.world_size} "
                         "ranks; each rank takes an equal share of the global batch")
    module.train()
    rng = np.random.default_rng(cfg.seed)  # the training batches
    if rng_state is not None:
        restore_rng_state(rng_state, rng)
    use_aux = cfg.aux_loss_coef > 0 and hasattr(model, "aux_loss")

    flops_per_token = peak = None
    if hasattr(config, "num_layers"):
        flops_per_token = training_flops_per_token(config, context_length)
        dtype = torch.bfloat16 if cfg.precision == "bf16-mixed" else torch.float32
        peak = strategy.world_size * (cfg.peak_flops or datasheet_peak_flops(device, dtype)
                                      or measure_peak_flops(device, dtype))

    history: list[dict] = []
    tokens_per_step = cfg.batch_size * context_length
    bar = lmcourse.progress(range(start_iter, cfg.max_iters), initial=start_iter, total=cfg.max_iters,
                            desc="train", unit="step", disable=strategy.rank != 0)
    last_time, last_step = time.perf_counter(), start_iter
    for it in bar:
        lr = cfg.lr_at(it)
        for group in optimizer.param_groups:  # an "lr_scale" entry keeps a per-group ratio (muP's groups)
            group["lr"] = lr * group.get("lr_scale", 1.0)
        step = it + 1
        is_last = step == cfg.max_iters
        evaluate = val_tokens is not None and cfg.eval_iters > 0 and (step % cfg.eval_interval == 0 or is_last)
        logged = evaluate or step % cfg.log_interval == 0 or is_last
        # Every rank draws the whole batch's starts (the same generator everywhere) and reads its rows.
        x, y = get_batch(train_tokens, cfg.batch_size, context_length, device, rng, shard=shard)
        with _autocast(cfg.precision, device):
            loss = loss_fn(module(x), y)
            total = loss + cfg.aux_loss_coef * model.aux_loss() if use_aux else loss
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        strategy.finish_backward()
        norm = strategy.step(cfg.grad_clip, want_norm=logged)

        if logged:
            row = {"iter": step, "loss": strategy.all_mean(loss.detach()).item(), "lr": lr}  # .item() waits: only here
            row["grad_norm"] = norm.item()
            row["tokens_per_s"] = (step - last_step) * tokens_per_step / (time.perf_counter() - last_time)
            row["mfu"] = mfu(row["tokens_per_s"], flops_per_token, peak) if flops_per_token else None
            if evaluate:
                local = estimate_loss(module, val_tokens, cfg.batch_size, context_length, cfg.eval_iters,
                                      np.random.default_rng(cfg.seed + 1), cfg.precision, shard)
                row["val_loss"] = strategy.all_mean(torch.tensor(local, device=device)).item()
            history.append(row)
            bar.set_postfix(loss=f"{row['loss']:.3f}", lr=f"{lr:.2e}")
            if on_log is not None and strategy.rank == 0:
                on_log(row)
        saved = cfg.checkpoint_path and (is_last or (cfg.checkpoint_interval and step % cfg.checkpoint_interval == 0))
        if saved:
            model_state, optimizer_state = strategy.full_state()  # a collective: every rank takes part
            if strategy.rank == 0:
                save_checkpoint(model, strategy.base_optimizer, step, cfg.checkpoint_path, generator=rng,
                                model_state=model_state, optimizer_state=optimizer_state,
                                train_config=cfg.to_dict(), world_size=strategy.world_size, parallel=strategy.name)
        if logged or saved:  # time spent evaluating or saving is not training throughput
            last_time, last_step = time.perf_counter(), step
    return history
