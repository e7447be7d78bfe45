"""GPU kernels written twice: a tiled PyTorch reference and a Triton kernel (chapter 6).

- ``softmax``: fused row softmax (online max and sum over column tiles);
- ``gelu``: GeLU (tanh approximation) op by op, fused in Triton, and in CUDA C++ (GPU only);
- ``rmsnorm``: RMSNorm forward and backward (grad of x and of the weight) as autograd Functions;
- ``cross_entropy``: logits to mean loss without materialising the softmax, forward and backward;
- ``matmul``: tiled matmul with grouped tile ordering for L2 reuse;
- ``flash_attention``: FlashAttention-2 forward and backward (PyTorch tiles and Triton), and
  ``flash_attention_core``, the Triton kernel as the model's attention core (CUDA);
- ``assembly``: a kernel's Triton IR and PTX for a chosen GPU, compiled without one;
Honest timing (warm-up, synchronize, median), the machine's measured ceilings and the bytes autograd
saves for backward are ``lmcourse.timing``'s (torch only, so the training loop uses them without Triton).

Each kernel is checked against PyTorch's own op. Without a GPU, Triton kernels run through
Triton's interpreter (set up in ``_triton.py``, which every Triton module imports first): exact
enough for tests and small demos, far too slow for timing. Without Triton installed (macOS,
Windows), ``TRITON_AVAILABLE`` is False and every ``*_triton`` entry point runs its reference.
"""

from lmcourse.kernels._triton import AVAILABLE as TRITON_AVAILABLE
from lmcourse.kernels._triton import INTERPRETED, check_tensor
from lmcourse.kernels.assembly import gpu_assemblies, gpu_assembly
from lmcourse.kernels.cross_entropy import CrossEntropyPyTorch, CrossEntropyTriton, cross_entropy_triton
from lmcourse.kernels.flash_attention import (FlashAttention2PyTorch, FlashAttention2Triton, flash_attention_core,
                                              key_tile_end)
from lmcourse.kernels.gelu import GELU_CUDA_SOURCE, gelu_manual, gelu_triton, gelu_variants, load_gelu_cuda
from lmcourse.kernels.matmul import matmul_reference, matmul_triton, tile_order
from lmcourse.kernels.rmsnorm import RMSNormPyTorch, RMSNormTriton, rms_norm_triton
from lmcourse.kernels.softmax import softmax_reference, softmax_triton

__all__ = [
    "TRITON_AVAILABLE", "INTERPRETED", "check_tensor", "gpu_assembly", "gpu_assemblies",
    "softmax_reference", "softmax_triton",
    "gelu_manual", "gelu_triton", "GELU_CUDA_SOURCE", "load_gelu_cuda", "gelu_variants",
    "RMSNormPyTorch", "RMSNormTriton", "rms_norm_triton",
    "CrossEntropyPyTorch", "CrossEntropyTriton", "cross_entropy_triton",
    "matmul_reference", "matmul_triton", "tile_order",
    "FlashAttention2PyTorch", "FlashAttention2Triton", "flash_attention_core", "key_tile_end",
]
