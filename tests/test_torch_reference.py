"""The speed benchmark's torch.nn model (benchmarks/torch_reference.py) must compute what ours computes,
or benchmarks/bench_train.py would compare two different models."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from torch_reference import TorchTransformerLM  # noqa: E402

from lmcourse.config import TransformerConfig  # noqa: E402
from lmcourse.nn import TransformerLM  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("num_kv_heads", [None, 2])
def test_same_logits_and_gradients(num_kv_heads):
    config = TransformerConfig(vocab_size=97, context_length=24, d_model=32, num_layers=2, num_heads=4,
                               num_kv_heads=num_kv_heads, d_ff=88)
    torch.manual_seed(0)
    ours = TransformerLM.from_config(config)
    reference = TorchTransformerLM(config)
    reference.load_state_dict(ours.state_dict())  # strict: same names and shapes
    ids = torch.randint(config.vocab_size, (3, 19))
    ours_logits, ref_logits = ours(ids), reference(ids)
    torch.testing.assert_close(ours_logits, ref_logits, rtol=1e-4, atol=1e-4)
    ours_logits.square().mean().backward()
    ref_logits.square().mean().backward()
    ref_params = dict(reference.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, ref_params[name].grad, rtol=1e-3, atol=1e-5, msg=name)


def test_reference_refuses_options_it_does_not_model():
    with pytest.raises(ValueError, match="default recipe"):
        TorchTransformerLM(TransformerConfig(vocab_size=10, context_length=8, d_model=16, num_layers=1,
                                             num_heads=2, d_ff=32, qk_norm=True))
