import torch


def _forgot_input_gradient(num_tokens, d_model, d_ff):  # backward counted for the weights only
    return 4 * num_tokens * 3 * d_model * d_ff


class _EpsInsideSqrt(torch.optim.Optimizer):  # sqrt(v + eps) instead of sqrt(v) + eps
    def __init__(self, params, lr, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                v = self.state[p].setdefault("square_avg", torch.zeros_like(p))
                v.mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                p.addcdiv_(p.grad, (v + group["eps"]).sqrt(), value=-group["lr"])


WRONG = {
    # grid.T[2] read as grid[2]: a contiguous row starting at 12
    "views": {"grid[1:, ::2]": ((6, 2), 6, False), "grid.T[2]": ((1,), 12, True)},
    "swiglu_training_flops": _forgot_input_gradient,
    "rmsprop": _EpsInsideSqrt,
    "max_params": 8 * 80e9 / 12,  # forgot the fp32 master weights: does not fit
    "max_batches": (36, 125),  # off by one: the first batch that does NOT fit
    "checkpointing": "a",
}

CONTEXT = {
    "views": lambda: {"grid": torch.arange(24).reshape(4, 6)},
}
