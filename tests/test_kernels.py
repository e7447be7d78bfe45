"""lmcourse.kernels (all but FlashAttention) against PyTorch: outputs, gradients, odd shapes, bad input.

Without CUDA the Triton kernels run under Triton's interpreter (``TRITON_INTERPRET=1``, set here before
anything imports Triton, and again by ``lmcourse.kernels._triton``), so shapes stay small. With CUDA the
same tests run compiled on the GPU, and the ``gpu``-marked tests add the large shapes. ``gpu_assembly``
compiles every kernel for an H100 (sm_90) even on a CPU-only machine: a compile-time check of the
code paths the interpreter does not exercise.
"""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # before the first @triton.jit anywhere in this process

import pytest  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from lmcourse.kernels import (INTERPRETED, GELU_CUDA_SOURCE, CrossEntropyPyTorch, CrossEntropyTriton,  # noqa: E402
                              RMSNormPyTorch, RMSNormTriton, check_tensor, cross_entropy_triton, gelu_manual,
                              gelu_triton, gelu_variants, gpu_assemblies, gpu_assembly, load_gelu_cuda, matmul_reference,
                              matmul_triton, rms_norm_triton, softmax_reference, softmax_triton, tile_order)
from lmcourse.kernels import cross_entropy as ce_module  # noqa: E402
from lmcourse.kernels import gelu as gelu_module  # noqa: E402
from lmcourse.kernels import matmul as matmul_module  # noqa: E402
from lmcourse.kernels import rmsnorm as rmsnorm_module  # noqa: E402
from lmcourse.kernels import softmax as softmax_module  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
DTYPES = [torch.float32, torch.bfloat16]
# (atol, rtol) for results computed in fp32 and rounded once to the dtype.
TOL = {torch.float32: (1e-5, 1e-5), torch.bfloat16: (2e-2, 2e-2)}
gpu = pytest.mark.gpu
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def assert_close(actual, expected, dtype):
    atol, rtol = TOL[dtype]
    torch.testing.assert_close(actual.float(), expected.float(), atol=atol, rtol=rtol)


class _NoLaunch:
    """Stands in for a kernel: any launch fails the test, so errors must come before it."""

    def __getitem__(self, grid):
        raise AssertionError("kernel launched despite bad input")


def test_interpreter_is_on_without_cuda():
    assert INTERPRETED == (not torch.cuda.is_available())


# --- softmax ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,block", [((7, 300), 64), ((2, 3, 33), None), ((5, 1), None), ((4, 130), 128)])
def test_softmax_matches_torch(shape, block, dtype):
    x = (torch.randn(shape, device=DEVICE) * 4).to(dtype)
    expected = F.softmax(x.float(), dim=-1)
    assert_close(softmax_triton(x, block), expected, dtype)
    assert_close(softmax_reference(x, block or 16), expected, dtype)
    assert softmax_triton(x).dtype == dtype


def test_softmax_is_stable_for_huge_logits():
    x = torch.tensor([[1e4, 1e4 - 1.0, -1e4]], device=DEVICE)
    for y in (softmax_triton(x), softmax_reference(x, 2)):
        assert torch.isfinite(y).all()
        torch.testing.assert_close(y, F.softmax(x, dim=-1))


# --- GeLU ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1000,), (3, 7, 45), (1,)])
def test_gelu_matches_torch(shape, dtype):
    x = (torch.randn(shape, device=DEVICE) * 3).to(dtype)
    x.view(-1)[0] = 30.0  # far in the tail, where tanh saturates
    expected = F.gelu(x.float(), approximate="tanh")
    assert_close(gelu_triton(x, block_size=64), expected, dtype)
    assert_close(gelu_manual(x.float()), expected, torch.float32)


def test_gelu_cuda_source_and_loader():
    assert "__global__ void gelu_kernel" in GELU_CUDA_SOURCE and "tanhf" in GELU_CUDA_SOURCE
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="nvcc"):
            load_gelu_cuda()


# --- RMSNorm ---------------------------------------------------------------------------------

def _rmsnorm_case(dtype, shape=(3, 11, 100)):
    x = torch.randn(shape, device=DEVICE).to(dtype).requires_grad_()
    weight = (1 + 0.1 * torch.randn(shape[-1], device=DEVICE)).to(dtype).requires_grad_()
    grad_out = torch.randn(shape, device=DEVICE).to(dtype)
    return x, weight, grad_out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("function", [RMSNormPyTorch, RMSNormTriton])
def test_rmsnorm_forward_backward_match_torch(function, dtype):
    x, weight, grad_out = _rmsnorm_case(dtype)  # 33 rows: not a multiple of the 16 rows per program
    expected = F.rms_norm(x.float(), (x.shape[-1],), weight.float(), eps=1e-5)
    grad_x, grad_w = torch.autograd.grad(expected, (x, weight), grad_out.float())
    y = function.apply(x, weight, 1e-5)
    assert y.dtype == dtype and y.shape == x.shape
    assert_close(y, expected, dtype)
    got_x, got_w = torch.autograd.grad(y, (x, weight), grad_out)
    assert got_x.dtype == dtype and got_w.dtype == dtype
    assert_close(got_x, grad_x, dtype)
    # grad_weight sums 33 rows: allow for that many roundings in bf16
    atol = 1e-4 if dtype == torch.float32 else 0.25
    torch.testing.assert_close(got_w.float(), grad_w.float(), atol=atol, rtol=TOL[dtype][1])


def test_rmsnorm_matches_the_package_module():
    from lmcourse.nn import RMSNorm

    module = RMSNorm(24).to(DEVICE)
    with torch.no_grad():
        module.weight.uniform_(0.5, 1.5)
    x = torch.randn(5, 24, device=DEVICE)
    torch.testing.assert_close(rms_norm_triton(x, module.weight, module.eps), module(x))


# --- cross-entropy ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("function", [CrossEntropyPyTorch, CrossEntropyTriton])
def test_cross_entropy_matches_torch(function, dtype, monkeypatch):
    monkeypatch.setattr(function, "block_size", 64)  # vocab 300 = 4 full tiles and a ragged one
    logits = (torch.randn(13, 300, device=DEVICE) * 3).to(dtype).requires_grad_()
    targets = torch.randint(0, 300, (13,), device=DEVICE)
    expected = F.cross_entropy(logits.float(), targets)
    (expected_grad,) = torch.autograd.grad(expected * 2.5, logits)
    loss = function.apply(logits, targets)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=1e-5)
    (grad,) = torch.autograd.grad(loss * 2.5, logits)  # an upstream gradient other than 1
    assert grad.dtype == dtype
    atol = 1e-6 if dtype == torch.float32 else 2e-3
    torch.testing.assert_close(grad.float(), expected_grad.float(), atol=atol, rtol=TOL[dtype][1])


@pytest.mark.parametrize("function", [CrossEntropyPyTorch, CrossEntropyTriton])
def test_cross_entropy_with_strided_inputs(function):
    """A column of a wider tensor: targets and logits whose strides are not those of a packed tensor."""
    logits = torch.randn(50, 9, device=DEVICE).t().requires_grad_()  # (9, 50), column-major
    targets = torch.randint(0, 50, (9, 2), device=DEVICE)[:, 1]  # stride 2
    assert not targets.is_contiguous() and not logits.is_contiguous()
    loss = function.apply(logits, targets)
    torch.testing.assert_close(loss, F.cross_entropy(logits, targets))
    (grad,) = torch.autograd.grad(loss, logits)
    torch.testing.assert_close(grad, torch.autograd.grad(F.cross_entropy(logits, targets), logits)[0])


def test_cross_entropy_over_leading_dims_and_extreme_logits():
    logits = torch.randn(2, 5, 50, device=DEVICE)
    logits[0, 0, 3] = 1e4  # one very confident row: no overflow
    targets = torch.randint(0, 50, (2, 5), device=DEVICE)
    torch.testing.assert_close(cross_entropy_triton(logits, targets),
                               F.cross_entropy(logits.reshape(-1, 50), targets.reshape(-1)))


# --- matmul ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(45, 70, 37), (16, 16, 16), (1, 33, 5)])
def test_matmul_matches_torch(m, k, n, dtype):
    a = torch.randn(m, k, device=DEVICE).to(dtype)
    b = torch.randn(k, n, device=DEVICE).to(dtype)
    expected = a.float() @ b.float()
    # fp32 tl.dot may use TF32 on a GPU (10-bit mantissa); bf16 outputs round to 8 bits.
    atol, rtol = (1e-4, 1e-4) if dtype == torch.float32 and DEVICE == "cpu" else (0.1 * k ** 0.5, 2e-2)
    got = matmul_triton(a, b, block_m=16, block_n=16, block_k=16, group_m=2)
    assert got.dtype == dtype
    torch.testing.assert_close(got.float(), expected, atol=atol, rtol=rtol)
    torch.testing.assert_close(matmul_reference(a, b, 16).float(), expected, atol=atol, rtol=rtol)


def test_matmul_handles_strided_inputs():
    a = torch.randn(40, 24, device=DEVICE).t()  # (24, 40), column-major
    b = torch.randn(40, 20, device=DEVICE)
    torch.testing.assert_close(matmul_triton(a, b, block_m=16, block_n=16, block_k=16), a @ b,
                               atol=1e-4 if DEVICE == "cpu" else 5e-2, rtol=1e-4 if DEVICE == "cpu" else 1e-2)


def test_tile_order_is_grouped():
    order = tile_order(5, 4, 2)
    assert sorted(order) == [(i, j) for i in range(5) for j in range(4)]  # every tile exactly once
    assert order[:4] == [(0, 0), (1, 0), (0, 1), (1, 1)]  # down a band of 2 rows, column by column
    assert order[-4:] == [(4, 0), (4, 1), (4, 2), (4, 3)]  # the last, shorter band
    assert tile_order(3, 3, 1) == [(i, j) for i in range(3) for j in range(3)]  # group 1 = row-major
    # The first 4 programs touch 2 tile rows of A and 2 tile columns of B; row-major touches 1 and 4.
    first = tile_order(8, 8, 2)[:4]
    assert len({i for i, _ in first}) + len({j for _, j in first}) == 4
    with pytest.raises(ValueError, match="group_m"):
        tile_order(2, 2, 0)


# --- input checks: clear errors before any launch --------------------------------------------

def test_check_tensor_messages():
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        check_tensor("x", [1.0])
    with pytest.raises(TypeError, match="x has dtype torch.int32; expected one of: float32"):
        check_tensor("x", torch.ones(2, dtype=torch.int32), dtypes=[torch.float32])
    with pytest.raises(ValueError, match="x has 1 dimensions .*expected 2 or 3"):
        check_tensor("x", torch.ones(2), ndim=(2, 3))
    with pytest.raises(ValueError, match="x is on meta"):
        check_tensor("x", torch.ones(2, device="meta"), device="triton")
    with pytest.raises(ValueError, match="x is empty"):
        check_tensor("x", torch.ones(0))
    with pytest.raises(ValueError, match="contiguous"):
        check_tensor("x", torch.ones(3, 4).t(), contiguous=True)


def test_triton_imported_in_the_wrong_mode_is_reported(monkeypatch):
    from lmcourse.kernels import _triton

    monkeypatch.setattr(_triton, "_LIBRARY_MATCHES", False)  # as if triton was imported before the env was set
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET=1 before the first `import triton`"):
        softmax_triton(torch.randn(2, 8, device=DEVICE))


def test_bad_input_fails_before_launch(monkeypatch):
    for module, name in [(softmax_module, "_softmax_kernel"), (gelu_module, "_gelu_kernel"),
                         (rmsnorm_module, "_rmsnorm_fwd_kernel"), (ce_module, "_cross_entropy_fwd_kernel"),
                         (matmul_module, "_matmul_kernel")]:
        monkeypatch.setattr(module, name, _NoLaunch())
    x = torch.randn(4, 8, device=DEVICE)
    w = torch.ones(8, device=DEVICE)
    ints = torch.ones(4, 8, dtype=torch.int64, device=DEVICE)
    meta = torch.ones(4, 8, device="meta")
    targets = torch.zeros(4, dtype=torch.int64, device=DEVICE)
    cases = [
        (lambda: softmax_triton(ints), TypeError, "x has dtype torch.int64"),
        (lambda: softmax_triton(meta), ValueError, "x is on meta"),
        (lambda: softmax_triton(x, block_size=48), ValueError, "power of two"),
        (lambda: gelu_triton(x.double()), TypeError, "x has dtype torch.float64"),
        (lambda: gelu_triton("x"), TypeError, "x must be a torch.Tensor"),
        (lambda: rms_norm_triton(x, torch.ones(7, device=DEVICE)), ValueError, r"weight has shape \(7,\)"),
        (lambda: rms_norm_triton(x, torch.ones(2, 8, device=DEVICE)), ValueError, "weight has 2 dimensions"),
        (lambda: rms_norm_triton(x, w, eps=0.0), ValueError, "eps=0.0"),
        (lambda: rms_norm_triton(x, w.to("meta")), ValueError, "weight is on meta"),
        (lambda: CrossEntropyTriton.apply(x, targets.float()), TypeError, "targets has dtype torch.float32"),
        (lambda: CrossEntropyTriton.apply(x, targets[:3]), ValueError, "targets has 3 rows; expected 4"),
        (lambda: CrossEntropyTriton.apply(x, targets + 8), ValueError, r"targets range over \[8, 8\]"),
        (lambda: CrossEntropyTriton.apply(x[0], targets), ValueError, "logits has 1 dimensions"),
        (lambda: cross_entropy_triton(x, targets[:, None]), ValueError, "expected logits"),
        (lambda: matmul_triton(x, x), ValueError, r"a is \(4, 8\) and b is \(4, 8\)"),
        (lambda: matmul_triton(x, x.t().bfloat16()), TypeError, "b has dtype torch.bfloat16"),
        (lambda: matmul_triton(x, x.t(), block_k=8), ValueError, "block_k=8"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    with pytest.raises(TypeError, match="x has dtype torch.int64"):  # the PyTorch references check too
        softmax_reference(ints)
    with pytest.raises(ValueError, match=r"weight has shape \(7,\)"):
        RMSNormPyTorch.apply(x, torch.ones(7, device=DEVICE), 1e-5)


# --- compiled for a GPU, with or without one ----------------------------------------------------

def _signature(dtype: str, **args) -> dict[str, str]:
    return {name: (f"*{dtype}" if ty == "ptr" else ty) for name, ty in args.items()}


BF16_KERNELS = {
    "softmax": (softmax_module._softmax_kernel,
                _signature("bf16", x_ptr="ptr", y_ptr="ptr", n_cols="i32", x_row_stride="i32", y_row_stride="i32",
                           BLOCK="constexpr"), {"BLOCK": 1024}),
    "gelu": (gelu_module._gelu_kernel, _signature("bf16", x_ptr="ptr", y_ptr="ptr", numel="i32", BLOCK="constexpr"),
             {"BLOCK": 1024}),
    "rmsnorm_fwd": (rmsnorm_module._rmsnorm_fwd_kernel,
                    {**_signature("bf16", x_ptr="ptr", w_ptr="ptr", y_ptr="ptr"), "r_ptr": "*fp32", "d_model": "i32",
                     "eps": "fp32", "BLOCK": "constexpr"}, {"BLOCK": 1024}),
    "rmsnorm_bwd": (rmsnorm_module._rmsnorm_bwd_kernel,
                    {**_signature("bf16", x_ptr="ptr", w_ptr="ptr", g_ptr="ptr", dx_ptr="ptr"),
                     "r_ptr": "*fp32", "dw_partial_ptr": "*fp32", "n_rows": "i32", "d_model": "i32",
                     "ROWS_PER_PROGRAM": "constexpr", "BLOCK": "constexpr"}, {"ROWS_PER_PROGRAM": 16, "BLOCK": 1024}),
    "cross_entropy_fwd": (ce_module._cross_entropy_fwd_kernel,
                          {"logits_ptr": "*bf16", "targets_ptr": "*i64", "loss_ptr": "*fp32", "lse_ptr": "*fp32",
                           "vocab_size": "i32", "row_stride": "i32", "BLOCK": "constexpr"}, {"BLOCK": 1024}),
    "cross_entropy_bwd": (ce_module._cross_entropy_bwd_kernel,
                          {"logits_ptr": "*bf16", "targets_ptr": "*i64", "lse_ptr": "*fp32", "grad_ptr": "*bf16",
                           "grad_loss_ptr": "*fp32", "n_rows": "i32", "vocab_size": "i32", "row_stride": "i32",
                           "BLOCK": "constexpr"}, {"BLOCK": 1024}),
    "matmul": (matmul_module._matmul_kernel,
               _signature("bf16", a_ptr="ptr", b_ptr="ptr", c_ptr="ptr", M="i32", N="i32", K="i32", stride_am="i32",
                          stride_ak="i32", stride_bk="i32", stride_bn="i32", stride_cm="i32", stride_cn="i32",
                          BLOCK_M="constexpr", BLOCK_N="constexpr", BLOCK_K="constexpr", GROUP_M="constexpr",
                          UPCAST="constexpr"),
               dict(BLOCK_M=128, BLOCK_N=128, BLOCK_K=64, GROUP_M=8, UPCAST=False)),
}


@pytest.mark.slow
def test_every_kernel_compiles_for_h100():
    """One child process compiles all kernels in bf16 for sm_90: what the interpreter cannot check."""
    asm = gpu_assemblies(BF16_KERNELS, arch=90)
    for name in BF16_KERNELS:
        assert ".target sm_90" in asm[name]["ptx"] and ".entry" in asm[name]["ptx"], name
    assert "wgmma" in asm["matmul"]["ptx"]  # Hopper's warpgroup tensor-core instruction
    assert "ld.global.v4.b32" in asm["gelu"]["ptx"]  # 16-byte loads (8 bf16) once alignment is promised


def test_gpu_assembly_rejects_bad_requests():
    with pytest.raises(ValueError, match="signature names"):
        gpu_assembly(gelu_module._gelu_kernel, {"x_ptr": "*fp32"})
    with pytest.raises(ValueError, match="constexprs lacks values for"):
        gpu_assembly(gelu_module._gelu_kernel, _signature("fp32", x_ptr="ptr", y_ptr="ptr", numel="i32",
                                                          BLOCK="constexpr"))
    with pytest.raises(TypeError, match="kernel must be a @triton.jit function"):
        gpu_assembly(len, {})
    with pytest.raises(ValueError, match="arch=52"):
        gpu_assembly(gelu_module._gelu_kernel, {}, arch=52)


# --- GPU only: large shapes, compiled ---------------------------------------------------------

@gpu
@needs_cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_large_shapes_on_gpu(dtype):
    x = torch.randn(4096, 8192, device="cuda", dtype=dtype)
    assert_close(softmax_triton(x), F.softmax(x.float(), dim=-1), dtype)
    assert_close(gelu_triton(x), F.gelu(x.float(), approximate="tanh"), dtype)
    w = torch.ones(8192, device="cuda", dtype=dtype)
    assert_close(rms_norm_triton(x, w), F.rms_norm(x.float(), (8192,), w.float(), eps=1e-5), dtype)
    logits = torch.randn(2048, 50257, device="cuda", dtype=dtype)
    targets = torch.randint(0, 50257, (2048,), device="cuda")
    torch.testing.assert_close(cross_entropy_triton(logits, targets), F.cross_entropy(logits.float(), targets),
                               atol=1e-3, rtol=1e-3)
    a, b = torch.randn(2048, 1024, device="cuda", dtype=dtype), torch.randn(1024, 3000, device="cuda", dtype=dtype)
    torch.testing.assert_close(matmul_triton(a, b).float(), (a.float() @ b.float()), atol=1.0, rtol=2e-2)


@gpu
@needs_cuda
def test_cuda_gelu_extension():
    gelu_cuda = load_gelu_cuda()
    x = torch.randn(10_001, device="cuda")
    torch.testing.assert_close(gelu_cuda(x), F.gelu(x, approximate="tanh"), atol=1e-5, rtol=1e-5)


def test_gelu_variants_says_why_each_is_skipped(monkeypatch):
    monkeypatch.setenv("LMCOURSE_COMPILE", "0")  # compiling takes seconds; the chapter does it
    x = torch.randn(100) * 4
    variants, skipped = gelu_variants(x)
    assert set(variants) | set(skipped) == {"Triton", "torch.compile", "CUDA (load_inline)"}
    assert not set(variants) & set(skipped)
    assert "LMCOURSE_COMPILE=0" in skipped["torch.compile"]
    if not torch.cuda.is_available():
        assert "needs a GPU and nvcc" in skipped["CUDA (load_inline)"] and "Triton" in skipped
    for fn in variants.values():
        torch.testing.assert_close(fn(x), torch.nn.functional.gelu(x, approximate="tanh"))
    with pytest.raises(TypeError, match="check_input"):
        gelu_variants(torch.arange(5))
