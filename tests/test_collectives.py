"""lmcourse.parallel.collectives and interconnect: real gloo collectives, the ring all-reduce, bandwidth."""

import pytest
import torch
import torch.distributed as dist

from lmcourse.parallel.collectives import (BUS_FACTOR, algorithm_bandwidth, bus_bandwidth, collectives_demo,
                                           reduce_scatter, ring_all_reduce_check, time_collectives)
from lmcourse.parallel.interconnect import LINKS, link
from lmcourse.parallel.launch import spawn_each

pytestmark = pytest.mark.slow  # real torch.distributed processes: seconds per test


def _reduce_scatter_bad_shape(rank, world_size):
    try:
        reduce_scatter(torch.empty(2), torch.zeros(5))
    except ValueError as error:
        return str(error)
    return None


def _ring_rejects_integers(rank, world_size):
    from lmcourse.parallel.collectives import ring_all_reduce

    try:
        ring_all_reduce(torch.arange(4))
    except TypeError as error:
        return str(error)
    return None


def _reduce_scatter_fallback(rank, world_size):
    """reduce_scatter on a backend whose tensor reduce-scatter raises 'not supported' (old gloo)."""
    name = "reduce_scatter_single" if hasattr(dist, "reduce_scatter_single") else "reduce_scatter_tensor"
    original = getattr(dist, name)

    def unsupported(*args, **kwargs):
        raise RuntimeError("ProcessGroupGloo does not support reduce_scatter")

    setattr(dist, name, unsupported)
    try:
        shard = torch.empty(2)
        reduce_scatter(shard, torch.arange(4.0) + 10 * rank)
    finally:
        setattr(dist, name, original)
    return shard


@pytest.fixture(scope="module")
def two_ranks():
    """One start-up for every two-process check (processes take seconds to start)."""
    calls = [
        (collectives_demo, ()),
        (ring_all_reduce_check, ((1, 2, 7, 1000, 4099),)),
        (time_collectives, ((2**10, 2**16), 2)),
        (_reduce_scatter_bad_shape, ()),
        (_ring_rejects_integers, ()),
        (_reduce_scatter_fallback, ()),
    ]
    return spawn_each(calls, 2, timeout=180)


def test_collectives_demo_matches_the_definitions(two_ranks):
    demo = two_ranks[0]
    starts = [torch.arange(4.0) + 10 * rank for rank in range(2)]
    total = starts[0] + starts[1]
    for rank in range(2):
        shown = demo[rank]
        assert torch.equal(shown["broadcast"]["before"], starts[rank])
        assert torch.equal(shown["broadcast"]["after"], starts[0])
        assert torch.equal(shown["all_reduce"]["after"], total)
        assert torch.equal(shown["reduce_scatter"]["after"], total.chunk(2)[rank])
        assert torch.equal(shown["all_gather"]["before"], total.chunk(2)[rank])
        assert torch.equal(shown["all_gather"]["after"], total)  # reduce-scatter + all-gather = all-reduce
    assert torch.equal(demo[0]["reduce"]["after"], total)
    assert demo[1]["reduce"]["after"] is None


def test_ring_all_reduce_matches_dist_all_reduce_on_two_ranks(two_ranks):
    for differences in two_ranks[1]:
        assert set(differences) == {1, 2, 7, 1000, 4099}
        assert max(differences.values()) < 1e-12


def test_ring_all_reduce_on_three_ranks_with_uneven_and_tiny_tensors():
    # 3 ranks: sizes below, equal to and not divisible by the world size (empty chunks included).
    (differences,) = spawn_each([(ring_all_reduce_check, ((1, 2, 3, 5, 1001),))], 3, timeout=180)
    for per_rank in differences:
        assert max(per_rank.values()) < 1e-12


def test_time_collectives_rows(two_ranks):
    rows_0, rows_1 = two_ranks[2]
    assert rows_0 == rows_1  # the slowest rank's median, shared by all-reduce(MAX)
    ops = ("all_reduce", "ring_all_reduce", "reduce_scatter", "all_gather")
    assert [(row["op"], row["bytes"]) for row in rows_0] == [(op, size) for size in (2**10, 2**16) for op in ops]
    assert all(row["seconds"] > 0 for row in rows_0)


def test_reduce_scatter_falls_back_to_all_reduce_where_unsupported(two_ranks):
    total = torch.arange(4.0) * 2 + 10
    assert all(torch.equal(shard, total.chunk(2)[rank]) for rank, shard in enumerate(two_ranks[5]))


def test_errors_raised_inside_ranks(two_ranks):
    assert all("input.numel()=5" in message for message in two_ranks[3])
    assert all("floating-point" in message for message in two_ranks[4])
    with pytest.raises(ValueError, match="ops="):
        time_collectives(0, 2, ops=("all_to_all",))  # rejected before any communication


def test_bus_bandwidth_factors_are_those_of_nccl_tests():
    assert bus_bandwidth("all_reduce", 1e9, 1.0, 8) == pytest.approx(1e9 * 2 * 7 / 8)
    assert bus_bandwidth("reduce_scatter", 1e9, 1.0, 8) == pytest.approx(1e9 * 7 / 8)
    assert bus_bandwidth("all_gather", 1e9, 2.0, 4) == pytest.approx(0.5e9 * 3 / 4)
    assert bus_bandwidth("broadcast", 1e9, 1.0, 4) == pytest.approx(1e9)
    assert BUS_FACTOR["all_reduce"](1) == 0.0  # one rank sends nothing
    assert algorithm_bandwidth(4e6, 2e-3) == pytest.approx(2e9)


def test_bandwidth_errors():
    with pytest.raises(ValueError, match="op='all_to_all'"):
        bus_bandwidth("all_to_all", 1, 1, 2)
    with pytest.raises(ValueError, match="seconds=0"):
        algorithm_bandwidth(10, 0)
    with pytest.raises(ValueError, match="world_size=0"):
        bus_bandwidth("all_reduce", 1, 1, 0)


def test_interconnect_table_is_a_hierarchy():
    bandwidths = [entry.bandwidth for entry in LINKS]
    assert bandwidths == sorted(bandwidths, reverse=True)  # each level slower than the one above
    assert link("HBM").bandwidth == pytest.approx(3.35e12)
    assert link("NVLink").bandwidth == pytest.approx(450e9)
    with pytest.raises(ValueError, match="level='L2'"):
        link("L2")


def test_collective_helpers_need_a_process_group():
    assert not dist.is_initialized()
    with pytest.raises((RuntimeError, ValueError)):
        reduce_scatter(torch.empty(1), torch.empty(2))
