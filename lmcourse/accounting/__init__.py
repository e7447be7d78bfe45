"""Resource accounting: parameters, FLOPs, memory and time for a model, with no torch needed.

Everything here is plain arithmetic over a `TransformerConfig` (or plain numbers), so a reader can
size a 70B model on a laptop, a widget can recompute on every slider move, and the tests can check
each figure against a real `lmcourse.nn.TransformerLM` measured by PyTorch.

- `params`: parameters per component (`count_parameters`).
- `flops`: forward / training FLOPs, 6ND, MFU and training days.
- `memory`: bytes of parameters, gradients, optimizer state and activations per precision policy.
- `hardware`: GPUs' memory, peak FLOP/s per dtype and bandwidth (`GPUS`).
- `roofline`: FLOPs and minimum bytes per operation, arithmetic intensity, attainable FLOP/s, GPU architecture data.
- `zero`: per-GPU memory and communication of DDP and ZeRO stages 1-3 (the ZeRO paper's formulas).
- `speculative`: expected tokens per target call and speedup of speculative decoding.
- `presets`: published models' and the course's configurations (`PRESETS`).
"""

from lmcourse.accounting.flops import (flops_breakdown, forward_flops_per_token, matmul_flops, mfu, training_days,
                                       training_flops, training_flops_per_token)
from lmcourse.accounting.hardware import GPU, GPUS, get_gpu
from lmcourse.accounting.memory import (BYTES_PER_DTYPE, OPTIMIZER_STATES, PRECISIONS, MemoryBreakdown,
                                        PrecisionPolicy, activation_breakdown, activation_bytes, deep_linear_memory,
                                        kv_cache_bytes_per_token, model_state_bytes, training_memory)
from lmcourse.accounting.params import ParamCount, count_parameters
from lmcourse.accounting.presets import PRESETS, REAL_MODELS, architecture_table
from lmcourse.accounting.speculative import best_gamma, expected_speedup, expected_tokens_per_call
from lmcourse.accounting.zero import ZERO_STAGES, ZeroMemory, bytes_per_element, zero_communication, zero_memory
from lmcourse.accounting.roofline import (WARP_SIZE, GPU_ARCH, GPU_GENERATIONS, OpCost, attainable_flops, attention_prefill_cost,
                                          bound, decode_step_cost, elementwise_cost, matmul_cost, matmul_hbm_bytes,
                                          prefill_cost, ridge_point, rmsnorm_cost, roofline_time, softmax_cost,
                                          wave_quantization)

__all__ = [
    "WARP_SIZE",
    "ParamCount", "count_parameters",
    "matmul_flops", "flops_breakdown", "forward_flops_per_token", "training_flops_per_token", "training_flops",
    "mfu", "training_days",
    "BYTES_PER_DTYPE", "PrecisionPolicy", "PRECISIONS", "OPTIMIZER_STATES", "MemoryBreakdown",
    "model_state_bytes", "activation_breakdown", "activation_bytes", "training_memory", "deep_linear_memory",
    "kv_cache_bytes_per_token",
    "GPU", "GPUS", "get_gpu",
    "PRESETS", "REAL_MODELS", "architecture_table",
    "OpCost", "matmul_cost", "elementwise_cost", "softmax_cost", "rmsnorm_cost", "attention_prefill_cost",
    "decode_step_cost", "prefill_cost", "attainable_flops", "ridge_point", "bound", "roofline_time",
    "matmul_hbm_bytes", "wave_quantization", "GPU_ARCH", "GPU_GENERATIONS",
    "ZERO_STAGES", "ZeroMemory", "zero_memory", "zero_communication", "bytes_per_element",
    "expected_tokens_per_call", "expected_speedup", "best_gamma",
]
