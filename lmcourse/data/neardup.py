"""Corpora with planted near-duplicates and known answers, to test and measure deduplication.

`generate_near_duplicates` takes the package's generated stories as originals and adds edited copies
of some of them, the way the web copies pages: a few words substituted, deleted or inserted (these
change shingles), a header or footer line added to some (this too), and cosmetic noise that
`normalize_text` undoes (capitals, commas, doubled spaces). Some copies are copies of copies. The
documents come out shuffled, so a copy may precede its original. Every document carries its planted
family, which is the answer a deduplicator is scored against:

- `pair_precision_recall(predicted, truth)`: of the pairs of documents put in one cluster, the
  fraction that are in one true cluster (precision), and of the true pairs, the fraction found
  (recall). Labels are one cluster id per document.
- `exact_clusters`: the clusters an exhaustive method would find (every pair within a family whose
  true Jaccard similarity reaches the threshold, joined by union-find). A copy edited too heavily
  falls below the threshold and is not a duplicate by that definition, so this is the fair truth
  for a MinHash run; the planted families are the truth for "did we find what was copied".
  Unrelated stories share few 5-grams (Jaccard about 0.01 on average, a few tenths at most), so
  pairs across families are taken to be below any threshold of interest.

Deterministic: a seed gives the same corpus everywhere (only `random.Random` draws are used).

Leaves out: copies that reorder paragraphs or splice two pages together, other languages, and
near-duplicates by meaning (paraphrases), which n-gram shingles cannot see.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lmcourse.corpus import generate_stories
from lmcourse.data.lsh import UnionFind
from lmcourse.data.minhash import jaccard, word_ngrams
from lmcourse.files import atomic_write

__all__ = ["NearDuplicateCorpus", "generate_near_duplicates", "near_duplicate", "write_documents",
           "exact_clusters", "pair_precision_recall", "labels_from_clusters"]

_HEADERS = ("Posted by admin", "Home | Stories | About", "Reading time: 3 minutes", "Story of the day")
_FOOTERS = ("Share this story.", "Comments are closed.", "All rights reserved.", "Read more stories like this.")


@dataclass(frozen=True)
class NearDuplicateCorpus:
    """Documents and their planted structure; arrays have one entry per document."""
    documents: list[str]
    family: np.ndarray  # planted family id (an original with no copies is a family of one)
    source: np.ndarray  # index of the document a copy was made from; -1 for an original
    edit_rate: np.ndarray  # fraction of words substituted, deleted or inserted (0.0 for originals)


def near_duplicate(text: str, edit_rate: float, rng: random.Random, vocabulary: Sequence[str]) -> str:
    """An edited copy of `text`: each word is substituted, deleted or has a word inserted after it with
    probability `edit_rate` (a third each), then cosmetic noise that normalization removes is added,
    and half the time a header or footer line."""
    if not 0 <= edit_rate <= 1:
        raise ValueError(f"near_duplicate: edit_rate={edit_rate!r}; expected a number in [0, 1]")
    pieces = re.split(r"(\s+)", text)  # words at even positions, the whitespace between at odd ones
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 or not piece:
            out.append("  " if piece == " " and rng.random() < 0.02 else piece)
            continue
        if rng.random() < edit_rate:
            kind = rng.randrange(3)
            if kind == 0:
                piece = rng.choice(vocabulary)
            elif kind == 1:
                continue  # deleted (its whitespace stays, which normalization collapses)
            else:
                piece = f"{piece} {rng.choice(vocabulary)}"
        noise = rng.random()
        if noise < 0.02:
            piece = piece.upper()
        elif noise < 0.04:
            piece += ","
        out.append(piece)
    copy = "".join(out)
    choice = rng.random()
    if choice < 0.25:
        copy = f"{rng.choice(_HEADERS)}\n\n{copy}"
    elif choice < 0.5:
        copy = f"{copy}\n\n{rng.choice(_FOOTERS)}"
    return copy


def generate_near_duplicates(num_documents: int, *, duplicate_fraction: float = 0.2,
                             edit_rate: tuple[float, float] = (0.0, 0.02), chain_probability: float = 0.3,
                             seed: int = 0) -> NearDuplicateCorpus:
    """`num_documents` documents of which about `duplicate_fraction` are edited copies.

    Copies go to the first half as many originals as there are copies (so families average about
    three documents); each copy's edit rate is uniform in `edit_rate`, and with `chain_probability`
    it copies an earlier copy of the same family instead of the original.
    """
    if not isinstance(num_documents, int) or isinstance(num_documents, bool) or num_documents < 0:
        raise ValueError(f"generate_near_duplicates: num_documents={num_documents!r}; expected a non-negative int")
    if not 0 <= duplicate_fraction < 1:
        raise ValueError(f"generate_near_duplicates: duplicate_fraction={duplicate_fraction!r}; expected [0, 1)")
    low, high = edit_rate
    if not 0 <= low <= high <= 1:
        raise ValueError(f"generate_near_duplicates: edit_rate={edit_rate!r}; expected 0 <= low <= high <= 1")
    rng = random.Random(seed)
    num_copies = round(duplicate_fraction * num_documents)
    num_originals = num_documents - num_copies
    documents = list(generate_stories(num_originals, seed=seed))
    vocabulary = sorted({w.strip(".,!?\"'") for doc in documents[:200] for w in doc.split()} - {""}) or ["word"]
    family, source, rates = list(range(num_originals)), [-1] * num_originals, [0.0] * num_originals
    members: dict[int, list[int]] = {}
    for _ in range(num_copies):
        root = rng.randrange(max(1, min(num_originals, num_copies // 2)))
        parent = rng.choice(members[root]) if members.get(root) and rng.random() < chain_probability else root
        rate = rng.uniform(low, high)
        members.setdefault(root, []).append(len(documents))
        documents.append(near_duplicate(documents[parent], rate, rng, vocabulary))
        family.append(root)
        source.append(parent)
        rates.append(rate)
    order = list(range(len(documents)))
    rng.shuffle(order)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    source_arr = np.array(source, dtype=np.int64)[order]
    return NearDuplicateCorpus(documents=[documents[i] for i in order],
                               family=np.array(family, dtype=np.int64)[order],
                               source=np.where(source_arr >= 0, position[np.maximum(source_arr, 0)], -1),
                               edit_rate=np.array(rates)[order])


def write_documents(documents: Sequence[str], directory, *, prefix: str = "doc") -> list[Path]:
    """Write each document to directory/{prefix}_{index:06d}.txt (UTF-8, each atomically); return the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(documents):
        path = directory / f"{prefix}_{i:06d}.txt"
        with atomic_write(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        paths.append(path)
    return paths


def exact_clusters(corpus: NearDuplicateCorpus, ngrams: int, jaccard_threshold: float) -> np.ndarray:
    """Cluster labels joining every same-family pair with true Jaccard similarity >= the threshold."""
    clusters = UnionFind(len(corpus.documents))
    by_family: dict[int, list[int]] = {}
    for i, fam in enumerate(corpus.family.tolist()):
        by_family.setdefault(fam, []).append(i)
    for ids in by_family.values():
        if len(ids) < 2:
            continue
        sets = {i: word_ngrams(corpus.documents[i], ngrams) for i in ids}
        for a, i in enumerate(ids):
            for j in ids[a + 1:]:
                if jaccard(sets[i], sets[j]) >= jaccard_threshold:
                    clusters.union(i, j)
    return np.array([clusters.find(i) for i in range(len(corpus.documents))], dtype=np.int64)


def labels_from_clusters(clusters: Sequence[Sequence[int]], num_documents: int) -> np.ndarray:
    """One label per document from a list of clusters (of indices); documents in none are their own."""
    labels = np.arange(num_documents, dtype=np.int64)
    for cluster in clusters:
        labels[list(cluster)] = min(cluster)
    return labels


def _pairs_together(labels: np.ndarray) -> int:
    _, counts = np.unique(labels, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pair_precision_recall(predicted, truth) -> tuple[float, float]:
    """Pairwise (precision, recall) of cluster labels `predicted` against `truth` (1.0 when vacuous)."""
    predicted, truth = np.asarray(predicted, dtype=np.int64), np.asarray(truth, dtype=np.int64)
    if predicted.shape != truth.shape or predicted.ndim != 1:
        raise ValueError(f"pair_precision_recall: shapes {predicted.shape} and {truth.shape}; expected equal 1-D")
    _, joint = np.unique(np.stack([predicted, truth]), axis=1, return_inverse=True)
    both, pred, true = _pairs_together(joint.ravel()), _pairs_together(predicted), _pairs_together(truth)
    return (both / pred if pred else 1.0), (both / true if true else 1.0)
