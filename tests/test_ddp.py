"""DDP (per-parameter and bucketed) on 2 real gloo processes against single-process training, PyTorch's
DistributedDataParallel, and the communication counter."""

import math

import pytest
import torch
from torch import nn

from lmcourse.nn import TransformerLM
from lmcourse.parallel.batch_size import MarkovLanguage, _true_loss, fit_critical_batch, steps_to_loss
from lmcourse.parallel.comm import COUNTED_OPS, CommLog, CommRecord, count_communication
from lmcourse.parallel.ddp import DDPBucketed, DDPIndividualParameters
from lmcourse.parallel.dp_runs import _loss, run_strategies, train_single
from lmcourse.parallel.launch import spawn
from lmcourse.train import AdamW

pytestmark = pytest.mark.slow  # real torch.distributed processes: seconds per test

CONFIG = dict(vocab_size=64, context_length=16, d_model=32, num_layers=2, num_heads=4, d_ff=64, tie_embeddings=True)


def batches(steps=3, batch=8, seed=0):
    return torch.randint(0, 64, (steps, batch, 17), generator=torch.Generator().manual_seed(seed))


def max_error(state, reference):
    return max((state[k] - reference[k]).abs().max().item() for k in reference)


@pytest.fixture(scope="module")
def ddp_runs(one_thread_module):  # the ranks run one thread each; the same summation order keeps errors tiny
    data = batches()
    return train_single(CONFIG, data), run_strategies(["ddp-individual", "ddp-bucketed", "torch-ddp"], CONFIG, data,
                                                   timeout=300)


@pytest.mark.parametrize("strategy", ["ddp-individual", "ddp-bucketed", "torch-ddp"])
def test_ddp_matches_single_process(ddp_runs, strategy):
    reference, ranks = ddp_runs
    for rank in ranks:
        assert max_error(rank[strategy]["state"], reference) < 1e-5
    # the ranks end with identical replicas, and differ from the start (training moved them)
    assert max_error(ranks[0][strategy]["state"], ranks[1][strategy]["state"]) == 0
    assert max_error(reference, train_single(CONFIG, batches()[:0])) > 1e-3


def test_ddp_communicates_two_psi(ddp_runs):
    _, ranks = ddp_runs
    for strategy in ("ddp-individual", "ddp-bucketed"):
        run = ranks[0][strategy]
        assert run["volume"] == 2 * run["num_params"]  # one all-reduce of every (tied: once) gradient
        assert set(run["comm"]) == {"all_reduce"}
    calls = {s: ranks[0][s]["comm"]["all_reduce"]["calls"] for s in ("ddp-individual", "ddp-bucketed")}
    num_tensors = len(list(TransformerLM(**CONFIG).parameters()))
    assert calls["ddp-individual"] == num_tensors and 1 < calls["ddp-bucketed"] < num_tensors


def edge_worker(rank, world_size, data):
    """Untied model with a frozen norm and a parameter no forward uses; several bucket sizes."""
    out = {}
    shard = data.shape[1] // world_size

    def build():
        torch.manual_seed(1)
        model = TransformerLM(**{**CONFIG, "tie_embeddings": False})
        model.ln_final.weight.requires_grad_(False)
        model.unused = nn.Parameter(torch.ones(3))
        return model

    reference = build()
    ref_opt = AdamW(reference.parameters(), lr=1e-2)
    for batch in data:
        ref_opt.zero_grad()
        _loss(reference, batch).backward()
        ref_opt.step()
    for name, make in [("individual", DDPIndividualParameters), ("bucket-tiny", lambda m: DDPBucketed(m, 1e-4)),
                       ("bucket-huge", lambda m: DDPBucketed(m, 1000))]:
        model = build()
        if rank:
            with torch.no_grad():
                model.lm_head.weight.add_(1.0)  # rank 1 starts elsewhere: the broadcast must fix it
        ddp = make(model)
        optimizer = AdamW(model.parameters(), lr=1e-2)
        for batch in data:
            optimizer.zero_grad()
            with count_communication() as log:
                _loss(ddp, batch[rank * shard:(rank + 1) * shard]).backward()
                during_backward = len(log.records)  # launched by the hooks, overlapping the backward pass
                ddp.finish_gradient_synchronization()
            optimizer.step()
        error = max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference.parameters()))
        out[name] = {"error": error, "unused_grad": model.unused.grad, "calls": len(log.records),
                     "during_backward": during_backward,
                     "frozen": model.ln_final.weight.grad, "buckets": len(getattr(ddp, "buckets", []))}
    return out


def test_frozen_unused_untied_and_bucket_sizes(one_thread):
    results = spawn(edge_worker, 2, args=(batches(steps=2, seed=1),), timeout=120)
    for rank in results:
        for name, run in rank.items():
            assert run["error"] < 1e-5, name
            assert run["unused_grad"] is None and run["frozen"] is None, name
    assert results[0]["bucket-huge"]["calls"] == 1 and results[0]["bucket-huge"]["buckets"] == 1
    tiny = results[0]["bucket-tiny"]  # one bucket per tensor; the unused parameter's is never sent
    assert tiny["calls"] == tiny["buckets"] - 1 == results[0]["individual"]["calls"]
    # every all-reduce starts inside backward, except the one bucket that waits for the unused parameter
    for name in ("individual", "bucket-tiny"):
        assert results[0][name]["during_backward"] == results[0][name]["calls"], name
    assert results[0]["bucket-huge"]["during_backward"] == 0


def test_bad_input():
    model = nn.Linear(2, 2)
    for size in (0, -1.0, "4", True):
        with pytest.raises(ValueError, match="bucket_size_mb"):
            DDPBucketed(model, size)
    with pytest.raises(TypeError, match="module"):
        DDPIndividualParameters("a model")
    with pytest.raises(RuntimeError, match="not initialized"):
        DDPIndividualParameters(model)
    with pytest.raises(ValueError, match="not divisible by world_size"):
        run_strategies(["ddp-bucketed"], CONFIG, batches(batch=7))
    with pytest.raises(ValueError, match="strategy"):
        run_strategies(["ddp-magic"], CONFIG, batches())


def test_comm_log_arithmetic():
    log = CommLog([CommRecord("all_reduce", 10, 40, 20), CommRecord("broadcast", 5, 20, 5)])
    assert log.volume == 25 and log.bytes == 2 * 40 + 20
    assert log.by_op()["all_reduce"] == {"calls": 1, "elements": 10, "bytes": 40, "volume": 20}
    assert COUNTED_OPS["all_reduce"][1] == 2 and COUNTED_OPS["reduce_scatter_tensor"][1] == 1


def test_fit_critical_batch_recovers_the_law():
    sizes = [1, 4, 16, 64, 256, 1024]
    s_min, b_crit = fit_critical_batch(sizes, [50 * (1 + 64 / b) for b in sizes])
    assert s_min == pytest.approx(50, rel=0.01) and b_crit == pytest.approx(64, rel=0.01)
    with pytest.raises(ValueError, match="two"):
        fit_critical_batch([4], [10])
    with pytest.raises(ValueError, match="positive"):
        fit_critical_batch([4, 8], [10, 0])


def test_steps_to_loss_falls_with_batch_size():
    language = MarkovLanguage(vocab_size=8, seed=1)
    # the entropy rate is the loss of the true transition table, and no model does better
    exact = _true_loss(language, language.transitions.log()[None])
    assert float(exact) == pytest.approx(language.entropy_rate, abs=1e-5)
    assert float(_true_loss(language, torch.zeros(1, 8, 8))) == pytest.approx(math.log(8), abs=1e-5)
    target = language.entropy_rate + 0.1
    small, _ = steps_to_loss(language, 4, target)
    large, lr = steps_to_loss(language, 512, target)
    assert large < small / 4 and lr > 0
    with pytest.raises(ValueError, match="batch_size"):
        steps_to_loss(language, 0, target)
    with pytest.raises(ValueError, match="entropy rate"):
        steps_to_loss(language, 4, language.entropy_rate - 0.01)
    with pytest.raises(ValueError, match="vocab_size"):
        MarkovLanguage(vocab_size=1)


@pytest.fixture
def single_rank_group():
    """A one-process gloo group inside pytest itself: cheap checks of behaviour that needs no peer."""
    import socket

    import torch.distributed as dist

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_second_backward_before_synchronizing_is_an_error(single_rank_group):
    torch.manual_seed(0)
    ddp = DDPIndividualParameters(nn.Linear(3, 2))
    ddp(torch.randn(4, 3)).sum().backward()
    with pytest.raises(RuntimeError, match="finish_gradient_synchronization"):
        ddp(torch.randn(4, 3)).sum().backward()
