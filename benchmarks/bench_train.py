"""Training throughput of the course's TransformerLM against the same model built from torch.nn.

Both models have the same configuration and, after `load_state_dict`, the same weights
(benchmarks/torch_reference.py; tests/test_torch_reference.py checks they compute the same logits).
Each training step is forward, cross-entropy, backward, clipping, and one torch.optim.AdamW step,
the same optimizer object type for both so only the model differs. The two sides alternate,
repeat by repeat, on the same batches; the table gives the median tokens/s over repeats and the
ratio ours / torch.nn. Also printed: MFU, from lmcourse.accounting's FLOPs per token and the peak
FLOP/s of the device (measured with a large matmul on CPU; the published dense figure on a GPU).

Usage:
    .venv/bin/python benchmarks/bench_train.py                 # CPU: the chapter-3 sizes, fp32
    .venv/bin/python benchmarks/bench_train.py --quick         # one small config, 1 repeat
    .venv/bin/python benchmarks/bench_train.py --attention sdpa  # ours with the CLI's --attention sdpa
    python benchmarks/bench_train.py --device cuda --preset gpt2-small --precision bf16 --compile
        # on a GPU: a GPT-2-small-sized model (SwiGLU, d_ff = 8/3 d_model), bf16 autocast, torch.compile
"""

from __future__ import annotations

import argparse
import time

import torch

from _common import machine, median, table
from torch_reference import TorchTransformerLM

from lmcourse.accounting import GPUS, count_parameters, training_flops_per_token
from lmcourse.config import TransformerConfig
from lmcourse.nn import TransformerLM, cross_entropy, sdpa_attention

# name -> (config, batch_size): small enough that a 2-core CPU does a step in well under a second
CPU_CONFIGS = {
    "d256-L4-ctx256": (TransformerConfig(vocab_size=4096, context_length=256, d_model=256, num_layers=4,
                                         num_heads=8, d_ff=688), 8),
    "d512-L4-ctx128": (TransformerConfig(vocab_size=8192, context_length=128, d_model=512, num_layers=4,
                                         num_heads=8, d_ff=1368), 8),
    "d256-L4-ctx256-gqa2": (TransformerConfig(vocab_size=4096, context_length=256, d_model=256, num_layers=4,
                                              num_heads=8, num_kv_heads=2, d_ff=688), 8),
}
GPU_CONFIGS = {
    # GPT-2 small's width and depth with the modern recipe: d_ff = 8/3 * 768 = 2048
    "gpt2-small": (TransformerConfig(vocab_size=50304, context_length=1024, d_model=768, num_layers=12,
                                     num_heads=12, d_ff=2048), 16),
}


def peak_flops(device: torch.device, precision: str) -> tuple[float, str]:
    """Peak FLOP/s to divide by: the published dense figure for known GPUs, else a measured matmul."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        dtype = "bf16" if precision == "bf16" else "tf32"
        for key, gpu in GPUS.items():
            if key.split("-")[0] in name:
                return gpu.peak_flops[dtype], f"{key} published {dtype} dense"
    n = 2048 if device.type == "cpu" else 8192
    dtype = torch.bfloat16 if precision == "bf16" and device.type == "cuda" else torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b  # warm-up: thread pool start, first-call allocations
    times = []
    for _ in range(7):
        sync(device)
        t = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - t)
    # The fastest run, not the median: a peak is what the hardware can do, and on a shared machine the
    # slower runs measure the neighbours.
    return 2 * n**3 / min(times), f"measured {n}x{n} matmul, best of 7"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_step(model, device, precision, compile_model):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    forward = torch.compile(model) if compile_model else model

    def step(x, y):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = forward(x)
        loss = cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    return step


def tokens_per_second(step, batches, device, warmup):
    for x, y in batches[:warmup]:
        step(x, y)
    sync(device)
    t = time.perf_counter()
    for x, y in batches[warmup:]:
        step(x, y)
    sync(device)
    return sum(x.numel() for x, _ in batches[warmup:]) / (time.perf_counter() - t)


def bench(name, config, batch_size, args, device, peak, peak_source):
    torch.manual_seed(0)
    ours = TransformerLM.from_config(config).to(device)
    if args.attention == "sdpa":  # what `python -m lmcourse.train --attention sdpa` trains with
        ours.set_attention_core(sdpa_attention)
    reference = TorchTransformerLM(config).to(device)
    reference.load_state_dict(ours.state_dict())
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randint(config.vocab_size, (batch_size, config.context_length), generator=g).to(device),
                torch.randint(config.vocab_size, (batch_size, config.context_length), generator=g).to(device))
               for _ in range(args.warmup + args.steps)]
    steps = {side: make_step(model, device, args.precision, args.compile)
             for side, model in (("ours", ours), ("torch.nn", reference))}
    rates = {side: [] for side in steps}
    for _ in range(args.repeats):  # alternate sides so both see the same machine load
        for side, step in steps.items():
            rates[side].append(tokens_per_second(step, batches, device, args.warmup))
    flops_per_token = training_flops_per_token(config, config.context_length)
    ours_rate, ref_rate = median(rates["ours"]), median(rates["torch.nn"])
    return [name, f"{count_parameters(config).total / 1e6:.1f}M", f"{batch_size}x{config.context_length}",
            f"{ref_rate:,.0f}", f"{ours_rate:,.0f}", f"{ours_rate / ref_rate:.2f}x",
            f"{100 * ours_rate * flops_per_token / peak:.1f}%", f"{100 * ref_rate * flops_per_token / peak:.1f}%",
            f"{peak / 1e12:.2f} TFLOP/s ({peak_source})"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", help="one config name (default: all for the device)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--compile", action="store_true", help="torch.compile both models")
    parser.add_argument("--attention", choices=("reference", "sdpa"), default="reference",
                        help="our model's attention core: its own reference, or F.scaled_dot_product_attention "
                             "(the CLI's --attention sdpa; the torch.nn side always uses SDPA)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per repeat")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="first config, 1 repeat, 3 steps")
    args = parser.parse_args()
    device = torch.device(args.device)
    configs = GPU_CONFIGS if device.type == "cuda" else CPU_CONFIGS
    configs = {**CPU_CONFIGS, **GPU_CONFIGS} if args.preset else configs
    names = [args.preset] if args.preset else list(configs)
    if args.quick:
        names, args.repeats, args.steps = names[:1], 1, 3
    torch.set_num_threads(torch.get_num_threads())
    print(machine())
    print(f"- torch {torch.__version__}, device {device}, {args.precision}, compile={args.compile}, "
          f"our attention {args.attention}, {args.warmup} warm-up + {args.steps} timed steps, median of {args.repeats} repeats\n")
    peak = peak_flops(device, args.precision)  # once, before the models: the same denominator for every row
    rows = [bench(name, *configs[name], args, device, *peak) for name in names]
    print(table(["config", "params", "batch", "torch.nn tok/s", "ours tok/s", "ours / torch.nn",
                 "MFU ours", "MFU torch.nn", "peak"], rows))


if __name__ == "__main__":
    main()
