"""A Transformer language model from tensor primitives, in the CS336 conventions.

- `layers`: Linear, Embedding, RMSNorm, LayerNorm, softmax, silu, gelu, SwiGLU, FeedForward
- `attention`: RotaryEmbedding, sinusoidal_positions, scaled_dot_product_attention, causal_mask,
  MultiHeadSelfAttention (GQA/MQA, QK-norm, sliding window), sdpa_attention (PyTorch's fused core)
- `model`: make_ffn, TransformerBlock, TransformerLM (forward, num_parameters, aux_loss, generate)
- `sampling`: greedy, temperature, top-k and top-p sampling, and the checks every `generate` shares
- `losses`: cross_entropy (with z-loss), soft_cap
- `moe`: MoEFeedForward, the mixture-of-experts feed-forward network

No torch.nn layer, F.softmax, F.cross_entropy or fused attention is used inside the model unless asked
for (`TransformerLM.set_attention_core(sdpa_attention)`): the tests check each piece against those
PyTorch references instead.
"""

from lmcourse.nn.attention import (MultiHeadSelfAttention, RotaryEmbedding, causal_mask,
                                   scaled_dot_product_attention, sdpa_attention, sinusoidal_positions)
from lmcourse.nn.layers import Embedding, FeedForward, LayerNorm, Linear, RMSNorm, SwiGLU, gelu, silu, softmax
from lmcourse.nn.losses import cross_entropy, soft_cap
from lmcourse.nn.model import TransformerBlock, TransformerLM, make_ffn
from lmcourse.nn.moe import MoEFeedForward, balance_loss, router_z_loss, upcycle
from lmcourse.nn.sampling import (check_generate, check_sampling, greedy, mark_finished, probabilities, sample,
                                  top_k_filter, top_p_filter)

__all__ = [
    "Linear", "Embedding", "RMSNorm", "LayerNorm", "softmax", "silu", "gelu", "SwiGLU", "FeedForward",
    "RotaryEmbedding", "sinusoidal_positions", "scaled_dot_product_attention", "causal_mask",
    "MultiHeadSelfAttention", "sdpa_attention", "TransformerBlock", "TransformerLM", "cross_entropy", "soft_cap",
    "MoEFeedForward", "balance_loss", "router_z_loss", "upcycle", "check_sampling", "check_generate", "mark_finished", "greedy", "top_k_filter", "top_p_filter",
    "probabilities", "sample", "make_ffn",
]
