"""BPE training speed and memory: `lmcourse.tokenizer.train_bpe` against HuggingFace `tokenizers`.

Both sides learn a byte-level BPE vocabulary on the package's generated story corpus with the
GPT-2 pre-tokenizer and `<|endoftext|>` as the only special token. Ours runs with
`tie_break="hf"` so its merges must equal HF's one for one (asserted), and with the default
`tie_break="bytes"` for its own timing. Each run is a fresh Python process, so the peak memory is
that run's alone; the time is measured inside it, around the training call only (imports excluded).

- HF: file read and split into documents on `<|endoftext|>` *inside* the timing (our side reads
  the file itself, so this is end to end for both), then `train_from_iterator`. HF uses every core
  through its RAYON thread pool.
- Ours: `train_bpe(path, ...)` with `num_workers` processes counting pre-tokens (default 2).

Usage (defaults are the issue's targets: 20 MB at vocab 10,000 and 1 MB at vocab 500, 3 repeats):
    .venv/bin/python benchmarks/bench_bpe_train.py
    .venv/bin/python benchmarks/bench_bpe_train.py --size-mb 5 --vocab-size 2000 --repeats 1
    .venv/bin/python benchmarks/bench_bpe_train.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from _common import SPECIAL, corpus, machine, median, run_child, table
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from lmcourse.tokenizer import train_bpe
from lmcourse.tokenizer.vocab import unicode_to_bytes

DEFAULT_CONFIGS = [(20, 10_000), (1, 500)]
SIDES = {  # name -> description for the table
    "hf": "HF tokenizers BpeTrainer",
    "ours-hf": 'lmcourse train_bpe, tie_break="hf"',
    "ours-bytes": 'lmcourse train_bpe, tie_break="bytes"',
}


def train_hf(path: str, vocab_size: int) -> tuple[Tokenizer, float]:
    """HF's training, file reading included; returns the tokenizer and the seconds spent reading."""
    start = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        # One document per story; HF's own train(files) would split lines, which changes "\n\n" pieces.
        documents = f.read().split(SPECIAL)
    read_seconds = time.perf_counter() - start
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[SPECIAL], min_frequency=0,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    hf.train_from_iterator(documents, trainer)
    return hf, read_seconds


def hf_merges(hf: Tokenizer) -> list[tuple[bytes, bytes]]:
    """HF's merges as bytes: HF writes tokens with GPT-2's printable stand-ins for bytes."""
    to_byte = unicode_to_bytes()
    merges = []
    for m in json.loads(hf.to_str())["model"]["merges"]:
        a, b = m.split(" ") if isinstance(m, str) else m
        merges.append((bytes(map(to_byte.__getitem__, a)), bytes(map(to_byte.__getitem__, b))))
    return merges


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (our workers)."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def child(args) -> None:
    """One training run; prints its wall and CPU times, ru_maxrss (MB) and merges (hex) as one JSON line."""
    start, start_cpu, read_seconds = time.perf_counter(), cpu_seconds(), None
    if args.child == "hf":
        hf, read_seconds = train_hf(args.corpus, args.vocab_size)
    else:
        _, merges = train_bpe(args.corpus, args.vocab_size, [SPECIAL], num_workers=args.workers,
                              tie_break=args.child.removeprefix("ours-"), show_progress=False)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    if args.child == "hf":
        merges = hf_merges(hf)
    maxrss = [resource.getrusage(who).ru_maxrss / 1e3 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "read_seconds": read_seconds, "maxrss_mb": maxrss,
                      "merges": [[a.hex(), b.hex()] for a, b in merges]}))


def compare_merges(expected: list, got: list) -> str | None:
    """None if equal, else where the lists first differ (merges given as pairs of hex strings)."""
    if got == expected:
        return None
    i = next((i for i, (x, y) in enumerate(zip(expected, got)) if x != y), min(len(expected), len(got)))
    show = lambda ms: tuple(bytes.fromhex(h) for h in ms[i]) if i < len(ms) else "nothing"  # noqa: E731
    return (f"first difference at merge {i}: HF {show(expected)}, this run {show(got)} "
            f"({len(expected)} vs {len(got)} merges)")


def bench(size_mb: float, vocab_size: int, repeats: int, workers: int) -> str:
    path = str(corpus(size_mb))
    runs = {side: [] for side in SIDES}
    for _ in range(repeats):
        for side in SIDES:  # interleaved, so a burst of load elsewhere hits every side alike
            out, peak_mb, processes = run_child([__file__, "--child", side, "--corpus", path, "--vocab-size",
                                                 str(vocab_size), "--workers", str(workers)])
            runs[side].append(dict(out, peak_mb=peak_mb, processes=processes))

    # Correctness: with HF's tie-breaking, ours must make exactly HF's merges, in every run.
    hf_merges = runs["hf"][0]["merges"]
    problems = [compare_merges(hf_merges, r["merges"]) for r in runs["hf"] + runs["ours-hf"]]
    problem = next((p for p in problems if p), None)
    if problem:
        verdict = f"**DIFFERENT**: {problem}"
    else:
        early = len(hf_merges) < vocab_size - 257  # 256 bytes + 1 special token
        verdict = (f"identical in every run ({len(hf_merges)} merges"
                   + ("; both stop early: no pair is left once every pre-token is a single token)" if early else ")"))

    def med(side: str, key: str, index: int | None = None) -> float:
        return median([r[key] if index is None else r[key][index] for r in runs[side]])

    rows = []
    for side, label in SIDES.items():
        most = max(r["processes"] for r in runs[side])
        parallel = (f"RAYON threads, all {os.cpu_count()} cores" if side == "hf" else
                    f"num_workers={workers}: {most} process{'es' if most > 1 else ''} seen")
        rows.append([label, parallel, f"{med(side, 'seconds'):.2f}",
                     " / ".join(f"{r['seconds']:.2f}" for r in runs[side]),
                     f"{med(side, 'seconds') / med('hf', 'seconds'):.2f}x", f"{med(side, 'cpu_seconds'):.2f}",
                     f"{med(side, 'peak_mb'):.0f}",
                     f"{med(side, 'maxrss_mb', 0):.0f} / {med(side, 'maxrss_mb', 1):.0f}"])
    ratio = med("ours-hf", "seconds") / med("hf", "seconds")
    return (f"### {size_mb:g} MB corpus, vocab {vocab_size:,}, {repeats} run(s) per side\n\n"
            + table(["side", "parallelism", "time (s), median", "runs (s)", "time / HF", "CPU time (s)",
                     "peak RSS of process tree (MB)", "ru_maxrss self / largest child (MB)"], rows)
            + f"\n\n- merges, HF vs ours (tie_break=\"hf\"): {verdict}\n"
            f"- HF's time includes reading the file and splitting it into documents: "
            f"{med('hf', 'read_seconds'):.2f} s (median)\n"
            f"- target, ours within 2x of HF's time: {ratio:.2f}x, {'met' if ratio <= 2 else 'MISSED'}\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, help="corpus size in MB (default: 20 and 1)")
    p.add_argument("--vocab-size", type=int, help="vocabulary size (default: 10000 for 20 MB, 500 for 1 MB)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=2, help="our pre-token counting processes")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 MB, vocab 500, 1 repeat")
    p.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)

    if args.quick:
        configs, args.repeats = [(1, 500)], 1
    elif args.size_mb or args.vocab_size:
        configs = [(args.size_mb or 20, args.vocab_size or 10_000)]
    else:
        configs = DEFAULT_CONFIGS
    print("## BPE training: lmcourse vs HuggingFace tokenizers\n")
    print(machine() + "\n")
    for size_mb, vocab_size in configs:
        print(bench(size_mb, vocab_size, args.repeats, args.workers), flush=True)


if __name__ == "__main__":
    main()
