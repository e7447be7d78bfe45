"""Parallel tokenization of a file: `lmcourse.train.encode.encode_file` against tiktoken on the same cores.

The same merges on both sides (`Tokenizer.to_tiktoken()`), trained once on the generated corpus
(cached in benchmarks/.data/ like bench_bpe_encode.py's). Sides, each on every core of this machine
unless it says otherwise:
- tiktoken, 1 thread: `encode(text, allowed_special="all")` on the whole text;
- tiktoken, N threads: `encode_batch(pieces, num_threads=N, allowed_special="all")` on the text cut at
  the same safe places ours uses (so the ids are the same), its Rust core releasing the GIL;
- ours, N processes: `encode_file(tokenizer, path, out, num_workers=N)`: reads the file, encodes in
  worker processes, writes the token file (fsync'd) and concatenates; start-up of the workers included.
tiktoken is given the text already in memory (reading is not timed for it). Every side's ids must
be identical (asserted). Prints a Markdown table: MB/s medians and the ratio to tiktoken on N threads.

Usage (defaults: 50 MB corpus, vocab 10,000, 3 repeats):
    .venv/bin/python benchmarks/bench_encode_parallel.py
    .venv/bin/python benchmarks/bench_encode_parallel.py --quick
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import SPECIAL, corpus, machine, median, table
from bench_bpe_encode import trained


def bench(size_mb: float, vocab_size: int, repeats: int, workers: int) -> str:
    import numpy as np

    from lmcourse.tokenizer import Tokenizer
    from lmcourse.tokenizer.pretokenize import file_chunk_boundaries
    from lmcourse.train import load_tokens
    from lmcourse.train.encode import PIECE_BYTES, encode_file

    path = corpus(size_mb)
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    vocab, merges = trained(min(size_mb, 20), vocab_size)  # BPE on (at most) the first 20 MB corpus
    enc = Tokenizer(vocab, merges, [SPECIAL]).to_tiktoken()
    bounds = file_chunk_boundaries(path, max(workers, -(-len(raw) // PIECE_BYTES)), [SPECIAL])
    pieces = [raw[a:b].decode("utf-8") for a, b in zip(bounds, bounds[1:])]
    sides = ["tiktoken, 1 thread", f"tiktoken, {workers} threads", f"ours, {workers} processes"]
    seconds = {side: [] for side in sides}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tokens.bin"
        for _ in range(repeats):
            start = time.perf_counter()
            single = enc.encode(text, allowed_special="all")
            seconds[sides[0]].append(time.perf_counter() - start)
            start = time.perf_counter()
            batch = enc.encode_batch(pieces, num_threads=workers, allowed_special="all")
            seconds[sides[1]].append(time.perf_counter() - start)
            out.unlink(missing_ok=True)
            tokenizer = Tokenizer(vocab, merges, [SPECIAL])  # cold: a fresh piece cache in every worker
            start = time.perf_counter()
            encode_file(tokenizer, path, out, num_workers=workers)
            seconds[sides[2]].append(time.perf_counter() - start)
            ours = load_tokens(out)
            assert [t for p in batch for t in p] == single, "tiktoken's batch differs from its single encode"
            assert np.array_equal(ours, np.asarray(single)), "encode_file's ids differ from tiktoken's"
    base = median(seconds[sides[1]])
    rows = [[side, f"{len(raw) / median(ts) / 1e6:.2f}", f"{median(ts):.3f}", " / ".join(f"{t:.3f}" for t in ts),
             f"{base / median(ts):.2f}x"] for side, ts in seconds.items()]
    ratio = base / median(seconds[sides[2]])
    return (f"### {size_mb:g} MB corpus ({len(raw):,} bytes, {len(single):,} ids), vocab {vocab_size:,}, "
            f"{workers} workers, {repeats} run(s)\n\n"
            + table(["side", "MB/s, median", "time (s), median", "runs (s)", f"throughput / tiktoken {workers} threads"],
                    rows)
            + f"\n\n- ids: identical on every side and run\n"
            f"- target, ours at least tiktoken's throughput on the same {workers} cores: {ratio:.2f}x, "
            f"{'met' if ratio >= 1 else 'MISSED'}\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, default=50, help="corpus size in MB (default 50)")
    p.add_argument("--vocab-size", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=os.cpu_count(), help="processes / threads (default: all cores)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 MB, vocab 1,000, 1 repeat")
    args = p.parse_args()
    if args.quick:
        args.size_mb, args.vocab_size, args.repeats = 2, 1_000, 1
    print("## Parallel tokenization: encode_file against tiktoken on the same cores\n")
    print(machine() + "\n")
    print(bench(args.size_mb, args.vocab_size, args.repeats, args.workers))


if __name__ == "__main__":
    main()
