"""Chapter 6 (kernels and Triton): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import Mismatch, expect, function_exercise
from lmcourse.exercises.study import choice, open_question

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

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("GeLU written as one line of PyTorch arithmetic launches about nine operations, each reading its "
           "inputs from memory and writing its output. Against one fused kernel that reads x once and writes "
           "y once, about how many times the bytes does it move?",
           ["the same", "about twice", "about ten times", "about a hundred times"],
           "c", "The chapter counts the passes from the profiler: around twenty against two."),
    choice("Why does timing a GPU operation need `torch.cuda.synchronize()` before reading the clock?",
           ["it makes the kernel run faster",
            "the call returns as soon as the kernel is queued, so without it the timer measures the launch",
            "it clears the GPU's caches between runs",
            "it is needed only for multi-GPU code"],
           "b", "CUDA calls are asynchronous; the same goes for the first call, which also pays for "
                "compilation, hence a warm-up."),
    open_question("A row of attention scores arrives in two halves. What must you keep from the first half to "
                  "finish its softmax exactly, without looking at the first half again?",
                  "Its maximum and the sum of exp(score - maximum) (for attention, also the weighted sum of "
                  "values). If the second half has a larger maximum, rescale the kept sums by "
                  "exp(old max - new max) before adding."),
]

QUIZ = [
    choice("In Triton, what does one program (one instance of a kernel in the grid) usually handle?",
           ["one element, like a CUDA thread", "a block of elements, such as a row or a tile",
            "the whole tensor", "one warp of 32 threads, chosen by the programmer"],
           "b", "Triton programs blocks; the compiler maps each block onto threads and warps."),
    choice("Why do Triton loads and stores take `mask=offsets < n`?",
           ["to skip zeros and save work", "because the last block can reach past the end of the tensor",
            "to make the loads coalesced", "to choose between fp16 and fp32"],
           "b", "Without the mask the last program reads and writes memory that is not the tensor's."),
    choice("What does FlashAttention-2 keep for the backward pass, besides Q, K, V and the output O?",
           ["the n x n attention probabilities", "the n x n scores in bf16",
            "one logsumexp per query", "nothing; it recomputes the forward pass from scratch"],
           "c", "The backward recomputes the probabilities tile by tile from Q, K and that logsumexp."),
    choice("A causal FlashAttention forward with 64 query tiles and 64 key tiles of the same size visits "
           "about what share of the 4,096 tile pairs?",
           ["all of them", "about half", "about a quarter", "about one in 64"],
           "b", "Query tile i needs key tiles 0 to i: 64 x 65 / 2 = 2,080 of 4,096 pairs."),
    choice("In the worked problem, the second tile raises the running maximum from 3 to 6. What happens to "
           "the running sum of the first tile?",
           ["it is reset to zero", "it is multiplied by e^(3 - 6)", "it is left as it is",
            "it is divided by the number of tiles"],
           "b", "Every earlier term was exp(s - 3); it must become exp(s - 6), a factor e^(-3)."),
    choice("Fusing the nine operations of a manual GeLU into one kernel makes it several times faster. Would "
           "fusing a bias addition into a large matmul do the same for the matmul?",
           ["yes, by about the same factor", "no: the matmul is compute-bound, so one saved pass over its "
            "output changes little", "no: fusion only works on CPUs", "yes, because it removes a launch"],
           "b", "Fusion saves memory traffic; it pays for memory-bound chains, not for operations already "
                "limited by arithmetic."),
]
