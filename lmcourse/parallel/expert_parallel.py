"""Expert parallelism: the experts of one MoE layer spread over the ranks, tokens moved by all-to-all.

Chapter 4's `MoEFeedForward` keeps every expert in one process. Here each of the `world_size` ranks
holds `num_experts / world_size` of them (expert e lives on rank e // experts_per_rank) and its own
tokens, as in data parallelism. One forward pass of the layer is then:

1. route locally: the router is small and replicated, so each rank picks the top-k experts of its
   own tokens without talking to anyone;
2. dispatch: group the rank's (token, expert) assignments by the rank that owns the expert, tell
   every rank how many rows to expect (an all-to-all of counts), then send the token vectors and
   their expert ids (an all-to-all with uneven splits);
3. compute: each rank runs its own experts on the rows it received;
4. combine: a second all-to-all sends every output back to the rank it came from, in the order it
   came, and that rank adds it to its token's output, weighted by the gate.

`expert_parallel_forward` runs these steps for an `MoEFeedForward` whose weights every rank holds,
so that `expert_parallel_check` can compare with the unsharded layer; it reads only the experts the
rank owns. Left out: expert capacity and token dropping (the layer must have
capacity_factor=None), shared experts, the backward pass (autograd through the all-to-all needs a
custom Function, like `tensor_parallel`'s f and g) and overlapping the all-to-all with computation.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from lmcourse.nn import MoEFeedForward

__all__ = ["expert_parallel_forward", "expert_parallel_check"]


def expert_parallel_forward(layer: MoEFeedForward, x: torch.Tensor, rank: int,
                            world_size: int) -> tuple[torch.Tensor, dict]:
    """The layer's output on this rank's `x` (batch, seq, d_model), with experts split over the ranks.
    Also returns how many assignments this rank sent to and received from each rank."""
    if layer.num_experts % world_size:
        raise ValueError(f"expert_parallel_forward: num_experts={layer.num_experts} is not divisible by "
                         f"world_size={world_size}")
    if layer.capacity_factor is not None or len(layer.shared_experts):
        raise ValueError("expert_parallel_forward: expected an MoEFeedForward without capacity_factor and "
                         "without shared experts")
    per_rank = layer.num_experts // world_size
    tokens = x.reshape(-1, layer.d_model)  # (T, d_model)
    _, _, gates, experts = layer.route(tokens)  # exactly as the layer's own forward chooses
    expert_flat = experts.reshape(-1)  # (T * top_k,): token 0's choices, then token 1's, ...
    token_flat = torch.arange(tokens.shape[0]).repeat_interleave(layer.top_k)
    gate_flat = gates.reshape(-1).to(x.dtype)

    # Dispatch: rows for rank 0 first, then rank 1, ...; each rank first learns how many rows it gets.
    order = torch.argsort(expert_flat // per_rank, stable=True)
    send_counts = torch.bincount(expert_flat // per_rank, minlength=world_size)
    recv_counts = torch.empty_like(send_counts)
    dist.all_to_all_single(recv_counts, send_counts)
    sends, recvs = send_counts.tolist(), recv_counts.tolist()
    received = tokens.new_empty(sum(recvs), layer.d_model)
    received_experts = expert_flat.new_empty(sum(recvs))
    dist.all_to_all_single(received, tokens[token_flat[order]], recvs, sends)
    dist.all_to_all_single(received_experts, expert_flat[order], recvs, sends)

    # Compute: only this rank's experts run, each on the rows routed to it from every rank.
    outputs = torch.zeros_like(received)
    for expert in range(rank * per_rank, (rank + 1) * per_rank):
        rows = received_experts == expert
        if rows.any():
            outputs[rows] = layer.experts[expert](received[rows])

    # Combine: the reverse all-to-all (the split sizes swap roles) returns the rows in sending order.
    returned = tokens.new_empty(sum(sends), layer.d_model)
    dist.all_to_all_single(returned, outputs, sends, recvs)
    out = torch.zeros_like(tokens)
    out.index_add_(0, token_flat[order], returned * gate_flat[order, None])
    return out.reshape(x.shape), {"sent": sends, "received": recvs}


def expert_parallel_check(rank: int, world_size: int, *, num_experts: int = 4, top_k: int = 2, d_model: int = 16,
                          d_ff: int = 32, num_tokens: int = 24, seed: int = 0) -> dict:
    """A spawn worker: every rank builds the same layer (same seed) and its own tokens, runs the
    expert-parallel forward, and compares it with the unsharded layer on the same tokens."""
    torch.manual_seed(seed)
    layer = MoEFeedForward(d_model, d_ff, num_experts, top_k=top_k)
    x = torch.randn(1, num_tokens, d_model, generator=torch.Generator().manual_seed(seed + 1 + rank))
    with torch.no_grad():
        sharded, traffic = expert_parallel_forward(layer, x, rank, world_size)
        reference = layer(x)
    return {"max_diff": (sharded - reference).abs().max().item(), "assignments": num_tokens * top_k,
            "experts_here": list(range(rank * num_experts // world_size, (rank + 1) * num_experts // world_size)),
            **traffic}
