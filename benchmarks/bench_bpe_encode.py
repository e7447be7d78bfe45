"""BPE encoding throughput: `lmcourse.tokenizer.Tokenizer` against tiktoken with the same merges.

A tokenizer is trained once with `train_bpe` on the package's generated story corpus (cached under
`benchmarks/.data/`), then the whole corpus is encoded by
- tiktoken: `tok.to_tiktoken()` (tiktoken's Rust BPE with our merges), `encode(text,
  allowed_special="all")`, which runs on one thread;
- ours, cold: a fresh `Tokenizer` whose piece cache is empty, `encode(text)`;
- ours, warm: the same `Tokenizer` encoding the same text a second time (every piece cached);
- ours, streamed: a fresh `Tokenizer`, `encode_iterable` over the open file's lines (file reading
  included; the others get the text already in memory).
Every side must give exactly the same ids (asserted). Building the tokenizers is not timed.
Corpora and the trained tokenizer are cached in `benchmarks/.data/`: delete it after changing the
corpus generator or the trainer.

Usage (defaults: 20 MB corpus, vocab 10,000, 3 repeats):
    .venv/bin/python benchmarks/bench_bpe_encode.py
    .venv/bin/python benchmarks/bench_bpe_encode.py --quick
"""

from __future__ import annotations

import argparse
import pickle
import time

from _common import DATA, SPECIAL, corpus, machine, median, table


def trained(size_mb: float, vocab_size: int) -> tuple[dict, list]:
    """(vocab, merges) trained on the corpus, cached so repeated benchmark runs skip training."""
    from lmcourse.tokenizer import train_bpe

    path = DATA / f"bpe_{size_mb:g}MB_vocab{vocab_size}.pkl"
    if not path.exists():
        vocab_merges = train_bpe(corpus(size_mb), vocab_size, [SPECIAL], num_workers=2, show_progress=False)
        path.write_bytes(pickle.dumps(vocab_merges))
    return pickle.loads(path.read_bytes())


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def first_difference(expected: list[int], got: list[int]) -> str:
    i = next((i for i, (x, y) in enumerate(zip(expected, got)) if x != y), min(len(expected), len(got)))
    return (f"ids differ first at position {i}: tiktoken {expected[i:i + 5]}, ours {got[i:i + 5]} "
            f"({len(expected)} vs {len(got)} ids)")


def bench(size_mb: float, vocab_size: int, repeats: int) -> str:
    from lmcourse.tokenizer import Tokenizer

    path = corpus(size_mb)
    text = path.read_text(encoding="utf-8")
    n_bytes = len(text.encode("utf-8"))
    vocab, merges = trained(size_mb, vocab_size)
    enc = Tokenizer(vocab, merges, [SPECIAL]).to_tiktoken()
    enc.encode("warm up the regex", allowed_special="all")

    def stream(tok):
        with open(path, encoding="utf-8") as f:
            return list(tok.encode_iterable(f))

    sides = ["tiktoken (1 thread)", "ours, cold", "ours, warm", "ours, encode_iterable over lines (cold)"]
    seconds = {side: [] for side in sides}
    reference, problems = None, []
    for _ in range(repeats):
        tok = Tokenizer(vocab, merges, [SPECIAL])
        results = {}
        for side, fn in zip(sides, [lambda: enc.encode(text, allowed_special="all"), lambda: tok.encode(text),
                                    lambda: tok.encode(text), lambda: stream(Tokenizer(vocab, merges, [SPECIAL]))]):
            t, results[side] = timed(fn)
            seconds[side].append(t)
        reference = results[sides[0]]
        problems += [f"{side}: {first_difference(reference, ids)}" for side, ids in results.items() if ids != reference]

    base = median(seconds[sides[0]])
    rows = [[side, f"{n_bytes / median(ts) / 1e6:.2f}", f"{median(ts):.3f}", " / ".join(f"{t:.3f}" for t in ts),
             f"{base / median(ts):.2f}x"] for side, ts in seconds.items()]
    ratio = base / median(seconds["ours, cold"])
    verdict = "; ".join(problems[:3]) if problems else f"identical on every side and run ({len(reference):,} ids)"
    return (f"### {size_mb:g} MB corpus ({n_bytes:,} bytes), vocab {vocab_size:,} "
            f"({len(merges):,} merges), {repeats} run(s)\n\n"
            + table(["side", "MB/s, median", "time (s), median", "runs (s)", "throughput / tiktoken"], rows)
            + f"\n\n- ids: {'**DIFFERENT**: ' if problems else ''}{verdict}\n"
            f"- target, ours at least tiktoken's single-thread throughput: cold {ratio:.2f}x, "
            f"{'met' if ratio >= 1 else 'MISSED'}; warm {base / median(seconds['ours, warm']):.2f}x\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, default=20, help="corpus size in MB (default 20)")
    p.add_argument("--vocab-size", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="smoke run: 1 MB, vocab 1,000, 1 repeat")
    args = p.parse_args()
    if args.quick:
        args.size_mb, args.vocab_size, args.repeats = 1, 1_000, 1
    print("## BPE encoding: lmcourse vs tiktoken with the same merges\n")
    print(machine() + "\n")
    print(bench(args.size_mb, args.vocab_size, args.repeats))


if __name__ == "__main__":
    main()
