"""Collective communication: what each primitive does, a ring all-reduce from send/recv, and bandwidth.

- `collectives_demo` runs broadcast, reduce, all-reduce, reduce-scatter and all-gather on tiny tensors
  and returns what the rank held before and after each, so a chapter can draw the picture from a
  real run.
- `ring_all_reduce` is the bandwidth-optimal algorithm NCCL uses for large messages, written with
  point-to-point `isend`/`irecv`: a reduce-scatter phase (n-1 steps, each rank adds the chunk its
  left neighbour sends) then an all-gather phase (n-1 steps passing the finished chunks along). It
  handles any number of elements, including fewer than the world size (chunks may be uneven or empty).
- `reduce_scatter` checks the shapes and calls `comm.reduce_scatter_tensor` (this PyTorch's name for
  the single-tensor reduce-scatter, with an explicit all-reduce fallback for old gloo builds).
- `time_collectives` times each collective (and the ring) over message sizes; `algorithm_bandwidth`
  and `bus_bandwidth` turn times into the two figures nccl-tests reports.

Left out: tree and hierarchical algorithms (NCCL picks those itself), all-to-all (mixture of experts),
and overlapping communication with compute (chapter 7's DDP buckets do that).
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.distributed as dist

from lmcourse.parallel.comm import all_gather_tensor, reduce_scatter_tensor

__all__ = [
    "BUS_FACTOR",
    "collectives_demo",
    "ring_all_reduce",
    "ring_all_reduce_check",
    "reduce_scatter",
    "time_collectives",
    "algorithm_bandwidth",
    "bus_bandwidth",
]


def _bus_factor_all_reduce(n: int) -> float:
    return 2 * (n - 1) / n


def _bus_factor_shard(n: int) -> float:
    return (n - 1) / n


# nccl-tests' correction from algorithm to bus bandwidth: how many times each byte of the message
# must cross some link per rank for the optimal (ring) algorithm, so busbw is comparable to link speed.
BUS_FACTOR = {
    "all_reduce": _bus_factor_all_reduce,
    "ring_all_reduce": _bus_factor_all_reduce,
    "reduce_scatter": _bus_factor_shard,
    "all_gather": _bus_factor_shard,
    "broadcast": lambda n: 1.0,
    "reduce": lambda n: 1.0,
}


def algorithm_bandwidth(num_bytes: float, seconds: float) -> float:
    """algbw = message size / time (bytes/s); `num_bytes` is the full tensor, not a shard."""
    if num_bytes < 0 or seconds <= 0:
        raise ValueError(f"algorithm_bandwidth: num_bytes={num_bytes}, seconds={seconds}; expected >= 0 and > 0")
    return num_bytes / seconds


def bus_bandwidth(op: str, num_bytes: float, seconds: float, world_size: int) -> float:
    """busbw = algbw * factor(op, n): 2(n-1)/n for all-reduce, (n-1)/n for reduce-scatter/all-gather."""
    if op not in BUS_FACTOR:
        raise ValueError(f"bus_bandwidth: op={op!r}; expected one of {sorted(BUS_FACTOR)}")
    if world_size < 1:
        raise ValueError(f"bus_bandwidth: world_size={world_size}; expected >= 1")
    return algorithm_bandwidth(num_bytes, seconds) * BUS_FACTOR[op](world_size)


def reduce_scatter(output: torch.Tensor, input: torch.Tensor) -> None:
    """output (numel / n) <- this rank's slice of the sum over ranks of input (numel divisible by n)."""
    n = dist.get_world_size()
    if input.numel() != n * output.numel():
        raise ValueError(
            f"reduce_scatter: input.numel()={input.numel()} must be world_size={n} x output.numel()={output.numel()}"
        )
    reduce_scatter_tensor(output, input)


def collectives_demo(rank: int, world_size: int) -> dict:
    """Each collective on a tiny tensor: {op: {"before": tensor, "after": tensor or None}} for this rank.

    Every rank starts from `arange(2n) + 10 * rank`. Reduce leaves non-destination buffers
    unspecified, so their "after" is None. The all-gather gathers the reduce-scatter's output, which
    is how ZeRO and FSDP rebuild an all-reduce from the two halves.
    """
    start = torch.arange(2 * world_size, dtype=torch.float32) + 10 * rank
    shown: dict[str, dict] = {}

    x = start.clone()
    dist.broadcast(x, src=0)
    shown["broadcast"] = {"before": start.clone(), "after": x}

    x = start.clone()
    dist.reduce(x, dst=0)
    shown["reduce"] = {"before": start.clone(), "after": x if rank == 0 else None}

    x = start.clone()
    dist.all_reduce(x)
    shown["all_reduce"] = {"before": start.clone(), "after": x}

    shard = torch.empty(2)
    reduce_scatter(shard, start.clone())
    shown["reduce_scatter"] = {"before": start.clone(), "after": shard}

    gathered = torch.empty(2 * world_size)
    all_gather_tensor(gathered, shard)
    shown["all_gather"] = {"before": shard.clone(), "after": gathered}
    return shown


def _exchange(send: torch.Tensor, recv: torch.Tensor, right: int, left: int) -> None:
    """Send to the right neighbour while receiving from the left; both at once, so no rank deadlocks."""
    requests = []
    if send.numel():
        requests.append(dist.isend(send, right))
    if recv.numel():
        requests.append(dist.irecv(recv, left))
    for request in requests:
        request.wait()


def ring_all_reduce(tensor: torch.Tensor) -> torch.Tensor:
    """Sum `tensor` over all ranks in place with a ring of send/recv; returns it.

    Each rank sends and receives 2(n-1)/n of the message in total, independent of n: that is why the
    ring is bandwidth-optimal, and where the bus-bandwidth factor comes from. Latency grows as 2(n-1)
    steps, which is why NCCL switches to trees for small messages on many GPUs.
    """
    if not tensor.is_floating_point():
        raise TypeError(f"ring_all_reduce: tensor.dtype={tensor.dtype}; expected a floating-point tensor")
    n, rank = dist.get_world_size(), dist.get_rank()
    if n == 1:
        return tensor
    flat = tensor.detach().reshape(-1).clone()
    chunks = torch.tensor_split(flat, n)  # views into flat; sizes differ by at most one element
    right, left = (rank + 1) % n, (rank - 1) % n
    # Reduce-scatter: after step s, the chunk received has been summed over s + 2 ranks;
    # after n - 1 steps rank r owns the complete sum of chunk (r + 1) % n.
    for step in range(n - 1):
        send, receive = chunks[(rank - step) % n], chunks[(rank - step - 1) % n]
        incoming = torch.empty_like(receive)
        _exchange(send, incoming, right, left)
        receive.add_(incoming)
    # All-gather: pass the finished chunks around the ring, overwriting the stale partial sums.
    for step in range(n - 1):
        _exchange(chunks[(rank + 1 - step) % n], chunks[(rank - step) % n], right, left)
    tensor.copy_(flat.view_as(tensor))
    return tensor


def ring_all_reduce_check(rank: int, world_size: int, numels=(1, 7, 1000, 4099), seed: int = 0) -> dict:
    """Worker: ring_all_reduce against dist.all_reduce on random tensors of several sizes.

    Returns {numel: max abs difference}; sizes below and not divisible by the world size included.
    """
    torch.manual_seed(seed + rank)
    differences = {}
    for numel in numels:
        x = torch.randn(numel, dtype=torch.float64)
        reference = x.clone()
        dist.all_reduce(reference)
        differences[numel] = (ring_all_reduce(x.clone()) - reference).abs().max().item()
    return differences


def _timed(fn, repeats: int) -> float:
    """Median over repeats of the slowest rank's time: a collective is done when every rank is."""
    times = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    slowest = torch.tensor(times, dtype=torch.float64)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    return statistics.median(slowest.tolist())


def time_collectives(rank: int, world_size: int, sizes_bytes=(2**12, 2**16, 2**20, 2**23), repeats: int = 5,
                     ops=("all_reduce", "ring_all_reduce", "reduce_scatter", "all_gather")) -> list[dict]:
    """Worker: median seconds of each op for each message size (fp32, full-tensor bytes).

    Returns rows {"op", "bytes", "seconds"} (the same on every rank).
    """
    unknown = set(ops) - {"all_reduce", "ring_all_reduce", "reduce_scatter", "all_gather"}
    if unknown:
        raise ValueError(f"time_collectives: ops={ops}; unknown {sorted(unknown)}")
    rows = []
    for num_bytes in sizes_bytes:
        numel = max(world_size, num_bytes // 4 // world_size * world_size)
        full, shard = torch.randn(numel), torch.randn(numel // world_size)
        run = {
            "all_reduce": lambda: dist.all_reduce(full),
            "ring_all_reduce": lambda: ring_all_reduce(full),
            "reduce_scatter": lambda: reduce_scatter(shard, full),
            "all_gather": lambda: all_gather_tensor(full, shard),
        }
        for op in ops:
            run[op]()  # warm-up: first use of a size allocates buffers and sets up connections
            rows.append({"op": op, "bytes": numel * 4, "seconds": _timed(run[op], repeats)})
    return rows
