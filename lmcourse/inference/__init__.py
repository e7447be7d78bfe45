"""Inference: the KV cache, speculative decoding, a paged cache with continuous batching, int8 weights.

Sampling (greedy, temperature, top-k, top-p) lives one floor down, in `lmcourse.nn.sampling`, because
the model's own uncached `generate` uses it too.
- `kv_cache`: `KVCache` (preallocated, with rollback) and cached `generate`
- `speculative`: `accept_drafts`, `speculative_generate`, `expected_tokens_per_call`, `expected_speedup`
- `paged`: `PagedKVCache` (block pool + block tables) and `serve` (continuous batching)
- `quantize`: int8 weight-only quantization (`quantize_int8`, `Int8Linear`, `model_bytes`)
"""

from lmcourse.inference.kv_cache import KVCache, generate
from lmcourse.inference.paged import OutOfBlocksError, PagedKVCache, Request, ServeLog, serve
from lmcourse.inference.quantize import Int8Linear, dequantize_int8, model_bytes, quantize_int8, quantize_weight_int8
from lmcourse.inference.speculative import (SpeculativeResult, accept_drafts, expected_speedup,
                                            expected_tokens_per_call, speculative_generate)

__all__ = ["KVCache", "generate", "SpeculativeResult", "accept_drafts", "expected_speedup", "expected_tokens_per_call",
           "speculative_generate", "PagedKVCache", "OutOfBlocksError", "Request", "ServeLog", "serve",
           "quantize_weight_int8", "dequantize_int8", "Int8Linear", "quantize_int8", "model_bytes"]
