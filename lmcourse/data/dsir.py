"""Data selection with importance resampling (DSIR, Xie et al. 2023) over hashed n-gram features.

Importance resampling in its textbook form needs the densities p (target) and q (raw) of every raw
example, then keeps example x with weight p(x)/q(x). DSIR makes that affordable for text by modelling
both with the crudest useful model: a document is a bag of hashed word unigrams and bigrams
(`hashed_ngrams`, also the features of the fastText-style classifier), and p and q are categorical
distributions over the `num_buckets` buckets, fitted by counting (with add-one smoothing so no bucket
has probability 0). Then

    log w(x) = sum over the n-grams g of x of  log p(bucket(g)) - log q(bucket(g)),

and k examples are drawn *without replacement* with probability proportional to w(x) by the Gumbel-top-k
trick: add independent Gumbel(0, 1) noise to each log w and keep the k largest (Kool et al. 2019).
Unlike keeping the top-k weights, this keeps the diversity of the raw data.

`hashed_kl` measures how close a selection is to the target: KL(target || selection) between their
feature distributions, the quantity the paper's "KL reduction" is built on.

Leaves out: sampling with replacement, other feature spaces than hashed n-grams, and the streaming,
multi-process machinery of the Pile-sized runs (here everything fits in memory).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from lmcourse.data.normalize import word_tokens

__all__ = ["hashed_ngrams", "ngram_distribution", "importance_log_weights", "gumbel_top_k", "dsir_resample",
           "hashed_kl"]

_MIX1, _MIX2, _FNV = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x100000001B3)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: spreads every input bit over the whole 64-bit word, so buckets fill evenly."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def hashed_ngrams(text: str, *, ngrams: int = 2, num_buckets: int = 2**18) -> np.ndarray:
    """Bucket ids (int64) of every word 1-gram .. `ngrams`-gram of `text` (words from `normalize.word_tokens`):
    the hashing trick, shared by DSIR and the fastText-style classifier.

    Words are hashed with CRC-32 rather than Python's `hash`, which is salted per process: features must
    be the same in every run. An n-gram's hash mixes its words' hashes in order, so "new york" and
    "york new" differ, and a bigram collides with a word no more often than any two hashes do.
    """
    if not isinstance(ngrams, int) or ngrams < 1:
        raise ValueError(f"hashed_ngrams: ngrams={ngrams!r}; expected an int >= 1")
    if not isinstance(num_buckets, int) or num_buckets < 1:
        raise ValueError(f"hashed_ngrams: num_buckets={num_buckets!r}; expected an int >= 1")
    words = np.array([zlib.crc32(w.encode("utf-8")) for w in word_tokens(text)], dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps around by design
        unigram = _mix(words)
        order, parts = unigram, [unigram]
        for n in range(2, ngrams + 1):
            order = _mix(order[:-1] * _FNV + unigram[n - 1:])
            parts.append(order)
    return (np.concatenate(parts) % np.uint64(num_buckets)).astype(np.int64)


def _check_texts(fn: str, name: str, texts) -> list[str]:
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"{fn}: {name} must be a non-empty sequence of str")
    return texts


def ngram_distribution(texts: Sequence[str], *, num_buckets: int = 10_000, ngrams: int = 2,
                       smoothing: float = 1.0) -> np.ndarray:
    """The hashed n-gram distribution of `texts`: bucket counts plus `smoothing`, normalised (sums to 1)."""
    texts = _check_texts("ngram_distribution", "texts", texts)
    counts = np.full(num_buckets, float(smoothing))
    for text in texts:
        counts += np.bincount(hashed_ngrams(text, ngrams=ngrams, num_buckets=num_buckets), minlength=num_buckets)
    if counts.sum() <= 0:
        raise ValueError("ngram_distribution: no n-grams and smoothing=0; expected some text or smoothing > 0")
    return counts / counts.sum()


def importance_log_weights(texts: Sequence[str], target: np.ndarray, raw: np.ndarray, *,
                           ngrams: int = 2) -> np.ndarray:
    """log p(x)/q(x) for each text under the bag-of-hashed-n-grams model (one float per text)."""
    texts = _check_texts("importance_log_weights", "texts", texts)
    target, raw = np.asarray(target, dtype=np.float64), np.asarray(raw, dtype=np.float64)
    if target.shape != raw.shape or target.ndim != 1:
        raise ValueError(f"importance_log_weights: target {target.shape} and raw {raw.shape}; "
                         "expected equal 1-d shapes")
    log_ratio = np.log(target) - np.log(raw)
    return np.array([log_ratio[hashed_ngrams(t, ngrams=ngrams, num_buckets=len(target))].sum() for t in texts])


def gumbel_top_k(log_weights: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """Indices of k items drawn without replacement with probability proportional to exp(log_weights)."""
    log_weights = np.asarray(log_weights, dtype=np.float64)
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= len(log_weights):
        raise ValueError(f"gumbel_top_k: k={k!r}; expected an int in [0, {len(log_weights)}]")
    keys = log_weights + np.random.default_rng(seed).gumbel(size=len(log_weights))
    return np.argsort(-keys, kind="stable")[:k]


def dsir_resample(raw_texts: Sequence[str], target_texts: Sequence[str], k: int, *, num_buckets: int = 10_000,
                  ngrams: int = 2, seed: int = 0) -> list[int]:
    """Indices of the `k` raw texts DSIR selects to resemble `target_texts` (in selection order)."""
    raw_texts = _check_texts("dsir_resample", "raw_texts", raw_texts)
    target = ngram_distribution(target_texts, num_buckets=num_buckets, ngrams=ngrams)
    raw = ngram_distribution(raw_texts, num_buckets=num_buckets, ngrams=ngrams)
    log_weights = importance_log_weights(raw_texts, target, raw, ngrams=ngrams)
    return gumbel_top_k(log_weights, k, seed=seed).tolist()


def hashed_kl(target_texts: Sequence[str], texts: Sequence[str], *, num_buckets: int = 10_000,
              ngrams: int = 2) -> float:
    """KL(target || texts) in nats between the smoothed hashed n-gram distributions: 0 when identical."""
    p = ngram_distribution(target_texts, num_buckets=num_buckets, ngrams=ngrams)
    q = ngram_distribution(texts, num_buckets=num_buckets, ngrams=ngrams)
    return float(np.sum(p * (np.log(p) - np.log(q))))
