"""Count what a process sends through torch.distributed: which collective, how many elements and bytes.

`count_communication()` is a context manager that wraps torch.distributed's collectives in the
current process (all_reduce, reduce_scatter_tensor, all_gather_into_tensor, broadcast, reduce,
all_gather, send, recv) and records every call; the wrapped functions still do the real work.
`all_gather_tensor` and `reduce_scatter_tensor` are the single-tensor collectives under whichever
name this torch has (with an all-reduce fallback for gloo builds without a reduce-scatter); the
rest of lmcourse.parallel calls them, so there is one place that knows the names.

Volume convention (the ZeRO paper's, Rajbhandari et al. 2020, section 7): a call's `volume` is the
number of elements of the *full* tensor the collective is about, from one rank's point of view:
- reduce_scatter_tensor: its input (the whole gradient being reduced), all_gather_into_tensor: its
  output (the whole parameter being assembled), broadcast / reduce / send / recv: the tensor;
- all_reduce counts twice its tensor, because a bandwidth-optimal all-reduce *is* a reduce-scatter
  followed by an all-gather; that is how data parallelism costs 2 Psi per step.
A ring implementation actually sends (N - 1) / N of these volumes per rank; the factor is the same
for every stage, so the comparison 2 Psi vs 3 Psi does not depend on it.

Left out: point-to-point batches (batch_isend_irecv), object collectives (broadcast_object_list,
all_gather_object), and collectives PyTorch issues from C++ without going through these Python
functions (so DistributedDataParallel's own bucketed all-reduces are not seen).
"""

from __future__ import annotations

import contextlib
import functools
from collections import defaultdict
from dataclasses import dataclass, field

import torch.distributed as dist
import torch.distributed.distributed_c10d as c10d

__all__ = ["CommRecord", "CommLog", "count_communication", "COUNTED_OPS", "all_gather_tensor", "reduce_scatter_tensor"]


def _size(t) -> tuple[int, int]:
    """(elements, bytes) of a tensor or a list of tensors."""
    tensors = t if isinstance(t, (list, tuple)) else [t]
    return sum(x.numel() for x in tensors), sum(x.numel() * x.element_size() for x in tensors)


# op -> (which argument holds the full tensor, volume multiplier); see the module docstring.
COUNTED_OPS = {
    "all_reduce": (0, 2),
    "reduce_scatter_tensor": (1, 1),  # (output shard, input): the input is the full tensor
    "reduce_scatter_single": (1, 1),  # its new name (torch 2.13)
    "all_gather_into_tensor": (0, 1),  # (output, input shard): the output is the full tensor
    "all_gather_single": (0, 1),
    "all_gather": (0, 1),  # (list of outputs, input)
    "broadcast": (0, 1),
    "reduce": (0, 1),
    "send": (0, 1),
    "recv": (0, 1),
}
_KEYWORDS = {"all_reduce": "tensor", "reduce_scatter_tensor": "input", "all_gather_into_tensor": "output_tensor",
             "reduce_scatter_single": "input", "all_gather_single": "output_tensor",
             "all_gather": "tensor_list", "broadcast": "tensor", "reduce": "tensor", "send": "tensor",
             "recv": "tensor"}


@dataclass(frozen=True)
class CommRecord:
    op: str
    elements: int  # of the full tensor (see the docstring)
    bytes: int
    volume: int  # elements, with all_reduce counted twice


@dataclass
class CommLog:
    """The calls recorded inside one `count_communication()` block, in call order."""

    records: list[CommRecord] = field(default_factory=list)

    @property
    def volume(self) -> int:
        """Total elements communicated under the ZeRO convention."""
        return sum(r.volume for r in self.records)

    @property
    def bytes(self) -> int:
        """Total bytes, all_reduce counted twice like the volume."""
        return sum(r.bytes * COUNTED_OPS[r.op][1] for r in self.records)

    def by_op(self) -> dict[str, dict[str, int]]:
        """op -> {"calls", "elements", "bytes", "volume"}."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "elements": 0, "bytes": 0, "volume": 0})
        for r in self.records:
            row = out[r.op]
            row["calls"] += 1
            row["elements"] += r.elements
            row["bytes"] += r.bytes
            row["volume"] += r.volume
        return dict(out)

    def clear(self) -> None:
        self.records.clear()


def _counting(op: str, original, log: CommLog, depth: list[int]):
    position, multiplier = COUNTED_OPS[op]

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if not depth[0]:  # a deprecated name calling its successor is one call, not two
            tensor = args[position] if len(args) > position else kwargs[_KEYWORDS[op]]
            elements, num_bytes = _size(tensor)
            log.records.append(CommRecord(op, elements, num_bytes, multiplier * elements))
        depth[0] += 1
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1

    return wrapper


def all_gather_tensor(output, input, async_op: bool = False):
    """Concatenate every rank's `input` into `output`, under this torch's name for it; with
    `async_op`, return the work handle to `wait()` on instead of waiting."""
    gather = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
    return gather(output, input, async_op=async_op)


def reduce_scatter_tensor(output, input) -> None:
    """Sum `input` across ranks and keep this rank's 1/N slice in `output`, under this torch's name for it.

    Older gloo builds have no single-tensor reduce-scatter; there, explicitly, an all-reduce and
    keeping this rank's slice (correct, but twice the bytes, and counted as the all-reduce it is).
    """
    scatter = getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor
    try:
        scatter(output, input)
    except RuntimeError as error:
        if "support" not in str(error).lower():
            raise
        summed = input.clone()
        dist.all_reduce(summed)
        output.copy_(summed.reshape(dist.get_world_size(), -1)[dist.get_rank()].view_as(output))


@contextlib.contextmanager
def count_communication():
    """Record every counted collective this process calls inside the block; yields a `CommLog`.

    Code must call the collectives through `torch.distributed` (``dist.all_reduce(...)``) at call
    time, as lmcourse.parallel does, for the wrapper to see them. Nested blocks are not supported.
    """
    log, depth = CommLog(), [0]
    saved = {}  # (module, op) -> the original function
    for op in COUNTED_OPS:
        original = getattr(dist, op, None)
        if original is None:  # a name this torch does not have yet
            continue
        wrapped = _counting(op, original, log, depth)
        for module in (dist, c10d):  # torch's own wrappers call through distributed_c10d
            if getattr(module, op, None) is original:
                saved[module, op] = original
                setattr(module, op, wrapped)
    try:
        yield log
    finally:
        for (module, op), original in saved.items():
            setattr(module, op, original)

