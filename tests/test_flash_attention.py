"""FlashAttention-2 (lmcourse.kernels.flash_attention) against torch's scaled_dot_product_attention.

Without CUDA the Triton kernels run in Triton's interpreter (slow), so shapes are small and the
tiles are 16 (or 8 for the PyTorch version) to cover several tiles, partial last tiles and the
causal diagonal. The interpreter cannot do bf16 tl.dot (triton-lang/triton#11584): there the Triton
version is tested in float16 and bf16 is checked to be refused; with CUDA it runs bf16.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # before anything imports triton

import pytest  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from lmcourse.kernels import flash_attention  # noqa: E402
from lmcourse.kernels._triton import INTERPRETED  # noqa: E402
from lmcourse.kernels.flash_attention import (  # noqa: E402
    FlashAttention2PyTorch,
    FlashAttention2Triton,
    key_tile_end,
    query_tile_start,
)

DEVICE = "cpu" if INTERPRETED else "cuda"
TOLERANCE = {torch.float32: 2e-5, torch.float16: 5e-3, torch.bfloat16: 3e-2}  # atol = rtol, by input dtype
LOW_PRECISION = {FlashAttention2PyTorch: torch.bfloat16,
                 FlashAttention2Triton: torch.float16 if INTERPRETED else torch.bfloat16}
CASES = [  # (leading dims, n_queries, n_keys, d, is_causal): none a multiple of the tiles
    ((2, 2), 37, 50, 16, False),  # batch and heads, n_queries != n_keys
    ((2,), 45, 45, 32, True),
    ((1,), 20, 53, 16, True),  # causal with more keys than queries: top-left aligned, as SDPA
]


@pytest.fixture(autouse=True)
def small_tiles(monkeypatch):
    monkeypatch.setattr(FlashAttention2PyTorch, "Q_TILE", 16)
    monkeypatch.setattr(FlashAttention2PyTorch, "K_TILE", 8)
    monkeypatch.setattr(FlashAttention2Triton, "Q_TILE", 16)
    monkeypatch.setattr(FlashAttention2Triton, "K_TILE", 16)


def make_inputs(lead, n_queries, n_keys, d, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, grad_out = (torch.randn(*lead, n_queries, d, generator=g) for _ in range(2))
    k, v = (torch.randn(*lead, n_keys, d, generator=g) for _ in range(2))
    q, k, v = (t.to(DEVICE, dtype).requires_grad_() for t in (q, k, v))
    return q, k, v, grad_out.to(DEVICE, dtype)


def reference(q, k, v, grad_out, is_causal):
    """SDPA in float32 on the same (possibly rounded) inputs: the exact answer to compare with."""
    q32, k32, v32 = (t.detach().float().requires_grad_() for t in (q, k, v))
    out = F.scaled_dot_product_attention(q32, k32, v32, is_causal=is_causal)
    return out, *torch.autograd.grad(out, (q32, k32, v32), grad_out.float())


def run(impl, q, k, v, grad_out, is_causal):
    out = impl.apply(q, k, v, is_causal)
    return out, *torch.autograd.grad(out, (q, k, v), grad_out)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}x{c[2]}-d{c[3]}-{'causal' if c[4] else 'full'}")
@pytest.mark.parametrize("precision", ["fp32", "low"])
@pytest.mark.parametrize("impl", [FlashAttention2PyTorch, FlashAttention2Triton], ids=["pytorch", "triton"])
def test_output_and_gradients_match_sdpa(impl, precision, case):
    lead, n_queries, n_keys, d, is_causal = case
    dtype = torch.float32 if precision == "fp32" else LOW_PRECISION[impl]
    q, k, v, grad_out = make_inputs(lead, n_queries, n_keys, d, dtype)
    for name, ours, expected in zip(("O", "dq", "dk", "dv"), run(impl, q, k, v, grad_out, is_causal),
                                    reference(q, k, v, grad_out, is_causal)):
        assert ours.dtype == dtype and ours.shape == expected.shape, name
        torch.testing.assert_close(ours.float(), expected, atol=TOLERANCE[dtype], rtol=TOLERANCE[dtype], msg=name)


def test_triton_with_unequal_tiles(monkeypatch):
    """Q_TILE != K_TILE moves the causal diagonal inside tiles; the loop bounds must still be exact."""
    monkeypatch.setattr(FlashAttention2Triton, "Q_TILE", 32)
    q, k, v, grad_out = make_inputs((1,), 70, 70, 16, torch.float32)
    for ours, expected in zip(run(FlashAttention2Triton, q, k, v, grad_out, True),
                              reference(q, k, v, grad_out, True)):
        torch.testing.assert_close(ours, expected, atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("impl", [FlashAttention2PyTorch, FlashAttention2Triton], ids=["pytorch", "triton"])
def test_non_contiguous_heads_layout(impl):
    """(batch, seq, heads, d) transposed to (batch, heads, seq, d), as attention layers do: a strided view."""
    q, k, v, grad_out = (t.detach().transpose(1, 2) for t in make_inputs((1, 33), 2, 2, 16, torch.float32))
    q, k, v = (t.requires_grad_() for t in (q, k, v))
    assert not q.is_contiguous()
    for ours, expected in zip(run(impl, q, k, v, grad_out, True), reference(q, k, v, grad_out, True)):
        torch.testing.assert_close(ours, expected, atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("impl", [FlashAttention2PyTorch, FlashAttention2Triton], ids=["pytorch", "triton"])
def test_saves_exactly_logsumexp_q_k_v_and_output(impl):
    q, k, v, _ = make_inputs((2, 1), 21, 30, 16, torch.float32)
    out = impl.apply(q, k, v, False)
    saved = out.grad_fn.saved_tensors
    assert len(saved) == 5
    logsumexp, *tensors = saved
    for mine, given in zip(tensors, (q, k, v, out)):
        assert mine.shape == given.shape and torch.equal(mine, given)
    scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
    assert logsumexp.shape == (2, 1, 21) and logsumexp.dtype == torch.float32
    torch.testing.assert_close(logsumexp, torch.logsumexp(scores, dim=-1), atol=1e-5, rtol=1e-5)


def test_causal_tile_bounds_halve_the_tiles():
    n, tile = 64, 16
    visits = sum(len(range(0, key_tile_end(s, s + tile, n, True), tile)) for s in range(0, n, tile))
    assert visits == 4 * 5 // 2  # the lower triangle of a 4 x 4 grid of tiles, diagonal included
    assert [query_tile_start(s, tile, True) for s in range(0, n, tile)] == [0, 16, 32, 48]
    assert key_tile_end(16, 32, n, False) == n and query_tile_start(48, tile, False) == 0


@pytest.mark.parametrize("impl", [FlashAttention2PyTorch, FlashAttention2Triton], ids=["pytorch", "triton"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy, inside the interpreter, about the NaN rows
def test_causal_never_touches_fully_masked_tiles(impl, monkeypatch):
    """Poison the tiles a tile must skip with NaN: visiting one, even masked, makes 0 * NaN = NaN.

    Forward and dQ of query tile t must not read keys past the tile; dK, dV of key tile t must
    not read queries (nor their dO) before it. The checked rows must also stay exactly right.
    """
    monkeypatch.setattr(impl, "K_TILE", 16)
    n, tile = 48, 16
    q, k, v, grad_out = make_inputs((1,), n, n, 16, torch.float32)
    expected = reference(q, k, v, grad_out, True)
    for t in range(n // tile):
        rows = slice(t * tile, (t + 1) * tile)
        k_bad, v_bad = (x.detach().clone() for x in (k, v))
        k_bad[:, (t + 1) * tile:], v_bad[:, (t + 1) * tile:] = float("nan"), float("nan")
        k_bad.requires_grad_(), v_bad.requires_grad_()
        out, dq, _, _ = run(impl, q, k_bad, v_bad, grad_out, True)
        torch.testing.assert_close(out[:, rows], expected[0][:, rows], atol=2e-5, rtol=2e-5)
        torch.testing.assert_close(dq[:, rows], expected[1][:, rows], atol=2e-5, rtol=2e-5)
        q_bad, grad_bad = (x.detach().clone() for x in (q, grad_out))
        q_bad[:, :t * tile], grad_bad[:, :t * tile] = float("nan"), float("nan")
        _, _, dk, dv = run(impl, q_bad.requires_grad_(), k, v, grad_bad, True)
        torch.testing.assert_close(dk[:, rows], expected[2][:, rows], atol=2e-5, rtol=2e-5)
        torch.testing.assert_close(dv[:, rows], expected[3][:, rows], atol=2e-5, rtol=2e-5)


@pytest.mark.skipif(not INTERPRETED, reason="spies on a helper the interpreter runs as Python")
@pytest.mark.parametrize("is_causal, n_queries, n_keys, masked, unmasked", [
    (True, 48, 48, 3 * 3, 3 * 3),  # each pass: the 3 diagonal tiles masked, the 3 below them not
    (False, 32, 40, 2 * 2, 2 * 2 + 2 * 2 + 3 * 2),  # forward and dQ mask the partial key tile; dK, dV never
])
def test_only_tiles_on_the_diagonal_or_the_edge_are_masked(is_causal, n_queries, n_keys, masked, unmasked,
                                                           monkeypatch):
    """Fully visible tiles take the unmasked path: count the MASKED flag of every score tile of the three kernels."""
    from lmcourse.kernels import flash_triton

    flags, scores = [], flash_triton._scores

    def spy(*args):
        flags.append(bool(args[6]))  # MASKED
        return scores(*args)

    monkeypatch.setattr(flash_triton, "_scores", spy)
    q, k, v, grad_out = make_inputs((1,), n_queries, n_keys, 16, torch.float32)
    run(FlashAttention2Triton, q, k, v, grad_out, is_causal)
    assert (flags.count(True), flags.count(False)) == (masked, unmasked)


def _bad_inputs():
    q, k, v = (torch.randn(2, 20, 16, device=DEVICE) for _ in range(3))
    return [
        ("dtype", (q, k.half(), v), TypeError, "k has dtype"),
        ("int", (q.long(), k, v), TypeError, "q has dtype"),
        ("ndim", (q[0], k[0], v[0]), ValueError, "q has 2 dimensions"),
        ("batch", (q, k[:1], v[:1]), ValueError, "k has shape"),
        ("d", (q, k[..., :8], v[..., :8]), ValueError, "k has shape"),
        ("v", (q, k, v[:, :10]), ValueError, "v has shape"),
        ("device", (q, k.to("meta"), v), ValueError, "k is on meta"),
        ("empty", (q[:, :0], k, v), ValueError, "q is empty"),
        ("list", (q.tolist(), k, v), TypeError, "q must be a torch.Tensor"),
    ]


@pytest.mark.parametrize("impl", [FlashAttention2PyTorch, FlashAttention2Triton], ids=["pytorch", "triton"])
@pytest.mark.parametrize("case", range(len(_bad_inputs())), ids=[c[0] for c in _bad_inputs()])
def test_bad_input_is_refused_before_any_work(impl, case, monkeypatch):
    def launched(*args):
        raise AssertionError("the kernel ran on bad input")

    monkeypatch.setattr(flash_attention, "tiled_forward", launched)
    monkeypatch.setattr(flash_attention, "flash_forward_triton", launched)
    _, args, error, message = _bad_inputs()[case]
    with pytest.raises(error, match=message):
        impl.apply(*args, False)


def test_bad_flags_head_dims_and_tiles_are_refused(monkeypatch):
    q = torch.randn(1, 20, 24, device=DEVICE)
    with pytest.raises(TypeError, match="is_causal"):
        FlashAttention2PyTorch.apply(q, q, q, 1)
    with pytest.raises(ValueError, match="head dimension d=24"):
        FlashAttention2Triton.apply(q, q, q, False)
    torch.testing.assert_close(FlashAttention2PyTorch.apply(q, q, q, False),  # any d is fine in PyTorch
                               F.scaled_dot_product_attention(q, q, q), atol=1e-5, rtol=1e-5)
    monkeypatch.setattr(FlashAttention2Triton, "Q_TILE", 24)
    with pytest.raises(ValueError, match="FlashAttention2Triton.Q_TILE=24"):
        FlashAttention2Triton.apply(q[..., :16], q[..., :16], q[..., :16], False)
    monkeypatch.setattr(FlashAttention2PyTorch, "K_TILE", 0)
    with pytest.raises(ValueError, match="FlashAttention2PyTorch.K_TILE=0"):
        FlashAttention2PyTorch.apply(q, q, q, False)


@pytest.mark.slow
def test_kernels_compile_for_an_h100_with_the_gpu_tiles():
    """The compiled path, checked without a GPU: the three kernels lower to sm_90 PTX (bf16, d = 64)."""
    from lmcourse.kernels import flash_triton
    from lmcourse.kernels.assembly import gpu_assemblies

    tiles = dict(Q_TILE=128, K_TILE=64)  # FlashAttention2Triton's defaults with CUDA
    jobs = {}
    for name in ("_forward_kernel", "_backward_dk_dv_kernel", "_backward_dq_kernel"):
        kernel = getattr(flash_triton, name)
        signature = {arg: "*fp32" if arg in ("l_ptr", "delta_ptr") else "*bf16" if arg.endswith("_ptr")
                     else "i32" if arg.startswith("n_") else "fp32" if arg == "scale" else "constexpr"
                     for arg in kernel.arg_names}
        jobs[name] = (kernel, signature, dict(D=64, IS_CAUSAL=True, PRECISION="tf32", **tiles))
    for name, stages in gpu_assemblies(jobs, arch=90, num_warps=8).items():
        assert ".target sm_90" in stages["ptx"] and "mma" in stages["ptx"], name


@pytest.mark.skipif(not INTERPRETED, reason="only the CPU interpreter lacks bf16 tl.dot")
def test_interpreter_refuses_bf16():
    q = torch.randn(1, 16, 16, dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="bfloat16"):
        FlashAttention2Triton.apply(q, q, q, False)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_gpu_large_shape_with_default_tiles(dtype, monkeypatch):
    monkeypatch.undo()  # the GPU-sized class defaults, not the small test tiles
    q, k, v, grad_out = make_inputs((2, 8), 4096 + 17, 4096 + 17, 64, dtype)
    for is_causal in (True, False):
        ours_all = run(FlashAttention2Triton, q, k, v, grad_out, is_causal)
        for name, ours, expected in zip(("O", "dq", "dk", "dv"), ours_all, reference(q, k, v, grad_out, is_causal)):
            torch.testing.assert_close(ours.float(), expected, atol=5 * TOLERANCE[dtype], rtol=5 * TOLERANCE[dtype],
                                       msg=name)
