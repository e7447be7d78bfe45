"""Roofline arithmetic against hand-computed cases and PyTorch, the roofline widget, and the timing helpers."""

import math
import re

import pytest
import torch

from lmcourse.accounting import GPUS, PRESETS, count_parameters, kv_cache_bytes_per_token
from lmcourse.accounting.flops import forward_flops_per_token
from lmcourse.accounting.hardware import GPU
from lmcourse.accounting.roofline import (GPU_ARCH, GPU_GENERATIONS, OpCost, attainable_flops, attention_prefill_cost,
                                          bound, decode_step_cost, elementwise_cost, matmul_cost, matmul_hbm_bytes,
                                          prefill_cost, ridge_point, rmsnorm_cost, roofline_time, softmax_cost,
                                          wave_quantization)
from lmcourse.config import TransformerConfig
from lmcourse.timing import (Timing, benchmark, benchmark_many, measure_bandwidth, measure_matmul_flops,
                             measured_machine, saved_tensor_bytes)
from lmcourse.widgets.roofline import MEASURED, OPERATIONS, operation_cost, roofline_panel_html, roofline_svg, \
    roofline_widget

H100, A100 = GPUS["H100-80GB"], GPUS["A100-80GB"]


@pytest.mark.parametrize("n", [16, 512, 4096])
def test_square_matmul_intensity_is_n_over_3_in_bf16(n):
    cost = matmul_cost(n, n, n, "bf16")
    assert cost.flops == 2 * n**3 and cost.bytes == 3 * n * n * 2
    assert cost.intensity == pytest.approx(n / 3)
    assert matmul_cost(n, n, n, "fp32").intensity == pytest.approx(n / 6)


def test_matvec_and_elementwise_are_low_intensity():
    matvec = matmul_cost(1, 4096, 4096, "bf16")  # ~2 FLOPs per weight, 2 bytes per weight
    assert matvec.intensity == pytest.approx(1, rel=1e-3)
    add = elementwise_cost(1000, "fp32", inputs=2)
    assert (add.flops, add.bytes) == (1000, 12000)
    assert softmax_cost(10, 100, "bf16") == OpCost("softmax 10x100", 5000, 4000)
    assert rmsnorm_cost(10, 100, "bf16") == OpCost("rmsnorm 10x100", 4000, 4000 + 200)


def test_ridge_point_and_attainable():
    assert ridge_point(H100, "bf16") == pytest.approx(989.4e12 / 3.35e12)  # ~295 FLOPs/byte
    assert ridge_point(A100, "bf16") == pytest.approx(312e12 / 2.039e12)
    assert attainable_flops(H100, "bf16", 10) == pytest.approx(10 * 3.35e12)
    assert attainable_flops(H100, "bf16", 1e4) == 989.4e12
    ridge = ridge_point(H100, "bf16")
    assert attainable_flops(H100, "bf16", ridge) == pytest.approx(989.4e12)


def test_bound_and_time():
    big, matvec = matmul_cost(8192, 8192, 8192), matmul_cost(1, 8192, 8192)
    assert bound(H100, "bf16", big) == "compute" and bound(H100, "bf16", matvec) == "memory"
    assert roofline_time(H100, "bf16", big) == pytest.approx(2 * 8192**3 / 989.4e12)
    assert roofline_time(H100, "bf16", matvec) == pytest.approx(matvec.bytes / 3.35e12)
    # n = 3 * ridge is the square matmul right at the ridge; one step either way changes the bound.
    n = math.ceil(3 * ridge_point(H100, "bf16"))
    assert bound(H100, "bf16", matmul_cost(n, n, n)) == "compute"
    assert bound(H100, "bf16", matmul_cost(n - 3, n - 3, n - 3)) == "memory"


def test_against_torch_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode
    a, b = torch.randn(24, 40), torch.randn(40, 56)
    with FlopCounterMode(display=False) as counter:
        a @ b
    assert matmul_cost(24, 40, 56, "fp32").flops == counter.get_total_flops()
    assert matmul_cost(24, 40, 56, "fp32").bytes == (a.nbytes + b.nbytes + (a @ b).nbytes)


def test_attention_prefill():
    batch, seq, heads, head_dim = 2, 256, 8, 64
    fused = attention_prefill_cost(batch, seq, heads, head_dim, "bf16")
    assert fused.flops == 4 * batch * heads * seq * seq * head_dim
    assert fused.bytes == 4 * batch * heads * seq * head_dim * 2  # q, k, v, o
    unfused = attention_prefill_cost(batch, seq, heads, head_dim, "bf16", fused=False)
    assert unfused.bytes == fused.bytes + 4 * batch * heads * seq * seq * 2
    gqa = attention_prefill_cost(batch, seq, heads, head_dim, "bf16", num_kv_heads=2)
    assert gqa.bytes == batch * seq * head_dim * (2 * heads + 2 * 2) * 2 and gqa.flops == fused.flops
    # Fused intensity grows with seq; unfused stays below head_dim / 2 whatever seq.
    assert attention_prefill_cost(1, 4 * seq, heads, head_dim).intensity > fused.intensity
    assert unfused.intensity < head_dim / 2


@pytest.mark.parametrize("preset", ["llama2-7b", "gpt2-small", "llama2-70b"])
def test_decode_step_reads_the_weights_and_the_kv_cache(preset):
    config = PRESETS[preset]
    params = count_parameters(config)
    cost = decode_step_cost(config, batch=1, context=1000, dtype="bf16")
    kv = 1000 * kv_cache_bytes_per_token(config, "bf16")
    tables = params.embeddings * (not config.tie_embeddings) + params.position  # gathered, not read whole
    assert cost.bytes == pytest.approx(2 * (params.total - tables) + kv, rel=1e-3)
    assert cost.flops == forward_flops_per_token(config, 1000)
    assert 0.5 < cost.intensity < 2  # ~1 FLOP per byte: memory-bound on every GPU
    assert bound(H100, "bf16", cost) == "memory"
    # Batching shares the weight reads, not the cache reads.
    batch64 = decode_step_cost(config, batch=64, context=1000, dtype="bf16")
    assert batch64.bytes - 64 * kv == pytest.approx(cost.bytes - kv, rel=1e-3)
    assert batch64.intensity > 10 * cost.intensity or preset == "gpt2-small"


def test_decode_moe_touches_more_experts_with_batch():
    mixtral = PRESETS["mixtral-8x7b"]
    one, many = decode_step_cost(mixtral, 1, 1, "bf16"), decode_step_cost(mixtral, 512, 1, "bf16")
    params = count_parameters(mixtral)
    # One token reads the active parameters (2 of 8 experts), a large batch all of them.
    assert one.bytes == pytest.approx(2 * (params.active - params.embeddings) + 2 * 4096, rel=1e-3)
    expected = 2 * (params.total - params.embeddings + 512 * 4096) + 512 * kv_cache_bytes_per_token(mixtral)
    assert many.bytes == pytest.approx(expected, rel=1e-3)


def test_prefill_and_sliding_window():
    config = PRESETS["llama2-7b"]
    cost = prefill_cost(config, 2, 512, "bf16")
    assert cost.flops == 2 * 512 * forward_flops_per_token(config, 512)
    assert bound(H100, "bf16", cost) == "compute"
    mistral = PRESETS["mistral-7b"]
    assert decode_step_cost(mistral, 1, 20000).bytes == decode_step_cost(mistral, 1, 4096).bytes


def test_tiling_cuts_hbm_traffic_by_the_tile_size():
    m = k = n = 1024
    naive = matmul_hbm_bytes(m, k, n, "fp32", tile=1)
    assert naive == (2 * m * k * n + m * n) * 4
    tiled = matmul_hbm_bytes(m, k, n, "fp32", tile=64)
    assert tiled == (2 * m * k * n / 64 + m * n) * 4
    assert matmul_hbm_bytes(m, k, n, "fp32", tile=1024) == matmul_cost(m, k, n, "fp32").bytes  # one tile: minimum
    assert matmul_hbm_bytes(100, 10, 100, tile=64) == (100 * 10 * 2 * 2 + 100 * 100) * 2  # ragged edges round up


def test_wave_quantization():
    assert wave_quantization(128 * 132, 128, 132) == (132, 1, 1.0, 1.0)
    tiles, waves, efficiency, _ = wave_quantization(128 * 133, 128, 132)
    assert (tiles, waves) == (133, 2) and efficiency == pytest.approx(133 / 264)
    assert wave_quantization(129, 128, 132).tile_efficiency == pytest.approx(129 / 256)


def test_architecture_and_generation_tables():
    assert GPU_ARCH["H100-80GB"].num_sms == 132 and GPU_ARCH["A100-80GB"].num_sms == 108
    assert set(GPU_ARCH) == set(GPUS)
    years = [g.year for g in GPU_GENERATIONS]
    assert years == sorted(years)
    first, last = GPU_GENERATIONS[0], GPU_GENERATIONS[-1]
    # compute grew far faster than bandwidth
    assert last.peak_flops / first.peak_flops > 10 * last.bandwidth / first.bandwidth


@pytest.mark.parametrize("call, match", [
    (lambda: matmul_cost(0, 2, 2), "m=0"),
    (lambda: matmul_cost(2, 2.5, 2), "k=2.5"),
    (lambda: matmul_cost(2, 2, 2, "int3"), "dtype='int3'"),
    (lambda: attention_prefill_cost(1, 8, 6, 4, num_kv_heads=4), "num_kv_heads=4"),
    (lambda: decode_step_cost(PRESETS["gpt2-small"], 0, 8), "batch=0"),
    (lambda: ridge_point(A100, "fp8"), "dtype='fp8'"),
    (lambda: attainable_flops(H100, "bf16", -1), "intensity=-1"),
    (lambda: wave_quantization(8, 8, 0), "num_sms=0"),
    (lambda: operation_cost("conv"), "operation='conv'"),
    (lambda: roofline_svg(H100, "bf16", []), "points"),
    (lambda: benchmark(lambda: None, repeats=0), "repeats=0"),
    (lambda: measure_bandwidth("cpu", num_bytes=0), "num_bytes=0"),
    (lambda: measure_matmul_flops("nonsense"), "device='nonsense'"),
    (lambda: benchmark_many({"a": lambda: None}, warmup=-1), "warmup=-1"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=re.escape(match)):
        call()


def test_bad_types():
    with pytest.raises(TypeError, match="gpu"):
        bound("H100", "bf16", matmul_cost(2, 2, 2))
    with pytest.raises(TypeError, match="cost"):
        bound(H100, "bf16", (1.0, 2.0))
    with pytest.raises(TypeError, match="config"):
        decode_step_cost({"d_model": 8}, 1, 8)
    with pytest.raises(TypeError, match="fn"):
        benchmark(42)
    with pytest.raises(TypeError, match="fns"):
        benchmark_many([lambda: None])
    with pytest.raises(TypeError, match="dtype"):
        measure_matmul_flops("cpu", 8, dtype=torch.int32)
    with pytest.raises(TypeError, match="fn"):
        saved_tensor_bytes("exp", torch.ones(2))


def _points(svg):
    return [(float(x), float(y)) for x, y in re.findall(r"<circle cx='([\d.]+)' cy='([\d.]+)'", svg)]


def test_svg_places_points_on_the_roof_log_log():
    matvec_bf16, matvec_fp8 = matmul_cost(1, 4096, 4096), matmul_cost(1, 4096, 4096, "fp8")  # intensity ~1, ~2
    svg = roofline_svg(H100, "bf16", [("bf16", matvec_bf16), ("fp8", matvec_fp8)])
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "ridge 295 FLOPs/B" in svg
    assert "peak 989 TFLOP/s" in svg
    # Grid lines one decade apart give the pixels per decade on each axis.
    xs = sorted({float(x) for x in re.findall(r"<line x1='([\d.]+)' y1='[\d.]+' x2='\1'", svg)})
    ys = sorted({float(y) for y in re.findall(r"<line x1='[\d.]+' y1='([\d.]+)' x2='[\d.]+' y2='\1'", svg)})
    per_decade_x, per_decade_y = xs[1] - xs[0], ys[1] - ys[0]
    (x1, y1), (x2, y2) = _points(svg)
    decades = math.log10(matvec_fp8.intensity / matvec_bf16.intensity)
    # Below the ridge FLOP/s = intensity * bandwidth: a slope of one decade up per decade right.
    assert x2 - x1 == pytest.approx(decades * per_decade_x, abs=0.2)
    assert y1 - y2 == pytest.approx(decades * per_decade_y, abs=0.2)
    svg_high = roofline_svg(H100, "bf16", [("high", matmul_cost(8192, 8192, 8192))])
    peak_y = float(re.search(r"<polyline points='[\d.]+,[\d.]+ [\d.]+,([\d.]+)", svg_high).group(1))
    assert _points(svg_high)[0][1] == pytest.approx(peak_y, abs=0.1)  # compute-bound points sit on the flat part


def test_panel_html_says_the_bound():
    panel = roofline_panel_html(H100, "bf16", operation_cost("decode step", preset="llama2-7b"))
    assert "memory-bound" in panel and "3.35 TFLOP/s" in panel and "<svg" in panel
    panel = roofline_panel_html(H100, "bf16", operation_cost("matmul", m=8192, k=8192, n=8192))
    assert "compute-bound" in panel and "989 TFLOP/s</b> (100% of peak)" in panel


def test_operation_cost_matches_accounting():
    assert operation_cost("matmul", "fp16", m=2, k=3, n=4) == matmul_cost(2, 3, 4, "fp16")
    config = PRESETS["llama3-8b"]
    assert operation_cost("attention prefill", preset="llama3-8b", batch=2, seq=64) == attention_prefill_cost(
        2, 64, config.num_heads, config.head_dim, "bf16", 8)
    assert operation_cost("model prefill", preset="llama3-8b", seq=64) == prefill_cost(config, 1, 64, "bf16")
    assert len(OPERATIONS) == 7


def test_widget_panel_follows_its_settings():
    machine = GPU("this machine (test, measured)", 8e9, {"fp32": 1e11}, 2e10)
    widget = roofline_widget("H100-80GB", "bf16", "matmul", machine=machine)
    assert widget.panel() == widget.initial == roofline_panel_html(H100, "bf16", matmul_cost(4096, 4096, 4096))
    assert "memory-bound" in widget.panel(m=1)
    assert widget.panel(gpu="A100-80GB", m=1) == roofline_panel_html(A100, "bf16", matmul_cost(1, 4096, 4096))
    assert widget.panel(gpu="A100-80GB", operation="decode step", preset="gpt2-small") == roofline_panel_html(
        A100, "bf16", decode_step_cost(PRESETS["gpt2-small"], 1, 1024))
    assert widget.panel(gpu=MEASURED, dtype="fp32") == roofline_panel_html(machine, "fp32",
                                                                      matmul_cost(4096, 4096, 4096, "fp32"))
    assert "softmax 1x3" in widget.panel(gpu=MEASURED, dtype="fp32", operation="softmax", m=1, n=3)
    assert widget.controls["dtype"].values == ("fp32", "tf32", "bf16", "fp16", "fp8")  # every GPU's, in order
    with pytest.raises(ValueError, match="dtype='fp8'"):
        widget.panel(gpu="A100-80GB", dtype="fp8")  # the page never asks: it offers only the GPU's dtypes
    measured = roofline_widget()  # MEASURED defaults to this machine, measured once per process
    assert measured.data["gpus"][MEASURED]["name"] == measured_machine().name


@pytest.mark.parametrize("call, error, match", [
    (lambda: roofline_widget("A100-80GB", "fp8"), ValueError, "dtype='fp8'"),
    (lambda: roofline_widget("V100"), ValueError, "gpu='V100'"),
    (lambda: roofline_widget(operation="conv"), ValueError, "operation='conv'"),
    (lambda: roofline_widget(m=0), ValueError, "m=0"),
    (lambda: roofline_widget(seq=2**21), ValueError, "seq=2097152"),
    (lambda: roofline_widget(preset="gpt5"), ValueError, "preset='gpt5'"),
    (lambda: roofline_widget(machine="cpu"), TypeError, "machine"),
])
def test_widget_bad_starting_values(call, error, match):
    with pytest.raises(error, match=re.escape(match)):
        call()


def test_benchmark_runs_and_reports_the_median():
    calls = []
    timing = benchmark(lambda: calls.append(1), warmup=2, repeats=5)
    assert isinstance(timing, Timing) and len(timing.times) == 5 and len(calls) == 7
    assert min(timing.times) <= timing.median <= max(timing.times)
    assert Timing([3.0, 1.0, 2.0, 100.0, 1.5]).median == 2.0  # an outlier does not move it


def test_benchmark_many_interleaves():
    order = []
    timings = benchmark_many({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, warmup=1, repeats=3)
    assert order == ["a", "b"] + ["a", "b"] * 3  # warm-up each, then one call of each per repeat
    assert set(timings) == {"a", "b"} and all(len(t.times) == 3 for t in timings.values())


def test_saved_tensor_bytes_counts_what_autograd_keeps():
    x = torch.randn(100, 50, requires_grad=True)
    assert saved_tensor_bytes(torch.exp, x) == x.nbytes  # exp saves its output, a new tensor
    assert saved_tensor_bytes(torch.sin, x) == 0  # sin saves only its input, which is not counted
    assert saved_tensor_bytes(lambda t: t * 2.0, x) == 0  # a scalar multiply saves no tensor
    # softmax then log: two new tensors (softmax's output, saved by both), counted once
    assert saved_tensor_bytes(lambda t: torch.log(torch.softmax(t, -1)), x) == x.nbytes
    with torch.no_grad():
        assert saved_tensor_bytes(torch.exp, x) == 0  # nothing is saved without autograd


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_do_bench_needs_cuda():
    with pytest.raises(ValueError, match="do_bench"):
        benchmark(lambda: None, do_bench=True)
    with pytest.raises(ValueError, match="do_bench"):
        benchmark_many({"a": lambda: None}, do_bench=True)
    with pytest.raises(ValueError, match="device='cuda'"):
        measured_machine("cuda")


def test_measured_machine_is_a_plausible_gpu():
    machine = measured_machine("cpu")
    assert isinstance(machine, GPU) and "measured" in machine.name and list(machine.peak_flops) == ["fp32"]
    assert 1e8 < machine.peak("fp32") < 1e14 and 1e8 < machine.bandwidth < 1e13  # sanity, not speed
    assert measured_machine("cpu") is machine  # measured once per process
    assert bound(machine, "fp32", elementwise_cost(10**6, "fp32", inputs=2)) == "memory"  # 1/12 FLOP per byte
    flops = measure_matmul_flops("cpu", n=64, repeats=2)
    assert 1e6 < flops < 1e14


def test_config_built_by_hand():
    config = TransformerConfig(vocab_size=100, context_length=16, d_model=32, num_layers=2, num_heads=4, d_ff=64,
                               tie_embeddings=True)
    cost = decode_step_cost(config, 1, 16, "fp32")
    assert cost.bytes == 4 * count_parameters(config).total + 16 * kv_cache_bytes_per_token(config, "fp32")
