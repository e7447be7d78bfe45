"""Row softmax, fused: one pass over HBM per row instead of PyTorch-eager's several (chapter 6).

``softmax_reference`` is the algorithm written in PyTorch, one column tile at a time, so it can be
read next to the kernel: a running maximum ``m`` and a running sum ``l`` of ``exp(x - m)`` are
updated tile by tile (the *online softmax* of Milakov & Gimelshein 2018, the idea FlashAttention
builds on), then a second sweep writes ``exp(x - m) / l``. ``softmax_triton`` does the same with one
Triton program per row; when the row fits in one tile (the common case) the second sweep re-reads
the row from cache, so HBM sees one read and one write per element.
Forward only: the backward of a softmax is not fused here (the fused cross-entropy covers the case
that matters for training). Softmax is over the last dimension; leading dimensions are flattened.
"""

from __future__ import annotations

import torch

from lmcourse.kernels._triton import check_tensor, falls_back_to, num_warps_for, tl, triton

__all__ = ["softmax_reference", "softmax_triton", "SOFTMAX_DTYPES"]

SOFTMAX_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
MAX_BLOCK = 16384  # columns one program holds at once; longer rows are swept in tiles


def softmax_reference(x: torch.Tensor, block_size: int = 128) -> torch.Tensor:
    """Softmax over the last dimension, computed tile by tile with a running max and sum (fp32)."""
    check_tensor("x", x, dtypes=SOFTMAX_DTYPES)
    if block_size < 1:
        raise ValueError(f"block_size={block_size}; expected a positive integer")
    rows = x.reshape(-1, x.shape[-1]).float()
    m = torch.full((rows.shape[0], 1), -torch.inf, device=x.device)  # running max per row
    l = torch.zeros_like(m)  # running sum of exp(x - m) per row
    for start in range(0, rows.shape[1], block_size):
        tile = rows[:, start:start + block_size]
        m_new = torch.maximum(m, tile.amax(dim=1, keepdim=True))
        # Rescale the old sum to the new maximum before adding this tile's terms.
        l = l * torch.exp(m - m_new) + torch.exp(tile - m_new).sum(dim=1, keepdim=True)
        m = m_new
    return (torch.exp(rows - m) / l).to(x.dtype).reshape(x.shape)


@triton.jit
def _softmax_kernel(x_ptr, y_ptr, n_cols, x_row_stride, y_row_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)  # one program per row
    x_row = x_ptr + row * x_row_stride
    y_row = y_ptr + row * y_row_stride
    m = -float("inf")
    l = 0.0
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < n_cols  # the last tile may stick out past the row
        x = tl.load(x_row + cols, mask=mask, other=-float("inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(x, axis=0))
        l = l * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)
        m = m_new
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_row + cols, mask=mask, other=-float("inf")).to(tl.float32)
        y = tl.exp(x - m) / l
        tl.store(y_row + cols, y.to(y_ptr.dtype.element_ty), mask=mask)


def _softmax_without_triton(x: torch.Tensor, block_size: int | None = None) -> torch.Tensor:
    return softmax_reference(x, block_size or 128)


@falls_back_to(_softmax_without_triton)
def softmax_triton(x: torch.Tensor, block_size: int | None = None) -> torch.Tensor:
    """Softmax over the last dimension with the Triton kernel (one program per row)."""
    check_tensor("x", x, dtypes=SOFTMAX_DTYPES, device="triton")
    n_cols = x.shape[-1]
    if block_size is None:
        block_size = min(triton.next_power_of_2(n_cols), MAX_BLOCK)
    elif block_size < 1 or block_size & (block_size - 1):
        raise ValueError(f"block_size={block_size}; expected a power of two (Triton tiles are)")
    rows = x.reshape(-1, n_cols).contiguous()
    out = torch.empty_like(rows)
    _softmax_kernel[(rows.shape[0],)](rows, out, n_cols, rows.stride(0), out.stride(0), BLOCK=block_size,
                                      num_warps=num_warps_for(block_size))
    return out.reshape(x.shape)
