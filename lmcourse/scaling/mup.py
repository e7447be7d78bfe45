"""The maximal-update parametrization (muP) for Adam, on the course's TransformerLM, without changing it.

muP (Yang et al. 2022, "Tensor Programs V") chooses each layer's initialisation, learning rate and
output multiplier so that, as the width grows, every layer's activations and their change per step
stay of the same size. Then the best learning rate found on a narrow model stays the best on a wide
one. Following the Adam column of their tables 3 and 8 (widths relative to a `base_width`, where the
learning rates and the output multiplier reduce to the standard ones; m = width / base_width):

| parameters                          | init variance | Adam learning rate |
|-------------------------------------|---------------|--------------------|
| embeddings, norm gains (vector-like)| 1 (constant)  | lr                 |
| hidden matrices (attention, FFN)    | 1 / fan_in    | lr / m             |
| output head (readout)               | 0             | lr, logits x 1/m   |

Covers `apply_mup_init`, `mup_param_groups` (AdamW groups whose "lr_scale" the training loop
applies every step), `MuPLM` (the model with its logits multiplied by 1/m), `logit_change` (how far
one Adam step moves the logits at a given width: the property muP is built for) and `lr_sweep`
(final loss of short runs for every (width, learning rate), in either parametrization).

Leaves out: the 1/head_dim attention scale of muP. The course's attention divides by sqrt(head_dim),
but our model families keep head_dim fixed and add heads as they widen, so that factor does not
change with width and nothing needs to change. Also left out: depth-wise muP, and SGD's rules.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lmcourse.nn import TransformerLM, cross_entropy
from lmcourse.scaling.experiments import model_shape
from lmcourse.train import AdamW, TrainConfig, estimate_loss, train

__all__ = ["hidden_matrices", "apply_mup_init", "mup_param_groups", "MuPLM", "logit_change", "lr_sweep",
           "PARAMETRIZATIONS"]

PARAMETRIZATIONS = ("sp", "mup")


def _check_model(fn: str, model) -> TransformerLM:
    lm = model.lm if isinstance(model, MuPLM) else model
    if not isinstance(lm, TransformerLM):
        raise TypeError(f"{fn}: model must be a TransformerLM or MuPLM, got {type(model).__name__}")
    return lm


def _width_multiplier(fn: str, lm: TransformerLM, base_width) -> float:
    if isinstance(base_width, bool) or not isinstance(base_width, int) or base_width < 1:
        raise ValueError(f"{fn}: base_width={base_width!r}; expected a positive int")
    return lm.config.d_model / base_width


def hidden_matrices(model) -> list[tuple[str, nn.Parameter]]:
    """The matrices inside the blocks (attention projections, FFN weights): both dimensions grow with width."""
    lm = _check_model("hidden_matrices", model)
    return [(name, p) for name, p in lm.named_parameters() if name.startswith("layers.") and p.ndim == 2]


@torch.no_grad()
def apply_mup_init(model, base_width: int):
    """Re-initialise in place as the table says (hidden: N(0, 1/fan_in); embeddings: N(0, 1); readout: 0)."""
    lm = _check_model("apply_mup_init", model)
    _width_multiplier("apply_mup_init", lm, base_width)
    for _, weight in hidden_matrices(lm):
        std = 1 / math.sqrt(weight.shape[1])  # Linear weights are (d_out, d_in): fan_in is dim 1
        nn.init.trunc_normal_(weight, std=std, a=-3 * std, b=3 * std)
    nn.init.trunc_normal_(lm.token_embeddings.weight, std=1.0, a=-3.0, b=3.0)
    if not lm.config.tie_embeddings:  # a zero readout: the first logits are 0, a uniform guess at any width
        nn.init.zeros_(lm.lm_head.weight)
    return model


def mup_param_groups(model, base_width: int, weight_decay: float = 0.0) -> list[dict]:
    """AdamW parameter groups: hidden matrices with lr_scale = base_width / width, everything else 1.

    `lmcourse.train.train` multiplies its scheduled learning rate by each group's "lr_scale", so one
    schedule drives both groups and their ratio stays fixed. AdamW decays by lr * wd per step; the
    hidden group's wd is multiplied by m so that this product does not change with width, as the muP
    library's MuAdamW does (what weight decay should do under muP is still debated).
    """
    lm = _check_model("mup_param_groups", model)
    m = _width_multiplier("mup_param_groups", lm, base_width)
    hidden = {id(p) for _, p in hidden_matrices(lm)}
    params = list(model.parameters())
    return [
        {"params": [p for p in params if id(p) in hidden], "lr_scale": 1 / m, "weight_decay": weight_decay * m},
        {"params": [p for p in params if id(p) not in hidden], "lr_scale": 1.0, "weight_decay": weight_decay},
    ]


class MuPLM(nn.Module):
    """A TransformerLM whose logits are multiplied by base_width / width (muP's readout multiplier).

    With Adam the readout's update is about lr per entry, so its change to a logit sums d_model
    such terms; the 1/m keeps that change the same at every width. `config` is the wrapped model's,
    so the training loop and the accounting functions see the same model.
    """

    def __init__(self, lm: TransformerLM, base_width: int):
        super().__init__()
        _check_model("MuPLM", lm)
        self.output_multiplier = 1 / _width_multiplier("MuPLM", lm, base_width)
        self.lm, self.config = lm, lm.config

    def forward(self, token_ids: torch.Tensor, token_positions: torch.Tensor | None = None) -> torch.Tensor:
        return self.lm(token_ids, token_positions) * self.output_multiplier


def _build(fn: str, parametrization: str, width: int, num_layers: int, vocab_size: int, context_length: int,
           base_width: int, seed: int) -> tuple[nn.Module, list[dict]]:
    """A seeded model of `width` and its AdamW parameter groups, in either parametrization.

    "sp": the default initialisation and one group (lr_scale 1). "mup": `apply_mup_init`, `MuPLM` and
    `mup_param_groups` relative to `base_width`.
    """
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(f"{fn}: parametrization={parametrization!r}; expected one of {PARAMETRIZATIONS}")
    torch.manual_seed(seed)
    model = TransformerLM.from_config(model_shape(width, num_layers, vocab_size, context_length))
    if parametrization == "sp":
        return model, [{"params": list(model.parameters()), "lr_scale": 1.0}]
    model = MuPLM(apply_mup_init(model, base_width), base_width)
    return model, mup_param_groups(model, base_width)


def logit_change(width: int, parametrization: str, inputs: torch.Tensor, targets: torch.Tensor, *, lr: float = 1e-2,
                 base_width: int = 32, num_layers: int = 1, seed: int = 0) -> float:
    """RMS change of the logits on `inputs` after one Adam step (no weight decay) on (inputs, targets).

    Adam's first step moves every entry by +-lr (times the group's lr_scale), so this isolates how
    the width turns a fixed learning rate into a change of the outputs: about lr * width under SP,
    about the same at every width under muP.
    """
    if not lr > 0:
        raise ValueError(f"logit_change: lr={lr!r}; expected a number > 0")
    vocab_size = int(max(inputs.max(), targets.max())) + 1
    model, groups = _build("logit_change", parametrization, width, num_layers, vocab_size, inputs.shape[-1],
                           base_width, seed)
    for group in groups:
        group["lr"] = lr * group["lr_scale"]
    optimizer = AdamW(groups, lr=lr, weight_decay=0.0)
    with torch.no_grad():
        before = model(inputs)
    cross_entropy(model(inputs), targets).backward()
    optimizer.step()
    with torch.no_grad():
        return (model(inputs) - before).pow(2).mean().sqrt().item()


def lr_sweep(train_tokens: np.ndarray, val_tokens: np.ndarray, widths, lrs, parametrization: str, *,
             base_width: int = 32, num_layers: int = 2, steps: int = 100, batch_size: int = 8,
             context_length: int = 32, eval_batches: int = 4, seed: int = 0) -> np.ndarray:
    """Final validation loss of a `steps`-step run for every (width, learning rate): shape (widths, lrs).

    "sp": the default initialisation, one learning rate for every parameter. "mup": `apply_mup_init`,
    `MuPLM` and `mup_param_groups` relative to `base_width`. Same seed, batches and schedule (10%
    warmup, cosine to lr/10, `lmcourse.train.train`) everywhere; a run that diverges scores inf.
    """
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(f"lr_sweep: parametrization={parametrization!r}; expected one of {PARAMETRIZATIONS}")
    widths, lrs = list(widths), [float(lr) for lr in lrs]
    if not widths or not lrs or any(not lr > 0 for lr in lrs):
        raise ValueError(f"lr_sweep: widths={widths!r}, lrs={lrs!r}; expected non-empty lists, learning rates > 0")
    vocab_size = int(max(train_tokens.max(), val_tokens.max())) + 1
    losses = np.empty((len(widths), len(lrs)))
    for i, width in enumerate(widths):
        for j, lr in enumerate(lrs):
            model, groups = _build("lr_sweep", parametrization, width, num_layers, vocab_size, context_length,
                                   base_width, seed)
            cfg = TrainConfig(batch_size=batch_size, max_iters=steps, max_lr=lr, min_lr=lr / 10,
                              warmup_iters=max(1, steps // 10), weight_decay=0.0, eval_iters=0,
                              log_interval=steps, device="cpu", seed=seed, peak_flops=1.0)
            train(model, train_tokens, None, cfg, optimizer=cfg.build_optimizer(groups))
            loss = estimate_loss(model, val_tokens, batch_size, context_length, eval_batches,
                                 np.random.default_rng(seed + 1))
            losses[i, j] = loss if math.isfinite(loss) else math.inf
    return losses
