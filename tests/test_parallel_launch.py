"""lmcourse.parallel.launch: real gloo processes; every test is bounded by spawn's own timeout."""

import os
import time

import psutil
import pytest
import torch
import torch.distributed as dist

from lmcourse.parallel.launch import RankError, spawn

pytestmark = pytest.mark.slow  # real torch.distributed processes: seconds per test


def _rank_children() -> list:
    """Live children started by multiprocessing's spawn (the resource tracker is not a rank)."""
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                alive.append(child)
        except psutil.NoSuchProcess:
            pass
    return alive


def _sum_ranks(rank, world_size, scale):
    t = torch.tensor([float(rank + 1)])
    dist.all_reduce(t)
    return {"rank": rank, "world_size": world_size, "sum": t * scale, "pid": os.getpid()}


def _fail_on_rank_one(rank, world_size):
    if rank == 1:
        raise ValueError("boom from rank one")
    dist.barrier()  # rank 0 would wait here forever if the parent did not kill it


def _hang_on_rank_one(rank, world_size):
    if rank == 1:
        time.sleep(3600)
    return rank


def _die_on_rank_zero(rank, world_size):
    if rank == 0:
        os._exit(3)
    dist.barrier()


def test_exception_in_a_rank_surfaces_with_its_traceback_and_kills_the_others():
    with pytest.raises(RankError) as info:
        spawn(_fail_on_rank_one, 2, timeout=120)
    assert info.value.rank == 1
    message = str(info.value)
    assert "rank 1" in message and "boom from rank one" in message
    assert "Traceback" in message and "_fail_on_rank_one" in message
    assert not _rank_children()


def test_a_rank_that_dies_without_reporting_is_an_error():
    with pytest.raises(RankError, match="exited with code 3") as info:
        spawn(_die_on_rank_zero, 2, timeout=120)
    assert info.value.rank == 0
    assert not _rank_children()


def test_a_hanging_rank_times_out_and_is_killed():
    # Whether the timeout fires during start-up (a loaded machine) or during the sleep, it must fire.
    with pytest.raises(TimeoutError, match="timeout=8"):
        spawn(_hang_on_rank_one, 2, timeout=8)
    assert not _rank_children()


def test_bad_arguments_are_rejected_before_spawning():
    def nested(rank, world_size):
        return rank

    with pytest.raises(TypeError, match="module-level"):
        spawn(lambda rank, world_size: rank, 2)
    with pytest.raises(TypeError, match="module-level"):
        spawn(nested, 2)
    with pytest.raises(TypeError, match="callable"):
        spawn(42, 2)
    with pytest.raises(ValueError, match="backend='mpi'"):
        spawn(_sum_ranks, 2, backend="mpi")
    with pytest.raises(ValueError, match="world_size=0"):
        spawn(_sum_ranks, 0)
    with pytest.raises(ValueError, match="world_size=1.5"):
        spawn(_sum_ranks, 1.5)
    with pytest.raises(ValueError, match="timeout"):
        spawn(_sum_ranks, 2, timeout=0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="nccl"):
            spawn(_sum_ranks, 2, backend="nccl")
    assert not _rank_children()



def test_results_come_back_in_rank_order_even_after_a_port_clash(monkeypatch):
    import socket

    import lmcourse.parallel.launch as launch

    # The first port handed to the ranks is already taken (as another job on the machine might
    # do between choosing a free port and rank 0 listening on it): spawn must retry on a new one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        chosen = []
        real_free_port = launch._free_port

        def free_port():
            chosen.append(busy.getsockname()[1] if not chosen else real_free_port())
            return chosen[-1]

        monkeypatch.setattr(launch, "_free_port", free_port)
        out = spawn(_sum_ranks, 2, args=(10.0,), timeout=120)
    assert len(chosen) == 2
    assert [o["rank"] for o in out] == [0, 1]
    assert all(o["world_size"] == 2 for o in out)
    assert all(torch.equal(o["sum"], torch.tensor([30.0])) for o in out)
    assert out[0]["pid"] != out[1]["pid"] != os.getpid()
    assert not _rank_children()
