"""BPE the slow, obvious way, one step at a time: the version to read first.

Each step recounts every adjacent pair in every pre-token, takes the most frequent one (ties to the
lexicographically greater pair of byte strings), and merges it everywhere. That is quadratic in the
number of merges — `train.py` does the same with incremental counts — but each step can be shown:
`bpe_steps` returns the pair counts, the merge chosen and the text's tokens after it, which the
chapter prints and the BPE widget steps through. The tests use it as the reference for `train_bpe`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lmcourse.tokenizer.pretokenize import pretokenize


@dataclass
class MergeStep:
    """One step of BPE training."""

    pair_counts: Counter          # (bytes, bytes) -> occurrences, before this merge
    merge: tuple[bytes, bytes]    # the pair chosen
    new_token: bytes              # merge[0] + merge[1]
    tokens: list[bytes]           # the text as tokens after this merge (special tokens whole)


def merge_pieces(pieces: list[bytes], pair: tuple[bytes, bytes]) -> list[bytes]:
    """Replace each non-overlapping occurrence of `pair`, scanning left to right."""
    out, i = [], 0
    while i < len(pieces):
        if i + 1 < len(pieces) and (pieces[i], pieces[i + 1]) == pair:
            out.append(pieces[i] + pieces[i + 1])
            i += 2
        else:
            out.append(pieces[i])
            i += 1
    return out


def byte_words(text: str, special_tokens: Sequence[str] = ()) -> tuple[list[list[bytes]], list[bool]]:
    """Where training starts: each pre-token as a list of single bytes, and whether it may be merged.

    A special token stays one unmergeable piece.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    specials = set(special_tokens)
    pieces = pretokenize(text, special_tokens)
    mergeable = [p not in specials for p in pieces]
    words = [[bytes([b]) for b in p.encode("utf-8")] if ok else [p.encode("utf-8")]
             for p, ok in zip(pieces, mergeable)]
    return words, mergeable


def bpe_steps(text: str, num_merges: int, special_tokens: Sequence[str] = ()) -> list[MergeStep]:
    """Train BPE on `text` for up to `num_merges` merges, recording every step."""
    if not isinstance(num_merges, int) or num_merges < 0:
        raise ValueError(f"num_merges: expected a non-negative int, got {num_merges!r}")
    words, mergeable = byte_words(text, special_tokens)
    steps = []
    for _ in range(num_merges):
        counts = Counter()
        for word, ok in zip(words, mergeable):
            if ok:
                counts.update(zip(word, word[1:]))
        if not counts:
            break
        best = max(counts, key=lambda pair: (counts[pair], pair))
        words = [merge_pieces(w, best) if ok else w for w, ok in zip(words, mergeable)]
        steps.append(MergeStep(counts, best, best[0] + best[1], [t for w in words for t in w]))
    return steps


def naive_train_bpe(text: str, vocab_size: int, special_tokens: Sequence[str] = ()):
    """`train_bpe`'s result computed with `bpe_steps` (same vocab layout: bytes, merges, specials)."""
    specials = list(dict.fromkeys(special_tokens))
    steps = bpe_steps(text, max(vocab_size - 256 - len(specials), 0), specials)
    merges = [s.merge for s in steps]
    tokens = [bytes([b]) for b in range(256)] + [a + b for a, b in merges] + [s.encode() for s in specials]
    return dict(enumerate(tokens)), merges
