"""Chapter 6 (kernels and Triton): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import Mismatch, expect, function_exercise

# The manual GeLU, 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))), as PyTorch runs it:
# (reads, writes) per operation, one full pass over the tensor each.


def unfused_bytes(numel: int, element_size: int) -> int:
    # 0.5*x (1 in), 0.044715*x (1), *x (2), *x (2), x + ... (2), sqrt(2/pi)*(...) (1), tanh (1),
    # 1 + ... (1), (0.5 x) * (...) (2): 13 reads and 9 writes.
    return (13 + 9) * numel * element_size


def merge(m1: float, l1: float, m2: float, l2: float) -> tuple[float, float]:
    # rescale each partial sum from its own maximum to the common one
    m = max(m1, m2)
    return m, l1 * math.exp(m1 - m) + l2 * math.exp(m2 - m)


def _check_merge(answer) -> None:
    rng = torch.Generator().manual_seed(6)
    for split in (1, 20, 49):
        values = torch.randn(50, generator=rng, dtype=torch.float64) * 5
        parts = [(float(t.max()), float(torch.exp(t - t.max()).sum())) for t in (values[:split], values[split:])]
        got = answer(*parts[0], *parts[1])
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise Mismatch(f"my_merge(...) should return a pair (m, l); got {got!r}")
        # Numbers or one-element tensors, float32 included: compared as floats, to float32's precision.
        try:
            m, l = float(got[0]), float(got[1])
        except (TypeError, ValueError, RuntimeError):
            raise Mismatch(f"my_merge(...) should return a pair of numbers (m, l); got {got!r}") from None
        if not l > 0:
            raise Mismatch(f"my_merge(...): expected l > 0 (a sum of exponentials), got {l!r} (split at {split})")
        want = float(torch.logsumexp(values, 0))
        expect(m, float(values.max()), f"m of the merged summary (split at {split})", rel_tol=1e-6, abs_tol=1e-6)
        expect(m + math.log(l), want, f"m + log(l) of the merged summary (split at {split})",
               rel_tol=1e-6, abs_tol=1e-6)


def working_set(programs: int, tiles_n: int, group_m: int) -> int:
    band = group_m * tiles_n  # programs in one band: group_m tile rows, every tile column
    if programs <= band:  # down the band's rows, column after column
        return min(programs, group_m) + math.ceil(programs / group_m)
    bands, rest = divmod(programs, band)  # whole bands have read every column already
    return bands * group_m + min(rest, group_m) + tiles_n


def _check_working_set(answer) -> None:
    from lmcourse.kernels import tile_order

    for programs, tiles_n, group_m in [(16, 8, 1), (16, 8, 4), (64, 64, 8), (64, 64, 1), (10, 8, 3),
                                       (64, 64, 64), (100, 8, 2)]:
        first = tile_order(256, tiles_n, group_m)[:programs]  # the kernel's own mapping, many tile rows
        want = len({i for i, _ in first}) + len({j for _, j in first})
        expect(answer(programs, tiles_n, group_m), want, f"my_working_set({programs}, {tiles_n}, {group_m})")


def rmsnorm_grad_x(x: torch.Tensor, weight: torch.Tensor, grad_out: torch.Tensor, eps: float) -> torch.Tensor:
    r = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)  # 1 / rms, one number per row
    gw = grad_out * weight
    return r * gw - x * r.pow(3) * (gw * x).mean(-1, keepdim=True)


def _check_rmsnorm_grad_x(answer) -> None:
    import torch.nn.functional as F

    rng = torch.Generator().manual_seed(6)
    for shape in [(48,), (7, 48), (2, 3, 16)]:
        x = torch.randn(shape, generator=rng, dtype=torch.float64, requires_grad=True)
        w = torch.rand(shape[-1], generator=rng, dtype=torch.float64) + 0.5
        g = torch.randn(shape, generator=rng, dtype=torch.float64)
        (want,) = torch.autograd.grad(F.rms_norm(x, (shape[-1],), w, eps=1e-6), x, g)
        expect(answer(x.detach(), w, g, 1e-6), want, f"my_rmsnorm_grad_x on a {tuple(shape)} input", rel_tol=1e-7)


EXERCISES = [
    function_exercise("unfused_bytes", "bytes of an unfused chain", unfused_bytes,
                      [(2**16, 4), (1000, 2), (1, 8)]),
    function_exercise("merge", "merging two partial softmaxes", merge, check=_check_merge),
    function_exercise("working_set", "the L2 working set", working_set, check=_check_working_set),
    function_exercise("rmsnorm_grad_x", "the RMSNorm backward", rmsnorm_grad_x, check=_check_rmsnorm_grad_x),
]
