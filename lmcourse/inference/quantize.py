"""Int8 weight-only quantization of `lmcourse.nn.Linear` layers (per output channel, symmetric absmax).

Decoding one token at a time is bound by reading the weights from memory (chapter 10), so storing
them in fewer bits speeds it up about in proportion, provided quality holds (chapter 12 measures
that with perplexity). Each row w of a weight matrix (one output channel) gets its own scale
s = max|w| / 127, and is stored as q = round(w / s) clamped to [-127, 127] in int8: one byte per
weight plus one float per row, instead of four bytes per weight in fp32. The rounding error of a
weight is at most s / 2, so a row with one large outlier gets a coarse grid for all its other
weights; per-channel scales keep one outlier from hurting the other rows (LLM.int8(), Dettmers et
al. 2022, goes further and keeps outlier *input features* in 16 bits).

- `quantize_weight_int8` / `dequantize_int8`: the tensor-level codec.
- `Int8Linear`: int8 weights and fp scales as buffers; the forward multiplies by the int8 matrix
  converted to the input's dtype and applies the scales to the output (x (s q)^T = (x q^T) s, per
  output channel), so the full-precision matrix is never stored. `weight` dequantizes on demand,
  for code that reads a layer's weight directly (the model's output head).
- `quantize_int8(model, skip=())`: returns a quantized deep copy (the original is left untouched)
  with every `Linear` replaced, except the submodules named in `skip`; embeddings and norms stay.
- `model_bytes`: parameters + buffers, to measure what was saved.

Leaves out: int8 activations and integer matmul kernels (W8A8, SmoothQuant), 4-bit formats and
group-wise scales (GPTQ, AWQ, NF4), and quantization-aware training.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from lmcourse.nn.layers import Linear

__all__ = ["quantize_weight_int8", "dequantize_int8", "Int8Linear", "quantize_int8", "model_bytes"]

QMAX = 127  # symmetric: -128 is left unused so that q and -q are both representable


def quantize_weight_int8(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(q, scale): q int8 of weight's shape (d_out, d_in), scale (d_out,) in weight's dtype, with
    weight ≈ q * scale[:, None]. An all-zero row gets scale 1 (any scale reproduces it exactly)."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"quantize_weight_int8: weight must be a tensor, got {type(weight).__name__}")
    if weight.ndim != 2 or not weight.dtype.is_floating_point:
        raise ValueError(f"quantize_weight_int8: weight has shape {tuple(weight.shape)} and dtype {weight.dtype}; "
                         "expected a 2-D floating-point (d_out, d_in) matrix")
    if not torch.isfinite(weight).all():
        raise ValueError("quantize_weight_int8: weight has inf or nan entries; absmax scales need finite weights")
    w = weight.detach().float()
    absmax = w.abs().amax(dim=1)
    scale = torch.where(absmax > 0, absmax / QMAX, torch.ones_like(absmax))
    q = torch.round(w / scale[:, None]).clamp(-QMAX, QMAX).to(torch.int8)
    return q, scale.to(weight.dtype)


def dequantize_int8(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """q * scale per row, in scale's dtype."""
    if q.dtype != torch.int8 or q.ndim != 2 or scale.shape != q.shape[:1]:
        raise ValueError(f"dequantize_int8: q {q.dtype} {tuple(q.shape)}, scale {tuple(scale.shape)}; "
                         "expected int8 (d_out, d_in) and scale (d_out,)")
    return q.to(scale.dtype) * scale[:, None]


class Int8Linear(nn.Module):
    """y = x W^T with W = q * scale stored as int8 q (d_out, d_in) and scale (d_out,); no parameters."""

    def __init__(self, q: torch.Tensor, scale: torch.Tensor):
        super().__init__()
        dequantize_int8(q, scale)  # validates shapes and dtypes
        self.d_out, self.d_in = q.shape
        self.register_buffer("qweight", q)
        self.register_buffer("scale", scale)

    @classmethod
    def from_linear(cls, linear: Linear) -> "Int8Linear":
        if not isinstance(linear, Linear):
            raise TypeError(f"Int8Linear.from_linear: expected an lmcourse.nn.Linear, got {type(linear).__name__}")
        return cls(*quantize_weight_int8(linear.weight))

    @property
    def weight(self) -> torch.Tensor:
        """The dequantized (d_out, d_in) matrix, built on each access."""
        return dequantize_int8(self.qweight, self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., d_in) -> (..., d_out)
        # Scaling the output columns instead of the weight rows: d_out multiplies per token
        # instead of d_out * d_in per call.
        return torch.matmul(x, self.qweight.t().to(x.dtype)) * self.scale.to(x.dtype)

    def extra_repr(self) -> str:
        return f"d_in={self.d_in}, d_out={self.d_out}, int8 weights, per-channel scales"


def quantize_int8(model: nn.Module, skip=()) -> nn.Module:
    """A deep copy of `model` with every `lmcourse.nn.Linear` replaced by an `Int8Linear` (a Linear given
    directly is returned as one), except the modules whose qualified names are in `skip` (e.g. "lm_head")."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"quantize_int8: model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(skip, str):
        raise TypeError("quantize_int8: skip must be a collection of module names, not one str")
    skip = set(skip)
    names = dict(model.named_modules())
    unknown = sorted(skip - set(names))
    if unknown:
        raise ValueError(f"quantize_int8: skip names {unknown} are not modules of the model")
    if isinstance(model, Linear):
        return Int8Linear.from_linear(model)
    targets = [name for name, m in names.items() if isinstance(m, Linear) and name not in skip]
    if not targets:
        raise ValueError(f"quantize_int8: {type(model).__name__} has no lmcourse.nn.Linear layers to quantize")
    quantized = copy.deepcopy(model)
    for name in targets:
        parent_name, _, child = name.rpartition(".")
        parent = quantized.get_submodule(parent_name)
        setattr(parent, child, Int8Linear.from_linear(getattr(parent, child)))
    return quantized


def model_bytes(model: nn.Module) -> int:
    """Bytes of every parameter and buffer of `model` (each shared tensor once)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model_bytes: model must be a torch.nn.Module, got {type(model).__name__}")
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total
