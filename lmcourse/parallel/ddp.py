"""Distributed data parallelism: every rank holds the whole model and averages gradients with the others.

Each rank runs the same program on its own shard of the batch (SPMD). If the loss is a mean over
the batch, the average of the ranks' gradients is the full batch's gradient, so after one
all-reduce every rank takes the same optimizer step and the replicas never drift apart.

- `DDPIndividualParameters(module)`: one asynchronous all-reduce per parameter, launched by a
  post-accumulate-grad hook the moment that gradient is final, so communication overlaps the rest
  of the backward pass.
- `DDPBucketed(module, bucket_size_mb)`: parameters grouped (in reverse order, the order backward
  produces their gradients) into buckets of about bucket_size_mb; a bucket's gradients are flattened
  and all-reduced together as soon as the last one is ready: fewer, larger messages.

Both broadcast rank 0's parameters and buffers at construction, skip frozen parameters, handle a
parameter registered twice (tied embeddings) once, and leave `.grad` None for a parameter that got
no gradient this step (every rank must leave out the same parameters, as in single-process code
that does not use them). Call `finish_gradient_synchronization()` after each backward and before
the optimizer step. Left out: gradient accumulation across several backwards (no `no_sync`),
bucket rebuilding from the observed gradient order, and process subgroups.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["DDPIndividualParameters", "DDPBucketed", "trainable_parameters", "broadcast_module"]


def trainable_parameters(module: nn.Module) -> list[nn.Parameter]:
    """Parameters with requires_grad, each once (a tied matrix is one Parameter registered twice)."""
    return [p for p in module.parameters() if p.requires_grad]  # parameters() already drops duplicates


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank src's parameters and buffers to every rank, so all replicas start identical."""
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src)


def check_module(cls: str, module) -> None:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{cls}: module={type(module).__name__!r}; expected a torch.nn.Module")


def check_initialized(cls: str) -> None:
    if not dist.is_initialized():
        raise RuntimeError(f"{cls}: torch.distributed is not initialized; start the ranks with "
                           "lmcourse.parallel.launch.spawn (or torchrun + init_process_group)")


class _DataParallel(nn.Module):
    """What both variants share: the wrapped module, the broadcast, forward, pending handles."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module
        self.world_size = dist.get_world_size()
        broadcast_module(module)
        self._params = trainable_parameters(module)
        self._ready: set[int] = set()  # ids of parameters whose gradient arrived this step
        for p in self._params:
            p.register_post_accumulate_grad_hook(self._on_grad_ready)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _on_grad_ready(self, p: torch.Tensor) -> None:
        if id(p) in self._ready:
            raise RuntimeError(f"{type(self).__name__}: a second backward before finish_gradient_synchronization(); "
                               "call it after every backward (gradient accumulation is not supported)")
        self._ready.add(id(p))
        self._launch(p)


class DDPIndividualParameters(_DataParallel):
    """An asynchronous all-reduce per parameter gradient, overlapping the backward pass."""

    def __init__(self, module: nn.Module):
        check_module("DDPIndividualParameters", module)
        check_initialized("DDPIndividualParameters")
        super().__init__(module)
        self._handles: list[tuple[torch.Tensor, dist.Work]] = []

    def _launch(self, p: torch.Tensor) -> None:
        self._handles.append((p.grad, dist.all_reduce(p.grad, async_op=True)))

    def finish_gradient_synchronization(self) -> None:
        """Wait for every launched all-reduce and turn the sums into averages."""
        for grad, handle in self._handles:
            handle.wait()
            grad.div_(self.world_size)
        self._handles.clear()
        self._ready.clear()


class DDPBucketed(_DataParallel):
    """Gradients flattened into buckets of about bucket_size_mb MiB, one all-reduce per bucket."""

    def __init__(self, module: nn.Module, bucket_size_mb: float):
        check_module("DDPBucketed", module)
        if isinstance(bucket_size_mb, bool) or not isinstance(bucket_size_mb, (int, float)) or not bucket_size_mb > 0:
            raise ValueError(f"DDPBucketed: bucket_size_mb={bucket_size_mb!r}; expected a number > 0 (MiB)")
        check_initialized("DDPBucketed")
        super().__init__(module)
        self.bucket_size_mb = bucket_size_mb
        self.buckets = self._make_buckets(bucket_size_mb * 2**20)
        self._bucket_of = {id(p): i for i, bucket in enumerate(self.buckets) for p in bucket}
        self._arrived = [0] * len(self.buckets)
        self._pending: list[tuple[list[torch.Tensor], torch.Tensor, dist.Work]] = []

    def _make_buckets(self, capacity: float) -> list[list[nn.Parameter]]:
        # Backward meets the last layers first, so filling buckets from the end lets the first
        # bucket's all-reduce start while the earlier layers are still computing their gradients.
        buckets, size = [[]], 0
        for p in reversed(self._params):
            nbytes = p.numel() * p.element_size()
            if buckets[-1] and size + nbytes > capacity:
                buckets.append([])
                size = 0
            buckets[-1].append(p)
            size += nbytes
        return buckets if buckets[0] else []

    def _launch(self, p: torch.Tensor) -> None:
        index = self._bucket_of[id(p)]
        self._arrived[index] += 1
        if self._arrived[index] == len(self.buckets[index]):
            self._all_reduce(self.buckets[index])

    def _all_reduce(self, params: list[torch.Tensor]) -> None:
        grads = [p.grad for p in params if p.grad is not None and id(p) in self._ready]
        flat = torch.cat([g.reshape(-1) for g in grads])
        self._pending.append((grads, flat, dist.all_reduce(flat, async_op=True)))

    def finish_gradient_synchronization(self) -> None:
        """All-reduce the buckets some of whose parameters got no gradient, wait, unflatten, average."""
        for index, bucket in enumerate(self.buckets):
            if 0 < self._arrived[index] < len(bucket):
                self._all_reduce(bucket)
        for grads, flat, handle in self._pending:
            handle.wait()
            flat.div_(self.world_size)
            offset = 0
            for g in grads:
                g.copy_(flat[offset:offset + g.numel()].view_as(g))
                offset += g.numel()
        self._pending.clear()
        self._arrived = [0] * len(self.buckets)
        self._ready.clear()
