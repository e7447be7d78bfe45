"""Fused cross-entropy: logits to mean loss without materialising the softmax, forward and backward.

The loss of a row is logsumexp(l) - l[target]. Both versions sweep the vocabulary in tiles keeping
a running maximum and a running sum of exponentials (the online softmax, as in ``softmax.py``), so
they store one float per row (the logsumexp) instead of the (N, vocab_size) probabilities. The
backward recomputes softmax(l) - onehot(target) tile by tile from the saved logsumexp and writes
the gradient of the logits directly. ``CrossEntropyPyTorch`` is that algorithm in PyTorch ops;
``CrossEntropyTriton`` is one Triton program per row in each direction. The arithmetic runs in
fp32 whatever the logits' dtype (a sum of 50k exponentials needs more than bf16's 8 bits).
Mean reduction only; no ignore_index, label smoothing or z-loss (``lmcourse.nn.cross_entropy`` has
the z-loss, and the course trains on packed sequences without padding).
"""

from __future__ import annotations

import torch

from lmcourse.kernels._triton import check_tensor, falls_back_to, num_warps_for, tl, triton

__all__ = ["CrossEntropyPyTorch", "CrossEntropyTriton", "cross_entropy_triton", "CROSS_ENTROPY_DTYPES"]

CROSS_ENTROPY_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
INTEGER_DTYPES = (torch.int64, torch.int32)


def _check(logits, targets, triton_device: bool):
    check_tensor("logits", logits, dtypes=CROSS_ENTROPY_DTYPES, ndim=2, device="triton" if triton_device else None)
    check_tensor("targets", targets, dtypes=INTEGER_DTYPES, ndim=1, device=logits.device)
    if targets.shape[0] != logits.shape[0]:
        raise ValueError(f"targets has {targets.shape[0]} rows; expected {logits.shape[0]} (one per row of logits)")
    low, high = int(targets.min()), int(targets.max())
    if low < 0 or high >= logits.shape[1]:
        raise ValueError(f"targets range over [{low}, {high}]; expected ids in [0, {logits.shape[1]})")


class CrossEntropyPyTorch(torch.autograd.Function):
    """Mean cross-entropy of logits (N, vocab_size) and targets (N,), tiled over the vocabulary."""

    block_size = 1024  # vocabulary entries per tile

    @staticmethod
    def forward(ctx, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        _check(logits, targets, triton_device=False)
        n_rows, block = logits.shape[0], CrossEntropyPyTorch.block_size
        m = torch.full((n_rows,), -torch.inf, device=logits.device)
        l = torch.zeros(n_rows, device=logits.device)
        for start in range(0, logits.shape[1], block):
            tile = logits[:, start:start + block].float()
            m_new = torch.maximum(m, tile.amax(dim=1))
            l = l * torch.exp(m - m_new) + torch.exp(tile - m_new[:, None]).sum(dim=1)
            m = m_new
        lse = m + torch.log(l)  # (N,): all that backward needs besides the inputs
        target_logit = logits.gather(1, targets[:, None].long()).squeeze(1).float()
        ctx.save_for_backward(logits, targets, lse)
        return (lse - target_logit).mean()

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor):
        logits, targets, lse = ctx.saved_tensors
        n_rows, block = logits.shape[0], CrossEntropyPyTorch.block_size
        grad = torch.empty_like(logits)
        scale = grad_loss.float() / n_rows  # d(mean)/d(row loss)
        for start in range(0, logits.shape[1], block):
            tile = logits[:, start:start + block].float()
            probs = torch.exp(tile - lse[:, None])
            hit = targets[:, None].long() == torch.arange(start, start + tile.shape[1], device=logits.device)
            grad[:, start:start + block] = ((probs - hit.float()) * scale).to(logits.dtype)
        return grad, None


@triton.jit
def _cross_entropy_fwd_kernel(logits_ptr, targets_ptr, loss_ptr, lse_ptr, vocab_size, row_stride,
                              BLOCK: tl.constexpr):
    row = tl.program_id(0)
    row_ptr = logits_ptr + row.to(tl.int64) * row_stride  # N x vocab can exceed 2^31 elements
    m = -float("inf")
    l = 0.0
    for start in range(0, vocab_size, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(row_ptr + cols, mask=cols < vocab_size, other=-float("inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(x, axis=0))
        l = l * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)
        m = m_new
    lse = m + tl.log(l)
    target = tl.load(targets_ptr + row)
    target_logit = tl.load(row_ptr + target).to(tl.float32)
    tl.store(lse_ptr + row, lse)
    tl.store(loss_ptr + row, lse - target_logit)


@triton.jit
def _cross_entropy_bwd_kernel(logits_ptr, targets_ptr, lse_ptr, grad_ptr, grad_loss_ptr, n_rows, vocab_size,
                              row_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offset = row.to(tl.int64) * row_stride
    scale = tl.load(grad_loss_ptr) / n_rows  # d(mean)/d(row loss), read on the device: no host sync
    lse = tl.load(lse_ptr + row)
    target = tl.load(targets_ptr + row)
    for start in range(0, vocab_size, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < vocab_size
        x = tl.load(logits_ptr + offset + cols, mask=mask, other=0.0).to(tl.float32)
        grad = tl.exp(x - lse) - tl.where(cols == target, 1.0, 0.0)  # softmax - onehot
        tl.store(grad_ptr + offset + cols, (grad * scale).to(grad_ptr.dtype.element_ty), mask=mask)


@falls_back_to(CrossEntropyPyTorch)
class CrossEntropyTriton(torch.autograd.Function):
    """Mean cross-entropy with Triton kernels for the forward (loss, logsumexp) and the backward."""

    block_size = 4096  # vocabulary entries per tile (fewer on a short vocabulary)

    @staticmethod
    def forward(ctx, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        _check(logits, targets, triton_device=True)
        logits, targets = logits.contiguous(), targets.contiguous()  # the kernels index both with stride 1
        n_rows, vocab_size = logits.shape
        block = min(CrossEntropyTriton.block_size, triton.next_power_of_2(vocab_size))
        losses = torch.empty(n_rows, device=logits.device, dtype=torch.float32)
        lse = torch.empty_like(losses)
        _cross_entropy_fwd_kernel[(n_rows,)](logits, targets, losses, lse, vocab_size, logits.stride(0), BLOCK=block,
                                             num_warps=num_warps_for(block))
        ctx.save_for_backward(logits, targets, lse)
        ctx.block = block
        return losses.mean()

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor):
        logits, targets, lse = ctx.saved_tensors
        n_rows, vocab_size = logits.shape
        grad = torch.empty_like(logits)
        grad_loss = grad_loss.float().reshape(1)
        _cross_entropy_bwd_kernel[(n_rows,)](logits, targets, lse, grad, grad_loss, n_rows, vocab_size,
                                             logits.stride(0), BLOCK=ctx.block, num_warps=num_warps_for(ctx.block))
        return grad, None


def cross_entropy_triton(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over rows; logits (..., vocab_size), targets (...) integer ids."""
    check_tensor("logits", logits, dtypes=CROSS_ENTROPY_DTYPES, ndim=range(2, 9))
    if logits.shape[:-1] != getattr(targets, "shape", None):
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(getattr(targets, 'shape', ()))}; "
                         "expected logits (..., vocab_size) and targets (...)")
    return CrossEntropyTriton.apply(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
