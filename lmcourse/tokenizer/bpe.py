"""The byte-level BPE tokenizer: encoding and decoding with a trained vocabulary and merges.

Covers `Tokenizer(vocab, merges, special_tokens)` with the CS336 interface (`encode`, `decode`,
`encode_iterable`, `from_files`, `save`), GPT-2 compatibility (load GPT-2's published files and get
tiktoken's ids), and export to a `tiktoken.Encoding`. Encoding applies the merges inside each
pre-token in the order they were learned, and remembers the result per distinct pre-token (or per
word between spaces, where cutting at spaces is exact): natural text repeats the same few thousand
pieces, so almost every piece is a dictionary lookup.
Leaves out: training (`train.py`), dropout, byte fallback for non-byte-level vocabularies.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice

from lmcourse.tokenizer.pretokenize import (GPT2_SPLIT_PATTERN, iter_safe_chunks, special_token_pattern,
                                            split_at_spaces, split_on_special, split_pieces)
from lmcourse.tokenizer.vocab import load_vocab_merges, save_vocab_merges


class Tokenizer:
    """Byte-level BPE: text -> pre-tokens -> bytes -> merges applied in learned order -> ids."""

    def __init__(self, vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]],
                 special_tokens: Sequence[str] | None = None, *, cache_size: int = 1 << 18):
        self.vocab: dict[int, bytes] = _check_vocab(vocab)
        self.merges: list[tuple[bytes, bytes]] = [tuple(m) for m in merges]
        self.id_of: dict[bytes, int] = {}
        for i in sorted(self.vocab):  # a token listed twice keeps its smallest id
            self.id_of.setdefault(self.vocab[i], i)
        missing = [b for b in range(256) if bytes([b]) not in self.id_of]
        if missing:
            raise ValueError(f"vocab: a byte-level vocabulary needs all 256 single bytes; missing {missing[:5]}...")
        self._byte_ids = [self.id_of[bytes([b])] for b in range(256)]

        # (left id, right id) -> (rank, merged id): the rank is the merge's position in training.
        self._merge = {}
        for rank, pair in enumerate(self.merges):
            if len(pair) != 2 or not all(isinstance(p, bytes) for p in pair):
                raise TypeError(f"merges[{rank}]: expected a pair of bytes, got {pair!r}")
            a, b = pair
            ids = [self.id_of.get(x) for x in (a, b, a + b)]
            if None in ids:
                raise ValueError(f"merges[{rank}] = {pair!r}: {(a, b, a + b)[ids.index(None)]!r} is not in the vocab")
            self._merge.setdefault((ids[0], ids[1]), (rank, ids[2]))

        if special_tokens is not None and isinstance(special_tokens, (str, bytes)):
            raise TypeError(f"special_tokens: expected a list of str, got {special_tokens!r}")
        self.special_tokens = list(dict.fromkeys(special_tokens or ()))
        self._special = special_token_pattern(self.special_tokens)  # validates; longest match wins
        self.special_ids = {}
        for tok in self.special_tokens:
            raw = tok.encode("utf-8")
            if raw not in self.id_of:  # add to the vocabulary, as the CS336 interface asks
                new_id = max(self.vocab) + 1
                self.vocab[new_id] = raw
                self.id_of[raw] = new_id
            self.special_ids[tok] = self.id_of[raw]
        # Remembered ids: per pre-token (each one runs BPE once), and per chunk between spaces
        # (see `encode`), either as it stands or with the space before it.
        self._pieces = _Cache(self._encode_piece, cache_size)
        self._chunks = _Cache(self._encode_chunk, cache_size)
        self._after_space = _Cache(lambda word: self._encode_chunk(" " + word), cache_size)

    # -- construction from and to files -------------------------------------------------------
    @classmethod
    def from_files(cls, vocab_path: str | os.PathLike, merges_path: str | os.PathLike,
                   special_tokens: Sequence[str] | None = None) -> "Tokenizer":
        """Load a vocabulary saved by `save` (GPT-2's encoder.json / vocab.bpe format)."""
        vocab, merges = load_vocab_merges(vocab_path, merges_path)
        return cls(vocab, merges, special_tokens)

    def save(self, vocab_path: str | os.PathLike, merges_path: str | os.PathLike) -> None:
        save_vocab_merges(self.vocab, self.merges, vocab_path, merges_path)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        ids: list[int] = []
        # Dict lookups all the way down: only text never seen before reaches the regex or BPE.
        piece_ids, after_space = self._pieces.__getitem__, self._after_space.__getitem__
        for segment, is_special in split_on_special(text, self._special):
            if is_special:
                ids.append(self.special_ids[segment])
            elif (words := split_at_spaces(segment)) is not None:  # most English text
                ids.extend(self._chunks[words[0]])
                ids.extend(chain.from_iterable(map(after_space, islice(words, 1, None))))
            else:
                ids.extend(chain.from_iterable(map(piece_ids, split_pieces(segment))))
        return ids

    def encode_iterable(self, iterable: Iterable[str]) -> Iterator[int]:
        """Lazily encode a stream of strings (e.g. an open file) in constant memory.

        The ids are exactly those of `encode("".join(iterable))`: the stream is regrouped at places
        where no pre-token or special token can straddle the cut.
        """
        if isinstance(iterable, (str, bytes)):
            raise TypeError("iterable: expected an iterable of str such as an open file; "
                            "for a single string use encode()")
        for chunk in iter_safe_chunks(iterable, self.special_tokens):
            yield from self.encode(chunk)

    def _encode_chunk(self, chunk: str) -> tuple[int, ...]:
        """Ids of a chunk of ordinary text: its pieces' ids, each piece looked up in the same cache."""
        return tuple(chain.from_iterable(map(self._pieces.__getitem__, split_pieces(chunk))))

    def _encode_piece(self, piece: str) -> tuple[int, ...]:
        """Apply merges to one pre-token, lowest rank first (which is the training order).

        A heap over adjacent pairs keeps long pieces (a run of 10,000 spaces) at O(n log n); equal
        ranks pop left to right, as merging "aaa" by (a, a) must give "aa a". Symbols sit in a linked
        list over positions; a heap entry remembers the pair it was made for, and is stale (skipped)
        once either side has changed.
        """
        ids: list[int | None] = [self._byte_ids[b] for b in piece.encode("utf-8")]
        n = len(ids)
        if n < 2:
            return tuple(ids)
        get = self._merge.get
        heap = []
        for i in range(n - 1):
            if (m := get((ids[i], ids[i + 1]))) is not None:
                heap.append((m[0], i, ids[i], ids[i + 1], m[1]))  # (rank, position, left, right, merged)
        heapq.heapify(heap)
        nxt = list(range(1, n + 1))  # nxt[i] == n: i is the last symbol
        prv = list(range(-1, n - 1))
        while heap:
            _, i, left, right, merged = heapq.heappop(heap)
            j = nxt[i]
            if j >= n or ids[i] != left or ids[j] != right:
                continue
            ids[i], ids[j] = merged, None
            k = nxt[i] = nxt[j]
            if k < n:
                prv[k] = i
                if (m := get((merged, ids[k]))) is not None:
                    heapq.heappush(heap, (m[0], i, merged, ids[k], m[1]))
            if (p := prv[i]) >= 0 and (m := get((ids[p], merged))) is not None:
                heapq.heappush(heap, (m[0], p, ids[p], merged, m[1]))
        return tuple([t for t in ids if t is not None])

    # -- decoding -------------------------------------------------------------------------------
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        vocab = self.vocab
        try:
            return b"".join([vocab[i] for i in ids])
        except (KeyError, TypeError):
            for pos, i in enumerate(ids):
                if not isinstance(i, int) or isinstance(i, bool):
                    raise TypeError(f"ids[{pos}]: expected an int token id, got {i!r}") from None
                if i not in vocab:
                    raise ValueError(f"ids[{pos}] = {i} is not in the vocabulary "
                                     f"(ids run from {min(vocab)} to {max(vocab)})") from None
            raise

    def decode(self, ids: Iterable[int]) -> str:
        """Text of the ids; bytes that are not valid UTF-8 become U+FFFD instead of raising."""
        return self.decode_bytes(list(ids)).decode("utf-8", errors="replace")

    # -- interoperability -----------------------------------------------------------------------
    def to_tiktoken(self, name: str = "lmcourse-bpe"):
        """The same tokenizer as a `tiktoken.Encoding` (tiktoken's Rust BPE with our merges).

        tiktoken merges by the rank of the *merged* token, so ranks are the merge order: bytes first,
        then each merge's result. Special tokens keep their ids.
        """
        import tiktoken

        ranks = {bytes([b]): self._byte_ids[b] for b in range(256)}
        last = max(self._byte_ids)
        for rank, (a, b) in enumerate(self.merges):
            merged, token_id = a + b, self.id_of[a + b]
            if merged in ranks:
                raise ValueError(f"merges[{rank}] makes {merged!r} again; tiktoken needs one rank per token")
            if token_id <= last:
                raise ValueError(f"merges[{rank}] makes id {token_id}, not above the previous merge's "
                                 f"{last}; tiktoken needs ids that grow in merge order")
            ranks[merged], last = token_id, token_id
        return tiktoken.Encoding(name=name, pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks,
                                 special_tokens=dict(self.special_ids))

    def __repr__(self) -> str:
        return (f"Tokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={self.special_tokens})")


class _Cache(dict):
    """text -> ids, computed on first use; cleared when full so memory stays bounded."""

    def __init__(self, compute, max_size: int):
        super().__init__()
        self._compute, self._max_size = compute, max_size

    def __missing__(self, piece: str) -> tuple[int, ...]:
        ids = self._compute(piece)
        if len(self) >= self._max_size:
            self.clear()
        self[piece] = ids
        return ids


def _check_vocab(vocab: Mapping[int, bytes]) -> dict[int, bytes]:
    if not isinstance(vocab, Mapping):
        raise TypeError(f"vocab: expected a dict of int -> bytes, got {type(vocab).__name__}")
    for i, tok in vocab.items():
        if not isinstance(i, int) or not isinstance(tok, bytes):
            raise TypeError(f"vocab: expected int -> bytes entries, got {i!r} -> {tok!r}")
    return dict(vocab)
