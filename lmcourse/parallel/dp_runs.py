"""Train one small TransformerLM under each data-parallel strategy on real processes, and measure it.

`run_strategies(strategies, config, batches, world_size=2)` starts the ranks once (spawn costs
seconds) and, in that one process group, trains a fresh copy of the model for every strategy in
turn with AdamW: each rank gets its contiguous shard of every batch, the loss is the shard's mean.
Per strategy it returns the final parameters (gathered to full size), and, for the last step, the
communication each rank issued (`lmcourse.parallel.comm`) and the bytes of parameters, gradients
and optimizer state each rank held just before the optimizer step. `train_single` is the same
training in one process on the full batches: the reference every strategy must match.

Strategies: "ddp-individual", "ddp-bucketed" (ours, lmcourse.parallel.ddp), "zero1", "zero2",
"zero3" and "zero3-prefetch" (lmcourse.parallel.zero / fsdp, on plain modules; the zero3 variants also
report the peak bytes of gathered parameters and the seconds spent waiting for all-gathers), and
PyTorch's own "torch-ddp"
(DistributedDataParallel), "torch-zero1" (ZeroRedundancyOptimizer over DistributedDataParallel)
and "torch-fsdp2" (fully_shard on every block and the root). Left out: timing (see
benchmarks/bench_ddp.py) and activations' memory.
"""

from __future__ import annotations

import torch

from lmcourse.nn import TransformerLM, cross_entropy
from lmcourse.parallel.comm import count_communication
from lmcourse.parallel.ddp import DDPBucketed, DDPIndividualParameters, broadcast_module
from lmcourse.parallel.fsdp import FullyShardedModule
from lmcourse.parallel.launch import spawn
from lmcourse.parallel.zero import ShardedGradientOptimizer, ShardedOptimizer, state_bytes
from lmcourse.train import AdamW

__all__ = ["STRATEGIES", "train_single", "run_strategies", "strategy_worker", "held_bytes"]

STRATEGIES = ("ddp-individual", "ddp-bucketed", "zero1", "zero2", "zero3", "zero3-prefetch", "torch-ddp", "torch-zero1",
              "torch-fsdp2")
ADAMW = dict(lr=1e-2, weight_decay=0.1)  # large enough that a wrong update shows after a few steps


def _model(config: dict, seed: int) -> TransformerLM:
    torch.manual_seed(seed)
    return TransformerLM(**config)


def _loss(model, batch: torch.Tensor) -> torch.Tensor:
    logits = model(batch[:, :-1])
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


def train_single(config: dict, batches: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """The reference: one process, full batches (steps, batch, seq + 1); the final state_dict."""
    model = _model(config, seed)
    optimizer = AdamW(model.parameters(), **ADAMW)
    for batch in batches:
        optimizer.zero_grad()
        _loss(model, batch).backward()
        optimizer.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def held_bytes(tensors) -> int:
    """Bytes of the distinct storages behind `tensors` (a freed or shared storage counts once, or 0)."""
    seen, total = set(), 0
    for t in tensors:
        if t is None:
            continue
        t = t.to_local() if hasattr(t, "to_local") else t  # a DTensor (FSDP2) holds its local shard
        storage = t.untyped_storage()
        if storage.nbytes() and storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            total += storage.nbytes()
    return total


def _setup(strategy: str, model):
    """(the module to call, the optimizer, the parameters whose memory to count, the local optimizer)."""
    if strategy in ("ddp-individual", "ddp-bucketed", "torch-ddp"):
        if strategy == "torch-ddp":
            wrapped = torch.nn.parallel.DistributedDataParallel(model)
        else:
            wrapped = DDPIndividualParameters(model) if strategy == "ddp-individual" else DDPBucketed(model, 0.05)
        optimizer = AdamW(model.parameters(), **ADAMW)
        return wrapped, optimizer, list(model.parameters()), optimizer
    if strategy in ("zero1", "zero2", "torch-fsdp2"):
        broadcast_module(model)  # these wrappers start from each rank's own values; make them rank 0's
    if strategy in ("zero1", "zero2"):
        cls = ShardedOptimizer if strategy == "zero1" else ShardedGradientOptimizer
        optimizer = cls(model.parameters(), AdamW, **ADAMW)
        shards = list(getattr(optimizer, "shard_of", {}).values())
        return model, optimizer, [*model.parameters(), *shards], optimizer.local
    if strategy in ("zero3", "zero3-prefetch"):
        wrapped = FullyShardedModule(model, prefetch=strategy == "zero3-prefetch")
        optimizer = AdamW(wrapped.sharded_parameters(), **ADAMW)
        return wrapped, optimizer, [*model.parameters(), *wrapped.sharded_parameters()], optimizer
    if strategy == "torch-zero1":
        from torch.distributed.optim import ZeroRedundancyOptimizer

        wrapped = torch.nn.parallel.DistributedDataParallel(model)
        optimizer = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=AdamW, **ADAMW)
        return wrapped, optimizer, list(model.parameters()), optimizer.optim
    if strategy == "torch-fsdp2":
        from torch.distributed.fsdp import fully_shard

        for block in model.layers:
            fully_shard(block)
        fully_shard(model)
        optimizer = AdamW(model.parameters(), **ADAMW)
        return model, optimizer, list(model.parameters()), optimizer
    raise ValueError(f"strategy={strategy!r}; expected one of {STRATEGIES}")


def _full_state(strategy: str, wrapped, model) -> dict[str, torch.Tensor]:
    if strategy.startswith("zero3"):
        wrapped.gather_full_parameters()
    state = {}
    for k, v in model.state_dict().items():
        v = v.full_tensor() if hasattr(v, "full_tensor") else v  # FSDP2's DTensor
        state[k] = v.detach().clone()
    if strategy.startswith("zero3"):
        wrapped.free_full_parameters()
    return state


def strategy_worker(rank: int, world_size: int, strategies, config: dict, batches: torch.Tensor,
                    seed: int = 0) -> dict[str, dict]:
    """Train every strategy in turn on this rank's shard of each batch; see the module docstring."""
    out = {}
    shard = batches.shape[1] // world_size
    for strategy in strategies:
        model = _model(config, seed + rank)  # different on each rank: the broadcast must fix it
        wrapped, optimizer, counted, local = _setup(strategy, model)
        for step, batch in enumerate(batches):
            last = step == len(batches) - 1
            with count_communication() as log:
                optimizer.zero_grad()
                _loss(wrapped, batch[rank * shard:(rank + 1) * shard]).backward()
                if hasattr(wrapped, "finish_gradient_synchronization"):
                    wrapped.finish_gradient_synchronization()
                if last:  # a snapshot just before the step (zero3 also records its peak, below)
                    memory = {"parameters": held_bytes(counted),
                              "gradients": held_bytes(p.grad for p in counted),
                              "optimizer_state": state_bytes(local)}
                optimizer.step()
        extra = {}
        if strategy.startswith("zero3"):  # read before _full_state gathers every unit at once
            extra = {"peak_gathered": wrapped.peak_gathered_bytes, "wait_seconds": wrapped.wait_seconds}
        out[strategy] = {**extra, "state": _full_state(strategy, wrapped, model), "memory": memory,
                         "comm": log.by_op(), "volume": log.volume,
                         "num_params": sum(p.numel() for p in _model(config, seed).parameters())}
    return out


def run_strategies(strategies, config: dict, batches: torch.Tensor, world_size: int = 2, *,
                   backend: str = "gloo", timeout: float = 120.0) -> list[dict[str, dict]]:
    """Each rank's `strategy_worker` results, rank order; one spawn for all the strategies."""
    strategies = list(strategies)
    for strategy in strategies:
        if strategy not in STRATEGIES:
            raise ValueError(f"run_strategies: strategy={strategy!r}; expected one of {STRATEGIES}")
    if not isinstance(batches, torch.Tensor) or batches.ndim != 3:
        raise ValueError("run_strategies: batches must be a tensor (steps, batch, seq + 1) of token ids")
    if batches.shape[1] % world_size:
        raise ValueError(f"run_strategies: batch size {batches.shape[1]} is not divisible by "
                         f"world_size={world_size}; every rank needs an equal shard for the mean to match")
    return spawn(strategy_worker, world_size, args=(strategies, config, batches), backend=backend, timeout=timeout)
