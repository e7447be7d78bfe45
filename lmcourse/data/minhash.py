"""MinHash: estimating the Jaccard similarity of two documents from short signatures.

A document is compared as a set of shingles, its word n-grams after `normalize_text` (lowercase, NFD,
accents and punctuation off, whitespace collapsed). `shingles` and `bag_of_shingles` show the
difference between a set and a multiset (the lecture's "abcab": shingles {ab, bc, ca}, bag
{ab: 2, bc: 1, ca: 1}); `jaccard` is |A ∩ B| / |A ∪ B| on sets.

The permutation view (Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3.3): write the
sets as columns of a 0/1 characteristic matrix, shuffle its rows with a random permutation π, and let
h_π(A) be the first row (in π order) where A's column has a 1. Then P[h_π(A) = h_π(B)] = J(A, B),
because the first row of A ∪ B under π is equally likely to be any of its rows, and the two minima
agree exactly when that row is in A ∩ B. `permutation_minhash` does this literally.

Why hash functions replace permutations (MMDS 3.3.5): a permutation of every possible shingle is too
big to store or draw. A random hash function h ranks the shingles just as well: the minimum of h over
a set plays the part of the first row, and only the shingles present are ever hashed. So each shingle
is hashed once to 64 bits and scrambled by a fixed bijection (x), and `num_hashes` functions
h_i(x) = (a_i·x + b_i) are applied to all shingles at once as one (num_hashes, num_shingles) numpy
product, no Python loop over i. The textbook
family is (a·x + b) mod p for a prime p above the universe; with 64-bit keys that needs 128-bit
products, so we use the machine's own modulus: (a·x + b) mod 2^64 with a odd, a bijection on 64-bit
words, and keep the high 32 bits (multiply-add-shift; Dietzfelbinger et al. 1997), which are the
well-mixed ones. Taking the high bits commutes with the minimum, so the shift runs once per signature.
One more piece of algebra halves the work: a·x + b = a·(x + c) with c = b/a (a is odd, so it has an
inverse mod 2^64). We draw one c for all functions and set b_i = a_i·c: each (a_i, b_i) is still
uniformly random (for a fixed odd a_i, c ↦ a_i·c is a bijection), but the addition now happens once
per shingle (x + c) instead of once per (function, shingle), and the inner loop is a single multiply.
What this gives up is independence of the b_i across functions; the benchmark measures the same
estimation error as datasketch's independent (a_i, b_i).

Shingle hashes are computed with numpy for a whole batch of documents at once: a polynomial hash of
each word's bytes (from prefix sums over the joined bytes), then each n-gram's hash combined from its
words' hashes, so no word or n-gram string is ever built (`shingle_hashes`). They are fixed functions
of the text: the same across runs and machines (unlike Python's salted `hash`).

Leaves out: LSH banding and clustering (`lsh`), the file-level dedup (`dedup.minhash_deduplication`),
weighted and b-bit MinHash, and character shingles for MinHash (they work in `shingles`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from lmcourse import checks
from lmcourse.data.normalize import normalize_text

__all__ = ["shingles", "bag_of_shingles", "word_ngrams", "jaccard", "shingle_hashes", "hash_parameters",
           "minhash_signatures", "estimate_jaccard", "permutation_minhash", "EMPTY"]

_MASK64 = (1 << 64) - 1
# Odd multipliers are units mod 2^64 (invertible); the two differ so that word and n-gram hashing
# share no algebra (fmix64 between them breaks it too).
_BYTE_MULTIPLIER = np.uint64(0xD6E8FEB86659FD93)
_BYTE_MULTIPLIER_INVERSE = np.uint64(pow(0xD6E8FEB86659FD93, -1, 1 << 64))
_NGRAM_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio
_POWERS = [np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64)]  # see _powers
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[list(b" \t\n\v\f\r")] = True
# (num_hashes x shingles) values per block, 4 MiB of uint64: big enough to amortise numpy's per-call
# cost over many documents, small enough to stay in the CPU's caches between the three passes.
_CHUNK_ELEMENTS = 1 << 19
EMPTY = np.uint32(0xFFFFFFFF)  # the signature entry of a document with no shingles




def _pieces(fn: str, sequence: Sequence, k: int) -> list:
    checks.positive_int("k", k, fn=fn)
    pieces = [sequence[i:i + k] for i in range(max(1, len(sequence) - k + 1))] if len(sequence) else []
    return [piece if isinstance(piece, str) else tuple(piece) for piece in pieces]


def shingles(sequence: Sequence, k: int) -> set:
    """The set of k-shingles (contiguous pieces of length k) of a str or a list of words.

    A str gives substrings ("abcab", 2 -> {"ab", "bc", "ca"}); a list gives tuples of k words. A
    sequence shorter than k gives one shingle, itself (so a short document still equals its copies).
    """
    return set(_pieces("shingles", sequence, k))


def bag_of_shingles(sequence: Sequence, k: int) -> Counter:
    """The multiset of k-shingles: like `shingles`, but counting repeats ("abcab" has "ab" twice)."""
    return Counter(_pieces("bag_of_shingles", sequence, k))


def word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """The shingles MinHash dedup compares: word n-grams of `normalize_text(text)`."""
    return shingles(normalize_text(text).split(), n)


def jaccard(a: Iterable, b: Iterable) -> float:
    """|A ∩ B| / |A ∪ B| of two sets; 0.0 for two empty sets (nothing in common to speak of)."""
    a, b = set(a), set(b)
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, in place: a bijection that spreads every input bit over all
    output bits, so no arithmetic pattern in its input (polynomial hashes, consecutive integers)
    survives into its output."""
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """M^k and M^(-k) mod 2^64 for k < n, kept between calls (grown by doubling): a batch's bytes
    would otherwise pay for two sequential cumulative products every time."""
    if len(_POWERS[0]) < n:
        size = max(n, 2 * len(_POWERS[0]))
        _POWERS[:] = [np.cumprod(np.r_[np.uint64(1), np.full(size - 1, m, dtype=np.uint64)])
                      for m in (_BYTE_MULTIPLIER, _BYTE_MULTIPLIER_INVERSE)]
    return _POWERS[0][:n], _POWERS[1][:n]


def _word_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every word of every text, in order, and the number of words of each text.

    A word's hash is fmix64 of the polynomial Σ_k c_k·M^(len-1-k) mod 2^64 over its bytes c_k (+1,
    so zero bytes count). For all words at once: with prefix sums P[i] = Σ_{k<i} c_k·M^(-k) over the
    joined bytes, the word at [s, e) is M^(e-1)·(P[e] - P[s]); M is odd, so M^(-1) mod 2^64 exists.
    (Like any polynomial hash mod 2^64, crafted strings over ~2,000 bytes can collide; for natural
    text that costs nothing but two words counted as one.)
    """
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    data = np.frombuffer(b" ".join(encoded), dtype=np.uint8)
    doc_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]], dtype=np.int64)
    is_word = ~_ASCII_SPACE[data]
    edges = np.diff(np.concatenate([[False], is_word, [False]]).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    powers, inverse_powers = _powers(len(data) + 1)
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum((data + np.uint64(1)) * inverse_powers[:-1], out=prefix[1:])
    hashes = _fmix64(powers[ends - 1] * (prefix[ends] - prefix[starts]))
    words_per_text = np.bincount(np.searchsorted(doc_starts, starts, side="right") - 1, minlength=len(texts))
    return hashes, words_per_text


def shingle_hashes(texts: Sequence[str], ngrams: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the word n-grams of many normalized texts (see `normalize_text`), all at once.

    Words are the runs between ASCII whitespace, which is `str.split()` on normalized text, so the
    distinct hashes of a text stand one-to-one for `shingles(text.split(), ngrams)`.
    Returns (hashes, offsets): text d's shingle hashes are hashes[offsets[d]:offsets[d + 1]], in text
    order, repeats included (the minimum does not care). A text of fewer than `ngrams` words (but at
    least one) has one shingle, all its words; an empty one has none.
    """
    checks.positive_int("ngrams", ngrams, fn="shingle_hashes")
    words, lengths = _word_hashes(texts)
    # h(w_0..w_{n-1}) = Σ_j w_j·M'^(n-1-j) mod 2^64 over all texts' words at once, Horner-style;
    # windows that run into the next text are dropped below.
    combined = words.copy()
    for j in range(1, ngrams):
        combined[:-j] *= _NGRAM_MULTIPLIER
        combined[:-j] += words[j:]
    starts = np.cumsum(lengths) - lengths
    counts = np.where(lengths >= ngrams, lengths - ngrams + 1, np.minimum(lengths, 1))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    # Position of the k-th kept window: its text's first word + its rank within the text.
    text_of = np.repeat(np.arange(len(texts)), counts)
    hashes = combined[starts[text_of] + np.arange(offsets[-1]) - offsets[:-1][text_of]]
    for d in np.flatnonzero((lengths > 0) & (lengths < ngrams)):  # short texts: all their words
        value = 0
        for h in words[starts[d]:starts[d] + lengths[d]].tolist():
            value = (value * int(_NGRAM_MULTIPLIER) + h) & _MASK64
        hashes[offsets[d]] = value
    return hashes, offsets


def hash_parameters(num_hashes: int, seed: int = 0) -> tuple[np.ndarray, np.uint64]:
    """(a, c): h_i(x) = a_i·x + b_i mod 2^64 with b_i = a_i·c, a of shape (num_hashes, 1), every a_i odd."""
    checks.positive_int("num_hashes", num_hashes, fn="hash_parameters")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, size=num_hashes, dtype=np.uint64, endpoint=False) | np.uint64(1)
    c = rng.integers(0, 2**64, dtype=np.uint64, endpoint=False)
    return a[:, None], c


def minhash_signatures(hashes: np.ndarray, offsets: np.ndarray, num_hashes: int, *,
                       seed: int = 0) -> np.ndarray:
    """MinHash signatures (num_documents, num_hashes), uint32, of the shingle hashes from `shingle_hashes`.

    Entry (d, i) is the high 32 bits of min over document d's shingles of (a_i·x + b_i) mod 2^64,
    where x is the shingle's hash scrambled by fmix64 and (a_i, b_i) come from `hash_parameters`.
    Work goes in blocks of about 2^19 (hash function, shingle) values; a block can hold many short
    documents, and a long document can span blocks. An empty document's row is all `EMPTY`.
    """
    checks.positive_int("num_hashes", num_hashes, fn="minhash_signatures")
    # A 2-universal family is only as random as its input: on structured keys (consecutive integers,
    # say) the minima of a·x + b are biased. A fixed bijection first scrambles every key, so any
    # distinct 64-bit keys will do (datasketch does the same); it costs one pass per shingle, not per h_i.
    keys = _fmix64(np.array(hashes, dtype=np.uint64))
    offsets = np.asarray(offsets, dtype=np.int64)
    if offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(keys) \
            or np.any(np.diff(offsets) < 0):
        raise ValueError(f"minhash_signatures: offsets={offsets!r:.80}; expected non-decreasing from 0 "
                         f"to len(hashes)={len(keys)}, as shingle_hashes returns them")
    a, c = hash_parameters(num_hashes, seed)
    keys += c  # a_i·(x + c) = a_i·x + b_i: the "+ b" once per shingle, not once per function
    num_docs, total = len(offsets) - 1, len(keys)
    mins = np.full((num_hashes, num_docs), np.iinfo(np.uint64).max, dtype=np.uint64)
    step = max(1, _CHUNK_ELEMENTS // num_hashes)
    block = np.empty((num_hashes, min(step, total)), dtype=np.uint64)
    for lo in range(0, total, step):
        hi = min(lo + step, total)
        # Documents overlapping [lo, hi): from the one holding row lo up to the last starting before hi.
        docs = np.arange(np.searchsorted(offsets, lo, side="right") - 1, np.searchsorted(offsets, hi))
        docs = docs[offsets[docs + 1] > offsets[docs]]  # reduceat cannot take empty segments
        values = block[:, :hi - lo]
        np.multiply(a, keys[lo:hi], out=values)  # all num_hashes functions at once; wraps mod 2^64
        # Layout (hash function, shingle) makes each segment's minimum a run over contiguous memory.
        part = np.minimum.reduceat(values, np.maximum(offsets[docs], lo) - lo, axis=1)
        mins[:, docs] = np.minimum(mins[:, docs], part)
    return np.ascontiguousarray((mins >> np.uint64(32)).astype(np.uint32).T)


def estimate_jaccard(signature_a: np.ndarray, signature_b: np.ndarray) -> float | np.ndarray:
    """The fraction of positions where two signatures agree: an unbiased estimate of their Jaccard
    similarity, with standard error sqrt(J(1-J)/num_hashes). Rows of 2-D inputs are compared pairwise."""
    signature_a, signature_b = np.asarray(signature_a), np.asarray(signature_b)
    if signature_a.shape != signature_b.shape:
        raise ValueError(f"estimate_jaccard: shapes {signature_a.shape} and {signature_b.shape}; expected equal")
    agree = (signature_a == signature_b).mean(axis=-1)
    return float(agree) if agree.ndim == 0 else agree


def permutation_minhash(sets: Sequence[set], num_permutations: int, *, seed: int = 0) -> np.ndarray:
    """The definition, literally: (num_sets, num_permutations) positions of each set's first row under
    random permutations of the rows of the characteristic matrix. For teaching-sized universes only."""
    checks.positive_int("num_permutations", num_permutations, fn="permutation_minhash")
    universe = sorted(set().union(*sets), key=repr)  # any fixed order: the permutations do the shuffling
    row = {element: i for i, element in enumerate(universe)}
    rng = np.random.default_rng(seed)
    position = np.stack([rng.permutation(len(universe)) for _ in range(num_permutations)])  # (perm, row)
    signatures = np.full((len(sets), num_permutations), len(universe), dtype=np.int64)  # empty: past the end
    for s, members in enumerate(sets):
        if members:
            signatures[s] = position[:, [row[m] for m in members]].min(axis=1)
    return signatures
