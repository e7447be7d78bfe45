"""lmcourse.parallel.tensor_parallel and pipeline: sharded forward/backward against the unsharded modules."""

import pytest
import torch

from lmcourse.nn.attention import MultiHeadSelfAttention
from lmcourse.nn.layers import Linear, SwiGLU
from lmcourse.nn.model import TransformerLM
from lmcourse.parallel.launch import RankError, spawn, spawn_each
from lmcourse.parallel.pipeline import (PipelineStage, check_pipeline, gpipe_bubble, measured_bubble,
                                        pipeline_bubble, pipeline_check)
from lmcourse.parallel.tensor_parallel import (ColumnParallelLinear, RowParallelLinear, check_divisible,
                                               tensor_parallel_attention, tensor_parallel_check,
                                               tensor_parallel_swiglu)

pytestmark = pytest.mark.slow  # real torch.distributed processes: seconds per test

CONFIG = dict(vocab_size=64, context_length=16, d_model=32, num_layers=4, num_heads=4, d_ff=64)
TINY = dict(vocab_size=32, context_length=8, d_model=16, num_layers=2, num_heads=2, d_ff=32)


def _column_row_without_f(rank, world_size):
    """A column->row MLP whose input skips f: the output is right, the input gradient is only partial."""
    torch.manual_seed(0)
    first, second = Linear(8, 16, dtype=torch.float64), Linear(16, 8, dtype=torch.float64)
    x = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
    second(torch.relu(first(x))).sum().backward()
    grads = {}
    for sync in (True, False):
        column = ColumnParallelLinear.from_linear(first, rank, world_size, sync_input=sync)
        row = RowParallelLinear.from_linear(second, rank, world_size)
        x_shard = x.detach().clone().requires_grad_()
        y = row(torch.relu(column(x_shard)))
        y.sum().backward()
        grads[sync] = (x_shard.grad - x.grad).abs().max().item()
    return grads


@pytest.fixture(scope="module")
def two_ranks():
    calls = [
        (tensor_parallel_check, ()),
        (tensor_parallel_check, (32, 4, 64, 2)),  # grouped-query attention: 2 KV heads, one per rank
        (pipeline_check, (CONFIG, 8, 4)),
        (pipeline_check, (CONFIG, 4, 1)),
        (pipeline_bubble, (TINY, 2, (1, 3), 1)),
        (_column_row_without_f, ()),
    ]
    return spawn_each(calls, 2, timeout=180)


@pytest.mark.parametrize("call", [0, 1])
def test_tensor_parallel_matches_the_full_modules(two_ranks, call):
    for report in two_ranks[call]:
        for module in ("swiglu", "attention"):
            assert set(report[module]) == {"output", "input_grad", "weight_grad"}
            assert max(report[module].values()) < 1e-12, (module, report[module])


def test_the_f_operator_is_what_makes_the_input_gradient_whole(two_ranks):
    for grads in two_ranks[5]:
        assert grads[True] < 1e-12
        assert grads[False] > 1e-3


@pytest.mark.parametrize("call", [2, 3])
def test_gpipe_matches_the_unsharded_model(two_ranks, call):
    stages = two_ranks[call]
    for report in stages:
        assert report["loss_diff"] < 1e-12 and report["grad_diff"] < 1e-12
    full = sum(p.numel() for p in TransformerLM(**CONFIG).parameters())
    assert sum(report["num_parameters"] for report in stages) == full  # each parameter on exactly one stage


def test_pipeline_bubble_timelines(two_ranks):
    for rank, result in enumerate(two_ranks[4]):
        assert set(result) == {1, 3}
        for m, run in result.items():
            assert 0.0 <= run["bubble"] < 1.0
            kinds = [kind for kind, *_ in run["timeline"]]
            # the last stage also records each micro-batch's loss as a forward event
            assert kinds.count("F") == m * (2 if rank == 1 else 1) and kinds.count("B") == m
            assert all(0 <= start <= stop <= run["span"] for _, _, start, stop in run["timeline"])
            assert kinds.index("B") > max(i for i, kind in enumerate(kinds) if kind == "F")  # GPipe: all F, then B


def test_gpipe_bubble_formula_and_measurement():
    assert gpipe_bubble(1, 4) == 0.0
    assert gpipe_bubble(2, 1) == pytest.approx(0.5)
    assert gpipe_bubble(4, 8) == pytest.approx(3 / 11)
    assert measured_bubble([("F", 0, 0.0, 1.0), ("B", 0, 2.0, 3.0)], 0.0, 4.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="num_microbatches=0"):
        gpipe_bubble(2, 0)


def test_shapes_that_do_not_divide_are_rejected_before_any_communication():
    with pytest.raises(ValueError, match="d_ff=63 not divisible by world_size=2"):
        tensor_parallel_swiglu(SwiGLU(8, 63), 0, 2)
    with pytest.raises(ValueError, match="num_heads=3"):
        tensor_parallel_attention(MultiHeadSelfAttention(12, 3), 0, 2)
    with pytest.raises(ValueError, match="num_kv_heads=1"):
        tensor_parallel_attention(MultiHeadSelfAttention(16, 4, num_kv_heads=1), 0, 2)
    with pytest.raises(ValueError, match="qk_norm"):
        tensor_parallel_attention(MultiHeadSelfAttention(16, 4, qk_norm=True), 0, 2)
    with pytest.raises(ValueError, match="d_out=9"):
        ColumnParallelLinear(4, 9, 0, 2)
    with pytest.raises(ValueError, match="d_in=9"):
        RowParallelLinear(9, 4, 0, 2)
    with pytest.raises(ValueError, match="world_size=0"):
        check_divisible(0, d_ff=8)
    with pytest.raises(ValueError, match="num_layers=3 not divisible by world_size=2"):
        PipelineStage(TransformerLM(**{**CONFIG, "num_layers": 3}), 0, 2)
    with pytest.raises(ValueError, match="batch=6 not divisible by num_microbatches=4"):
        check_pipeline(4, 2, batch=6, num_microbatches=4)
    with pytest.raises(ValueError, match="tie_embeddings=True"):
        PipelineStage(TransformerLM(**CONFIG, tie_embeddings=True), 0, 2)


def test_a_bad_shape_inside_the_ranks_is_a_rank_error():
    with pytest.raises(RankError, match="batch=6 not divisible by num_microbatches=4"):
        spawn(pipeline_check, 2, args=(CONFIG, 6, 4), timeout=120)
