"""MinHash: signature throughput and accuracy against `datasketch`, and dedup of a 100,000-document corpus.

1. Signatures. Documents come from `lmcourse.data.neardup.generate_near_duplicates` (generated
   stories plus edited copies), normalized once with `normalize_text` outside the timing. Both sides
   compute 128-permutation MinHash signatures of the same shingle sets (word 5-grams of the
   normalized text), interleaved, each repeat on the same documents:
   - datasketch: `MinHash.bulk` (its fastest CPU path, default scheme "affine32": SHA-1 of each
     shingle, then numpy over the permutations), timed from the normalized text (splitting and
     building the shingle byte strings included) and, separately, from prebuilt shingles;
   - ours: `shingle_hashes` + `minhash_signatures` on batches of 1,024 texts, as
     `minhash_deduplication` runs them, timed from the normalized text.
   Accuracy: for every (copy, source) pair of the corpus (true Jaccard spread over about 0.4-1) the
   mean |estimate - true Jaccard| of each side, next to the binomial expectation
   sqrt(2/π)·sqrt(J(1-J)/K) averaged over the same pairs.
2. Dedup. `minhash_deduplication(files, 128, 16, 5, 0.8, out)` on a generated corpus of files
   (20 % edited copies), in a fresh process (peak RSS sampled by `_common.run_child`), with where the
   time goes. Pairwise precision and recall of its clusters against (a) exact clusters: every
   same-family pair whose true Jaccard is >= 0.8, joined (what all-pairs comparison would find), and
   (b) the planted families (some copies are edited below 0.8 on purpose). The corpus files and the
   truth are cached in `benchmarks/.data/` (delete to regenerate).

Usage (defaults: 5,000 documents for signatures, 3 repeats; 100,000 documents for dedup):
    .venv/bin/python benchmarks/bench_minhash.py
    .venv/bin/python benchmarks/bench_minhash.py --quick      # 1,000 and 5,000 documents, 1 repeat
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time

import numpy as np
from _common import DATA, machine, median, run_child, table

NUM_PERM, NGRAMS, BANDS, THRESHOLD = 128, 5, 16, 0.8


def shingle_bytes(text: str) -> list[bytes]:
    """datasketch's input: the same word 5-grams, as byte strings."""
    words = text.split()
    return [" ".join(words[i:i + NGRAMS]).encode() for i in range(max(1, len(words) - NGRAMS + 1))] if words else []


def ours(texts: list[str]) -> np.ndarray:
    from lmcourse.data.minhash import minhash_signatures, shingle_hashes

    parts = []
    for lo in range(0, len(texts), 1024):
        hashes, offsets = shingle_hashes(texts[lo:lo + 1024], NGRAMS)
        parts.append(minhash_signatures(hashes, offsets, NUM_PERM))
    return np.concatenate(parts)


def bench_signatures(num_documents: int, repeats: int) -> str:
    from datasketch import MinHash
    from datasketch import __version__ as datasketch_version

    from lmcourse.data.minhash import estimate_jaccard, jaccard
    from lmcourse.data.neardup import generate_near_duplicates
    from lmcourse.data.normalize import normalize_text

    corpus = generate_near_duplicates(num_documents, seed=7)
    texts = [normalize_text(t) for t in corpus.documents]
    prebuilt = [shingle_bytes(t) for t in texts]
    sides = {"datasketch MinHash.bulk, from text": lambda: MinHash.bulk([shingle_bytes(t) for t in texts],
                                                                          num_perm=NUM_PERM),
             "datasketch MinHash.bulk, from prebuilt shingles": lambda: MinHash.bulk(prebuilt, num_perm=NUM_PERM),
             "lmcourse shingle_hashes + minhash_signatures, from text": lambda: ours(texts)}
    seconds = {side: [] for side in sides}
    results = {}
    for _ in range(repeats):
        for side, fn in sides.items():  # interleaved: a burst of load elsewhere hits every side alike
            start = time.perf_counter()
            results[side] = fn()
            seconds[side].append(time.perf_counter() - start)

    pairs = [(i, int(s)) for i, s in enumerate(corpus.source) if s >= 0]
    sets = [set(s) for s in prebuilt]
    true_j = np.array([jaccard(sets[i], sets[j]) for i, j in pairs])
    sketches, signatures = results[list(sides)[0]], results[list(sides)[2]]
    error_ds = np.abs(np.array([sketches[i].jaccard(sketches[j]) for i, j in pairs]) - true_j).mean()
    error_ours = np.abs(np.array([estimate_jaccard(signatures[i], signatures[j]) for i, j in pairs]) - true_j).mean()
    expected = np.mean(np.sqrt(2 / math.pi) * np.sqrt(true_j * (1 - true_j) / NUM_PERM))

    base = median(seconds[list(sides)[0]])
    rows = [[side, f"{num_documents / median(ts):,.0f}", f"{median(ts):.2f}", " / ".join(f"{t:.2f}" for t in ts),
             f"{base / median(ts):.2f}x"] for side, ts in seconds.items()]
    ratio = base / median(seconds[list(sides)[2]])
    ratio_prebuilt = median(seconds[list(sides)[1]]) / median(seconds[list(sides)[2]])
    equal = abs(error_ours - error_ds) <= 0.1 * max(error_ds, error_ours)
    shingles = sum(map(len, prebuilt))
    return (f"### Signatures: {num_documents:,} documents ({shingles / num_documents:.0f} shingles each on average), "
            f"{NUM_PERM} permutations, {repeats} run(s); datasketch {datasketch_version}\n\n"
            + table(["side", "documents/s, median", "time (s), median", "runs (s)", "throughput / datasketch"], rows)
            + f"\n\n- mean |estimate - true Jaccard| over {len(pairs):,} (copy, source) pairs "
            f"(true Jaccard {true_j.min():.2f}-{true_j.max():.2f}, mean {true_j.mean():.2f}): datasketch "
            f"{error_ds:.4f}, ours {error_ours:.4f}; binomial expectation {expected:.4f}\n"
            f"- target, at least 5x datasketch's throughput at equal error: {ratio:.1f}x from text "
            f"({ratio_prebuilt:.1f}x against datasketch with its shingles prebuilt), error "
            f"{'equal within 10 %' if equal else 'NOT equal'}: {'met' if ratio >= 5 and equal else 'MISSED'}\n")


def planted_corpus(num_documents: int):
    """(paths, exact-cluster labels, planted family labels), written once to benchmarks/.data/."""
    from lmcourse.data.neardup import exact_clusters, generate_near_duplicates, write_documents

    folder = DATA / f"neardup_{num_documents}_seed0"
    truth = folder / "truth.npz"
    if not truth.exists():
        shutil.rmtree(folder, ignore_errors=True)
        corpus = generate_near_duplicates(num_documents, seed=0)
        write_documents(corpus.documents, folder / "docs")
        np.savez(truth, exact=exact_clusters(corpus, NGRAMS, THRESHOLD), family=corpus.family)
    labels = np.load(truth)
    return sorted((folder / "docs").iterdir()), labels["exact"], labels["family"]


def child(num_documents: int) -> None:
    """One dedup run; prints a JSON line: time, where it went, and the cluster scores."""
    from lmcourse.data import dedup
    from lmcourse.data.neardup import labels_from_clusters, pair_precision_recall

    paths, exact, family = planted_corpus(num_documents)
    spent: dict[str, float] = {}

    def timed(name, fn):  # wrap a step of minhash_deduplication to add up its time
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    for module_name, name in [("_normalized", "read + normalize_text"), ("shingle_hashes", "shingle hashes"),
                              ("minhash_signatures", "signatures"), ("lsh_candidate_pairs", "LSH banding"),
                              ("_jaccard_of_sorted", "Jaccard checks"), ("_write_kept", "writing kept files")]:
        setattr(dedup, module_name, timed(name, getattr(dedup, module_name)))
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        start = time.perf_counter()
        report = dedup.minhash_deduplication(paths, NUM_PERM, BANDS, NGRAMS, THRESHOLD, f"{tmp}/out")
        seconds = time.perf_counter() - start
    index = {p: i for i, p in enumerate(paths)}
    predicted = labels_from_clusters([[index[p] for p in c] for c in report.clusters], len(paths))
    print(json.dumps({"seconds": seconds, "spent": spent, "removed": len(report.removed),
                      "ideal_removed": int(len(exact) - len(np.unique(exact))),
                      "planted_removed": int(len(family) - len(np.unique(family))),
                      "clusters": len(report.clusters), "candidate_pairs": report.candidate_pairs,
                      "exact": pair_precision_recall(predicted, exact),
                      "planted": pair_precision_recall(predicted, family)}))


def bench_dedup(num_documents: int) -> str:
    from lmcourse.data.lsh import lsh_threshold

    planted_corpus(num_documents)  # generate outside the measured process
    out, peak_mb, _ = run_child([__file__, "--child", str(num_documents)])
    (p_exact, r_exact), (p_planted, r_planted) = out["exact"], out["planted"]
    rows = [["exact clusters (true Jaccard >= 0.8 within families)", f"{p_exact:.4f}", f"{r_exact:.4f}",
             f"{out['ideal_removed']:,}"],
            ["planted families", f"{p_planted:.4f}", f"{r_planted:.4f}", f"{out['planted_removed']:,}"]]
    steps = ", ".join(f"{name} {t:.1f} s" for name, t in sorted(out["spent"].items(), key=lambda kv: -kv[1]))
    return (f"### Dedup: {num_documents:,} files, {NUM_PERM} hashes in {BANDS} bands of {NUM_PERM // BANDS} rows "
            f"(threshold ≈ {lsh_threshold(BANDS, NUM_PERM // BANDS):.2f}), word {NGRAMS}-grams, Jaccard >= {THRESHOLD}\n\n"
            + table(["against", "pair precision", "pair recall", "documents an exact method would remove"], rows)
            + f"\n\n- wall time {out['seconds']:.1f} s; peak RSS {peak_mb:.0f} MB (one process)\n"
            f"- removed {out['removed']:,} documents in {out['clusters']:,} clusters from "
            f"{out['candidate_pairs']:,} candidate pairs\n- where the time went: {steps}\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--signature-documents", type=int, default=5_000)
    p.add_argument("--dedup-documents", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="smoke run: 1,000 and 5,000 documents, 1 repeat")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.child)
    if args.quick:
        args.signature_documents, args.dedup_documents, args.repeats = 1_000, 5_000, 1
    print("## MinHash: lmcourse vs datasketch, and near-duplicate dedup\n")
    print(machine() + "\n")
    print(bench_signatures(args.signature_documents, args.repeats), flush=True)
    print(bench_dedup(args.dedup_documents))


if __name__ == "__main__":
    main()
