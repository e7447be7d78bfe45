"""lmcourse.train.memtrace: the bytes alive through real training steps, against the accounting."""

import pytest
import torch

from lmcourse.accounting import deep_linear_memory
from lmcourse.nn import Linear, TransformerLM, cross_entropy
from lmcourse.train import AdaGrad, AdamW, memory_timeline


class Stack(torch.nn.Module):
    """num_layers linear layers and a head: chapter 2's Cruncher."""

    def __init__(self, dim, num_layers):
        super().__init__()
        self.layers = torch.nn.ModuleList(Linear(dim, dim) for _ in range(num_layers))
        self.final = Linear(dim, 1)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.final(x).squeeze(-1)


@pytest.mark.parametrize("batch", [16, 512])  # gradients larger than activations, then smaller
def test_peak_and_steady_state_of_a_linear_stack_match_the_accounting(batch):
    dim, num_layers = 32, 3
    model = Stack(dim, num_layers)
    timeline = memory_timeline(model, AdaGrad(model.parameters(), lr=0.01), torch.randn(batch, dim), steps=2)
    parts = deep_linear_memory(dim, num_layers, batch)
    second = timeline[len(timeline) // 2:]
    # the peak comes at the end of the forward (all activations) or of the backward (all gradients)
    assert max(b for _, b in second) == parts.parameters + parts.optimizer_state + max(parts.activations,
                                                                                       parts.gradients)
    assert second[-1] == ("gradients dropped", parts.parameters + parts.optimizer_state)  # the steady state
    assert max(b for _, b in timeline) < parts.total  # gradients and activations never peak together
    assert [e for e, _ in timeline].count("activation saved") == 2 * num_layers  # the first input is data


def test_views_of_one_storage_count_once_and_everything_saved_is_freed():
    torch.manual_seed(0)
    model = TransformerLM(vocab_size=32, context_length=8, d_model=16, num_layers=1, num_heads=2, d_ff=32)
    tokens = torch.randint(0, 32, (2, 9))
    timeline = memory_timeline(model, AdamW(model.parameters()), tokens[:, :-1], steps=1,
                               loss_fn=lambda logits: cross_entropy(logits, tokens[:, 1:]))
    events = [e for e, _ in timeline]
    assert events.count("activation saved") == events.count("activation freed") > 5
    params = sum(p.nbytes for p in model.parameters())
    assert timeline[-1][1] == params * 3  # parameters, then AdamW's m and v


def test_bad_steps_are_rejected():
    model = Stack(4, 1)
    with pytest.raises(ValueError, match="steps=0"):
        memory_timeline(model, AdaGrad(model.parameters(), lr=0.1), torch.zeros(2, 4), steps=0)
