"""ZeRO stages 1-3 on 2 real gloo processes against single-process training and PyTorch's
ZeroRedundancyOptimizer and FSDP2; per-rank memory and communication against the ZeRO formulas;
the pure accounting and the widget."""

import pytest
import torch
from torch import nn

from lmcourse.accounting.zero import bytes_per_element, zero_communication, zero_memory
from lmcourse.nn import TransformerLM
from lmcourse.parallel.comm import count_communication
from lmcourse.parallel.dp_runs import run_strategies, train_single
from lmcourse.parallel.fsdp import FullyShardedModule
from lmcourse.parallel.launch import spawn
from lmcourse.parallel.zero import ShardedGradientOptimizer, ShardedOptimizer, assign_to_ranks
from lmcourse.train import AdamW
from lmcourse.widgets.zero import zero_html, zero_widget

pytestmark = pytest.mark.slow  # real torch.distributed processes: seconds per test

CONFIG = dict(vocab_size=64, context_length=16, d_model=32, num_layers=2, num_heads=4, d_ff=64, tie_embeddings=True)
STAGES = {"zero1": 1, "zero2": 2, "zero3": 3}


@pytest.fixture(scope="module")
def zero_runs(one_thread_module):
    data = torch.randint(0, 64, (3, 8, 17), generator=torch.Generator().manual_seed(0))
    ranks = run_strategies([*STAGES, "zero3-prefetch", "torch-zero1", "torch-fsdp2"], CONFIG, data, timeout=300)
    return train_single(CONFIG, data), ranks


@pytest.mark.parametrize("strategy", [*STAGES, "torch-zero1", "torch-fsdp2"])
def test_stages_match_single_process(zero_runs, strategy):
    reference, ranks = zero_runs
    for rank in ranks:
        state = rank[strategy]["state"]
        assert max((state[k] - reference[k]).abs().max().item() for k in reference) < 1e-5


@pytest.mark.parametrize("strategy", STAGES)
def test_memory_and_communication_follow_the_formulas(zero_runs, strategy):
    _, ranks = zero_runs
    num_params = ranks[0][strategy]["num_params"]
    param_bytes, grad_bytes, optimizer_bytes = bytes_per_element("fp32", "adamw")  # fp32 on CPU: 4, 4, 8
    expected = zero_memory(num_params, 2, STAGES[strategy], param_bytes=param_bytes, grad_bytes=grad_bytes,
                           optimizer_bytes=optimizer_bytes)
    for rank in ranks:
        measured = rank[strategy]["memory"]
        for part in ("parameters", "gradients"):
            assert measured[part] == pytest.approx(getattr(expected, part), rel=0.01), part  # padding only
        # stage 1 balances whole parameters: the shards are close to, not exactly, half
        assert measured["optimizer_state"] == pytest.approx(expected.optimizer_state, rel=0.05)
        assert rank[strategy]["volume"] == pytest.approx(zero_communication(num_params, STAGES[strategy]), rel=0.01)
    assert sum(rank[strategy]["memory"]["optimizer_state"] for rank in ranks) >= 2 * expected.optimizer_state


def test_ours_hold_what_pytorch_holds(zero_runs):
    _, ranks = zero_runs
    for rank in ranks:
        assert rank["zero1"]["memory"] == rank["torch-zero1"]["memory"]  # same greedy assignment
        assert rank["zero3"]["memory"] == rank["torch-fsdp2"]["memory"]


def test_prefetching_changes_when_parameters_travel_not_what_is_learned(zero_runs):
    """zero3-prefetch: the same weights and volume as zero3; one more block gathered at the peak."""
    _, ranks = zero_runs
    probe = TransformerLM(**CONFIG)
    block = sum(p.numel() for p in probe.layers[0].parameters()) * 4
    root = sum(p.numel() for p in probe.parameters()) * 4 - len(probe.layers) * block
    for rank in ranks:
        plain, ahead = rank["zero3"], rank["zero3-prefetch"]
        assert all(torch.equal(plain["state"][k], ahead["state"][k]) for k in plain["state"])
        assert plain["volume"] == ahead["volume"] and plain["memory"] == ahead["memory"]
        assert (plain["peak_gathered"], ahead["peak_gathered"]) == (root + block, root + 2 * block)
        assert plain["wait_seconds"] > 0 and ahead["wait_seconds"] > 0


class Tiny(nn.Module):
    """Odd-sized parameters (no shape divides by 2), two units, an optional parameter no one uses."""

    def __init__(self, unused: bool):
        super().__init__()
        torch.manual_seed(3)
        self.layers = nn.ModuleList([nn.Linear(5, 7), nn.Linear(7, 3)])
        self.scale = nn.Parameter(torch.randn(3))
        if unused:
            self.unused = nn.Parameter(torch.ones(3))

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return (x * self.scale).pow(2).mean()


def _groups(model):
    return [{"params": list(model.layers[0].parameters())},
            {"params": [p for n, p in model.named_parameters() if not n.startswith("layers.0")],
             "lr": 3e-2, "weight_decay": 0.0}]


def edge_worker(rank, world_size, data):
    shard = data.shape[1] // world_size
    out = {}
    for name in ("zero1", "zero2", "zero3"):
        reference = Tiny(unused=name != "zero3")
        ref_opt = AdamW(_groups(reference)[:1], lr=1e-2)
        ref_opt.add_param_group(_groups(reference)[1])
        model = Tiny(unused=name != "zero3")
        if name == "zero3":
            wrapped = FullyShardedModule(model)
            optimizer = AdamW(wrapped.sharded_parameters(), lr=1e-2)
            ref_opt = AdamW(reference.parameters(), lr=1e-2)
        else:
            wrapped = model
            cls = ShardedOptimizer if name == "zero1" else ShardedGradientOptimizer
            optimizer = cls(_groups(model)[:1], AdamW, lr=1e-2)
            optimizer.add_param_group(_groups(model)[1])  # as torch's API allows
        for step, batch in enumerate(data):
            if step == 2:  # a scheduler's change of lr reaches the local optimizer
                for opt in (optimizer, ref_opt):
                    opt.param_groups[0]["lr"] = 5e-3
            mine = batch[rank * shard:(rank + 1) * shard]
            for opt, net, x in ((ref_opt, reference, batch), (optimizer, wrapped, mine)):
                opt.zero_grad()
                net(x).backward()
                if hasattr(net, "finish_gradient_synchronization"):
                    net.finish_gradient_synchronization()
                opt.step()
        if name == "zero3":
            wrapped.gather_full_parameters()
        out[name] = max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference.parameters()))
        if name == "zero2":
            with count_communication() as log:
                wrapped(mine).backward()  # the hooks reduce-scatter each gradient as backward produces it
            out["zero2-scatters"] = (len(log.records), all(p.grad is None for p in model.parameters()))
        with count_communication() as log:
            if name == "zero3":
                wrapped.free_full_parameters()
                wrapped(batch[:2]).backward()  # a forward gathers each unit once, backward again
        out[name + "-gathers"] = len(log.records)
    return out


def test_param_groups_odd_shapes_lr_changes_and_unused(one_thread):
    data = torch.randn(4, 8, 5, generator=torch.Generator().manual_seed(2))
    for rank in spawn(edge_worker, 2, args=(data,), timeout=120):
        for name in STAGES:
            assert rank[name] < 1e-5, name
        assert rank["zero3-gathers"] == 3 + 3 + 3  # 3 units: gather in forward and backward, reduce-scatter
        assert rank["zero2-scatters"] == (5, True)  # inside backward, one per used parameter; no full gradient kept


def test_assign_to_ranks_balances_greedily():
    assert assign_to_ranks([10, 1, 1, 8, 1], 2) == [0, 1, 1, 1, 0]  # largest first: loads 11 and 10
    assert assign_to_ranks([4, 4], 3, loads=[0, 0, 1]) == [0, 1]


def test_bad_input():
    with pytest.raises(TypeError, match="optimizer_cls"):
        ShardedOptimizer([nn.Parameter(torch.ones(2))], torch.optim.AdamW([nn.Parameter(torch.ones(1))]))
    with pytest.raises(TypeError, match="optimizer_cls"):
        ShardedGradientOptimizer([nn.Parameter(torch.ones(2))], dict)
    with pytest.raises(RuntimeError, match="not initialized"):
        ShardedOptimizer([nn.Parameter(torch.ones(2))], AdamW)
    with pytest.raises(ValueError, match="units"):
        FullyShardedModule(Tiny(False), units=[nn.Linear(2, 2)])
    with pytest.raises(TypeError, match="module"):
        FullyShardedModule([nn.Linear(2, 2)])


def test_zero_paper_figure_1():
    # Psi = 7.5B, N_d = 64, K = 12, fp16 parameters and gradients: 120, 31.4, 16.6 and 1.9 GB
    totals = [zero_memory(7.5e9, 64, stage).total / 1e9 for stage in range(4)]
    assert totals[0] == 120 and totals[1] == 31.40625 and totals[2] == 16.640625 and totals[3] == 1.875
    assert [round(t, 1) for t in totals] == [120.0, 31.4, 16.6, 1.9]
    assert bytes_per_element() == (2, 2, 12) and bytes_per_element("fp32", "sgd") == (4, 4, 0)
    assert [zero_communication(1e9, s) / 1e9 for s in range(4)] == [2, 2, 2, 3]
    assert zero_memory(100, 1, 3) == zero_memory(100, 1, 0)  # one GPU: nothing to shard


@pytest.mark.parametrize("kwargs, match", [(dict(num_params=0, num_gpus=2, stage=1), "num_params"),
                                           (dict(num_params=1e9, num_gpus=2.5, stage=1), "num_gpus"),
                                           (dict(num_params=1e9, num_gpus=2, stage=4), "stage"),
                                           (dict(num_params=1e9, num_gpus=2, stage=1, optimizer_bytes=-1),
                                            "optimizer_bytes")])
def test_accounting_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        zero_memory(**kwargs)


def test_widget_html_and_controls():
    page = zero_html(7.5e9, 64, 2)
    assert "16.6 GB" in page and "120.0 GB" in page and "2 &Psi;" in page
    widget = zero_widget()
    assert "31.4 GB" in widget.panel()
    assert "<b>1.9 GB</b>" in widget.panel(stage=3) and "3 &Psi;" in widget.panel(stage=3)
    with pytest.raises(ValueError, match="stage"):
        zero_widget(stage=5)
