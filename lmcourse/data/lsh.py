"""Locality-sensitive hashing over MinHash signatures: banding, the S-curve, and clustering.

Comparing every pair of N signatures is N²/2 comparisons; LSH compares only pairs likely to be
similar. Cut each signature of b·r values into b bands of r rows and hash each band into a bucket;
two documents become a candidate pair when they share a bucket in at least one band. Two documents
of Jaccard similarity s agree on one MinHash value with probability s, so on a whole band with
probability s^r, and share at least one of the b bands with probability

    P(candidate) = 1 - (1 - s^r)^b                       (`lsh_candidate_probability`)

an S-shaped curve in s whose steepest part sits near the threshold (1/b)^(1/r) (`lsh_threshold`;
MMDS 3.4.2). More rows move the threshold up (fewer false candidates); more bands move it down
(fewer missed pairs). `empirical_candidate_rate` measures the same curve with real signatures of
generated set pairs of known Jaccard similarity, for the chapter's widget.

Candidates are then checked against their true Jaccard similarity (`dedup` does this) and the pairs
that pass are merged with a union-find (`UnionFind`) into clusters: near-duplication is not
transitive, so a cluster is a connected component of the "similar enough" graph (single linkage).

Leaves out: choosing b and r by minimising weighted false-positive and false-negative areas (as
datasketch's MinHashLSH does), LSH Forest and other indexes for queries, and on-disk buckets.
"""

from __future__ import annotations

import numpy as np

from lmcourse import checks
from lmcourse.data.minhash import EMPTY, minhash_signatures

__all__ = ["lsh_candidate_probability", "lsh_threshold", "check_bands", "lsh_candidate_pairs",
           "UnionFind", "empirical_candidate_rate"]




def lsh_candidate_probability(s, num_bands: int, rows: int):
    """1 - (1 - s^rows)^num_bands: the chance that two documents of Jaccard similarity s share a band."""
    checks.positive_int("num_bands", num_bands, fn="lsh_candidate_probability")
    checks.positive_int("rows", rows, fn="lsh_candidate_probability")
    s = np.asarray(s, dtype=np.float64)
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"lsh_candidate_probability: s={s!r}; expected similarities in [0, 1]")
    p = 1.0 - (1.0 - s**rows) ** num_bands
    return float(p) if p.ndim == 0 else p


def lsh_threshold(num_bands: int, rows: int) -> float:
    """(1/num_bands)^(1/rows): roughly where the S-curve rises fastest (the similarity LSH separates at)."""
    checks.positive_int("num_bands", num_bands, fn="lsh_threshold")
    checks.positive_int("rows", rows, fn="lsh_threshold")
    return (1.0 / num_bands) ** (1.0 / rows)


def check_bands(fn: str, num_hashes, num_bands) -> int:
    """Rows per band; ValueError unless both are positive ints and num_bands divides num_hashes."""
    checks.positive_int("num_hashes", num_hashes, fn=fn)
    checks.positive_int("num_bands", num_bands, fn=fn)
    if num_hashes % num_bands:
        raise ValueError(f"{fn}: num_hashes={num_hashes} is not divisible by num_bands={num_bands}; "
                         f"expected num_bands to divide num_hashes (each band has the same number of rows)")
    return num_hashes // num_bands


def lsh_candidate_pairs(signatures: np.ndarray, num_bands: int) -> np.ndarray:
    """All pairs (i, j), i < j, of rows of `signatures` (num_documents, num_hashes) that agree on every
    value of at least one band, as a sorted (num_pairs, 2) int64 array. Rows of empty documents
    (all `EMPTY`) take part in nothing. A bucket of m documents gives m(m-1)/2 pairs, so remove
    exact duplicates first (`dedup.exact_document_deduplication`) when a corpus has many copies."""
    signatures = np.asarray(signatures)
    if signatures.ndim != 2:
        raise ValueError(f"lsh_candidate_pairs: signatures of shape {signatures.shape}; expected (documents, hashes)")
    rows = check_bands("lsh_candidate_pairs", signatures.shape[1], num_bands)
    live = np.flatnonzero(~(signatures == EMPTY).all(axis=1))
    live_signatures = signatures if len(live) == len(signatures) else signatures[live]
    found = []
    for band in range(num_bands):  # one band at a time: memory stays at one 64-bit key per document
        # The bucket key: the band's r values folded into 64 bits. Distinct bands that collide only
        # add candidates, which the Jaccard check then rejects; no true candidate is ever lost.
        keys = np.zeros(len(live), dtype=np.uint64)
        for column in range(band * rows, (band + 1) * rows):
            keys = keys * np.uint64(0x100000001B3) + live_signatures[:, column]
        found.append(_pairs_sharing_a_key(keys))
    pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    codes = np.unique(pairs[:, 0] * len(live) + pairs[:, 1])  # the same pair from several bands once
    return np.stack([live[codes // max(len(live), 1)], live[codes % max(len(live), 1)]], axis=1)


def _pairs_sharing_a_key(keys: np.ndarray) -> np.ndarray:
    """(i, j), i < j, for every two positions with equal keys; vectorised per bucket size."""
    order = np.argsort(keys, kind="stable")  # stable: members of a bucket stay in increasing order
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    found = []
    for size in np.unique(sizes[sizes > 1]):  # all buckets of one size at once: (buckets, size) members
        members = order[starts[sizes == size][:, None] + np.arange(size)]
        i, j = np.triu_indices(size, k=1)
        found.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)


class UnionFind:
    """Disjoint sets over 0..n-1 with union by size and path halving: near-constant time per call."""

    def __init__(self, n: int):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"UnionFind: n={n!r}; expected a non-negative int")
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving: every other node skips to its grandparent
            x = parent[x]
        return x

    def union(self, x: int, y: int) -> bool:
        """Merge the sets of x and y; False if they were already one set."""
        x, y = self.find(x), self.find(y)
        if x == y:
            return False
        if self.size[x] < self.size[y]:
            x, y = y, x
        self.parent[y] = x  # the smaller tree goes under the larger, so trees stay shallow
        self.size[x] += self.size[y]
        return True

    def groups(self) -> list[list[int]]:
        """Every set as a sorted list, the sets ordered by their smallest member."""
        groups: dict[int, list[int]] = {}
        for x in range(len(self.parent)):
            groups.setdefault(self.find(x), []).append(x)
        return list(groups.values())  # x runs upwards, so each list is sorted and the order is by minimum


def empirical_candidate_rate(similarities, num_bands: int, rows: int, *, num_pairs: int = 200,
                             set_size: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The fraction of generated set pairs that LSH makes candidates, at each target similarity.

    For each s, `num_pairs` pairs of sets are drawn with |A ∪ B| = set_size and |A ∩ B| =
    round(s · set_size), elements random 64-bit shingle hashes; each pair is MinHashed with
    num_bands · rows functions (a fresh seed per s) and counted when some band agrees entirely.
    Returns (the exact Jaccard similarities used, the candidate rates).
    """
    checks.positive_int("num_pairs", num_pairs, fn="empirical_candidate_rate")
    checks.positive_int("set_size", set_size, fn="empirical_candidate_rate")
    targets = np.atleast_1d(np.asarray(similarities, dtype=np.float64))
    if np.any((targets < 0) | (targets > 1)):
        raise ValueError(f"empirical_candidate_rate: similarities={similarities!r}; expected values in [0, 1]")
    checks.positive_int("num_bands", num_bands, fn="empirical_candidate_rate")
    checks.positive_int("rows", rows, fn="empirical_candidate_rate")
    rng = np.random.default_rng(seed)
    exact, rates = np.empty(len(targets)), np.empty(len(targets))
    for t, s in enumerate(targets):
        common = round(s * set_size)
        only_a = (set_size - common + 1) // 2  # and the other set_size - common - only_a are B's only
        # Each pair is one row of distinct values: [common | only A | only B].
        values = rng.integers(0, 2**64, size=(num_pairs, set_size), dtype=np.uint64, endpoint=False)
        a = values[:, :common + only_a]
        b = np.concatenate([values[:, :common], values[:, common + only_a:]], axis=1)
        hashes = np.concatenate([a, b], axis=0).ravel()
        offsets = np.r_[0, np.cumsum([a.shape[1]] * num_pairs + [b.shape[1]] * num_pairs)]
        signatures = minhash_signatures(hashes, offsets, num_bands * rows, seed=seed + 1 + t)
        sig_a, sig_b = signatures[:num_pairs], signatures[num_pairs:]
        same_band = (sig_a == sig_b).reshape(num_pairs, num_bands, rows).all(axis=2).any(axis=1)
        exact[t], rates[t] = common / set_size, same_band.mean()
    return exact, rates
