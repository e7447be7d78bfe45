"""GeLU (tanh approximation) five ways: the lesson in kernel fusion of chapter 6.

``gelu_manual`` writes the formula with PyTorch operations: each of its nine is its own kernel that
reads its inputs from memory and writes its output back, 22 passes over the tensor (13 reads, 9
writes; chapter 6 counts them with the profiler) for a memory-bound function. ``gelu_triton`` fuses the whole formula into one kernel (one read, one
write per element); ``GELU_CUDA_SOURCE`` / ``load_gelu_cuda`` do the same in CUDA C++ through
``torch.utils.cpp_extension.load_inline`` (only where nvcc and a GPU exist). PyTorch's own
``F.gelu(approximate="tanh")`` and ``torch.compile(gelu_manual)`` are the other two ways; the chapter
times all five. ``gelu_variants`` says which of the fused ones this machine can run (and why not the
others), so the chapter shows the timing, not the toolchain checks. Forward only (the backward would
be fused the same way).
"""

from __future__ import annotations

import math
import os
import shutil

import torch

from lmcourse.kernels._triton import AVAILABLE, INTERPRETED, check_tensor, falls_back_to, tl, triton

__all__ = ["gelu_manual", "gelu_triton", "GELU_CUDA_SOURCE", "load_gelu_cuda", "GELU_DTYPES", "gelu_variants"]

GELU_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu_manual(x: torch.Tensor) -> torch.Tensor:
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Hendrycks & Gimpel 2016), op by op."""
    check_tensor("x", x, dtypes=GELU_DTYPES)
    return 0.5 * x * (1 + torch.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


@triton.jit
def _gelu_kernel(x_ptr, y_ptr, numel, BLOCK: tl.constexpr):
    pid = tl.program_id(0)  # program `pid` handles elements [pid * BLOCK, (pid + 1) * BLOCK)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < numel  # the last block may run past the end
    x = tl.load(x_ptr + offsets, mask=mask).to(tl.float32)
    z = 0.7978845608028654 * (x + 0.044715 * x * x * x)  # sqrt(2/pi) (x + 0.044715 x^3)
    # tanh(z) = 1 - 2 / (exp(2z) + 1); tanh(15) is already 1 in fp32, and capping z there keeps
    # exp(2z) finite (an inf would give the right answer, but with an overflow warning on CPU).
    tanh_z = 1.0 - 2.0 / (tl.exp(2.0 * tl.minimum(z, 15.0)) + 1.0)
    y = 0.5 * x * (1.0 + tanh_z)
    tl.store(y_ptr + offsets, y.to(y_ptr.dtype.element_ty), mask=mask)


def _gelu_without_triton(x: torch.Tensor, block_size: int = 1024) -> torch.Tensor:
    return gelu_manual(x)


@falls_back_to(_gelu_without_triton)
def gelu_triton(x: torch.Tensor, block_size: int = 1024) -> torch.Tensor:
    """GeLU (tanh approximation) in one fused Triton kernel over the flattened tensor."""
    check_tensor("x", x, dtypes=GELU_DTYPES, device="triton")
    if block_size < 16 or block_size & (block_size - 1):
        raise ValueError(f"block_size={block_size}; expected a power of two >= 16")
    x_flat = x.contiguous().view(-1)
    y = torch.empty_like(x_flat)
    grid = (triton.cdiv(x_flat.numel(), block_size),)
    _gelu_kernel[grid](x_flat, y, x_flat.numel(), BLOCK=block_size)
    return y.view(x.shape)


GELU_CUDA_SOURCE = r"""
#include <torch/extension.h>

// One thread per element; each reads x once and writes y once: the whole formula is fused.
__global__ void gelu_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t numel) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < numel) {  // the last block may run past the end
        float v = x[i];
        float z = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        y[i] = 0.5f * v * (1.0f + tanhf(z));
    }
}

torch::Tensor gelu(torch::Tensor x) {
    TORCH_CHECK(x.is_cuda(), "x must be a CUDA tensor");
    TORCH_CHECK(x.scalar_type() == torch::kFloat32, "x must be float32");
    x = x.contiguous();
    auto y = torch::empty_like(x);
    int64_t numel = x.numel();
    int threads = 1024;
    int64_t blocks = (numel + threads - 1) / threads;
    gelu_kernel<<<blocks, threads>>>(x.data_ptr<float>(), y.data_ptr<float>(), numel);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return y;
}
"""


def load_gelu_cuda():
    """Compile ``GELU_CUDA_SOURCE`` with nvcc and return its ``gelu`` function (GPU machines only)."""
    if not torch.cuda.is_available() or shutil.which("nvcc") is None:
        raise RuntimeError("load_gelu_cuda needs a CUDA GPU and nvcc on PATH; neither is optional")
    from torch.utils.cpp_extension import load_inline

    module = load_inline(
        name="lmcourse_gelu",
        cpp_sources="torch::Tensor gelu(torch::Tensor x);",
        cuda_sources=GELU_CUDA_SOURCE,
        functions=["gelu"],
        extra_cuda_cflags=["-O3"],
    )
    return module.gelu


def gelu_variants(check_input: torch.Tensor) -> tuple[dict, dict[str, str]]:
    """The fused GeLU implementations this machine can time, and why each of the others is skipped.

    Returns ({name: function}, {name: reason}) over three candidates, each checked against
    F.gelu(approximate="tanh") on `check_input` (on the device the timing uses) before it is offered:
    - "Triton": compiled on a GPU; without Triton, or interpreted on a CPU, it is not worth timing;
    - "torch.compile": needs a C++ compiler (CXX, else g++) or CUDA; LMCOURSE_COMPILE=0 skips it, as
      compiling takes seconds; a toolchain that fails shows up here, not in the middle of a timing;
    - "CUDA (load_inline)": needs a GPU and nvcc.
    """
    if not isinstance(check_input, torch.Tensor) or not check_input.is_floating_point():
        raise TypeError(f"check_input: expected a floating-point Tensor, got {type(check_input).__name__}")
    reference = torch.nn.functional.gelu(check_input, approximate="tanh")
    variants, skipped = {}, {}
    if not AVAILABLE:
        skipped["Triton"] = "Triton is not installed here (the reference ran in its place)"
    elif INTERPRETED:
        skipped["Triton"] = "interpreted on the CPU (checked, not timed)"
    else:
        variants["Triton"] = gelu_triton
    compiler = torch.cuda.is_available() or shutil.which(os.environ.get("CXX", "g++")) is not None
    if not compiler or os.environ.get("LMCOURSE_COMPILE", "1") == "0":
        skipped["torch.compile"] = "no C++ compiler found (or LMCOURSE_COMPILE=0)"
    else:
        compiled = torch.compile(gelu_manual)
        try:  # the first call compiles
            torch.testing.assert_close(compiled(check_input), reference)
            variants["torch.compile"] = compiled
        except Exception as error:  # e.g. a compiler without Python's headers
            skipped["torch.compile"] = f"compilation failed: {str(error).splitlines()[0][:80]}"
    if torch.cuda.is_available() and shutil.which("nvcc") is not None:
        variants["CUDA (load_inline)"] = load_gelu_cuda()
    else:
        skipped["CUDA (load_inline)"] = "needs a GPU and nvcc: the source above was not compiled"
    for name, fn in variants.items():
        if name != "torch.compile":
            torch.testing.assert_close(fn(check_input), reference)
    return variants, skipped
