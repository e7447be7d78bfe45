"""Decoding with and without the KV cache, and speculative sampling against its formula.

Part 1: decode tokens/s of the course's TransformerLM generating `--new-tokens` greedy tokens after
prompts of several lengths, with the KV cache (`lmcourse.inference.generate`) and with full
recomputation at every step (`TransformerLM.generate`, the baseline; no Hugging Face model is
involved). Both sides alternate, repeat by repeat, on the same model and prompt, and produce the
same tokens (checked). The table gives median tokens/s and the ratio.

Part 2: a byte-level target and a smaller draft are trained briefly on the generated story corpus;
speculative sampling (temperature 1) then generates `--spec-tokens` tokens per gamma. The per-token
acceptance alpha is measured as the formula assumes it (accepted / (accepted + rejected) over the
drafts that were checked), and tokens per target call are compared with (1 - a^(g+1)) / (1 - a);
the wall-clock speedup over cached plain sampling is compared with the formula at the measured
cost ratio c (draft decode step time / target decode step time).

Usage:
    .venv/bin/python benchmarks/bench_inference.py            # CPU
    .venv/bin/python benchmarks/bench_inference.py --quick    # smaller, 1 repeat
    python benchmarks/bench_inference.py --device cuda        # the same on a GPU
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from _common import machine, median, table

from lmcourse.corpus import generate_text
from lmcourse.inference import (KVCache, SpeculativeResult, expected_speedup, expected_tokens_per_call, generate,
                                speculative_generate)
from lmcourse.nn import TransformerLM
from lmcourse.tokenizer.simple import ByteTokenizer
from lmcourse.train import TrainConfig, train


def timed(fn) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def bench_cache(args, device) -> str:
    torch.manual_seed(0)
    d_model = 512 if device.type == "cuda" else 128
    model = TransformerLM(vocab_size=256, context_length=2048, d_model=d_model, num_layers=4, num_heads=d_model // 32,
                          d_ff=8 * round(d_model / 3)).to(device).eval()
    rows = []
    for prompt_len in args.prompt_lens:
        prompt = torch.randint(0, 256, (prompt_len,), device=device)
        ours = generate(model, prompt, args.new_tokens, temperature=0)
        assert torch.equal(ours, model.generate(prompt, args.new_tokens, temperature=0)), prompt_len
        cached, full = [], []
        for _ in range(args.repeats):  # alternate, so load changes hit both sides alike
            cached.append(timed(lambda: generate(model, prompt, args.new_tokens, temperature=0)))
            full.append(timed(lambda: model.generate(prompt, args.new_tokens, temperature=0)))
        c, f = args.new_tokens / median(cached), args.new_tokens / median(full)
        rows.append([prompt_len, args.new_tokens, f"{c:,.0f}", f"{f:,.1f}", f"{c / f:.1f}x"])
    header = ["prompt tokens", "new tokens", "KV cache (tokens/s)", "recompute (tokens/s)", "cache / recompute"]
    return (f"Decode, d_model {d_model}, 4 layers, greedy, batch 1, median of {args.repeats}:\n\n"
            + table(header, rows))


def trained(tokens, d_model, num_layers, num_heads, steps, seed, device):
    torch.manual_seed(seed)
    model = TransformerLM(vocab_size=256, context_length=256, d_model=d_model, num_layers=num_layers,
                          num_heads=num_heads, num_kv_heads=max(1, num_heads // 2), d_ff=8 * round(d_model / 3))
    config = TrainConfig(batch_size=16, context_length=64, max_iters=steps, max_lr=4e-3, min_lr=4e-4,
                         warmup_iters=steps // 10, eval_iters=0, log_interval=steps, device=str(device),
                         peak_flops=1e12)
    loss = train(model, tokens, None, config)[-1]["loss"]
    return model.eval(), loss


def step_time(model, prompt, repeats=20) -> float:
    cache = KVCache.for_model(model, 1, len(prompt) + 1)
    with torch.no_grad():
        model(prompt[None, :-1], kv_cache=cache)
        times = []
        for _ in range(repeats):
            cache.truncate(len(prompt) - 1)
            times.append(timed(lambda: model(prompt[None, -1:], kv_cache=cache)))
    return median(times)


def bench_speculative(args, device) -> str:
    tokenizer = ByteTokenizer()
    tokens = np.array(tokenizer.encode(generate_text(400_000, seed=0)), dtype=np.uint16)
    target, target_loss = trained(tokens, 64, 2, 4, args.train_steps, 0, device)
    draft, draft_loss = trained(tokens, 32, 1, 2, args.train_steps, 1, device)
    prompt = torch.tensor(tokenizer.encode("Once upon a time"), device=device)
    cost_ratio = step_time(draft, prompt) / step_time(target, prompt)
    plain = median([timed(lambda: generate(target, prompt, 150, temperature=1.0))
                    for _ in range(args.repeats)])
    rows = []
    for gamma in args.gammas:
        # Pool several 150-token runs: the models were trained on 64-token windows, so very long
        # generations would drift into positions they never saw.
        runs = [speculative_generate(target, draft, prompt, 150, gamma, temperature=1.0,
                                     generator=torch.Generator(device).manual_seed(1000 * gamma + seed))
                for seed in range(max(1, args.spec_tokens // 150))]
        run = SpeculativeResult(prompt, sum((r.gammas for r in runs), []), sum((r.accepted for r in runs), []))
        alpha = run.acceptance_rate
        formula = expected_tokens_per_call(alpha, gamma)
        spec = median([timed(lambda: speculative_generate(target, draft, prompt, 150, gamma))
                       for _ in range(args.repeats)])
        rows.append([gamma, f"{alpha:.3f}", f"{run.tokens_per_target_call:.3f}", f"{formula:.3f}",
                     f"{run.tokens_per_target_call / formula - 1:+.1%}", f"{plain / spec:.2f}x",
                     f"{expected_speedup(alpha, gamma, cost_ratio):.2f}x"])
    header = ["gamma", "alpha (measured)", "tokens / target call", "formula at alpha", "gap",
              "speedup (measured)", "speedup (formula at c)"]
    return (f"Speculative sampling, byte-level target ({target.num_parameters():,} params, loss {target_loss:.2f}) "
            f"and draft ({draft.num_parameters():,} params, loss {draft_loss:.2f}); alpha and tokens per call pooled "
            f"over {max(1, args.spec_tokens // 150)} runs of 150 tokens per gamma, speedups on one 150-token run "
            f"(median of {args.repeats}); temperature 1, measured c = {cost_ratio:.2f}:\n\n" + table(header, rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--prompt-lens", type=int, nargs="+", default=[64, 512, 1536])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--gammas", type=int, nargs="+", default=[1, 2, 3, 4, 6])
    parser.add_argument("--spec-tokens", type=int, default=3000, help="speculative tokens per gamma (runs of 150)")
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (small models: 1 avoids sync overhead)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.prompt_lens, args.new_tokens, args.gammas = [64, 512], 32, [2, 4]
        args.spec_tokens, args.train_steps, args.repeats = 450, 100, 1
    os.environ.setdefault("LMCOURSE_QUIET", "1")
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    print(machine())
    print(f"- device: {device}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)\n")
    print(bench_cache(args, device) + "\n")
    print(bench_speculative(args, device))


if __name__ == "__main__":
    main()
