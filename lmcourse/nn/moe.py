"""Mixture of experts: the sparse feed-forward layer of chapter 4.

An MoE layer replaces a block's one feed-forward network by `num_experts` of them and a router that
sends each token to `top_k` of them, so the parameter count grows with `num_experts` while the FLOPs
per token grow only with `top_k` (Shazeer et al. 2017; Switch Transformer, Fedus et al. 2021).
This module covers:

- token-choice top-k routing in its two common orders: a softmax over all experts, then the top k
  (GShard, Switch, DeepSeekMoE; the kept gates are not renormalised), or the top k logits, then a
  softmax over those k (Mixtral; `softmax_after_topk=True`);
- dispatch by grouping token indices per expert: a loop over experts, never over tokens;
- expert capacity and token dropping (GShard, Lepikhin et al. 2020; Switch section 2.2);
- shared experts that every token uses, beside the routed ones (DeepSeekMoE, Dai et al. 2024; its
  other idea, fine-grained experts, is only a choice of sizes: more experts, a smaller `d_ff`);
- the auxiliary losses, collected in `MoEStats`: Switch's load-balancing loss (eq. 4-6) and
  ST-MoE's router z-loss (Zoph et al. 2022);
- sparse upcycling of a trained dense FFN into an MoE (Komatsuzaki et al. 2022).

Expert parallelism, the all-to-all that moves tokens to experts living on other devices, is
`lmcourse.parallel.expert_parallel` (chapter 8). This module leaves out expert-choice routing, noisy
top-k gating, DeepSeek-V3's auxiliary-loss-free bias balancing and sequence-level balance loss, and
fused grouped-GEMM kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from lmcourse.nn.layers import Linear, SwiGLU, softmax

__all__ = ["MoEFeedForward", "MoEStats", "balance_loss", "router_z_loss", "upcycle"]


@dataclass
class MoEStats:
    """What one forward pass of an MoE layer did; `TransformerLM.aux_loss()` sums `aux_loss()`."""

    balance_loss: torch.Tensor  # scalar; 1.0 when routing is perfectly uniform
    router_z_loss: torch.Tensor  # scalar
    tokens_per_expert: torch.Tensor  # (num_experts,) long: assignments each expert processed
    dropped_tokens: int  # token-to-expert assignments over capacity (a token may lose some of its k)
    router_probs_mean: torch.Tensor  # (num_experts,) detached: P_i, the mean router probability

    def aux_loss(self, balance_coef: float = 0.01, z_coef: float = 0.001) -> torch.Tensor:
        # The defaults are ST-MoE's c_B = 1e-2 (Switch's alpha) and c_z = 1e-3.
        return balance_coef * self.balance_loss + z_coef * self.router_z_loss


def balance_loss(router_probs: torch.Tensor, expert_indices: torch.Tensor) -> torch.Tensor:
    """Switch Transformer's load-balancing loss, num_experts * sum_i f_i * P_i (eq. 4-6).

    router_probs: (tokens, num_experts), a softmax over all experts; expert_indices: (tokens, top_k).
    f_i, the fraction of the top-k assignments that chose expert i, comes out of a top-k and carries
    no gradient; P_i, the mean probability of expert i, does, so the gradient lowers the probability
    of the experts that received the most tokens. Uniform f and P give exactly 1.0.
    """
    num_experts = router_probs.shape[-1]
    counts = torch.bincount(expert_indices.reshape(-1), minlength=num_experts)
    f = counts.to(router_probs.dtype) / expert_indices.numel()
    return num_experts * torch.sum(f * router_probs.mean(dim=0))


def router_z_loss(router_logits: torch.Tensor) -> torch.Tensor:
    """ST-MoE's router z-loss: the mean over tokens of logsumexp(router logits)^2.

    It keeps the router's logits small: large logits make the exponentials in the router's softmax
    round off badly, one of the training instabilities ST-MoE (Zoph et al. 2022, section 3) traced
    to the router. Unlike the balance loss it does not care which expert wins.
    """
    return torch.logsumexp(router_logits, dim=-1).square().mean()


class MoEFeedForward(nn.Module):
    """Top-k routed SwiGLU experts plus optional shared experts: (batch, seq, d_model) in and out.

    Parameters: `router` (Linear(d_model, num_experts); row i is expert i's "centroid", DeepSeekMoE
    eq. 5), `experts` and `shared_experts` (ModuleLists of SwiGLU(d_model, d_ff)).
    `capacity_factor=None` never drops; otherwise each expert takes at most
    ceil(capacity_factor * tokens * top_k / num_experts) assignments per forward pass.
    """

    def __init__(self, d_model: int, d_ff: int, num_experts: int, top_k: int = 2, num_shared_experts: int = 0,
                 capacity_factor: float | None = None, softmax_after_topk: bool = False, device=None, dtype=None):
        super().__init__()
        for name, value, low in (("d_model", d_model, 1), ("d_ff", d_ff, 1), ("num_experts", num_experts, 1),
                                 ("top_k", top_k, 1), ("num_shared_experts", num_shared_experts, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"MoEFeedForward: {name}={value!r}; expected an integer >= {low}")
        if top_k > num_experts:
            raise ValueError(f"MoEFeedForward: top_k={top_k} exceeds num_experts={num_experts}; "
                             "each token picks top_k distinct experts")
        if capacity_factor is not None and not capacity_factor > 0:
            raise ValueError(f"MoEFeedForward: capacity_factor={capacity_factor!r}; expected None (no dropping) or > 0")
        self.d_model, self.d_ff, self.num_experts, self.top_k = d_model, d_ff, num_experts, top_k
        self.capacity_factor, self.softmax_after_topk = capacity_factor, softmax_after_topk
        kw = dict(device=device, dtype=dtype)
        self.router = Linear(d_model, num_experts, **kw)
        self.experts = nn.ModuleList(SwiGLU(d_model, d_ff, **kw) for _ in range(num_experts))
        self.shared_experts = nn.ModuleList(SwiGLU(d_model, d_ff, **kw) for _ in range(num_shared_experts))
        self.last_stats: MoEStats | None = None

    def __getstate__(self):
        # last_stats holds the last forward's losses with their autograd graph, which copy.deepcopy and
        # pickle refuse; it is a by-product of that forward, not part of the layer, so copies start without it.
        return {**self.__dict__, "last_stats": None}

    @classmethod
    def from_config(cls, config, device=None, dtype=None) -> "MoEFeedForward":
        """The MoE layer a `TransformerConfig` describes (experts, top_k, shared experts, capacity, routing order)."""
        return cls(config.d_model, config.d_ff, config.num_experts, top_k=config.top_k,
                   num_shared_experts=config.num_shared_experts, capacity_factor=config.capacity_factor,
                   softmax_after_topk=config.softmax_after_topk, device=device, dtype=dtype)

    def capacity(self, num_tokens: int) -> int | None:
        """Assignments one expert may take from `num_tokens` tokens (None: unlimited).

        Switch eq. 3 with GShard's factor top_k: an even split of the tokens * top_k assignments,
        times the slack `capacity_factor`. A fixed capacity is what lets an expert's batch be a
        fixed-size buffer on its device; the price is that an overloaded expert drops tokens.
        """
        if self.capacity_factor is None:
            return None
        return math.ceil(self.capacity_factor * num_tokens * self.top_k / self.num_experts)

    def route(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(router logits, router probabilities, gates, expert indices) for `tokens` (T, d_model); the
        last two are (T, top_k). Expert parallelism (`lmcourse.parallel.expert_parallel`) routes with it too."""
        # The router runs in (at least) float32 whatever the model's dtype (ST-MoE's "selective precision"):
        # its softmax's exponentials are where bfloat16 round-off destabilises training.
        logits = self.router(tokens)
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # (T, num_experts)
        probs = softmax(logits, dim=-1)
        if self.softmax_after_topk:
            top_logits, expert_indices = logits.topk(self.top_k, dim=-1)
            gates = softmax(top_logits, dim=-1)  # (T, top_k), summing to 1 per token
        else:
            gates, expert_indices = probs.topk(self.top_k, dim=-1)  # (T, top_k), sum <= 1
        return logits, probs, gates, expert_indices

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"MoEFeedForward: x has shape {tuple(x.shape)}; "
                             f"expected (batch, seq, d_model={self.d_model})")
        # (T, d_model): tokens from all sequences compete for the same capacity, so under dropping a
        # token's output can depend on what else is in the batch.
        tokens = x.reshape(-1, self.d_model)
        num_tokens = tokens.shape[0]
        logits, probs, gates, expert_indices = self.route(tokens)

        # The T * top_k assignments, choice-major: every token's first choice, then every second
        # choice, ... Under a capacity a first choice is then never dropped to make room for another
        # token's second choice (GShard, Algorithm 1), and within a rank earlier tokens go first.
        expert_flat = expert_indices.t().reshape(-1)
        token_flat = torch.arange(num_tokens, device=x.device).repeat(self.top_k)
        gate_flat = gates.t().reshape(-1).to(x.dtype)
        # A stable sort groups the assignments by expert and keeps that priority order in each group,
        # so "the first `capacity` of the group" is exactly the kept set.
        order = torch.argsort(expert_flat, stable=True)
        counts = torch.bincount(expert_flat, minlength=self.num_experts)
        capacity = self.capacity(num_tokens)
        kept = counts if capacity is None else counts.clamp(max=capacity)
        starts = counts.cumsum(0) - counts

        out = torch.zeros_like(tokens)
        for expert, start, n in zip(self.experts, starts.tolist(), kept.tolist()):
            if n == 0:
                continue
            chosen = order[start:start + n]
            token_ids = token_flat[chosen]
            # A dropped assignment adds nothing: the block's residual connection carries the token on.
            out.index_add_(0, token_ids, expert(tokens[token_ids]) * gate_flat[chosen, None])
        # Shared experts see every token: they hold what all tokens need, so the routed experts
        # need not each relearn it and can specialise (DeepSeekMoE section 3.2).
        for shared in self.shared_experts:
            out = out + shared(tokens)

        # The balance loss counts the router's choices before dropping: what it must learn to spread.
        self.last_stats = MoEStats(
            balance_loss=balance_loss(probs, expert_indices),
            router_z_loss=router_z_loss(logits),
            tokens_per_expert=kept,
            dropped_tokens=int(num_tokens * self.top_k - kept.sum()),
            router_probs_mean=probs.mean(dim=0).detach(),
        )
        return out.reshape(x.shape)

    def extra_repr(self) -> str:
        return (f"top_k={self.top_k}, capacity_factor={self.capacity_factor}, "
                f"softmax_after_topk={self.softmax_after_topk}")


def upcycle(dense: SwiGLU, num_experts: int, top_k: int = 2, router_std: float = 0.01,
            **kwargs) -> MoEFeedForward:
    """An MoE whose experts (routed and shared) all start as copies of a trained dense SwiGLU.

    Sparse upcycling (Komatsuzaki et al. 2022) reuses a dense checkpoint instead of pretraining the
    MoE from scratch; only the router is new. It gets a small init (trunc-normal, `router_std`) so
    the first routing decisions are nearly uniform and the identical copies can drift apart as
    training goes on. `kwargs` go to `MoEFeedForward` (its device and dtype follow `dense`).

    What equality holds at initialisation, with no shared experts and no dropped assignments:
    with `softmax_after_topk=True` a token's gates sum to 1, so the MoE equals the dense FFN;
    with the default order the output is the dense output times the sum of the token's top-k
    probabilities (about top_k / num_experts with a small router).
    """
    if not isinstance(dense, SwiGLU):
        raise TypeError(f"upcycle: dense is a {type(dense).__name__}; expected an lmcourse.nn.SwiGLU")
    if not router_std > 0:
        raise ValueError(f"upcycle: router_std={router_std!r}; expected > 0")
    d_ff, d_model = dense.w1.weight.shape
    moe = MoEFeedForward(d_model, d_ff, num_experts, top_k, device=dense.w1.weight.device,
                         dtype=dense.w1.weight.dtype, **kwargs)
    state = dense.state_dict()
    for expert in (*moe.experts, *moe.shared_experts):
        expert.load_state_dict(state)
    nn.init.trunc_normal_(moe.router.weight, std=router_std, a=-3 * router_std, b=3 * router_std)
    return moe
