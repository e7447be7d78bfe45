"""A Bloom filter: set membership in a few bits per item, with false positives but no false negatives.

A Bloom filter is an array of m bits and k hash functions. Adding an item sets the k bits its hashes
point to; an item is "possibly in" the set when all k of its bits are set, and "certainly not" when
any is clear. Exact dedup at web scale (Dolma's paragraph dedup, for instance) uses one to ask "seen
this before?" in a fixed budget of memory, accepting that a few unseen items are wrongly called seen.

After n items each bit is still clear with probability (1 - 1/m)^(kn) ≈ e^(-kn/m), so a fresh item
is a false positive with probability

    (1 - e^(-kn/m))^k                                  (`theoretical_false_positive_rate`)

which is smallest at k = (m/n) ln 2 (`optimal_num_hashes`), where it is about 0.6185^(m/n): each
halving of the error costs about 1.44 more bits per item (`bits_for`). `measured_false_positive_rate`
fills a filter with random items and counts how often fresh ones are reported present, so the formula
can be checked.

The k hashes come from two by double hashing (Kirsch & Mitzenmacher 2006): g_i(x) = h1(x) + i·h2(x)
mod m, which has the same asymptotic false-positive rate as k independent hashes. h1 and h2 are the
two halves of one BLAKE2b-128 digest (stable across runs); h2 is made odd so that, for a power-of-two
m, the k positions are distinct.

Leaves out: deletion (counting Bloom filters), scalable and partitioned variants, and cuckoo filters.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable

import numpy as np

from lmcourse import checks

__all__ = ["BloomFilter", "theoretical_false_positive_rate", "optimal_num_hashes", "bits_for",
           "measured_false_positive_rate"]




def _digests(items: Iterable) -> np.ndarray:
    """(n, 2) uint64: the two 64-bit halves of each item's BLAKE2b-128 digest."""
    raw = bytearray()
    for item in items:
        if isinstance(item, str):
            item = item.encode("utf-8", "surrogatepass")
        elif not isinstance(item, (bytes, bytearray, memoryview)):
            raise TypeError(f"BloomFilter: item={item!r:.80}; expected str or bytes")
        raw += hashlib.blake2b(item, digest_size=16).digest()
    return np.frombuffer(bytes(raw), dtype="<u8").reshape(-1, 2).astype(np.uint64)


class BloomFilter:
    """m bits (a numpy uint8 array), k hash functions by double hashing; items are str or bytes."""

    def __init__(self, num_bits: int, num_hashes: int):
        checks.positive_int("num_bits", num_bits, fn="BloomFilter")
        checks.positive_int("num_hashes", num_hashes, fn="BloomFilter")
        self.num_bits, self.num_hashes = num_bits, num_hashes
        self.bits = np.zeros((num_bits + 7) // 8, dtype=np.uint8)
        self.num_items = 0  # items added (repeats counted), the n of the formulas

    def _positions(self, items: Iterable) -> np.ndarray:
        """(n, k) bit positions g_i = h1 + i·h2 mod m (wrapping mod 2^64 first: a negligible bias)."""
        digests = _digests(items)
        h1, h2 = digests[:, :1], digests[:, 1:] | np.uint64(1)
        steps = np.arange(self.num_hashes, dtype=np.uint64)
        return (h1 + steps * h2) % np.uint64(self.num_bits)

    def update(self, items: Iterable) -> None:
        """Add every item."""
        positions = self._positions(items).ravel()
        np.bitwise_or.at(self.bits, positions >> np.uint64(3), np.left_shift(1, positions & np.uint64(7)).astype(np.uint8))
        self.num_items += len(positions) // self.num_hashes

    def contains(self, items: Iterable) -> np.ndarray:
        """For each item, True if it may have been added, False if it certainly was not."""
        positions = self._positions(items)
        bits = (self.bits[positions >> np.uint64(3)] >> (positions & np.uint64(7)).astype(np.uint8)) & 1
        return bits.all(axis=1)

    def add(self, item) -> None:
        self.update([item])

    def __contains__(self, item) -> bool:
        return bool(self.contains([item])[0])

    def fill_ratio(self) -> float:
        """The fraction of bits set; about 1 - e^(-kn/m) for n distinct items."""
        return float(np.unpackbits(self.bits)[:self.num_bits].mean())


def theoretical_false_positive_rate(num_bits: int, num_items: int, num_hashes: int) -> float:
    """(1 - e^(-kn/m))^k: the chance that an item never added is reported present."""
    checks.positive_int("num_bits", num_bits, fn="theoretical_false_positive_rate")
    checks.positive_int("num_hashes", num_hashes, fn="theoretical_false_positive_rate")
    if not isinstance(num_items, int) or num_items < 0:
        raise ValueError(f"theoretical_false_positive_rate: num_items={num_items!r}; expected a non-negative int")
    return (1.0 - math.exp(-num_hashes * num_items / num_bits)) ** num_hashes


def optimal_num_hashes(num_bits: int, num_items: int) -> int:
    """The k minimising the false-positive rate for n items in m bits: (m/n) ln 2, rounded, at least 1."""
    checks.positive_int("num_bits", num_bits, fn="optimal_num_hashes")
    checks.positive_int("num_items", num_items, fn="optimal_num_hashes")
    k = num_bits / num_items * math.log(2)
    # The rate is not symmetric around the real optimum: compare the two integers next to it.
    candidates = {max(1, math.floor(k)), max(1, math.ceil(k))}
    return min(sorted(candidates), key=lambda c: theoretical_false_positive_rate(num_bits, num_items, c))


def bits_for(num_items: int, false_positive_rate: float) -> int:
    """Bits m needed for n items at the given rate with the optimal k: n·ln(1/p) / (ln 2)^2."""
    checks.positive_int("num_items", num_items, fn="bits_for")
    if not 0 < false_positive_rate < 1:
        raise ValueError(f"bits_for: false_positive_rate={false_positive_rate!r}; expected a number in (0, 1)")
    return math.ceil(num_items * math.log(1 / false_positive_rate) / math.log(2) ** 2)


def measured_false_positive_rate(num_bits: int, num_items: int, num_hashes: int, *,
                                 num_queries: int = 100_000, seed: int = 0) -> float:
    """Add `num_items` random distinct strings, query `num_queries` others, return the fraction reported present."""
    checks.positive_int("num_queries", num_queries, fn="measured_false_positive_rate")
    bloom = BloomFilter(num_bits, num_hashes)
    rng = random.Random(seed)
    # Items are "i:<random>" and queries "q:<random>": the prefixes keep the two sets disjoint.
    bloom.update(f"i:{rng.getrandbits(64)}" for _ in range(num_items))
    return float(bloom.contains(f"q:{rng.getrandbits(64)}" for _ in range(num_queries)).mean())
