"""RMSNorm forward and backward as fused kernels: ``RMSNormTriton`` and its PyTorch reference.

y = x * r * weight with r = 1 / sqrt(mean(x^2) + eps) per row (Zhang & Sennrich 2019; the same
definition as ``lmcourse.nn.RMSNorm``). Both autograd Functions save only x, the weight and the
per-row r (one float per row, not the normalised activations), and their backward computes

    grad_x      = r * (g * w) - x * r^3 * mean(g * w * x)      (row-wise)
    grad_weight = sum over rows of g * x * r

``RMSNormPyTorch`` writes this with PyTorch ops; ``RMSNormTriton`` runs one program per row in the
forward, and in the backward one program per group of rows, each writing a partial sum of
grad_weight that a final ``sum`` over the few groups reduces (no atomics, deterministic).
A row must fit in one tile (d_model up to ``MAX_D_MODEL``), which covers every model in the course.
"""

from __future__ import annotations

import torch

from lmcourse.kernels._triton import check_tensor, falls_back_to, num_warps_for, tl, triton

__all__ = ["RMSNormPyTorch", "RMSNormTriton", "rms_norm_triton", "RMSNORM_DTYPES", "MAX_D_MODEL"]

RMSNORM_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
MAX_D_MODEL = 16384


def _check(x, weight, eps, triton_device: bool):
    device = "triton" if triton_device else None
    check_tensor("x", x, dtypes=RMSNORM_DTYPES, device=device)
    check_tensor("weight", weight, dtypes=RMSNORM_DTYPES, ndim=1, device=x.device)
    if weight.shape[0] != x.shape[-1]:
        raise ValueError(f"weight has shape {tuple(weight.shape)}; expected ({x.shape[-1]},) = x.shape[-1:]")
    if x.shape[-1] > MAX_D_MODEL:
        raise ValueError(f"x.shape[-1]={x.shape[-1]}; this kernel holds a row in one tile, at most {MAX_D_MODEL}")
    if not eps > 0:
        raise ValueError(f"eps={eps}; expected a positive number")


class RMSNormPyTorch(torch.autograd.Function):
    """RMSNorm with a hand-written backward in PyTorch ops: the reference the kernels must match."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
        _check(x, weight, eps, triton_device=False)
        x32 = x.float()
        r = torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)  # (..., 1)
        ctx.save_for_backward(x, weight, r)
        return (x32 * r * weight.float()).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x, weight, r = ctx.saved_tensors
        x32, g, w = x.float(), grad_out.float(), weight.float()
        gw = g * w
        grad_x = r * gw - x32 * r.pow(3) * (gw * x32).mean(-1, keepdim=True)
        grad_weight = (g * x32 * r).reshape(-1, x.shape[-1]).sum(0)
        return grad_x.to(x.dtype), grad_weight.to(weight.dtype), None


@triton.jit
def _rmsnorm_fwd_kernel(x_ptr, w_ptr, y_ptr, r_ptr, d_model, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < d_model
    x = tl.load(x_ptr + row * d_model + cols, mask=mask, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    r = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / d_model + eps)
    tl.store(r_ptr + row, r)
    tl.store(y_ptr + row * d_model + cols, (x * r * w).to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rmsnorm_bwd_kernel(x_ptr, w_ptr, r_ptr, g_ptr, dx_ptr, dw_partial_ptr, n_rows, d_model,
                        ROWS_PER_PROGRAM: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < d_model
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    dw = tl.zeros((BLOCK,), dtype=tl.float32)  # this program's share of grad_weight
    first_row = pid * ROWS_PER_PROGRAM
    for row in range(first_row, tl.minimum(first_row + ROWS_PER_PROGRAM, n_rows)):  # the last group may be short
        x = tl.load(x_ptr + row * d_model + cols, mask=mask, other=0.0).to(tl.float32)
        g = tl.load(g_ptr + row * d_model + cols, mask=mask, other=0.0).to(tl.float32)
        r = tl.load(r_ptr + row)
        gw = g * w
        dx = r * gw - x * (r * r * r) * (tl.sum(gw * x, axis=0) / d_model)
        tl.store(dx_ptr + row * d_model + cols, dx.to(dx_ptr.dtype.element_ty), mask=mask)
        dw += g * x * r
    tl.store(dw_partial_ptr + pid * d_model + cols, dw, mask=mask)


@falls_back_to(RMSNormPyTorch)
class RMSNormTriton(torch.autograd.Function):
    """RMSNorm whose forward and backward (grad of x and of the weight) are Triton kernels."""

    rows_per_program = 16  # backward: rows whose grad_weight one program sums before writing

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
        _check(x, weight, eps, triton_device=True)
        d_model = x.shape[-1]
        rows = x.reshape(-1, d_model).contiguous()
        y = torch.empty_like(rows)
        r = torch.empty(rows.shape[0], device=x.device, dtype=torch.float32)
        block = triton.next_power_of_2(d_model)
        _rmsnorm_fwd_kernel[(rows.shape[0],)](rows, weight.contiguous(), y, r, d_model, eps, BLOCK=block,
                                              num_warps=num_warps_for(block))
        ctx.save_for_backward(rows, weight, r)
        ctx.x_shape = x.shape
        return y.view(x.shape)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        rows, weight, r = ctx.saved_tensors
        n_rows, d_model = rows.shape
        g = grad_out.reshape(n_rows, d_model).contiguous()
        dx = torch.empty_like(rows)
        per_program, block = RMSNormTriton.rows_per_program, triton.next_power_of_2(d_model)
        n_programs = triton.cdiv(n_rows, per_program)
        dw_partial = torch.empty(n_programs, d_model, device=rows.device, dtype=torch.float32)
        _rmsnorm_bwd_kernel[(n_programs,)](rows, weight.contiguous(), r, g, dx, dw_partial, n_rows, d_model,
                                           ROWS_PER_PROGRAM=per_program, BLOCK=block, num_warps=num_warps_for(block))
        return dx.view(ctx.x_shape), dw_partial.sum(0).to(weight.dtype), None


def rms_norm_triton(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """RMSNorm over the last dimension with the Triton kernels (differentiable in x and weight)."""
    return RMSNormTriton.apply(x, weight, eps)
