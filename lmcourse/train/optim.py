"""Optimizers written from scratch, to show what each one keeps in its state, and gradient clipping.

- `SGD(params, lr, momentum=0.0)`: state is one momentum buffer per parameter (none without momentum).
- `AdaGrad(params, lr, eps=1e-10)`: state is the running sum of squared gradients (Duchi et al., 2011).
- `AdamW(params, lr, betas, eps, weight_decay)`: state is the first and second moment estimates m, v
  and the step count t (Kingma & Ba, 2015), with weight decay decoupled from the gradient (Loshchilov
  & Hutter, 2019). m and v in fp32 are 8 of the 16 bytes per parameter of mixed-precision training.
- `grad_norm(params)` and `clip_grad_norm(params, max_l2_norm)`: the global L2 norm over all gradients.

Each optimizer performs the same floating-point operations in the same order as its `torch.optim`
counterpart (`foreach=False`), so the tests can compare them over many steps.
Leaves out: Nesterov momentum, dampening, AMSGrad, sparse and complex gradients, fused/foreach
multi-tensor kernels, learning-rate decay inside AdaGrad (schedules live in `schedule.py`).
"""

from __future__ import annotations

import math

import torch

__all__ = ["SGD", "AdaGrad", "AdamW", "grad_norm", "clip_grad_norm"]


def _check(optimizer: str, name: str, value, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"{optimizer}: {name}={value!r}; expected {expected}")


def _check_lr(optimizer: str, lr) -> None:
    _check(optimizer, "lr", lr, isinstance(lr, (int, float)) and lr >= 0, "a number >= 0")


class SGD(torch.optim.Optimizer):
    """p <- p - lr * b, where b = g (plain SGD) or b <- momentum * b + g (heavy-ball momentum)."""

    def __init__(self, params, lr: float, momentum: float = 0.0):
        _check_lr("SGD", lr)
        _check("SGD", "momentum", momentum, 0 <= momentum < 1, "a number in [0, 1)")
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else _with_grad(closure)
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                update = p.grad
                if momentum:
                    state = self.state[p]
                    if "momentum_buffer" not in state:  # the first step starts the buffer at g, as torch does
                        state["momentum_buffer"] = p.grad.clone()
                    else:
                        state["momentum_buffer"].mul_(momentum).add_(p.grad)
                    update = state["momentum_buffer"]
                p.add_(update, alpha=-lr)
        return loss


class AdaGrad(torch.optim.Optimizer):
    """p <- p - lr * g / (sqrt(G) + eps), where G is the sum of all squared gradients so far.

    The same as `torch.optim.Adagrad(params, lr, eps=eps)` with its defaults lr_decay=0,
    initial_accumulator_value=0 and weight_decay=0 (eps is added after the square root, as in torch).
    Each coordinate's step shrinks as its gradients accumulate: rare features keep large steps.
    """

    def __init__(self, params, lr: float, eps: float = 1e-10):
        _check_lr("AdaGrad", lr)
        _check("AdaGrad", "eps", eps, eps > 0, "a number > 0")
        super().__init__(params, dict(lr=lr, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else _with_grad(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "sum_sq" not in state:
                    state["sum_sq"] = torch.zeros_like(p)
                state["sum_sq"].addcmul_(p.grad, p.grad)
                p.addcdiv_(p.grad, state["sum_sq"].sqrt().add_(group["eps"]), value=-group["lr"])
        return loss


class AdamW(torch.optim.Optimizer):
    """Adam with decoupled weight decay (the CS336 assignment-1 optimizer).

    Per step t = 1, 2, ..., for every parameter p with gradient g:

        p <- p - lr * weight_decay * p                 (decay the weights, not the gradient)
        m <- beta1 * m + (1 - beta1) * g               (first moment)
        v <- beta2 * v + (1 - beta2) * g^2             (second moment)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)

    This is `torch.optim.AdamW` operation for operation. The CS336 handout's Algorithm 2 writes the
    same update with alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t) and applies the decay after the
    Adam step; that moves eps by the factor sqrt(1 - beta2^t) and the decay by one step's update,
    differences the assignment's tests accept and training never notices.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01):
        _check_lr("AdamW", lr)
        _check("AdamW", "betas", betas,
               isinstance(betas, (tuple, list)) and len(betas) == 2 and all(0 <= b < 1 for b in betas),
               "two numbers in [0, 1)")
        _check("AdamW", "eps", eps, eps > 0, "a number > 0")
        _check("AdamW", "weight_decay", weight_decay, weight_decay >= 0, "a number >= 0")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else _with_grad(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t, m, v = state["step"], state["m"], state["v"]
                p.mul_(1 - lr * weight_decay)
                m.lerp_(g, 1 - beta1)  # = beta1 * m + (1 - beta1) * g in one op, as torch computes it
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                # Bias correction: m and v start at 0, so early on they underestimate the moments.
                denom = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(eps)
                p.addcdiv_(m, denom, value=-lr / (1 - beta1**t))
        return loss


def _with_grad(closure):
    with torch.enable_grad():
        return closure()


def _grads(params) -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        params = [params]
    return [p.grad for p in params if p.grad is not None]


def grad_norm(params) -> torch.Tensor:
    """The L2 norm of all gradients together, as if they were one long vector (a 0-dim tensor)."""
    grads = _grads(params)
    if not grads:
        return torch.tensor(0.0)
    # Norm of the per-tensor norms: the same number as concatenating, without the copy.
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))


def clip_grad_norm(params, max_l2_norm: float, eps: float = 1e-6, *, total_norm: torch.Tensor | None = None
                   ) -> torch.Tensor:
    """If the global gradient norm exceeds `max_l2_norm`, scale every gradient by max_l2_norm / (norm + eps).

    Returns the norm before clipping. Scaling all gradients by one factor keeps the update's direction,
    which clipping each tensor (or each value) separately would not. The decision is made on the
    device (`torch.where`), so clipping never waits for the GPU. `total_norm` replaces these gradients'
    own norm when they are one rank's shard of a larger set (sharded data parallelism: the norm that
    counts is over every rank's shard).
    """
    if not isinstance(max_l2_norm, (int, float)) or not max_l2_norm > 0:
        raise ValueError(f"clip_grad_norm: max_l2_norm={max_l2_norm!r}; expected a number > 0")
    params = list(params) if not isinstance(params, torch.Tensor) else [params]
    total = grad_norm(params) if total_norm is None else total_norm
    grads = _grads(params)
    if grads:
        scale = torch.where(total > max_l2_norm, max_l2_norm / (total + eps), 1.0)
        for g in grads:
            g.mul_(scale.to(g.device, g.dtype))
    return total
