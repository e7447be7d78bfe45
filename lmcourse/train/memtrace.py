"""The memory of training steps as it rises and falls: bytes alive after every event of a step.

`deep_linear_memory` and `training_memory` (lmcourse.accounting) add the four kinds of training
memory: parameters, gradients, optimiser state and activations. They are never all alive at once.
The forward pass saves activations one by one; the backward pass frees each layer's as soon as it
has used them and writes that layer's gradients; the optimiser step creates its state the first time
it runs; `zero_grad(set_to_none=True)` drops the gradients. `memory_timeline` follows a model through
real steps and records the bytes alive after each of those events, so the peak and the steady state
(what stays between steps) can be read off instead of assumed.

How it sees them: a saved-tensors hook wraps each tensor autograd keeps for backward (parameters and
the input batch excluded: they are alive anyway), counting a storage once however many views of it
are saved, and a finalizer notices when autograd drops it; a post-accumulate-grad hook on each
parameter notices each gradient written.

Left out: temporaries that no one saves (the outputs of operations freed at once, workspace of
kernels), the allocator's caching and fragmentation (what `torch.cuda.max_memory_allocated` would
add on a GPU), and optimiser state that is not a tensor attribute of `optimizer.state`.
"""

from __future__ import annotations

import weakref

import torch

__all__ = ["memory_timeline"]


def memory_timeline(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: torch.Tensor,
                    steps: int = 2, loss_fn=lambda output: output.mean()) -> list[tuple[str, int]]:
    """(event, bytes alive) after every event of `steps` training steps of `model` on `batch`."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"memory_timeline: steps={steps!r}; expected an integer >= 1")
    params = [p for p in model.parameters() if p.requires_grad]
    skip = {p.untyped_storage().data_ptr() for p in params} | {batch.untyped_storage().data_ptr()}
    live, times_saved, timeline = {"activations": 0}, {}, []

    def record(event: str) -> None:
        state = sum(t.nbytes for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t))
        grads = sum(p.grad.nbytes for p in params if p.grad is not None)
        timeline.append((event, sum(p.nbytes for p in params) + state + live["activations"] + grads))

    def release(ptr: int, nbytes: int) -> None:  # autograd dropped a saved tensor: its backward has run
        times_saved[ptr] -= 1
        if not times_saved[ptr]:
            live["activations"] -= nbytes
            record("activation freed")

    class Saved:
        def __init__(self, tensor):
            self.tensor, storage = tensor, tensor.untyped_storage()
            ptr = storage.data_ptr()
            times_saved[ptr] = times_saved.get(ptr, 0) + 1
            if times_saved[ptr] == 1:
                live["activations"] += storage.nbytes()
                record("activation saved")
            weakref.finalize(self, release, ptr, storage.nbytes())

    def pack(tensor):
        return tensor if tensor.untyped_storage().data_ptr() in skip else Saved(tensor)

    def unpack(saved):
        return saved.tensor if isinstance(saved, Saved) else saved

    hooks = [p.register_post_accumulate_grad_hook(lambda p: record("gradient written")) for p in params]
    try:
        for _ in range(steps):
            with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
                loss = loss_fn(model(batch))
            loss.backward()
            del loss
            optimizer.step()
            record("optimiser step")
            optimizer.zero_grad(set_to_none=True)
            record("gradients dropped")
    finally:
        for hook in hooks:
            hook.remove()
    return timeline
