"""`python -m lmcourse.train --config cfg.json --out DIR`: the whole pipeline of part one, from nothing.

1. write the book's generated corpus into DIR (train.txt with the data seed, val.txt with seed + 1);
2. train the chapter-1 byte-level BPE on train.txt and save it (vocab.json, merges.txt);
3. tokenize both texts into token files (train.bin, val.bin);
4. build a `TransformerLM` and train it with AdamW and a cosine schedule, checkpointing to DIR/ckpt.pt;
5. print a few samples from it.

A step whose outputs already exist is skipped, so a second run goes straight to training; `--resume`
continues from DIR/ckpt.pt (with `--max-iters` larger than the checkpoint's iteration to train longer;
cosine_cycle_iters follows max_iters unless the config sets it). The config is JSON with three parts:

    {"model": {TransformerConfig fields except vocab_size},
     "train": {TrainConfig fields},
     "data":  {"corpus_bytes": int, "vocab_size": int, "seed": 0, "special_tokens": ["<|endoftext|>"]}}

`tiny.json` next to this file trains in about 20 s on two CPU cores.
Leaves out: real corpora (see `lmcourse.data.loaders` and `lmcourse.train.data.tokenize_file`),
multi-GPU training, hyperparameter sweeps.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from lmcourse.config import TransformerConfig
from lmcourse.corpus import write_corpus
from lmcourse.files import atomic_write
from lmcourse.nn import TransformerLM
from lmcourse.tokenizer import Tokenizer, train_bpe
from lmcourse.train.checkpoint import load_checkpoint, read_checkpoint
from lmcourse.train.data import load_tokens, token_dtype, tokenize_file
from lmcourse.train.loop import TrainConfig, train

DATA_DEFAULTS = {"corpus_bytes": None, "vocab_size": None, "seed": 0, "special_tokens": ["<|endoftext|>"]}


def load_config(path, max_iters: int | None = None) -> tuple[dict, dict, dict]:
    """Read and validate a config file; returns (model fields, train fields, data fields)."""
    with open(path, encoding="utf-8") as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object with 'model', 'train' and 'data'")
    _no_unknown(f"{path}", raw, {"model", "train", "data"})
    for part in ("model", "data"):
        if not isinstance(raw.get(part), dict):
            raise ValueError(f"{path}: '{part}' is missing or not an object")
    model, train_fields, data = raw["model"], dict(raw.get("train", {})), {**DATA_DEFAULTS, **raw["data"]}
    _no_unknown(f"{path}: data", data, set(DATA_DEFAULTS))
    for name in ("corpus_bytes", "vocab_size"):
        if not isinstance(data[name], int) or isinstance(data[name], bool) or data[name] <= 0:
            raise ValueError(f"{path}: data.{name}={data[name]!r}; expected a positive int")
    if "vocab_size" in model:
        raise ValueError(f"{path}: model.vocab_size is set by the tokenizer; put it in data.vocab_size")
    TransformerConfig.from_dict({**model, "vocab_size": data["vocab_size"]})  # fail now, not after BPE
    if "checkpoint_path" in train_fields:
        raise ValueError(f"{path}: train.checkpoint_path is DIR/ckpt.pt, chosen by --out")
    if max_iters is not None:
        train_fields["max_iters"] = max_iters
    TrainConfig.from_dict(train_fields)
    return model, train_fields, data


def _no_unknown(where: str, d: dict, known: set) -> None:
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(known)}")


def prepare_data(out: Path, data: dict) -> Tokenizer:
    """Steps 1-3, each skipped when its output exists; returns the tokenizer."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "data.json"  # what the files in `out` were made from
    if manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")) != data:
        raise ValueError(f"{out} holds data prepared from {manifest.read_text(encoding='utf-8')}, not {data}; "
                         "use another --out (or delete the directory)")
    with atomic_write(manifest, "w", encoding="utf-8") as f:
        json.dump(data, f)
    specials = data["special_tokens"]
    separator = specials[0] if specials else "\n"
    for name, num_bytes, seed in (("train", data["corpus_bytes"], data["seed"]),
                                  ("val", max(data["corpus_bytes"] // 10, 1), data["seed"] + 1)):
        if not (out / f"{name}.txt").exists():
            write_corpus(out / f"{name}.txt", num_bytes, seed=seed, separator=separator)
    if (out / "vocab.json").exists() and (out / "merges.txt").exists():
        tokenizer = Tokenizer.from_files(out / "vocab.json", out / "merges.txt", specials)
    else:
        tokenizer = Tokenizer(*train_bpe(out / "train.txt", data["vocab_size"], specials), specials)
        tokenizer.save(out / "vocab.json", out / "merges.txt")
    for name in ("train", "val"):
        if not (out / f"{name}.bin").exists():
            tokenize_file(tokenizer, out / f"{name}.txt", out / f"{name}.bin")
    return tokenizer


def _print_row(row: dict) -> None:
    val = f"  val {row['val_loss']:.3f}" if "val_loss" in row else ""
    tqdm.write(f"iter {row['iter']:6d}  loss {row['loss']:.3f}{val}  lr {row['lr']:.2e}  "
               f"{row['tokens_per_s']:,.0f} tok/s")


def run(config_path, out, resume: bool = False, num_samples: int = 3, max_iters: int | None = None) -> list[dict]:
    """The whole pipeline (see the module docstring); returns the training history of this run."""
    out = Path(out)
    model_fields, train_fields, data = load_config(config_path, max_iters)
    checkpoint_path = out / "ckpt.pt"
    if checkpoint_path.exists() and not resume:
        raise ValueError(f"{checkpoint_path} exists; pass --resume to continue it, or delete it to start over")
    cfg = TrainConfig.from_dict({**train_fields, "checkpoint_path": str(checkpoint_path)})
    tokenizer = prepare_data(out, data)
    dtype = token_dtype(tokenizer.vocab_size)
    train_ids, val_ids = load_tokens(out / "train.bin", dtype), load_tokens(out / "val.bin", dtype)

    torch.manual_seed(cfg.seed)  # the model's initial weights
    model = TransformerLM(vocab_size=tokenizer.vocab_size, **model_fields).to(cfg.torch_device())
    optimizer = cfg.build_optimizer(model.parameters())
    start, rng_state = 0, None
    if checkpoint_path.exists():
        checkpoint = read_checkpoint(checkpoint_path)
        start, rng_state = load_checkpoint(checkpoint, model, optimizer), checkpoint["rng"]
    print(f"{model.num_parameters():,} parameters; {len(train_ids):,} training tokens, {len(val_ids):,} "
          f"validation tokens; vocab_size {tokenizer.vocab_size}")
    if start >= cfg.max_iters:
        print(f"{checkpoint_path} is at iteration {start}, max_iters is {cfg.max_iters}: nothing to train "
              "(pass a larger --max-iters to train longer)")
        history = []
    else:
        print(f"training iterations {start}..{cfg.max_iters}" + (f", resumed from {checkpoint_path}" if start else ""))
        history = train(model, train_ids, val_ids, cfg, optimizer, start, rng_state, on_log=_print_row)
    if num_samples:
        _print_samples(model, tokenizer, num_samples, data["special_tokens"], val_ids, cfg.seed)
    return history


def _print_samples(model: TransformerLM, tokenizer: Tokenizer, num_samples: int, specials, val_ids, seed) -> None:
    device = next(model.parameters()).device
    # Start where a document starts: after the end-of-text token, as GPT-2's unconditional samples do.
    first = tokenizer.special_ids[specials[0]] if specials else int(val_ids[0])
    prompt = torch.full((num_samples, 1), first, dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    eos_id = first if specials else None
    ids = model.generate(prompt, model.config.context_length, temperature=0.8, eos_id=eos_id, generator=generator)
    for i, row in enumerate(ids.tolist(), start=1):
        text = tokenizer.decode([t for t in row[1:] if t != eos_id])
        print(f"--- sample {i} ---\n{text.strip()}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lmcourse.train", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="JSON config (see lmcourse/train/tiny.json)")
    parser.add_argument("--out", required=True, help="directory for corpus, tokenizer, tokens and ckpt.pt")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt if it exists")
    parser.add_argument("--sample", type=int, default=3, metavar="N", help="samples to print at the end (default 3)")
    parser.add_argument("--max-iters", type=int, metavar="N", help="override train.max_iters")
    args = parser.parse_args(argv)
    if args.sample < 0:
        parser.error(f"--sample {args.sample}: expected a number >= 0")
    try:
        run(args.config, args.out, args.resume, args.sample, args.max_iters)
    except (ValueError, TypeError, FileNotFoundError) as e:  # bad config or directory: a message, not a trace
        print(f"python -m lmcourse.train: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
