"""lmcourse.inference.quantize: int8 weight-only quantization against a direct reference."""

import pytest
import torch

from lmcourse.inference.quantize import (Int8Linear, dequantize_int8, model_bytes, quantize_int8,
                                         quantize_weight_int8)
from lmcourse.nn import Linear, RMSNorm, TransformerLM


def reference(w):
    """The textbook recipe, written out: per-row absmax / 127, round, clamp."""
    scale = w.abs().amax(dim=1, keepdim=True) / 127
    return torch.round(w / scale).clamp(-127, 127), scale.squeeze(1)


def test_codec_matches_reference_and_error_bound():
    torch.manual_seed(0)
    w = torch.randn(64, 48) * torch.logspace(-2, 1, 64)[:, None]  # rows of very different scales
    q, scale = quantize_weight_int8(w)
    q_ref, scale_ref = reference(w)
    assert q.dtype == torch.int8 and scale.shape == (64,)
    assert torch.equal(q.float(), q_ref) and torch.allclose(scale, scale_ref)
    err = (dequantize_int8(q, scale) - w).abs()
    assert (err <= scale[:, None] / 2 + 1e-7).all()  # rounding error at most half a step
    assert (q.abs().amax(dim=1) == 127).all()  # each row's largest weight uses the full range


def test_zero_row_and_dtype():
    w = torch.randn(4, 8, dtype=torch.bfloat16)
    w[2] = 0
    q, scale = quantize_weight_int8(w)
    assert scale.dtype == torch.bfloat16 and scale[2] == 1 and (q[2] == 0).all()
    assert torch.equal(dequantize_int8(q, scale)[2], torch.zeros(8, dtype=torch.bfloat16))


def test_int8_linear_matches_dequantized_matmul():
    torch.manual_seed(1)
    layer = Linear(32, 16)
    qlayer = Int8Linear.from_linear(layer)
    x = torch.randn(3, 5, 32)
    expected = x @ dequantize_int8(qlayer.qweight, qlayer.scale).t()
    assert torch.allclose(qlayer(x), expected, atol=1e-5)
    assert torch.allclose(qlayer.weight, dequantize_int8(*quantize_weight_int8(layer.weight)))
    rel = (qlayer(x) - layer(x)).norm() / layer(x).norm()
    assert rel < 0.02  # int8 with per-channel scales: about 1% output error on Gaussian weights
    assert list(qlayer.state_dict()) == ["qweight", "scale"] and not list(qlayer.parameters())


def test_quantize_model_returns_a_copy_and_keeps_the_model_close():
    torch.manual_seed(0)
    model = TransformerLM(100, 16, 32, 2, 2, 64).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    qmodel = quantize_int8(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # original untouched
    kinds = {type(m).__name__ for m in qmodel.modules()}
    assert "Linear" not in kinds and "Int8Linear" in kinds and "RMSNorm" in kinds
    ids = torch.randint(0, 100, (2, 16))
    with torch.no_grad():
        ref, out = model(ids), qmodel(ids)
    assert (out - ref).norm() / ref.norm() < 0.05
    assert model_bytes(qmodel) < 0.5 * model_bytes(model)  # most bytes sit in Linear weights here
    kept = quantize_int8(model, skip=["lm_head"])
    assert isinstance(kept.lm_head, Linear) and isinstance(kept.layers[0].ffn.w1, Int8Linear)
    assert isinstance(quantize_int8(Linear(4, 3)), Int8Linear)


def test_model_bytes_counts_parameters_and_buffers():
    layer = Linear(10, 6)
    assert model_bytes(layer) == 60 * 4
    assert model_bytes(Int8Linear.from_linear(layer)) == 60 + 6 * 4


def test_errors():
    with pytest.raises(TypeError, match="model"):
        quantize_int8("not a model")
    with pytest.raises(ValueError, match="no lmcourse.nn.Linear"):
        quantize_int8(RMSNorm(8))
    with pytest.raises(ValueError, match="skip"):
        quantize_int8(TransformerLM(10, 8, 16, 1, 2, 32), skip=["nope"])
    with pytest.raises(TypeError, match="skip"):
        quantize_int8(Linear(2, 2), skip="lm_head")
    with pytest.raises(TypeError, match="Linear"):
        Int8Linear.from_linear(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="2-D"):
        quantize_weight_int8(torch.randn(3))
    with pytest.raises(ValueError, match="2-D"):
        quantize_weight_int8(torch.ones(2, 2, dtype=torch.int32))
    with pytest.raises(ValueError, match="finite"):
        quantize_weight_int8(torch.tensor([[1.0, float("inf")]]))
    with pytest.raises(ValueError, match="int8"):
        dequantize_int8(torch.zeros(2, 2), torch.ones(2))
