"""The course's data-parallel implementations as strategies for the training loop and the CLI.

`make_strategy(name, model, optimizer_kwargs)` wraps a model (already on its device, with its final
weights: a resumed checkpoint is loaded before wrapping) into one of
  "none" (one process), "ddp" (`DDPBucketed`), "zero1" (`ShardedOptimizer`), "zero2"
  (`ShardedGradientOptimizer`), "fsdp" (`FullyShardedModule`, ZeRO stage 3),
  "torch-ddp" (PyTorch's DistributedDataParallel) and "torch-fsdp" (PyTorch's FSDP2, `fully_shard`),
  to compare against,
each driving `lmcourse.train.AdamW`, and presenting the interface of
`lmcourse.train.distributed.SingleProcess`: this module adds no parallelism of its own, only the
bookkeeping the loop needs around the chapter-7 classes:

- where the gradients of this rank's update are (and whether they are a shard, whose norm is
  summed across ranks) for clipping;
- `full_state()`: the optimizer state gathered into AdamW's single-process form (per parameter m, v,
  step), and `load_optimizer_state` cutting that form back into this rank's shards, so a checkpoint
  does not depend on the number of ranks or the strategy that wrote it.

Leaves out: optimizers other than AdamW for the sharded strategies, several parameter groups, and
FSDP2's mixed-precision and CPU-offload policies (the loop's autocast does the mixed precision).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from lmcourse.parallel.comm import all_gather_tensor
from lmcourse.parallel.ddp import DDPBucketed, broadcast_module
from lmcourse.parallel.fsdp import FullyShardedModule
from lmcourse.parallel.zero import ShardedGradientOptimizer, ShardedOptimizer
from lmcourse.train.distributed import SingleProcess
from lmcourse.train.optim import AdamW

__all__ = ["STRATEGIES", "make_strategy"]

STRATEGIES = ("none", "ddp", "zero1", "zero2", "fsdp", "torch-ddp", "torch-fsdp")
ELEMENTWISE = ("m", "v")  # AdamW's per-element state; "step" is one number per parameter
DDP_BUCKET_MB = 25.0  # PyTorch DDP's default bucket size


class _Distributed(SingleProcess):
    """What every multi-process strategy shares: rank, world size, the average over ranks."""

    def __init__(self, model, module, optimizer):
        super().__init__(model, optimizer)
        self.module, self.rank, self.world_size = module, dist.get_rank(), dist.get_world_size()

    def all_mean(self, value: torch.Tensor) -> torch.Tensor:
        value = value.detach().to(self._device(), torch.float32).clone()
        dist.all_reduce(value)
        return value / self.world_size

    def _canonical(self, states: list[dict | None]) -> dict:
        """AdamW's state_dict for the model's parameters, from one state (or None) per parameter."""
        if len(self.optimizer.param_groups) != 1:
            raise ValueError(f"{self.name}: the optimizer has {len(self.optimizer.param_groups)} parameter groups; "
                             "checkpointing sharded state supports one")
        hyper = {k: v for k, v in self.optimizer.param_groups[0].items() if k != "params"}
        return {"state": {i: s for i, s in enumerate(states) if s},
                "param_groups": [{**hyper, "params": list(range(len(states)))}]}

    def _states(self, state: dict) -> list[dict | None]:
        """The inverse of `_canonical`: one state (or None) per model parameter, on this rank's device."""
        self.check_optimizer_state(state)
        device = self._device()
        per_param = [None] * len(list(self.model.parameters()))
        for index, entry in state["state"].items():
            per_param[int(index)] = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in entry.items()}
        return per_param


class _DDP(_Distributed):
    """Ours (bucketed all-reduce, `lmcourse.parallel.ddp`) or PyTorch's: every rank holds everything."""

    def __init__(self, name, model, optimizer_kwargs):
        self.name = name
        if name == "ddp":
            module = DDPBucketed(model, DDP_BUCKET_MB)
        else:
            device = next(model.parameters()).device
            module = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None)
        super().__init__(model, module, AdamW(model.parameters(), **optimizer_kwargs))

    def finish_backward(self) -> None:
        if self.name == "ddp":  # PyTorch's DDP has averaged the gradients inside backward already
            self.module.finish_gradient_synchronization()

    def load_optimizer_state(self, state: dict) -> None:
        self.check_optimizer_state(state)
        self.optimizer.load_state_dict(state)


class _Zero1(_Distributed):
    """ZeRO stage 1: each parameter's AdamW state lives on its owner rank."""

    name, sharded = "zero1", True

    def __init__(self, model, optimizer_kwargs):
        broadcast_module(model)  # the optimizer starts from each rank's values: make them rank 0's
        super().__init__(model, model, ShardedOptimizer(model.parameters(), AdamW, **optimizer_kwargs))

    @property
    def base_optimizer(self):
        return self.optimizer.local

    def full_state(self):
        params, local = list(self.model.parameters()), self.optimizer.local.state
        owner = [self.optimizer.owner[p] for p in params]
        # One all-reduce tells every rank which parameters have state, and at which step.
        steps = torch.tensor([local[p]["step"] if owner[i] == self.rank and p in local else 0
                              for i, p in enumerate(params)], dtype=torch.int64, device=self._device())
        dist.all_reduce(steps)
        states = []
        for i, p in enumerate(params):
            if not steps[i]:
                states.append(None)
                continue
            mine = owner[i] == self.rank
            state = {"step": int(steps[i])}
            for key in ELEMENTWISE:
                tensor = local[p][key].clone() if mine else torch.empty_like(p)
                dist.broadcast(tensor, src=owner[i])
                state[key] = tensor
            states.append(state)
        return self.model.state_dict(), self._canonical(states)

    def load_optimizer_state(self, state):
        for p, entry in zip(self.model.parameters(), self._states(state)):
            if entry is not None and self.optimizer.owner[p] == self.rank:
                self.optimizer.local.state[p] = entry


class _Zero2(_Distributed):
    """ZeRO stage 2: each parameter is split into N flat shards; AdamW runs on this rank's shards.

    The shards' .grad hold the ranks' *sum* until the outer step divides it, right before the local
    step whose pre-hook clips: by then they are the averages the norm is defined on."""

    name, sharded = "zero2", True

    def __init__(self, model, optimizer_kwargs):
        broadcast_module(model)
        super().__init__(model, model, ShardedGradientOptimizer(model.parameters(), AdamW, **optimizer_kwargs))

    @property
    def base_optimizer(self):
        return self.optimizer.local

    def full_state(self):
        states = []
        for p in self.model.parameters():
            entry = self.optimizer.local.state.get(self.optimizer.shard_of[p])
            states.append(None if not entry else {
                "step": entry["step"], **{k: _gather_flat(entry[k], p.numel(), self.world_size).view_as(p)
                                          for k in ELEMENTWISE}})
        return {k: v.clone() for k, v in self.model.state_dict().items()}, self._canonical(states)

    def load_optimizer_state(self, state):
        for p, entry in zip(self.model.parameters(), self._states(state)):
            if entry is not None:
                shard = self.optimizer.shard_of[p]
                self.optimizer.local.state[shard] = {
                    "step": entry["step"],
                    **{k: _my_slice(entry[k].reshape(-1), shard.numel(), self.rank) for k in ELEMENTWISE}}


class _FSDP(_Distributed):
    """ZeRO stage 3: parameters, gradients and AdamW state all live as flat per-unit shards."""

    name, sharded = "fsdp", True

    def __init__(self, model, optimizer_kwargs):
        module = FullyShardedModule(model)
        super().__init__(model, module, AdamW(module.sharded_parameters(), **optimizer_kwargs))
        self._index = {id(p): i for i, p in enumerate(model.parameters())}

    def finish_backward(self):
        self.module.finish_gradient_synchronization()

    def full_state(self):
        states = [None] * len(self._index)
        for unit in self.module.units:
            entry = self.optimizer.state.get(unit.shard)
            if not entry:
                continue
            full = {k: _gather_flat(entry[k], unit.chunk * self.world_size, self.world_size) for k in ELEMENTWISE}
            offset = 0
            for p in unit.params:
                states[self._index[id(p)]] = {"step": entry["step"], **{
                    k: full[k][offset:offset + p.numel()].view_as(p).clone() for k in ELEMENTWISE}}
                offset += p.numel()
        self.module.gather_full_parameters()
        try:
            model_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        finally:
            self.module.free_full_parameters()
        return model_state, self._canonical(states)

    def load_optimizer_state(self, state):
        per_param = self._states(state)
        for unit in self.module.units:
            entries = [per_param[self._index[id(p)]] for p in unit.params]
            if all(e is None for e in entries):
                continue
            if any(e is None for e in entries):
                raise ValueError("checkpoint optimizer has state for some parameters of an FSDP unit and not "
                                 "others; it was not written by AdamW over every parameter")
            self.optimizer.state[unit.shard] = {"step": entries[0]["step"], **{
                k: _my_slice(torch.cat([e[k].reshape(-1) for e in entries]), unit.chunk, self.rank)
                for k in ELEMENTWISE}}


class _TorchFSDP(_Distributed):
    """PyTorch's FSDP2: `fully_shard` on every block, then on the root, so each block's parameters
    are gathered just before it runs and freed after. Every parameter becomes a DTensor sharded
    along dim 0, and AdamW's state (created by `zeros_like`) is sharded the same way: the course's
    AdamW runs unchanged on DTensors."""

    name, sharded = "torch-fsdp", True

    def __init__(self, model, optimizer_kwargs):
        from torch.distributed.fsdp import fully_shard

        broadcast_module(model)  # fully_shard keeps each rank's own slice: make them all rank 0's
        for block in model.layers:
            fully_shard(block)
        fully_shard(model)
        super().__init__(model, model, AdamW(model.parameters(), **optimizer_kwargs))
        # The sharded parameters, in the model's order. model.parameters() is not always them: FSDP2
        # swaps the unsharded tensors in while a module runs, and leaves the root's in after a forward
        # with no backward (an evaluation).
        self.sharded_params = list(self.optimizer.param_groups[0]["params"])

    def _before_update(self, optimizer, args, kwargs) -> None:
        # The norm from the local shards (a DTensor's own norm would already be global, and summing
        # it again over ranks would count it twice); the clip scales the local shards in place.
        max_norm, wanted = self._want
        if not wanted:
            return
        local = [p.grad.to_local() for p in self.sharded_params if p.grad is not None]
        squared = sum((g.detach().float().square().sum() for g in local), torch.zeros((), device=self._device()))
        dist.all_reduce(squared)
        self._norm = squared.sqrt()
        if max_norm:
            scale = torch.where(self._norm > max_norm, max_norm / (self._norm + 1e-6), 1.0)
            for g in local:
                g.mul_(scale.to(g.dtype))

    def full_state(self):
        def full(t):
            return t.full_tensor() if hasattr(t, "full_tensor") else t

        states = []
        for p in self.sharded_params:
            entry = self.optimizer.state.get(p)
            states.append(None if not entry else {"step": entry["step"], **{k: full(entry[k]) for k in ELEMENTWISE}})
        model_state = {k: full(v).detach().clone() for k, v in self.model.state_dict().items()}
        return model_state, self._canonical(states)

    def load_optimizer_state(self, state):
        from torch.distributed.tensor import distribute_tensor

        for p, entry in zip(self.sharded_params, self._states(state)):
            if entry is not None:
                self.optimizer.state[p] = {"step": entry["step"], **{
                    k: distribute_tensor(entry[k].to(p.dtype), p.device_mesh, p.placements) for k in ELEMENTWISE}}


def _gather_flat(shard: torch.Tensor, numel: int, world_size: int) -> torch.Tensor:
    """Every rank's equal `shard` concatenated, cut to the first `numel` elements (the rest is padding)."""
    full = shard.new_empty(shard.numel() * world_size)
    all_gather_tensor(full, shard.detach().contiguous())
    return full[:numel]


def _my_slice(flat: torch.Tensor, chunk: int, rank: int) -> torch.Tensor:
    """Elements rank * chunk .. (rank + 1) * chunk - 1 of `flat`, zero-padded past its end (as the shards are)."""
    mine = flat[rank * chunk:(rank + 1) * chunk]
    return torch.cat([mine, mine.new_zeros(chunk - mine.numel())])


def make_strategy(name: str, model: torch.nn.Module, optimizer_kwargs: dict) -> SingleProcess:
    """The strategy `name` (one of STRATEGIES) around `model`, with AdamW(**optimizer_kwargs)."""
    if name not in STRATEGIES:
        raise ValueError(f"make_strategy: name={name!r}; expected one of {STRATEGIES}")
    world_size = dist.get_world_size() if dist.is_initialized() else 1
    if name == "none":
        if world_size > 1:
            raise ValueError(f"parallel 'none' with {world_size} ranks would train {world_size} unrelated models; "
                             f"choose one of {STRATEGIES[1:]}")
        return SingleProcess(model, AdamW(model.parameters(), **optimizer_kwargs))
    if not dist.is_initialized():
        raise ValueError(f"parallel {name!r} needs several processes: start them with torchrun "
                         "(e.g. torchrun --nproc_per_node=2 -m lmcourse.train ...)")
    if name in ("ddp", "torch-ddp"):
        return _DDP(name, model, optimizer_kwargs)
    return {"zero1": _Zero1, "zero2": _Zero2, "fsdp": _FSDP, "torch-fsdp": _TorchFSDP}[name](model, optimizer_kwargs)
