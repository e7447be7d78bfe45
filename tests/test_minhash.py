"""Tests for lmcourse.data.minhash, lsh, neardup and `dedup.minhash_deduplication`: shingles, hashing
against a direct reference, the estimator's accuracy, the S-curve (formula and measured), union-find,
end-to-end dedup on CS336-style fixtures and planted corpora, and bad input."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import minhash
from lmcourse.data.dedup import minhash_deduplication
from lmcourse.data.lsh import (UnionFind, empirical_candidate_rate, lsh_candidate_pairs, lsh_candidate_probability,
                               lsh_threshold)
from lmcourse.data.minhash import (EMPTY, bag_of_shingles, estimate_jaccard, hash_parameters, jaccard,
                                   minhash_signatures, permutation_minhash, shingle_hashes, shingles, word_ngrams)
from lmcourse.data.neardup import (exact_clusters, generate_near_duplicates, labels_from_clusters,
                                   pair_precision_recall, write_documents)
from lmcourse.data.normalize import normalize_text

VOCAB = ["a", "b", "c", "ab", "ba", "abc", "é", "naïve", "x" * 40, "the", "cat"]
texts = st.lists(st.lists(st.sampled_from(VOCAB), max_size=25).map(" ".join), min_size=1, max_size=12)
sets = st.sets(st.integers(0, 60), max_size=40)


def signatures_of(sets_of_ints, num_hashes, seed=0):
    """MinHash signatures of sets of small ints, fed in as they are: structured keys on purpose."""
    hashes = np.concatenate([np.array(sorted(s), dtype=np.uint64) for s in sets_of_ints] or [np.empty(0, np.uint64)])
    offsets = np.r_[0, np.cumsum([len(s) for s in sets_of_ints])]
    return minhash_signatures(hashes, offsets, num_hashes, seed=seed)


# ---------------------------------------------------------------- shingles and Jaccard

def test_shingles_vs_bag_of_words_abcab():
    # The lecture's example: a set counts "ab" once, the bag twice.
    assert shingles("abcab", 2) == {"ab", "bc", "ca"}
    assert bag_of_shingles("abcab", 2) == {"ab": 2, "bc": 1, "ca": 1}
    assert shingles(["the", "cat", "sat", "the", "cat"], 2) == {("the", "cat"), ("cat", "sat"), ("sat", "the")}
    assert shingles("ab", 5) == {"ab"} and shingles("", 2) == set()


def test_word_ngrams_see_through_case_accents_punctuation_and_whitespace():
    a = word_ngrams("Antoine de Saint-Exupéry wrote   The Little Prince.", 3)
    b = word_ngrams("antoine de saint exupery wrote the little prince", 3)
    assert a == b and jaccard(a, b) == 1.0


@settings(max_examples=200, deadline=None)
@given(sets, sets)
def test_jaccard_symmetric_bounded_and_one_on_itself(a, b):
    j = jaccard(a, b)
    assert j == jaccard(b, a) and 0.0 <= j <= 1.0
    assert jaccard(a, a) == (1.0 if a else 0.0)


# ---------------------------------------------------------------- shingle hashes and signatures

@settings(max_examples=150, deadline=None)
@given(texts, st.integers(1, 6))
def test_shingle_hashes_stand_one_to_one_for_shingles(docs, n):
    hashes, offsets = shingle_hashes(docs, n)
    seen = {}
    for d, text in enumerate(docs):
        words = text.split()
        windows = [tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))] if words else []
        assert offsets[d + 1] - offsets[d] == len(windows)
        for window, h in zip(windows, hashes[offsets[d]:offsets[d + 1]].tolist()):
            assert seen.setdefault(window, h) == h  # one shingle, one hash, in every document
    assert len(set(seen.values())) == len(seen)  # and distinct shingles, distinct hashes


def test_shingle_hashes_are_fixed_functions_of_the_text():
    # Pinned: the same on every run and machine (no salted hash), independent of batch neighbours.
    alone, _ = shingle_hashes(["the cat sat on the mat"], 3)
    batched, offsets = shingle_hashes(["x y", "the cat sat on the mat", ""], 3)
    assert alone.tolist() == batched[offsets[1]:offsets[2]].tolist()
    assert alone[0] == PINNED_FIRST_SHINGLE_HASH


PINNED_FIRST_SHINGLE_HASH = 3035020311800873644


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 19])
def test_signatures_match_a_direct_computation(monkeypatch, chunk):
    monkeypatch.setattr(minhash, "_CHUNK_ELEMENTS", chunk)  # blocks that cut documents in every way
    rng = random.Random(0)
    docs = [" ".join(rng.choice(VOCAB) for _ in range(rng.randrange(0, 30))) for _ in range(40)]
    hashes, offsets = shingle_hashes(docs, 3)
    signatures = minhash_signatures(hashes, offsets, 24, seed=5)
    a, c = hash_parameters(24, seed=5)
    for d in range(len(docs)):
        seg = minhash._fmix64(hashes[offsets[d]:offsets[d + 1]].copy())
        expected = (((a * seg + a * c).min(axis=1) >> np.uint64(32)).astype(np.uint32) if len(seg)
                    else np.full(24, EMPTY))
        assert signatures[d].tolist() == expected.tolist()


def test_hash_functions_are_affine_with_odd_multipliers():
    a, c = hash_parameters(64, seed=1)
    assert a.shape == (64, 1) and np.all(a % np.uint64(2) == 1)
    assert not np.array_equal(a, hash_parameters(64, seed=2)[0])
    # b_i = a_i·c: one shift of the keys gives every function its own offset, a_i·(x + c) = a_i·x + b_i.
    x = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)
    assert np.array_equal(a * (x + c), a * x + a * c)
    assert len(set((a * c).ravel().tolist())) == 64


def test_offsets_are_checked():
    with pytest.raises(ValueError, match="offsets="):
        minhash_signatures(np.arange(5, dtype=np.uint64), np.array([0, 3]), 8)


@pytest.mark.parametrize("true_j", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_estimate_is_unbiased_with_the_binomial_spread(true_j):
    # 300 pairs of 100-element sets at exactly true_j, 128 hash functions: the mean estimate is
    # within 4 standard errors of the mean, and the spread is sqrt(J(1-J)/K).
    num_pairs, size, k = 300, 100, 128
    common = round(true_j * size)
    estimates = []
    for p in range(num_pairs):
        base = 1000 * p
        a = set(range(base, base + size))
        b = set(range(base, base + common)) | set(range(base + size, base + 2 * size - common))
        assert math.isclose(jaccard(a, b), common / (2 * size - common))
        sig = signatures_of([a, b], k, seed=p)
        estimates.append(estimate_jaccard(sig[0], sig[1]))
    j = common / (2 * size - common)
    sd = math.sqrt(j * (1 - j) / k)
    assert abs(np.mean(estimates) - j) <= 4 * sd / math.sqrt(num_pairs) + 1e-9
    assert np.std(estimates) == pytest.approx(sd, abs=0.01)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(sets, sets)
def test_estimate_within_five_standard_errors(a, b):
    sig = signatures_of([a, b], 256)
    j = jaccard(a, b)
    if not (a or b):
        assert np.all(sig == EMPTY)
        return
    assert abs(estimate_jaccard(sig[0], sig[1]) - j) <= 5 * math.sqrt(j * (1 - j) / 256) + 0.02


def test_permutation_view_estimates_the_same_jaccard():
    a, b = set(range(0, 60)), set(range(20, 80))  # J = 40 / 80
    perm = permutation_minhash([a, b, set()], 2000, seed=3)
    assert abs(np.mean(perm[0] == perm[1]) - 0.5) < 0.04
    assert np.all(perm[2] == 80)  # the empty set: past the last row
    hashed = signatures_of([a, b], 2000, seed=3)
    assert abs(estimate_jaccard(hashed[0], hashed[1]) - 0.5) < 0.04


# ---------------------------------------------------------------- LSH

def test_s_curve_formula_and_threshold():
    assert lsh_candidate_probability(1.0, 20, 5) == 1.0 and lsh_candidate_probability(0.0, 20, 5) == 0.0
    assert lsh_candidate_probability(0.8, 20, 5) == pytest.approx(1 - (1 - 0.8**5) ** 20)
    s = np.linspace(0, 1, 101)
    p = lsh_candidate_probability(s, 20, 5)
    assert np.all(np.diff(p) >= 0)
    t = lsh_threshold(20, 5)
    assert t == pytest.approx((1 / 20) ** (1 / 5))
    assert abs(s[np.argmax(np.diff(p))] - t) < 0.06  # the steepest rise sits near the threshold
    with pytest.raises(ValueError, match="s="):
        lsh_candidate_probability(1.5, 20, 5)
    with pytest.raises(ValueError, match="rows=0"):
        lsh_threshold(20, 0)


def test_empirical_candidate_rate_follows_the_formula():
    exact, rates = empirical_candidate_rate([0.2, 0.4, 0.5, 0.6, 0.8], 20, 5, num_pairs=300)
    assert np.all(np.abs(rates - lsh_candidate_probability(exact, 20, 5)) < 0.1)


def brute_force_pairs(signatures, num_bands):
    rows = signatures.shape[1] // num_bands
    live = [i for i in range(len(signatures)) if not np.all(signatures[i] == EMPTY)]
    return {(i, j) for x, i in enumerate(live) for j in live[x + 1:]
            if any(np.array_equal(signatures[i, b * rows:(b + 1) * rows], signatures[j, b * rows:(b + 1) * rows])
                   for b in range(num_bands))}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), min_size=6, max_size=6), max_size=15), st.sampled_from([1, 2, 3, 6]))
def test_candidate_pairs_match_brute_force(rows, num_bands):
    signatures = np.array(rows, dtype=np.uint32).reshape(-1, 6)
    if len(signatures):
        signatures[0] = EMPTY  # an empty document never pairs, even with another empty one
    pairs = lsh_candidate_pairs(signatures, num_bands)
    assert set(map(tuple, pairs.tolist())) == brute_force_pairs(signatures, num_bands)
    assert pairs.tolist() == sorted(pairs.tolist())


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 30).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, max(n - 1, 0)),
                                                                                       st.integers(0, max(n - 1, 0))),
                                                                             max_size=40 if n else 0))))
def test_union_find_matches_naive_components(case):
    n, edges = case
    uf = UnionFind(n)
    for x, y in edges:
        uf.union(x, y)
    label = list(range(n))  # naive: relabel until stable
    changed = True
    while changed:
        changed = False
        for x, y in edges:
            low = min(label[x], label[y])
            if label[x] != low or label[y] != low:
                label[x] = label[y] = low
                changed = True
    groups = uf.groups()
    assert sorted(x for g in groups for x in g) == list(range(n))
    assert all(len({label[x] for x in g}) == 1 for g in groups)
    assert len(groups) == len(set(label))
    assert [g[0] for g in groups] == sorted(g[0] for g in groups)


# ---------------------------------------------------------------- minhash_deduplication

MIT = ("Permission is hereby granted, free of charge, to any person obtaining a copy of this software and "
       "associated documentation files (the \"Software\"), to deal in the Software without restriction, including "
       "without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell "
       "copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the "
       "following conditions:\n\nThe above copyright notice and this permission notice shall be included in all "
       "copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF "
       "ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A "
       "PARTICULAR PURPOSE AND NONINFRINGEMENT.\n")


def test_fuzzy_duplicates_keep_one_cs336_style(tmp_path):
    # As in the assignment's test: two MIT licenses differing in attribution and whitespace.
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = {
        "rails_mit_license.txt": "Copyright (c) 2005-2024 David Heinemeier Hansson\n\n" + MIT,
        "react_mit_license.txt": "MIT License\n\nCopyright (c) Meta Platforms, Inc. and affiliates.\n\n"
                                 + MIT.replace(", ", ",  ").replace("\n\n", "\n \n"),
        "story.txt": "Once upon a time a small fox lived near a river and learned to swim across it every morning.",
    }
    for name, text in files.items():
        (inputs / name).write_text(text)
    out = tmp_path / "out"
    out.mkdir()  # an existing, empty output directory, as the assignment's tests pass
    report = minhash_deduplication(sorted(inputs.iterdir()), 500, 50, 5, 0.8, out)
    assert sorted(p.name for p in out.iterdir()) == ["rails_mit_license.txt", "story.txt"]  # first kept
    assert [p.name for p in report.removed] == ["react_mit_license.txt"]
    assert (out / "rails_mit_license.txt").read_text() == files["rails_mit_license.txt"]
    assert list(tmp_path.glob(".out.*")) == []  # no temporary directory left behind


def test_exact_copies_and_byte_exact_output(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    text = "the quick brown fox jumps over the lazy dog and runs away into the woods\n"
    (inputs / "doc1.txt").write_bytes(text.encode() + b"caf\xe9 \xff\n")  # invalid UTF-8 in both copies
    (inputs / "doc2.txt").write_bytes(text.encode() + b"caf\xe9 \xff\n")
    (inputs / "empty1.txt").write_bytes(b"")
    (inputs / "empty2.txt").write_bytes(b"")
    (inputs / "punct.txt").write_bytes(b"... !!! ???\n")  # no words after normalization
    report = minhash_deduplication(sorted(inputs.iterdir()), 100, 10, 5, 0.8, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["doc1.txt", "empty1.txt", "empty2.txt",
                                                                     "punct.txt"]
    assert (tmp_path / "out" / "doc1.txt").read_bytes() == (inputs / "doc1.txt").read_bytes()
    assert [[p.name for p in c] for c in report.clusters] == [["doc1.txt", "doc2.txt"]]


def test_exact_clusters_lie_inside_planted_families():
    corpus = generate_near_duplicates(400, seed=3)
    truth = exact_clusters(corpus, 5, 0.8)
    assert pair_precision_recall(truth, truth) == (1.0, 1.0)
    assert pair_precision_recall(truth, corpus.family)[0] == 1.0  # exact clusters lie inside families


def test_minhash_deduplication_on_a_planted_corpus(tmp_path):
    corpus = generate_near_duplicates(300, seed=1)
    paths = write_documents(corpus.documents, tmp_path / "in")
    report = minhash_deduplication(paths, 128, 16, 5, 0.8, tmp_path / "out")
    index = {p: i for i, p in enumerate(paths)}
    predicted = labels_from_clusters([[index[p] for p in c] for c in report.clusters], len(paths))
    precision, recall = pair_precision_recall(predicted, exact_clusters(corpus, 5, 0.8))
    assert precision == 1.0 and recall >= 0.9
    assert len(list((tmp_path / "out").iterdir())) == len(report.kept) == len(paths) - len(report.removed)


def test_near_duplicate_corpus_is_deterministic_and_planted():
    a, b = generate_near_duplicates(120, seed=4), generate_near_duplicates(120, seed=4)
    assert a.documents == b.documents and np.array_equal(a.family, b.family)
    assert a.documents != generate_near_duplicates(120, seed=5).documents
    copies = np.flatnonzero(a.source >= 0)
    assert len(copies) == 24 and np.all(a.family[copies] == a.family[a.source[copies]])
    assert all(jaccard(word_ngrams(a.documents[i], 5), word_ngrams(a.documents[a.source[i]], 5)) > 0.5
               for i in copies)


def test_pair_precision_recall_by_hand():
    truth = [0, 0, 0, 3, 4]  # true pairs: (0,1) (0,2) (1,2)
    assert pair_precision_recall([0, 0, 2, 3, 4], truth) == (1.0, 1 / 3)
    assert pair_precision_recall([0, 0, 0, 0, 4], truth) == (0.5, 1.0)
    assert pair_precision_recall([0, 1, 2, 3, 4], truth) == (1.0, 0.0)
    assert labels_from_clusters([[1, 3]], 4).tolist() == [0, 1, 2, 1]


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_hashes=100, num_bands=7), "not divisible by num_bands=7"),
    (dict(num_hashes=0), "num_hashes=0"),
    (dict(ngrams=0), "ngrams=0"),
    (dict(jaccard_threshold=1.5), "jaccard_threshold=1.5"),
])
def test_bad_arguments_raise(tmp_path, kwargs, message):
    (tmp_path / "a.txt").write_text("a b c")
    args = dict(num_hashes=100, num_bands=10, ngrams=5, jaccard_threshold=0.8) | kwargs
    with pytest.raises(ValueError, match=message):
        minhash_deduplication([tmp_path / "a.txt"], output_directory=tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()


def test_normalization_is_the_shared_one():
    assert word_ngrams("Don’t STOP—now", 1) == {(w,) for w in normalize_text("Don’t STOP—now").split()}
