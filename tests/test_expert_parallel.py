"""lmcourse.parallel.expert_parallel: the all-to-all MoE forward against the unsharded layer."""

import pytest
import torch

from lmcourse.nn import MoEFeedForward
from lmcourse.parallel.expert_parallel import expert_parallel_check, expert_parallel_forward
from lmcourse.parallel.launch import RankError, spawn

pytestmark = pytest.mark.slow  # real torch.distributed processes: seconds per test


def _unsupported(rank, world_size):
    layer = MoEFeedForward(16, 32, 3, top_k=1)  # 3 experts over 2 ranks
    expert_parallel_forward(layer, torch.zeros(1, 2, 16), rank, world_size)


@pytest.mark.parametrize("top_k", [1, 2])
def test_expert_parallel_forward_matches_the_unsharded_layer(top_k):
    results = spawn(expert_parallel_check if top_k == 2 else _check_top1, 2)
    for rank, result in enumerate(results):
        assert result["max_diff"] < 1e-5
        assert sum(result["sent"]) == result["assignments"]  # every assignment leaves exactly once
    # what rank r sends to rank s is what rank s receives from rank r
    assert [results[0]["sent"][1], results[1]["sent"][0]] == [results[1]["received"][0], results[0]["received"][1]]
    assert results[0]["experts_here"] == [0, 1] and results[1]["experts_here"] == [2, 3]


def _check_top1(rank, world_size):
    return expert_parallel_check(rank, world_size, top_k=1, num_tokens=10, seed=3)


def test_bad_layers_are_rejected():
    with pytest.raises(RankError, match="not divisible"):
        spawn(_unsupported, 2)
    with pytest.raises(ValueError, match="capacity_factor"):
        expert_parallel_forward(MoEFeedForward(8, 8, 2, capacity_factor=1.0), torch.zeros(1, 2, 8), 0, 1)
