"""ZeRO stage 3 / FSDP: parameters, gradients and optimizer state all sharded across the ranks.

`FullyShardedModule(module, units=None)` splits the model into units (by default each block of
every nn.ModuleList child, e.g. TransformerLM.layers, plus the root module, which takes every
parameter no unit claimed: embeddings, final norm, output head). A unit's parameters live as one
flat fp32 buffer, zero-padded to a multiple of N, of which each rank keeps a 1/N `shard`. Hooks
make the full parameters exist only while they are used:

- before a unit's forward: all-gather the shards into the unit's full buffer (the parameters are
  views into it); after the forward: free the buffer's storage;
- before the unit's backward (a hook on its output's gradient): all-gather again;
- when every gradient of the unit is final: reduce-scatter them (each rank receives the sum of its
  shard's gradient), drop the full gradients and free the buffer again.

Per step that is an all-gather in forward, one in backward and a reduce-scatter: 3 Psi, against
DDP's 2 Psi (ZeRO paper, section 7.2.2). With `prefetch=True`, each gather also starts the next
unit's all-gather asynchronously (the next in forward order during the forward, in backward order
during the backward), so that it travels while the current unit computes; the price is a second
unit's full parameters alive at once. `peak_gathered_bytes` records the most full-parameter bytes
alive at once since the module was built (read it before `gather_full_parameters`), and
`wait_seconds` the time spent blocked on all-gathers.

Freeing resizes the storage to zero instead of replacing tensors, so the views autograd saved
during forward see the values again once they are re-gathered (the trick PyTorch's first FSDP
used). The optimizer works on `sharded_parameters()`, whose `.grad` is the averaged gradient after
`finish_gradient_synchronization()`.

Left out: prefetching more than one unit ahead, rate-limiting the prefetches, mixed precision, CPU
offload, sharding frozen parameters (they stay replicated), a parameter shared by two units (a tied
embedding and output head must stay in one unit, as they do in the root), and gradient accumulation.
"""

from __future__ import annotations

import math
import time

import torch
import torch.distributed as dist
from torch import nn

from lmcourse.parallel.comm import all_gather_tensor, reduce_scatter_tensor
from lmcourse.parallel.ddp import broadcast_module, check_initialized, check_module

__all__ = ["FullyShardedModule", "ShardedUnit"]


class ShardedUnit:
    """A group of parameters stored as rank's 1/N flat shard, gathered and freed on demand."""

    def __init__(self, params: list[nn.Parameter], rank: int, world_size: int):
        self.params, self.rank, self.world_size = params, rank, world_size
        numel = sum(p.numel() for p in params)
        self.chunk = math.ceil(numel / world_size)
        with torch.no_grad():
            full = torch.zeros(self.chunk * world_size, dtype=params[0].dtype, device=params[0].device)
            torch.cat([p.reshape(-1) for p in params], out=full[:numel])
        self.shard = nn.Parameter(full[rank * self.chunk:(rank + 1) * self.chunk].clone())
        self.full, offset = full, 0
        for p in params:  # from now on every parameter is a view into the unit's full buffer
            p.data = full[offset:offset + p.numel()].view_as(p)
            offset += p.numel()
        self._nbytes = full.untyped_storage().nbytes()
        self.ready: set[int] = set()  # ids of the parameters whose gradient is final this step
        self.pending = None  # the work handle of an all-gather started ahead of use
        self.on_resize = lambda: None  # FullyShardedModule's memory tracker
        self.free()

    @property
    def gathered(self) -> bool:
        return self.full.untyped_storage().nbytes() > 0

    def gather(self, async_op: bool = False) -> None:
        """Make the full parameters available; with async_op, start the all-gather and return."""
        if not self.gathered:
            self.full.untyped_storage().resize_(self._nbytes)
            self.on_resize()
            self.pending = all_gather_tensor(self.full, self.shard.detach(), async_op=async_op)
        if not async_op and self.pending is not None:
            self.pending.wait()  # a prefetched all-gather must have landed before the unit computes
            self.pending = None

    def free(self) -> None:
        if self.pending is not None:  # never free a buffer an all-gather is still writing into
            self.pending.wait()
            self.pending = None
        self.full.untyped_storage().resize_(0)
        self.on_resize()

    def on_grad_ready(self, p: torch.Tensor) -> None:
        self.ready.add(id(p))
        if len(self.ready) == len(self.params):
            self.reduce_scatter()

    def reduce_scatter(self) -> None:
        """Sum the unit's gradients across ranks into shard.grad (zeros for a parameter without one)."""
        flat = self.full.new_zeros(self.chunk * self.world_size)
        offset = 0
        for p in self.params:
            if p.grad is not None:
                flat[offset:offset + p.numel()] = p.grad.reshape(-1)
                p.grad = None
            offset += p.numel()
        received = torch.empty_like(self.shard)
        reduce_scatter_tensor(received, flat)
        self.shard.grad = received
        self.ready.clear()
        self.free()


def _output_tensors(output) -> list[torch.Tensor]:
    items = output if isinstance(output, (tuple, list)) else [output]
    return [t for t in items if isinstance(t, torch.Tensor) and t.requires_grad]


class FullyShardedModule(nn.Module):
    """ZeRO stage 3 around `module`; see the module docstring."""

    def __init__(self, module: nn.Module, units: list[nn.Module] | None = None, prefetch: bool = False):
        super().__init__()
        check_module("FullyShardedModule", module)
        if units is None:
            units = [block for child in module.children() if isinstance(child, nn.ModuleList) for block in child]
        inside = {id(m) for m in module.modules()}
        for unit in units:
            if not isinstance(unit, nn.Module) or id(unit) not in inside or unit is module:
                raise ValueError(f"FullyShardedModule: units must be submodules of module; got {type(unit).__name__}")
        check_initialized("FullyShardedModule")
        self.module = module
        self.world_size = dist.get_world_size()
        self.prefetch = prefetch
        self.forward_order: list[ShardedUnit] = []  # the order units run in, learned in the first step
        self.backward_order: list[ShardedUnit] = []
        self.peak_gathered_bytes, self.wait_seconds = 0, 0.0
        broadcast_module(module)
        claimed: set[int] = set()
        self.units: list[ShardedUnit] = []
        for owner in [*units, module]:  # the root last: it takes whatever no unit claimed
            params = [p for p in owner.parameters() if p.requires_grad and id(p) not in claimed]
            if not params:
                continue
            claimed.update(id(p) for p in params)
            unit = ShardedUnit(params, dist.get_rank(), self.world_size)
            self.units.append(unit)
            unit.on_resize = self._track_memory
            owner.register_forward_pre_hook(lambda _m, _args, unit=unit: self._use(unit, self.forward_order))
            owner.register_forward_hook(lambda _m, _args, out, unit=unit: self._after_forward(unit, out))
            for p in params:
                p.register_post_accumulate_grad_hook(unit.on_grad_ready)

    def _track_memory(self) -> None:
        gathered = sum(unit._nbytes for unit in self.units if unit.gathered)
        self.peak_gathered_bytes = max(self.peak_gathered_bytes, gathered)

    def _use(self, unit: ShardedUnit, order: list[ShardedUnit]) -> None:
        """Gather `unit` (waiting for its prefetch, if any); then start the next unit's all-gather."""
        start = time.perf_counter()
        unit.gather()
        self.wait_seconds += time.perf_counter() - start
        if unit not in order:  # the first step: record the order instead of guessing it
            order.append(unit)
        elif self.prefetch and order.index(unit) + 1 < len(order):
            order[order.index(unit) + 1].gather(async_op=True)

    def _after_forward(self, unit: ShardedUnit, output) -> None:
        unit.free()
        for t in _output_tensors(output):  # the unit's backward starts once its output's gradient exists
            t.register_hook(lambda grad, unit=unit: self._use(unit, self.backward_order))

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def sharded_parameters(self) -> list[nn.Parameter]:
        """This rank's shards: what its optimizer steps."""
        return [unit.shard for unit in self.units]

    def finish_gradient_synchronization(self) -> None:
        """Reduce-scatter units some of whose parameters got no gradient, average, free everything."""
        for unit in self.units:
            if unit.ready:
                unit.reduce_scatter()
            unit.free()
            if unit.shard.grad is not None:
                unit.shard.grad.div_(self.world_size)

    @torch.no_grad()
    def gather_full_parameters(self) -> None:
        """All-gather every unit (e.g. to compare or save the full model); `free_full_parameters` undoes it."""
        for unit in self.units:
            unit.gather()

    def free_full_parameters(self) -> None:
        for unit in self.units:
            unit.free()
