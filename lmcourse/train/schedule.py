"""Learning-rate schedules: the learning rate as a function of the iteration number.

- `cosine_lr`: linear warmup, then cosine annealing to a floor (the CS336 assignment-1 schedule,
  as used for GPT-3 and Llama).
- `wsd_lr`: warmup-stable-decay (MiniCPM, Hu et al. 2024; Hägele et al. 2024): a constant learning rate
  for most of training and a short linear decay at the end, so one long run can be branched into
  several shorter ones by starting the decay earlier (the scaling-law chapters use it).

Both are plain functions of `it`; the training loop writes the value into the optimizer's
`param_groups` each step, which is all `torch.optim.lr_scheduler` does too.
Leaves out: the 1-sqrt and exponential decay shapes, cyclic restarts, schedules on the batch size.
"""

from __future__ import annotations

import math

__all__ = ["cosine_lr", "wsd_lr"]


def _check(fn: str, **values) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{fn}: {name}={value!r}; expected a number >= 0")


def cosine_lr(it: int, max_lr: float, min_lr: float, warmup_iters: int, cosine_cycle_iters: int) -> float:
    """Warmup from 0 to `max_lr` over `warmup_iters`, cosine down to `min_lr` at `cosine_cycle_iters`, then flat.

        it < warmup_iters:                     it / warmup_iters * max_lr
        warmup_iters <= it <= cycle_iters:     min_lr + (1 + cos(pi * (it - warmup) / (cycle - warmup))) / 2
                                                        * (max_lr - min_lr)
        it > cycle_iters:                      min_lr
    """
    _check("cosine_lr", it=it, max_lr=max_lr, min_lr=min_lr, warmup_iters=warmup_iters,
           cosine_cycle_iters=cosine_cycle_iters)
    if cosine_cycle_iters < warmup_iters:
        raise ValueError(f"cosine_lr: cosine_cycle_iters={cosine_cycle_iters} < warmup_iters={warmup_iters}; "
                         "the cosine phase must end after the warmup")
    if it < warmup_iters:
        return it / warmup_iters * max_lr
    if it > cosine_cycle_iters or cosine_cycle_iters == warmup_iters:  # the second case: no cosine phase
        return min_lr
    progress = (it - warmup_iters) / (cosine_cycle_iters - warmup_iters)
    return min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (max_lr - min_lr)


def wsd_lr(it: int, max_lr: float, min_lr: float, warmup_iters: int, stable_iters: int,
           decay_iters: int) -> float:
    """Warmup to `max_lr` over `warmup_iters`, hold it for `stable_iters`, decay linearly to `min_lr`
    over `decay_iters`, then stay at `min_lr`.

        it < W:                 it / W * max_lr
        W <= it < W + S:        max_lr
        W + S <= it < W+S+D:    max_lr - (it - W - S) / D * (max_lr - min_lr)
        it >= W + S + D:        min_lr
    """
    _check("wsd_lr", it=it, max_lr=max_lr, min_lr=min_lr, warmup_iters=warmup_iters,
           stable_iters=stable_iters, decay_iters=decay_iters)
    if it < warmup_iters:
        return it / warmup_iters * max_lr
    decay_start = warmup_iters + stable_iters
    if it < decay_start:
        return max_lr
    if it >= decay_start + decay_iters:
        return min_lr
    return max_lr - (it - decay_start) / decay_iters * (max_lr - min_lr)
