"""Train-test contamination: which benchmark items appear in the training corpus (word n-gram overlap).

A model that saw a test item during training can answer it from memory, and its score then says
little about the skill the benchmark means to measure. Without access to the training data one can
only suspect this; with it, the standard check is n-gram overlap (GPT-3, Brown et al. 2020, §4 and
Appendix C: an item is "dirty" if any of its 13-grams occurs in the training data; others use 8-grams,
or count an item as contaminated when most of its tokens are covered, as Llama 2 did).

`contamination_report(items, documents, n)` normalizes text the way deduplication does
(`lmcourse.data.normalize.normalize_text`: lowercase, no punctuation, collapsed spaces), indexes every
word n-gram of the corpus, and reports per item the fraction of its n-grams found. An item shorter
than n words counts as found when its whole text occurs in a document. Small n finds paraphrases
and shared boilerplate (false positives for templated items); large n misses near-copies.
Leaves out: fuzzy matching (see `lmcourse.data.minhash`), and corpora too large for an in-memory set
(a Bloom filter, `lmcourse.data.bloom`, is the usual remedy).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lmcourse.data.minhash import shingles
from lmcourse.data.normalize import normalize_text

__all__ = ["ContaminationReport", "contamination_report"]


@dataclass
class ContaminationReport:
    n: int
    threshold: float
    overlaps: list[float]  # per item: fraction of its n-grams found in the corpus
    contaminated: list[int]  # indices of items whose overlap exceeds the threshold

    @property
    def fraction(self) -> float:
        """Share of the benchmark that is contaminated."""
        return len(self.contaminated) / len(self.overlaps)


def contamination_report(items: Sequence[str], documents: Iterable[str], n: int = 13,
                         threshold: float = 0.0) -> ContaminationReport:
    """Flag the items whose share of word n-grams found in `documents` is above `threshold`
    (0.0: any single shared n-gram, GPT-3's rule; 0.8: most of the item, closer to Llama 2's)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"contamination_report: n={n!r}; expected an int >= 1")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold < 1:
        raise ValueError(f"contamination_report: threshold={threshold!r}; expected a number in [0, 1)")
    if isinstance(items, str) or not items or not all(isinstance(t, str) for t in items):
        raise ValueError("contamination_report: items must be a non-empty sequence of str")
    if isinstance(documents, str):
        raise TypeError("contamination_report: documents must be an iterable of str, not one str")
    index: set[tuple[str, ...]] = set()
    normalized_docs = []
    for doc in documents:
        words = normalize_text(doc).split()
        normalized_docs.append(" ".join(words))
        if len(words) >= n:
            index |= shingles(words, n)
    # Short items are looked up as whole phrases, with spaces around them so words match whole.
    haystack = " " + " \n ".join(normalized_docs) + " "
    overlaps = []
    for item in items:
        words = normalize_text(item).split()
        if len(words) < n:
            overlaps.append(1.0 if words and f" {' '.join(words)} " in haystack else 0.0)
            continue
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        overlaps.append(sum(g in index for g in grams) / len(grams))
    return ContaminationReport(n, threshold, overlaps, [i for i, o in enumerate(overlaps) if o > threshold])
