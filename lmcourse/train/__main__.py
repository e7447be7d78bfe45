"""`python -m lmcourse.train (--config cfg.json | --preset NAME) --out DIR`: from nothing to a trained model.

1. data (`lmcourse.train.prepare`): the generated corpus by default, or `--data tinystories |
   openwebtext | PATH`; BPE trained on it (vocab.json, merges.txt); token files (train.bin, val.bin)
   written in parallel on every core;
2. a `TransformerLM` trained with AdamW and a cosine schedule, checkpointing to DIR/ckpt.pt, logging to
   the terminal and DIR/metrics.csv / metrics.jsonl (`lmcourse.train.log`);
3. a few samples, printed and written to DIR/samples.txt.

Many processes: the same command under `torchrun --nproc_per_node=N` (and torchrun's multi-node
flags) with `--parallel ddp | zero1 | zero2 | fsdp | torch-ddp | torch-fsdp` (`lmcourse.parallel.strategies`):
gloo on CPUs, NCCL on GPUs. Rank 0 prepares the data while the others wait, then every rank reads
its rows of each global batch; rank 0 alone logs, writes checkpoints and samples. DIR must be on a
filesystem every rank sees. A checkpoint is the single-process one whatever wrote it, so a run
saved by N ranks resumes on M (the global batch_size must divide by M).

The GPU path: the config's train.precision "bf16-mixed" (autocast), `--compile` (torch.compile),
`--kernels` (the course's fused cross-entropy Triton kernel; its PyTorch reference without CUDA),
`--attention reference | sdpa | flash` (the model's attention core: the course's own, PyTorch's fused
`scaled_dot_product_attention`, or the course's FlashAttention-2 Triton kernel, CUDA only and refused
elsewhere; `TransformerLM.set_attention_core`); MFU is logged against the GPU's datasheet peak when `lmcourse.accounting.GPUS` knows it (else a
measured matmul peak).

A step whose outputs already exist is skipped, so a second run goes straight to training; `--resume`
continues from DIR/ckpt.pt (with `--max-iters` larger than the checkpoint's iteration to train longer;
cosine_cycle_iters follows max_iters unless the config sets it). The config is JSON with three parts:

    {"model": {TransformerConfig fields except vocab_size},
     "train": {TrainConfig fields},
     "data":  {"source": "generated", "corpus_bytes": int, "vocab_size": int, "seed": 0,
               "special_tokens": ["<|endoftext|>"]}}

`tiny.json` next to this file trains in about 20 s on two CPU cores; `--preset` names the tiers
of `lmcourse.train.presets`. `python -m lmcourse.train plot RUN_DIR... [--out loss.png]` draws
the loss curves of one or more runs.

This program sits above the package's layers (it puts together data, tokenizer, model, loop and
`lmcourse.parallel`); nothing imports it. Leaves out: hyperparameter sweeps, tensor/pipeline
parallelism, elastic membership changes (torchrun restarts; `--resume` continues), and sliding-window
attention in the FlashAttention-2 kernel (`--attention sdpa` handles windows).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from lmcourse.files import atomic_write
from lmcourse.kernels import TRITON_AVAILABLE, cross_entropy_triton, flash_attention_core
from lmcourse.nn import TransformerLM, cross_entropy, sdpa_attention
from lmcourse.parallel.strategies import STRATEGIES, make_strategy
from lmcourse.tokenizer import Tokenizer
from lmcourse.train.checkpoint import load_checkpoint, read_checkpoint
from lmcourse.train.data import load_tokens, token_dtype
from lmcourse.train.distributed import Topology, init_distributed, read_topology
from lmcourse.train.log import MetricsLog, plot_runs
from lmcourse.train.loop import TrainConfig, train
from lmcourse.train.prepare import DATA_DEFAULTS, check_config, load_config, prepare_data  # noqa: F401 (re-exported)
from lmcourse.train.presets import PRESETS, preset

# --attention: the model's attention core (lmcourse.nn.attention's docstring), None = its own reference
ATTENTION_CORES = {"reference": None, "sdpa": sdpa_attention, "flash": flash_attention_core}


def run(config_path, out, resume: bool = False, num_samples: int = 3, max_iters: int | None = None, *,
        preset_name: str | None = None, data: str | None = None, parallel: str = "none", cache_dir=None,
        num_workers: int | None = None, timeout_s: float = 300.0, compile: bool = False,
        kernels: bool = False, attention: str = "reference") -> list[dict]:
    """The whole pipeline (see the module docstring); returns the training history of this run."""
    out = Path(out)
    if (config_path is None) == (preset_name is None):
        raise ValueError("give exactly one of --config FILE and --preset NAME")
    if preset_name is not None:
        model_fields, train_fields, data_fields = check_config(preset(preset_name), f"preset {preset_name}",
                                                               max_iters, data)
    else:
        model_fields, train_fields, data_fields = load_config(config_path, max_iters, data)
    if parallel not in STRATEGIES:
        raise ValueError(f"--parallel {parallel!r}; expected one of {STRATEGIES}")
    if attention not in ATTENTION_CORES:
        raise ValueError(f"--attention {attention!r}; expected one of {list(ATTENTION_CORES)}")
    if compile and parallel == "fsdp":
        raise ValueError("--compile with --parallel fsdp: the course's FSDP gathers and frees parameters in module "
                         "hooks, which torch.compile would trace through; use ddp, zero1 or zero2 with --compile")
    topology = read_topology()
    if train_fields.get("batch_size", TrainConfig.batch_size) % topology.world_size:
        raise ValueError(f"batch_size={train_fields.get('batch_size', TrainConfig.batch_size)} is not divisible by "
                         f"the world size {topology.world_size}; each rank takes an equal share of the global batch")
    checkpoint_path = out / "ckpt.pt"
    if checkpoint_path.exists() and not resume:
        raise ValueError(f"{checkpoint_path} exists; pass --resume to continue it, or delete it to start over")
    if attention == "flash" and TrainConfig.from_dict(train_fields).torch_device().type != "cuda":
        raise ValueError("--attention flash: the FlashAttention-2 Triton kernel runs on CUDA only, and this run's "
                         "device is not CUDA; use --attention sdpa (PyTorch's fused attention) or reference")
    if attention == "flash" and model_fields.get("sliding_window") is not None:
        raise ValueError("--attention flash: the FlashAttention-2 kernel masks causally only, and the model has "
                         f"sliding_window={model_fields['sliding_window']}; use --attention sdpa")
    device = init_distributed(topology, TrainConfig.from_dict(train_fields).torch_device(), timeout_s)
    try:
        cfg = TrainConfig.from_dict({**train_fields, "checkpoint_path": str(checkpoint_path), "device": str(device)})
        return _train(cfg, model_fields, data_fields, out, topology, parallel, num_samples, cache_dir, num_workers,
                      compile, kernels, attention)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _train(cfg, model_fields, data_fields, out, topology, parallel, num_samples, cache_dir, num_workers,
           compile, kernels, attention):
    say = print if topology.is_main else (lambda *args, **kwargs: None)
    tokenizer = _prepared_data(out, data_fields, topology, cache_dir, num_workers)
    dtype = token_dtype(tokenizer.vocab_size)
    train_ids, val_ids = load_tokens(out / "train.bin", dtype), load_tokens(out / "val.bin", dtype)

    torch.manual_seed(cfg.seed)  # the model's initial weights, the same on every rank
    model = TransformerLM(vocab_size=tokenizer.vocab_size, **model_fields).to(cfg.device)
    start, checkpoint = 0, None
    if Path(cfg.checkpoint_path).exists():
        checkpoint = read_checkpoint(cfg.checkpoint_path)
        start = load_checkpoint(checkpoint, model)  # before wrapping: sharding starts from these weights
    model.set_attention_core(ATTENTION_CORES[attention])  # None: the model's own reference attention
    if compile:  # in place (keeps the parameter names), before the strategy wraps it
        model.compile()
    strategy = make_strategy(parallel, model, cfg.optimizer_kwargs())
    if checkpoint is not None:
        if checkpoint["optimizer_class"] != "AdamW":
            raise ValueError(f"{cfg.checkpoint_path} holds {checkpoint['optimizer_class']} state; the CLI trains "
                             "with AdamW")
        strategy.load_optimizer_state(checkpoint["optimizer"])
    ranks = f"; {topology.world_size} ranks, parallel {parallel}" if topology.world_size > 1 else ""
    if kernels and not (TRITON_AVAILABLE and torch.device(cfg.device).type == "cuda"):
        say("--kernels: no CUDA GPU with Triton here, so the kernels run their PyTorch references")
    say(f"{model.num_parameters():,} parameters; {len(train_ids):,} training tokens, {len(val_ids):,} "
        f"validation tokens; vocab_size {tokenizer.vocab_size}; attention {attention}{ranks}")
    if start >= cfg.max_iters:
        say(f"{cfg.checkpoint_path} is at iteration {start}, max_iters is {cfg.max_iters}: nothing to train "
            "(pass a larger --max-iters to train longer)")
        history = []
    else:
        if checkpoint is not None:
            saved = checkpoint["extra"]
            by = f" (saved by {saved.get('world_size', 1)} rank(s), {saved.get('parallel', 'none')})"
            say(f"training iterations {start}..{cfg.max_iters}, resumed from {cfg.checkpoint_path}{by}")
        else:
            say(f"training iterations {start}..{cfg.max_iters}")
        context_length = cfg.context_length or model.config.context_length
        log = MetricsLog(out, cfg.batch_size * context_length, torch.device(cfg.device)) if topology.is_main else None
        try:
            history = train(model, train_ids, val_ids, cfg, start_iter=start, strategy=strategy, on_log=log,
                            rng_state=None if checkpoint is None else checkpoint["rng"],
                            loss_fn=cross_entropy_triton if kernels else cross_entropy)
        finally:
            if log is not None:
                log.close()
    if num_samples and topology.is_main:
        # From the checkpoint just written: the full model whatever the strategy (FSDP's ranks hold shards).
        sampler = TransformerLM(vocab_size=tokenizer.vocab_size, **model_fields).to(cfg.device)
        load_checkpoint(cfg.checkpoint_path, sampler)
        _write_samples(sampler, tokenizer, num_samples, data_fields["special_tokens"], val_ids, cfg.seed, out)
    return history


def _prepared_data(out: Path, data: dict, topology: Topology, cache_dir, num_workers) -> Tokenizer:
    """Rank 0 prepares (downloads, BPE, tokenization: maybe hours), then tells the others how it went."""
    if topology.world_size == 1:
        return prepare_data(out, data, cache_dir, num_workers)
    # A gloo group of its own with a long timeout: the default group's would expire during a long preparation.
    group = dist.new_group(backend="gloo", timeout=datetime.timedelta(days=1))
    outcome = [None]
    if topology.is_main:
        try:
            prepare_data(out, data, cache_dir, num_workers)
        except Exception as e:
            outcome = [f"{type(e).__name__}: {e}"]
            dist.broadcast_object_list(outcome, src=0, group=group)
            raise
    dist.broadcast_object_list(outcome, src=0, group=group)
    if outcome[0] is not None:
        raise ValueError(f"rank 0 could not prepare the data: {outcome[0]}")
    return Tokenizer.from_files(out / "vocab.json", out / "merges.txt", data["special_tokens"])


def _write_samples(model, tokenizer, num_samples, specials, val_ids, seed, out: Path) -> None:
    device = next(model.parameters()).device
    # Start where a document starts: after the end-of-text token, as GPT-2's unconditional samples do.
    first = tokenizer.special_ids[specials[0]] if specials else int(val_ids[0])
    prompt = torch.full((num_samples, 1), first, dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    eos_id = first if specials else None
    ids = model.generate(prompt, model.config.context_length, temperature=0.8, eos_id=eos_id, generator=generator)
    texts = [f"--- sample {i} ---\n{tokenizer.decode([t for t in row[1:] if t != eos_id]).strip()}"
             for i, row in enumerate(ids.tolist(), start=1)]
    print("\n".join(texts))
    with atomic_write(out / "samples.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")


def _plot_main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m lmcourse.train plot",
                                     description="Draw the loss curves of one or more runs into an image.")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="directories written by python -m lmcourse.train")
    parser.add_argument("--out", help="image to write (default: RUN_DIR/loss.png of the first run)")
    parser.add_argument("--x", choices=("tokens", "iter"), default="tokens", help="horizontal axis (default tokens)")
    args = parser.parse_args(argv)
    try:
        path = plot_runs(args.run_dirs, args.out or Path(args.run_dirs[0]) / "loss.png", args.x)
    except (ValueError, FileNotFoundError) as e:
        print(f"python -m lmcourse.train plot: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["plot"]:
        return _plot_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m lmcourse.train", description=__doc__.split("\n")[0],
                                     epilog="presets: " + "; ".join(f"{k}: {v['note']}" for k, v in PRESETS.items()))
    parser.add_argument("--config", help="JSON config (see lmcourse/train/tiny.json)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a ready-made config for a tier of hardware")
    parser.add_argument("--out", required=True, help="run directory: corpus, tokenizer, tokens, ckpt.pt, metrics")
    parser.add_argument("--data", metavar="SOURCE",
                        help="generated (default), tinystories, openwebtext, or a text file / folder of *.txt")
    parser.add_argument("--cache-dir", help="where downloads are kept (default $LMCOURSE_CACHE or ~/.cache/lmcourse)")
    parser.add_argument("--parallel", default="none", choices=STRATEGIES,
                        help="data parallelism across torchrun's processes (default none: one process)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt if it exists")
    parser.add_argument("--sample", type=int, default=3, metavar="N", help="samples to print at the end (default 3)")
    parser.add_argument("--max-iters", type=int, metavar="N", help="override train.max_iters")
    parser.add_argument("--workers", type=int, metavar="N", help="processes for BPE and tokenization (default: all cores)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (minutes of compiling first)")
    parser.add_argument("--kernels", action="store_true",
                        help="the course's fused cross-entropy kernel (Triton on CUDA; its PyTorch reference elsewhere)")
    parser.add_argument("--attention", default="reference", choices=list(ATTENTION_CORES),
                        help="the attention core: the course's reference (default), sdpa (PyTorch's fused "
                             "scaled_dot_product_attention) or flash (the course's FlashAttention-2 kernel, CUDA only)")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S",
                        help="seconds a rank waits for the others in a collective before failing (default 300)")
    args = parser.parse_args(argv)
    if args.sample < 0:
        parser.error(f"--sample {args.sample}: expected a number >= 0")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers {args.workers}: expected a number >= 1")
    if not args.timeout > 0:
        parser.error(f"--timeout {args.timeout}: expected a number of seconds > 0")
    try:
        run(args.config, args.out, args.resume, args.sample, args.max_iters, preset_name=args.preset, data=args.data,
            parallel=args.parallel, cache_dir=args.cache_dir, num_workers=args.workers, timeout_s=args.timeout,
            compile=args.compile, kernels=args.kernels, attention=args.attention)
    except (ValueError, TypeError, FileNotFoundError) as e:  # bad config or directory: a message, not a trace
        print(f"python -m lmcourse.train: error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # gloo and NCCL report a dead or silent peer as a RuntimeError
        topology = read_topology()
        if topology.world_size == 1 or not any(sign in str(e) for sign in _LOST_PEER):
            raise  # a bug, not a lost peer: keep the traceback
        print(f"python -m lmcourse.train: error: rank {topology.rank} lost contact with the other ranks (one of "
              f"them died or hangs; see its log): {str(e).strip().splitlines()[0][:300]}", file=sys.stderr)
        return 3
    return 0


# What a collective's error says when the peer is gone (gloo: reset or closed connection; NCCL or any
# backend: the timeout of --timeout).
_LOST_PEER = ("Connection reset", "Connection closed", "connection closed", "timed out", "Timed out", "Timeout",
              "NCCL", "Broken pipe", "Socket Timeout")


if __name__ == "__main__":
    sys.exit(main())
