"""Tiled matrix multiplication: the PyTorch tiling, the tile order that reuses L2, the Triton kernel.

C = A @ B with A (M, K) and B (K, N) is computed in (BLOCK_M, BLOCK_N) tiles of C, each the sum over
K of (BLOCK_M, BLOCK_K) x (BLOCK_K, BLOCK_N) products: a tile of A is reused BLOCK_N times and a tile
of B BLOCK_M times from fast memory, which is what raises a matmul's arithmetic intensity.
``matmul_reference`` spells that loop out in PyTorch. ``tile_order`` is the *grouped ordering* of
the Triton tutorial: programs launched together work on a GROUP_M-tall band of C, so they share
rows of A and columns of B while those are still in L2 (row-major order would stream all of B
for every row of tiles). ``matmul_triton`` is the kernel, accumulating in fp32 (on a GPU, fp32
inputs go through TF32 tensor cores, tl.dot's default, unlike torch.matmul's fp32 default).
Left out: autotuning, split-K, and the warp-specialised pipelines of vendor libraries; the
chapter compares against ``torch.matmul`` and says how far we are.
"""

from __future__ import annotations

import torch

from lmcourse.kernels._triton import INTERPRETED, check_tensor, falls_back_to, tl, triton

__all__ = ["matmul_reference", "matmul_triton", "tile_order", "MATMUL_DTYPES"]

MATMUL_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def _check(a, b, triton_device: bool):
    check_tensor("a", a, dtypes=MATMUL_DTYPES, ndim=2, device="triton" if triton_device else None)
    check_tensor("b", b, dtypes=(a.dtype,), ndim=2, device=a.device)
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"a is {tuple(a.shape)} and b is {tuple(b.shape)}; expected a (M, K) and b (K, N)")


def matmul_reference(a: torch.Tensor, b: torch.Tensor, block: int = 32) -> torch.Tensor:
    """A @ B tile by tile: for each (i, j) tile of C, accumulate A[i, k] @ B[k, j] over k (fp32)."""
    _check(a, b, triton_device=False)
    if block < 1:
        raise ValueError(f"block={block}; expected a positive integer")
    (m, k), n = a.shape, b.shape[1]
    c = torch.empty(m, n, dtype=a.dtype, device=a.device)
    for i in range(0, m, block):
        for j in range(0, n, block):
            acc = torch.zeros(min(block, m - i), min(block, n - j), device=a.device)
            for p in range(0, k, block):
                acc += a[i:i + block, p:p + block].float() @ b[p:p + block, j:j + block].float()
            c[i:i + block, j:j + block] = acc.to(a.dtype)
    return c


def tile_order(num_tiles_m: int, num_tiles_n: int, group_m: int) -> list[tuple[int, int]]:
    """The (tile row, tile column) that program 0, 1, 2, ... computes under grouped ordering.

    Programs walk down a band of ``group_m`` tile rows column by column, then move to the next band
    (the last band may be shorter). ``group_m=1`` is plain row-major order.
    """
    for name, value in (("num_tiles_m", num_tiles_m), ("num_tiles_n", num_tiles_n), ("group_m", group_m)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r}; expected a positive integer")
    return [_grouped_tile(pid, num_tiles_m, num_tiles_n, group_m) for pid in range(num_tiles_m * num_tiles_n)]


def _grouped_tile(pid: int, num_tiles_m: int, num_tiles_n: int, group_m: int) -> tuple[int, int]:
    # The same arithmetic as the kernel below, in Python so that tests and the chapter can see it.
    tiles_per_group = group_m * num_tiles_n
    first_m = (pid // tiles_per_group) * group_m
    group_size = min(num_tiles_m - first_m, group_m)
    return first_m + (pid % tiles_per_group) % group_size, (pid % tiles_per_group) // group_size


@triton.jit
def _matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
                   UPCAST: tl.constexpr):
    pid = tl.program_id(0)
    num_tiles_m = tl.cdiv(M, BLOCK_M)
    num_tiles_n = tl.cdiv(N, BLOCK_N)
    tiles_per_group = GROUP_M * num_tiles_n
    first_m = (pid // tiles_per_group) * GROUP_M
    group_size = tl.minimum(num_tiles_m - first_m, GROUP_M)
    tile_m = first_m + (pid % tiles_per_group) % group_size
    tile_n = (pid % tiles_per_group) // group_size

    rows = tile_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tile_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ks = tl.arange(0, BLOCK_K)
    a_tile = a_ptr + rows[:, None] * stride_am + ks[None, :] * stride_ak  # (BLOCK_M, BLOCK_K) pointers
    b_tile = b_ptr + ks[:, None] * stride_bk + cols[None, :] * stride_bn  # (BLOCK_K, BLOCK_N) pointers
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        # Out-of-range rows, columns and the ragged end of K load as zeros, which add nothing.
        a = tl.load(a_tile, mask=(rows[:, None] < M) & (ks[None, :] + k0 < K), other=0.0)
        b = tl.load(b_tile, mask=(ks[:, None] + k0 < K) & (cols[None, :] < N), other=0.0)
        if UPCAST:  # the interpreter stores bf16 as raw uint16 and its tl.dot would multiply those
            a, b = a.to(tl.float32), b.to(tl.float32)
        acc += tl.dot(a, b)
        a_tile += BLOCK_K * stride_ak
        b_tile += BLOCK_K * stride_bk
    c = c_ptr + rows[:, None] * stride_cm + cols[None, :] * stride_cn
    tl.store(c, acc.to(c_ptr.dtype.element_ty), mask=(rows[:, None] < M) & (cols[None, :] < N))


def _matmul_without_triton(a: torch.Tensor, b: torch.Tensor, **blocks) -> torch.Tensor:
    return matmul_reference(a, b)


@falls_back_to(_matmul_without_triton)
def matmul_triton(a: torch.Tensor, b: torch.Tensor, *, block_m: int = 64, block_n: int = 64, block_k: int = 32,
                  group_m: int = 8, num_warps: int = 4, num_stages: int = 3) -> torch.Tensor:
    """A @ B with the Triton kernel; block sizes are powers of two >= 16 (tl.dot's minimum).

    ``num_warps`` and ``num_stages`` (how many K tiles the compiler prefetches ahead) only matter
    when compiled; large tiles such as 128 x 128 x 64 want 8 warps.
    """
    _check(a, b, triton_device=True)
    for name, value in (("block_m", block_m), ("block_n", block_n), ("block_k", block_k)):
        if value < 16 or value & (value - 1):
            raise ValueError(f"{name}={value}; expected a power of two >= 16")
    if group_m < 1:
        raise ValueError(f"group_m={group_m}; expected a positive integer")
    (m, k), n = a.shape, b.shape[1]
    c = torch.empty(m, n, dtype=a.dtype, device=a.device)
    grid = (triton.cdiv(m, block_m) * triton.cdiv(n, block_n),)
    _matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0),
                         c.stride(1), BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_K=block_k, GROUP_M=group_m,
                         UPCAST=INTERPRETED and a.dtype == torch.bfloat16, num_warps=num_warps, num_stages=num_stages)
    return c
