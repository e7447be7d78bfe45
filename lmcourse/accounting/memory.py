"""Memory of training: parameters, gradients, optimizer state, master weights and activations, in bytes.

Model state is bytes per parameter times the parameter count, set by a precision policy (which
tensor is stored in which dtype) and the optimizer (how many values of state it keeps per
parameter). Activations are the tensors the forward pass saves for the backward pass;
`activation_breakdown` derives them from `lmcourse.nn.TransformerLM`'s own operations (which
tensor each op keeps), and the tests compare it with what PyTorch's autograd actually saves.

Left out: the logits' and other gradients' transient buffers during backward, the allocator's
fragmentation and the CUDA context (a few GB), and every sharding of the state across GPUs
(ZeRO / FSDP, chapter 7). Bytes are decimal: 1 GB = 1e9 bytes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lmcourse import checks
from lmcourse.accounting.params import check_config, count_parameters, norms_per_block
from lmcourse.config import TransformerConfig

__all__ = ["BYTES_PER_DTYPE", "PrecisionPolicy", "PRECISIONS", "OPTIMIZER_STATES", "MemoryBreakdown",
           "model_state_bytes", "activation_breakdown", "activation_bytes", "training_memory", "deep_linear_memory",
           "kv_cache_bytes_per_token"]

BYTES_PER_DTYPE = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1}
_FP32, _INDEX = 4, 8  # norms and the loss compute in fp32; token ids are int64


@dataclass(frozen=True)
class PrecisionPolicy:
    """Which dtype each kind of training tensor is stored in."""

    name: str
    weights: str  # the copy the forward and backward passes read
    gradients: str
    master_weights: str | None  # an fp32 copy the optimizer updates; None when `weights` already is it
    optimizer_state: str
    activations: str  # matmul inputs and outputs (norms and the loss still keep fp32 tensors)
    compute: str  # the tensor-core dtype the matmuls run in: the peak FLOP/s that applies


PRECISIONS = {
    "fp32": PrecisionPolicy("fp32", "fp32", "fp32", None, "fp32", "fp32", "fp32"),
    # Mixed precision (Micikevicius et al. 2018): bf16 weights, gradients and activations halve
    # their memory and run on the fast tensor cores, but an update lr * g is often smaller than a
    # bf16 weight's rounding step, so the optimizer adds it to an fp32 master copy and keeps its
    # own state (Adam's m and v) in fp32. 2 + 2 + 4 + 8 = 16 bytes per parameter with Adam.
    "bf16-mixed": PrecisionPolicy("bf16-mixed", "bf16", "bf16", "fp32", "fp32", "bf16", "bf16"),
}

# Values of optimizer state kept per parameter.
OPTIMIZER_STATES = {
    "sgd": 0,  # plain SGD: p -= lr * g needs nothing but the gradient
    "sgd-momentum": 1,  # the momentum buffer, a running average of gradients
    "adagrad": 1,  # the running sum of squared gradients, per parameter
    "adam": 2,  # m and v, the running averages of g and g^2
    "adamw": 2,  # Adam with decoupled weight decay: the same m and v
}


@dataclass(frozen=True)
class MemoryBreakdown:
    """Bytes per kind of training tensor; `total` is their sum."""

    parameters: float = 0
    gradients: float = 0
    optimizer_state: float = 0
    master_weights: float = 0
    activations: float = 0

    @property
    def total(self) -> float:
        return sum(getattr(self, f.name) for f in dataclasses.fields(self))

    def items(self) -> list[tuple[str, float]]:
        """(component, bytes) in a fixed order, for tables and plots."""
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]


def _policy(precision: str) -> PrecisionPolicy:
    checks.choice("precision", precision, PRECISIONS)
    return PRECISIONS[precision]


def model_state_bytes(num_params: float, precision: str = "fp32", optimizer: str = "adamw") -> MemoryBreakdown:
    """Parameters, gradients, master weights and optimizer state of num_params parameters.

    1B parameters in fp32 with AdamW: 4 + 4 + 2 * 4 = 16 bytes each, 16 GB before any activation.
    """
    checks.positive_number("num_params", num_params)
    checks.choice("optimizer", optimizer, OPTIMIZER_STATES)
    policy = _policy(precision)
    size = BYTES_PER_DTYPE
    return MemoryBreakdown(
        parameters=num_params * size[policy.weights],
        gradients=num_params * size[policy.gradients],
        optimizer_state=num_params * OPTIMIZER_STATES[optimizer] * size[policy.optimizer_state],
        master_weights=num_params * size[policy.master_weights] if policy.master_weights else 0,
    )


def _layer_activations(config: TransformerConfig, layer: int, batch_size: int, seq_len: int, act: int) -> dict:
    """Bytes one block saves for backward, per component; `act` = bytes of an activation value.

    Derived op by op from lmcourse.nn (x: (batch, seq, d_model), n = batch * seq tokens):
    - a norm keeps its input as fp32 (or the centered input, LayerNorm), the normalized fp32 x_hat
      for the weight's gradient, and 1/rms per token;
    - a matmul keeps its input (never its output): the normed x for q/k/v, the attention output for
      output_proj, the FFN input; scaled Q, K and V for the two attention matmuls;
    - our softmax (a hand-written autograd.Function) keeps only the probabilities, which the
      probabilities-times-V matmul shares: one (batch, heads, seq, seq) tensor, the quadratic term,
      whatever the sliding window (the whole matrix is built, then masked; the mask is not saved);
    - SwiGLU keeps w1 x, sigmoid(w1 x), silu(w1 x), w3 x and their product (5 x d_ff per token);
      GELU (erf form) 4, ReLU 1 (its output, which is also w2's input).
    """
    n, d, d_ff = batch_size * seq_len, config.d_model, config.d_ff
    kv_dim, heads = config.kv_heads * config.head_dim, config.num_heads
    norm = n * (2 * d + 1) * _FP32
    num_norms = norms_per_block(config)
    # A parallel pre-norm block gives ln1 and ln2 the same x; fp32 RMSNorm keeps that very tensor.
    shared_norm_input = (config.parallel_layers and num_norms == 2 and config.norm == "rmsnorm" and act == _FP32)
    # What q/k/v and the FFN's first matrices read: its own norm's output each (pre-norm), the block
    # input and ln1's output (post-norm), or the same block input for both (parallel post-norm).
    sublayer_inputs = 1 if config.parallel_layers and config.norm_position == "post" else 2
    qk_norm = 0
    if config.qk_norm:  # q_norm / k_norm on each head: the same three tensors at head_dim width
        qk_norm = (2 * (n * d + n * kv_dim) + n * (heads + config.kv_heads)) * _FP32
    score_elems = batch_size * heads * seq_len * seq_len
    terms = {
        "norms": num_norms * norm - (n * d * _FP32 if shared_norm_input else 0) + qk_norm,
        "attention": (n * d + 2 * n * kv_dim + n * d) * act  # scaled Q, K, V, the output-proj input
        + score_elems * act,  # the probabilities
        "sublayer_inputs": sublayer_inputs * n * d * act,
    }
    if config.is_moe_layer(layer):
        terms["ffn"] = _moe_activations(config, n, act)
    else:
        per_token = {"swiglu": 5, "gelu": 4, "relu": 1}[config.ffn]
        terms["ffn"] = per_token * n * d_ff * act
    return terms


def _moe_activations(config: TransformerConfig, n: int, act: int) -> float:
    """An MoE FFN, assuming no token is dropped: each of the n * top_k assignments gathers its token
    (d), runs a SwiGLU (5 d_ff), and keeps the expert's output and its gate-scaled copy for the
    gate's gradient and index_add_ (2 d + 1); shared experts see every token. The router keeps its
    fp32 logits and their exp (2 x num_experts per token) and its top-k choices."""
    d, d_ff, assignments = config.d_model, config.d_ff, n * config.top_k
    routed = assignments * ((3 * d + 5 * d_ff + 1) * act + 2 * _INDEX)  # + token ids, the sort order
    shared = config.num_shared_experts * 5 * n * d_ff * act
    router = n * (2 * config.num_experts + 3) * _FP32 + assignments * _INDEX  # + max, sum, logsumexp per token
    return routed + shared + router


def activation_breakdown(config: TransformerConfig, batch_size: int, seq_len: int, precision: str = "fp32",
                         checkpointing: bool = False) -> dict[str, float]:
    """Bytes saved for backward by a forward of TransformerLM plus cross_entropy, per component.

    Components: norms, attention, sublayer_inputs, ffn (summed over blocks), and outside the blocks
    embeddings (the token ids) and lm_head_and_loss. With activation checkpointing, each block
    keeps only its input ("checkpoints") and one block's worth is recomputed at a time during
    backward, so the per-block components count the largest block once.
    """
    check_config(config)
    checks.positive_int("batch_size", batch_size)
    checks.positive_int("seq_len", seq_len)
    act = BYTES_PER_DTYPE[_policy(precision).activations]
    layers = [_layer_activations(config, i, batch_size, seq_len, act) for i in range(config.num_layers)]
    if checkpointing:
        layers = [max(layers, key=lambda terms: sum(terms.values()))]
    totals = {key: sum(terms[key] for terms in layers) for key in layers[0]}
    n, d = batch_size * seq_len, config.d_model
    if checkpointing:
        totals["checkpoints"] = config.num_layers * n * d * act
    logits = n * config.vocab_size
    totals["embeddings"] = (n + (seq_len if config.position == "learned" else 0)) * _INDEX  # ids, positions
    totals["lm_head_and_loss"] = (
        n * (2 * d + 1) * _FP32 + n * d * act  # ln_final, then the lm_head's input
        + (logits * act if config.logit_soft_cap else 0)  # tanh keeps its output
        # cross_entropy (a hand-written autograd.Function): exp(logits - max), its row sums, log Z, the targets
        + logits * _FP32 + n * (2 * _FP32 + _INDEX))
    return totals


def activation_bytes(config: TransformerConfig, batch_size: int, seq_len: int, precision: str = "fp32",
                     checkpointing: bool = False) -> float:
    """Total bytes of `activation_breakdown`."""
    return sum(activation_breakdown(config, batch_size, seq_len, precision, checkpointing).values())


def training_memory(config: TransformerConfig, batch_size: int, seq_len: int, precision: str = "fp32",
                    optimizer: str = "adamw", checkpointing: bool = False) -> MemoryBreakdown:
    """Model state of every parameter (all experts of an MoE) plus activations, at the peak of a step."""
    check_config(config)
    state = model_state_bytes(count_parameters(config).total, precision, optimizer)
    return dataclasses.replace(state, activations=activation_bytes(config, batch_size, seq_len, precision,
                                                                   checkpointing))


def deep_linear_memory(d: int, num_layers: int, batch_size: int, bytes_per_value: int = 4) -> MemoryBreakdown:
    """Lecture 2's "Cruncher": num_layers Linear(d, d) then a Linear(d, 1) head, no biases.

    parameters d*d*num_layers + d; activations batch_size*d*num_layers (each hidden layer's output,
    kept as the next matmul's input; the input batch itself is data, not counted); gradients one per
    parameter; optimizer state one per parameter (e.g. AdaGrad's sum of squares).
    """
    for name, value in (("d", d), ("num_layers", num_layers), ("batch_size", batch_size),
                        ("bytes_per_value", bytes_per_value)):
        checks.positive_int(name, value)
    num_params = d * d * num_layers + d
    return MemoryBreakdown(parameters=num_params * bytes_per_value, gradients=num_params * bytes_per_value,
                           optimizer_state=num_params * bytes_per_value,
                           activations=batch_size * d * num_layers * bytes_per_value)


def kv_cache_bytes_per_token(config: TransformerConfig, dtype: str = "bf16") -> int:
    """Bytes an inference KV cache holds per token: a key and a value vector for every KV head of
    every layer, 2 * num_layers * kv_heads * head_dim values. GQA divides it by num_heads / kv_heads,
    MQA by num_heads: the point of both."""
    check_config(config)
    checks.choice("dtype", dtype, BYTES_PER_DTYPE)
    return 2 * config.num_layers * config.kv_heads * config.head_dim * BYTES_PER_DTYPE[dtype]
