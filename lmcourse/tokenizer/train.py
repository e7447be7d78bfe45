"""Byte-level BPE training, fast enough for a 20 MB corpus on a laptop.

Covers `train_bpe` (the CS336 interface): pre-token counts gathered by several processes over a
streamed file, then merges chosen from a heap of pair counts that is updated incrementally — a
merge touches only the words that contain the merged pair, never the whole corpus. Ties between
equally frequent pairs go to the lexicographically greater pair of byte strings (CS336's rule);
`tie_break="hf"` reproduces HuggingFace `tokenizers`' rule instead, so the two can be compared merge
for merge. The slow, obvious version that recounts everything each step is `naive.py`, and the
tests check that both produce the same merges.
Leaves out: dropout, min_frequency, limits on token length, training from a non-UTF-8 file.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor

from lmcourse import progress
from lmcourse.tokenizer.pretokenize import (count_pretokens, file_chunk_boundaries, iter_file_text,
                                            iter_safe_chunks, special_token_pattern)
from lmcourse.tokenizer.vocab import bytes_to_unicode

Vocab = dict[int, bytes]
Merges = list[tuple[bytes, bytes]]


def train_bpe(input_path: str | os.PathLike, vocab_size: int, special_tokens: Sequence[str] = (),
              *, num_workers: int | None = None, tie_break: str = "bytes",
              show_progress: bool = True) -> tuple[Vocab, Merges]:
    """Train a byte-level BPE tokenizer on a UTF-8 text file.

    Returns `vocab` (id -> bytes: the 256 single bytes, then one token per merge, then the special
    tokens) and `merges` in the order they were made. Training stops early if no pair is left.
    """
    path = os.fspath(input_path) if isinstance(input_path, (str, os.PathLike)) else None
    if path is None:
        raise TypeError(f"input_path: expected a path, got {type(input_path).__name__}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"input_path: no such file: {path!r}")
    _check_sizes(vocab_size, special_tokens)
    counts = count_file_pretokens(path, special_tokens, num_workers=num_workers, show_progress=show_progress)
    return train_bpe_from_counts(counts, vocab_size, special_tokens, tie_break=tie_break,
                                 show_progress=show_progress)


def count_file_pretokens(path: str | os.PathLike, special_tokens: Sequence[str] = (),
                         num_workers: int | None = None, show_progress: bool = False) -> Counter[str]:
    """Pre-token counts of a file, split into chunks at safe places and counted in parallel."""
    if num_workers is None:
        num_workers = os.cpu_count() or 1
    if not isinstance(num_workers, int) or num_workers < 1:
        raise ValueError(f"num_workers: expected a positive int, got {num_workers!r}")
    special_token_pattern(special_tokens)  # validates
    size = os.path.getsize(path)
    # Several chunks per worker keep both cores busy when chunks differ in cost.
    n_chunks = 1 if size < (1 << 20) or num_workers == 1 else 4 * num_workers
    bounds = file_chunk_boundaries(path, n_chunks, special_tokens)
    jobs = [(os.fspath(path), a, b, list(special_tokens)) for a, b in zip(bounds, bounds[1:])]
    total: Counter[str] = Counter()
    if len(jobs) == 1:
        return _count_range(*jobs[0])
    with ProcessPoolExecutor(max_workers=min(num_workers, len(jobs))) as pool:
        for counts in progress(pool.map(_count_range, *zip(*jobs)), total=len(jobs),
                               desc="pre-tokenizing", disable=not show_progress):
            total.update(counts)
    return total


def _count_range(path: str, start: int, end: int, special_tokens: list[str]) -> Counter[str]:
    """Count pieces in bytes [start, end) of a file, holding only a few MB of text at a time."""
    special = special_token_pattern(special_tokens)
    counts: Counter[str] = Counter()
    for chunk in iter_safe_chunks(iter_file_text(path, start, end), special_tokens):
        counts.update(count_pretokens(chunk, special))
    return counts


def train_bpe_from_counts(pretoken_counts: Mapping[str, int], vocab_size: int,
                          special_tokens: Sequence[str] = (), *, tie_break: str = "bytes",
                          show_progress: bool = False) -> tuple[Vocab, Merges]:
    """Learn merges from pre-token counts (the part of training that does not read the corpus)."""
    _check_sizes(vocab_size, special_tokens)
    specials = list(dict.fromkeys(special_tokens))
    num_merges = vocab_size - 256 - len(specials)
    vocab: Vocab = {i: bytes([i]) for i in range(256)}

    # Each distinct pre-token is a "word": a list of token ids with the number of times it occurs.
    words = [list(w.encode("utf-8")) for w in pretoken_counts]
    freqs = list(pretoken_counts.values())

    rank = _tie_rank(tie_break)
    order = [rank(i, vocab[i]) for i in range(256)]  # heap order among pairs with equal counts

    pair_counts: defaultdict[tuple[int, int], int] = defaultdict(int)
    where: defaultdict[tuple[int, int], set[int]] = defaultdict(set)  # may hold stale word indices
    for w, (word, f) in enumerate(zip(words, freqs)):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += f
            where[pair].add(w)
    heap = [(-c, order[a], order[b], a, b) for (a, b), c in pair_counts.items()]
    heapq.heapify(heap)

    merges: Merges = []
    for _ in progress(range(num_merges), desc="BPE merges", disable=not show_progress):
        best = _pop_best(heap, pair_counts)
        if best is None:
            break  # every word is a single token: nothing left to merge
        a, b = best
        new_id = 256 + len(merges)
        vocab[new_id] = vocab[a] + vocab[b]
        merges.append((vocab[a], vocab[b]))
        order.append(rank(new_id, vocab[new_id]))
        delta: defaultdict[tuple[int, int], int] = defaultdict(int)
        for w in where.pop((a, b)):
            word = words[w]
            merged = _merge_word(word, a, b, new_id)
            if merged is None:
                continue  # stale entry: an earlier merge already consumed this pair here
            f = freqs[w]
            for pair in zip(word, word[1:]):
                delta[pair] -= f
            for pair in zip(merged, merged[1:]):
                delta[pair] += f
                where[pair].add(w)
            words[w] = merged
        for pair, d in delta.items():
            if d:
                count = pair_counts[pair] + d
                if count:
                    pair_counts[pair] = count
                    heapq.heappush(heap, (-count, order[pair[0]], order[pair[1]], *pair))
                else:
                    del pair_counts[pair]
        pair_counts.pop((a, b), None)

    for tok in specials:
        vocab[len(vocab)] = tok.encode("utf-8")
    return vocab, merges


def _tie_rank(tie_break: str):
    """rank(id, bytes) such that, among pairs with equal counts, heapq (smallest first) pops the preferred one."""
    if tie_break == "bytes":
        # Inverted byte values ended by 256 sort in descending byte-string order: "b", "ab", "a".
        return lambda _id, token: tuple(255 - x for x in token) + (256,)
    if tie_break == "hf":
        # HF tokenizers prefers smaller ids: the 256 byte symbols sorted by their printable stand-in
        # characters (GPT-2's byte-to-unicode table), then merged tokens in the order they were made.
        table = bytes_to_unicode()
        hf_id = {b: r for r, b in enumerate(sorted(range(256), key=table.__getitem__))}
        return lambda id_, token: hf_id[token[0]] if id_ < 256 else id_
    raise ValueError(f"tie_break: expected 'bytes' or 'hf', got {tie_break!r}")


def _pop_best(heap: list, pair_counts: Mapping[tuple[int, int], int]) -> tuple[int, int] | None:
    """Pop the most frequent live pair; entries whose count has changed since they were pushed are stale."""
    while heap:
        neg, _, _, a, b = heapq.heappop(heap)
        if pair_counts.get((a, b)) == -neg:
            return a, b
    return None


def _merge_word(word: list[int], a: int, b: int, new_id: int) -> list[int] | None:
    """Replace each non-overlapping (a, b), left to right, by new_id; None if the pair does not occur."""
    out: list[int] = []
    i, n, found = 0, len(word), False
    while i < n:
        if word[i] == a and i + 1 < n and word[i + 1] == b:
            out.append(new_id)
            i += 2
            found = True
        else:
            out.append(word[i])
            i += 1
    return out if found else None


def _check_sizes(vocab_size: int, special_tokens: Sequence[str]) -> None:
    if isinstance(special_tokens, str):
        raise TypeError(f"special_tokens: expected a list of str, got the str {special_tokens!r}")
    n_special = len(set(special_tokens))
    if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size: expected an int, got {type(vocab_size).__name__}")
    if vocab_size < 256 + n_special:
        raise ValueError(f"vocab_size={vocab_size} is too small: a byte-level vocabulary needs 256 byte "
                         f"tokens plus {n_special} special token(s), so at least {256 + n_special}")
