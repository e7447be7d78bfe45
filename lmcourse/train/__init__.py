"""Training a language model: optimizers, schedules, clipping, data loading, checkpoints and the loop.

- `optim`: SGD, AdaGrad and AdamW from scratch; `grad_norm`, `clip_grad_norm`
- `schedule`: `cosine_lr` (warmup + cosine, CS336), `wsd_lr` (warmup-stable-decay)
- `data`: `get_batch`, token files (`save_tokens`, `load_tokens`, `tokenize_file`, `token_dtype`)
- `checkpoint`: `save_checkpoint`, `load_checkpoint`, `read_checkpoint`, RNG states
- `loop`: `TrainConfig`, `train`, `estimate_loss`, `measure_peak_flops`
- `memtrace`: `memory_timeline`, the bytes alive after every event of real training steps
- `distributed`: ranks from torchrun's environment, the process group, `SingleProcess` (the strategy
  interface `lmcourse.parallel.strategies` implements for DDP, ZeRO and FSDP)
- `encode`: `encode_file`, parallel resumable tokenization of a large file into a token file
- `prepare`, `log`, `presets`: the CLI's data steps, metrics files and plots (`read_metrics`,
  `plot_loss`), ready-made configs (`preset`; their notes in
  `presets.PRESETS`)
- `python -m lmcourse.train --config cfg.json --out DIR`: corpus -> BPE -> tokens -> model -> samples
  (`tiny.json` next to this file is a config that trains in seconds on a CPU; see `__main__` for
  real corpora, torchrun and the GPU options)

Leaves out: the data-parallel implementations themselves (`lmcourse.parallel`), alignment objectives
(`lmcourse.align`).
"""

from lmcourse.train.checkpoint import (load_checkpoint, read_checkpoint, restore_rng_state, rng_state,
                                       save_checkpoint)
from lmcourse.train.data import get_batch, load_tokens, save_tokens, token_dtype, tokenize_file
from lmcourse.train.log import plot_loss, read_metrics
from lmcourse.train.loop import TrainConfig, estimate_loss, measure_peak_flops, train
from lmcourse.train.memtrace import memory_timeline
from lmcourse.train.optim import SGD, AdaGrad, AdamW, clip_grad_norm, grad_norm
from lmcourse.train.presets import preset
from lmcourse.train.schedule import cosine_lr, wsd_lr

__all__ = [
    "SGD", "AdaGrad", "AdamW", "grad_norm", "clip_grad_norm", "cosine_lr", "wsd_lr",
    "get_batch", "token_dtype", "save_tokens", "load_tokens", "tokenize_file",
    "save_checkpoint", "load_checkpoint", "read_checkpoint", "rng_state", "restore_rng_state",
    "TrainConfig", "train", "estimate_loss", "measure_peak_flops", "memory_timeline",
    "preset", "read_metrics", "plot_loss",
]
