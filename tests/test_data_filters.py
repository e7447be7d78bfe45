"""Tests for what decides which text stays: PII masking (lmcourse.data.pii), normalization
(lmcourse.data.normalize), the Gopher and C4 heuristics (lmcourse.data.quality), and the three
model-based filters of lecture 14: the Kneser-Ney n-gram model (ngram_lm), the fastText-style
classifier (classifier) and DSIR importance resampling (dsir), all on text from lmcourse.data.webgen."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data.classifier import train_classifier
from lmcourse.corpus import generate_stories
from lmcourse.data.dsir import (dsir_resample, gumbel_top_k, hashed_kl, hashed_ngrams, importance_log_weights,
                                ngram_distribution)
from lmcourse.data.ngram_lm import BOS, EOS, UNK, KneserNeyLM
from lmcourse.data.normalize import (normalize_punctuation, normalize_text, normalize_unicode, normalize_whitespace,
                                     remove_punctuation, strip_accents, word_tokens)
from lmcourse.data.pii import (EMAIL_PLACEHOLDER, IP_PLACEHOLDER, PHONE_PLACEHOLDER, mask_emails, mask_ips,
                               mask_phone_numbers, mask_pii)
from lmcourse.data.quality import c4_clean, gopher_quality_filter, gopher_violations
from lmcourse.data.webgen import _DECOYS, generate_documents, pii_documents

PLACEHOLDERS = {mask_emails: EMAIL_PLACEHOLDER, mask_phone_numbers: PHONE_PLACEHOLDER, mask_ips: IP_PLACEHOLDER}


pytestmark = pytest.mark.usefixtures("one_thread_module")  # tiny models: one thread beats two fighting over 2 cores


# --- PII -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("masker, text, expected", [
    (mask_emails, "Write to jane.doe+news@mail.example.co.uk today.", f"Write to {EMAIL_PLACEHOLDER} today."),
    (mask_emails, "a_b@ex-ample.org, c@d.io", f"{EMAIL_PLACEHOLDER}, {EMAIL_PLACEHOLDER}"),
    (mask_emails, "not an email: a@b, @handle, x@y.z", "not an email: a@b, @handle, x@y.z"),
    (mask_phone_numbers, "Call (555) 123-4567 now", f"Call {PHONE_PLACEHOLDER} now"),
    (mask_phone_numbers, "555-123-4567", PHONE_PLACEHOLDER),
    (mask_phone_numbers, "555.123.4567.", f"{PHONE_PLACEHOLDER}."),
    (mask_phone_numbers, "+1 555 123 4567", PHONE_PLACEHOLDER),
    (mask_phone_numbers, "5551234567", PHONE_PLACEHOLDER),
    (mask_phone_numbers, "tel:1-555-123-4567", f"tel:{PHONE_PLACEHOLDER}"),
    (mask_phone_numbers, "+1 (555) 123-4567", PHONE_PLACEHOLDER),
    (mask_phone_numbers, "order 55512345678, 555-1234, 555-123.4567, ISBN 978-0-306-40615-7",
     "order 55512345678, 555-1234, 555-123.4567, ISBN 978-0-306-40615-7"),
    (mask_ips, "from 192.168.0.1 and 8.8.8.8.", f"from {IP_PLACEHOLDER} and {IP_PLACEHOLDER}."),
    (mask_ips, "0.0.0.0 255.255.255.255", f"{IP_PLACEHOLDER} {IP_PLACEHOLDER}"),
    (mask_ips, "256.1.1.1 1.2.3 01.2.3.4 1.2.3.4.5 v10.0.0.1000", "256.1.1.1 1.2.3 01.2.3.4 1.2.3.4.5 v10.0.0.1000"),
])
def test_maskers_on_examples(masker, text, expected):
    masked, count = masker(text)
    assert masked == expected
    assert count == expected.count(PLACEHOLDERS[masker])


def test_planted_pii_is_found_exactly():
    for text, planted in pii_documents(200, seed=0):
        masked, counts = mask_pii(text)
        assert counts == planted, text
        assert "@" not in masked
        for decoy in _DECOYS:  # version strings, ISBNs, invalid IPs, tracking numbers: left alone
            assert (decoy in text) == (decoy in masked)


@pytest.mark.parametrize("masker", list(PLACEHOLDERS))
def test_maskers_reject_non_str(masker):
    with pytest.raises(TypeError, match="expected a str"):
        masker(b"jane@example.com")


# Text made of pieces that look like PII, pieces that nearly do, separators and the placeholders themselves.
_pii_piece = st.one_of(
    st.sampled_from(["jane@example.com", "a.b+c@x-y.example.org", "(555) 123-4567", "555.123.4567", "5551234567",
                     "+1 555 123 4567", "1-555-123-4567", "192.168.1.1", "255.0.0.255", "256.1.1.1", "1.2.3.4.5",
                     EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER, IP_PLACEHOLDER,
                     "@", ".", "+", "-", "(", ")", "|", " ", "\n"]),
    st.text("0123456789.-@+ ()|_%abcom", max_size=12),
)
_pii_text = st.lists(_pii_piece, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(_pii_text)
def test_masking_is_idempotent_and_counts_match(text):
    for masker, placeholder in PLACEHOLDERS.items():
        masked, count = masker(text)
        assert count == masked.count(placeholder) - text.count(placeholder)  # placeholders already there stay
        assert masker(masked) == (masked, 0)  # nothing left to mask, and no placeholder is masked again
    masked, counts = mask_pii(text)
    assert mask_pii(masked) == (masked, {"email": 0, "phone": 0, "ip": 0})
    for placeholder in PLACEHOLDERS.values():
        assert masked.count(placeholder) >= text.count(placeholder)


# --- normalization ---------------------------------------------------------------------------------------

def test_the_seed_nfd_examples():
    text = "Exupéry"
    decomposed = normalize_unicode(text, "NFD")
    assert [ord(c) for c in text] == [69, 120, 117, 112, 233, 114, 121]
    assert [ord(c) for c in decomposed] == [69, 120, 117, 112, 101, 769, 114, 121]
    assert text != decomposed and normalize_unicode(decomposed, "NFC") == text  # print the same, compare different
    assert unicodedata.combining(chr(101)) == 0 and unicodedata.combining(chr(233)) == 0
    assert unicodedata.combining(chr(769)) != 0
    assert text.encode("ascii", "replace") == b"Exup?ry" and decomposed.encode("ascii", "replace") == b"Exupe?ry"
    assert text.encode("utf-8") == b"Exup\xc3\xa9ry" and decomposed.encode("utf-8") == b"Exupe\xcc\x81ry"
    assert strip_accents("Antoine de Saint-Exupéry") == "Antoine de Saint-Exupery"
    assert strip_accents(decomposed) == strip_accents(text) == "Exupery"


def test_normalizers_on_examples():
    assert normalize_whitespace(" a\u00a0 b\t\n\nc\u200bd ") == "a b cd"
    assert normalize_punctuation("“Don’t” – wait…") == '"Don\'t" - wait...'
    assert remove_punctuation("end.Start, ok!") == "end Start  ok "
    assert normalize_text("  Le Café — «Très» BON!  ") == "le cafe tres bon"
    assert normalize_text("İstanbul") == "istanbul"  # lower() adds a combining dot; it goes too
    assert strip_accents("한국어 naïve") == "한국어 naive"  # NFD splits Hangul into jamo; NFC puts them back
    assert word_tokens("Don’t stop! 3.5") == ["don't", "stop", "!", "3", ".", "5"]
    with pytest.raises(ValueError, match="form"):
        normalize_unicode("x", "NFX")
    with pytest.raises(TypeError, match="expected a str"):
        normalize_text(b"x")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalization_properties(text):
    normalized = normalize_text(text)
    assert normalize_text(normalized) == normalized
    assert "  " not in normalized and normalized == normalized.strip()
    assert not any(unicodedata.category(c).startswith("P") for c in normalized)
    assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", strip_accents(text)))
    assert strip_accents(strip_accents(text)) == strip_accents(text)
    assert normalize_unicode(normalize_unicode(text, "NFD"), "NFC") == normalize_unicode(text, "NFC")
    assert normalize_whitespace(normalize_whitespace(text)) == normalize_whitespace(text)


# --- Gopher and C4 ---------------------------------------------------------------------------------------

def _words(n: int, word: str = "word") -> str:
    return " ".join([word] * n)


@pytest.mark.parametrize("text, violations", [
    (_words(50), []), (_words(49), ["word_count"]), (_words(100_000, "abc"), []),
    (_words(100_001, "abc"), ["word_count"]), ("", ["word_count", "mean_word_length", "alphabetic_words"]),
    (_words(60, "ab") + " abcd" * 60, []),  # mean length exactly 3
    (_words(60, "ab") + " abc" * 59, ["mean_word_length"]),  # mean length just under 3
    (_words(60, "a" * 10), []), (_words(60, "a" * 11), ["mean_word_length"]),
    (_words(80, "word") + " 1234" * 20, []), (_words(79, "word") + " 1234" * 21, ["alphabetic_words"]),
    ("\n".join(["some words here..."] * 3 + ["some words here"] * 7 + [_words(50)]), []),  # 3 of 11 lines
    ("\n".join(["some words here…"] * 4 + ["some words here"] * 6 + [_words(50)]), ["ellipsis_lines"]),  # 4 of 11
])
def test_gopher_rules_at_their_thresholds(text, violations):
    assert gopher_violations(text) == violations
    assert gopher_quality_filter(text) is (violations == [])


def test_gopher_on_generated_documents():
    assert all(gopher_quality_filter(d) for d in generate_documents("reference", 50))
    spam = generate_documents("spam", 100)
    assert sum(gopher_quality_filter(d) for d in spam) < 0.2 * len(spam)


def test_c4_line_and_page_rules():
    good = ["The first sentence is fine.", "The second one is fine too!", "Is the third one fine?",
            'She said "the fourth is fine."', "The fifth one ends here. And a sixth starts and ends."]
    bad = ["A heading without punctuation", "Two words.", "Please enable JavaScript to continue.",
           "This site uses cookies to work.", "Read our privacy policy now.", "And it goes on...",
           "x" * 1001 + " is long."]
    assert c4_clean("\n".join(good + bad)) == "\n".join(good)
    assert c4_clean("The line with a citation.[1][citation needed]\n" + "\n".join(good)).startswith(
        "The line with a citation.\n")
    assert c4_clean("\n".join(good[:3])) is None  # fewer than 5 sentences left
    assert c4_clean("\n".join(good + ["Lorem ipsum dolor sit amet."])) is None
    assert c4_clean("\n".join(good + ["Use it like this: f() { return 1; }."])) is None
    assert c4_clean("") is None
    with pytest.raises(TypeError, match="expected a str"):
        c4_clean(None)


def test_c4_on_generated_documents():
    cleaned = [c4_clean(d) for d in generate_documents("reference", 50)]
    assert all(c is not None for c in cleaned)
    assert all(line[-1] in '.!?"' for c in cleaned for line in c.split("\n"))
    # Heuristics leak: "BUY PLUM NOW!!! BEST PRICE!!!" four times over is five sentences with terminal punctuation.
    assert sum(c4_clean(d) is not None for d in generate_documents("spam", 100)) <= 5


# --- the fastText-style classifier -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference_vs_web():
    train = generate_documents("reference", 400, seed=0) + generate_documents("web", 400, seed=0)
    test = generate_documents("reference", 200, seed=1) + generate_documents("web", 200, seed=1)
    return train, ["reference"] * 400 + ["web"] * 400, test, ["reference"] * 200 + ["web"] * 200


def test_classifier_separates_reference_from_web_on_held_out_text(reference_vs_web):
    train, train_labels, test, test_labels = reference_vs_web
    model = train_classifier(train, train_labels, seed=0)
    assert model.labels == ("reference", "web")
    assert model.accuracy(test, test_labels) >= 0.95
    probs = model.predict_proba(test)
    assert probs.shape == (400, 2) and np.allclose(probs.sum(axis=1), 1)
    spam_scores = model.predict_proba(generate_documents("spam", 50))[:, 0]
    assert spam_scores.mean() < probs[:200, 0].mean()  # spam looks less like reference text than reference does


def test_classifier_is_deterministic_and_checks_input(reference_vs_web):
    train, labels, test, _ = reference_vs_web
    a = train_classifier(train[:200] + train[-200:], labels[:200] + labels[-200:], epochs=1, seed=3)
    b = train_classifier(train[:200] + train[-200:], labels[:200] + labels[-200:], epochs=1, seed=3)
    assert np.array_equal(a.predict_proba(test[:20]), b.predict_proba(test[:20]))
    with pytest.raises(ValueError, match="two classes"):
        train_classifier(train[:5], ["web"] * 5)
    with pytest.raises(ValueError, match="as many"):
        train_classifier(train[:5], ["web"] * 4)


def test_hashed_ngrams():
    ids = hashed_ngrams("the cat sat on the mat", ngrams=2, num_buckets=1000)
    assert len(ids) == 6 + 5 and ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < 1000
    assert ids[0] == ids[4]  # "the" twice, same bucket
    assert np.array_equal(ids, hashed_ngrams("The cat sat on the mat", ngrams=2, num_buckets=1000))
    new_york, york_new = (hashed_ngrams(t, num_buckets=2**20) for t in ("new york", "york new"))
    assert sorted(new_york[:2]) == sorted(york_new[:2]) and new_york[2] != york_new[2]  # bigrams keep word order
    assert len(hashed_ngrams("", ngrams=3)) == 0 and len(hashed_ngrams("a b c", ngrams=3)) == 6
    with pytest.raises(ValueError, match="ngrams"):
        hashed_ngrams("x", ngrams=0)


# --- the Kneser-Ney n-gram model -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference_lms():
    texts = generate_documents("reference", 300, seed=0)
    return {order: KneserNeyLM(order).fit(texts) for order in (1, 2, 3, 4)}


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kn_probabilities_sum_to_one_for_every_context(reference_lms, order):
    lm = reference_lms[order]
    contexts = [(), (BOS,), ("the",), ("of", "the"), (BOS, "the"), ("is", "a", "species"), ("unseen", "words"),
                ("the", "zzzz")]
    for context in contexts:
        probs = [lm.prob(w, context) for w in lm.vocab]
        assert math.isclose(sum(probs), 1.0, rel_tol=1e-9), context
        assert min(probs) > 0
    assert lm.prob("never-seen-word", ("the",)) == lm.prob(UNK, ("the",)) > 0
    assert all(0 < d <= k for ds in lm.discount for k, d in zip((1, 2, 3), ds))


def test_kn_perplexity_is_lower_in_domain_and_falls_with_order(reference_lms):
    held_out = generate_documents("reference", 50, seed=1)
    web = generate_documents("web", 50, seed=1)
    perplexities = [reference_lms[order].corpus_perplexity(held_out) for order in (1, 2, 3)]
    assert perplexities[0] > perplexities[1] > perplexities[2]
    lm = reference_lms[3]
    assert lm.corpus_perplexity(web) > 10 * lm.corpus_perplexity(held_out)
    assert lm.corpus_perplexity(generate_stories(50)) > 10 * lm.corpus_perplexity(held_out)
    text = held_out[0]
    tokens = [BOS] + word_tokens(text) + [EOS]
    assert math.isclose(lm.score(text), sum(math.log10(lm.prob(tokens[i], tokens[max(0, i - 2):i]))
                                            for i in range(1, len(tokens))))
    assert math.isclose(lm.perplexity(text), 10 ** (-lm.score(text) / (len(tokens) - 1)))


def test_kn_continuation_counts():
    """Kneser-Ney's point: "francisco" is frequent but follows only "san", so a new context predicts it
    less than "glasses", which is rarer but follows many words."""
    texts = ["san francisco"] * 20 + [f"{w} glasses" for w in ("my", "his", "her", "reading", "dark")]
    lm = KneserNeyLM(2).fit(texts)
    assert lm.prob("francisco", ("new",)) < lm.prob("glasses", ("new",))
    assert lm.prob("francisco", ("san",)) > 0.9


def test_kn_bad_input():
    with pytest.raises(ValueError, match="order"):
        KneserNeyLM(0)
    with pytest.raises(ValueError, match="empty"):
        KneserNeyLM(2).fit([])
    with pytest.raises(TypeError, match="str"):
        KneserNeyLM(2).fit([b"bytes"])
    with pytest.raises(RuntimeError, match="fit"):
        KneserNeyLM(2).prob("a")
    lm = KneserNeyLM(3).fit(["a b c", "a b d", "b c"])  # too little data for modified KN: one discount
    assert math.isclose(sum(lm.prob(w, ("a", "b")) for w in lm.vocab), 1.0)


# --- DSIR ------------------------------------------------------------------------------------------------

def test_dsir_selection_is_closer_to_the_target_than_the_raw_pool():
    target = generate_documents("reference", 150, seed=10)
    pool = {"reference": generate_documents("reference", 60, seed=11), "web": generate_documents("web", 300, seed=11),
            "spam": generate_documents("spam", 60, seed=11), "story": list(generate_stories(120, seed=11))}
    raw = [text for texts in pool.values() for text in texts]
    kinds = [kind for kind, texts in pool.items() for _ in texts]
    chosen = dsir_resample(raw, target, 60, seed=0)
    assert len(set(chosen)) == 60
    selected = [raw[i] for i in chosen]
    assert hashed_kl(target, selected) < 0.25 * hashed_kl(target, raw)
    assert Counter(kinds[i] for i in chosen)["reference"] >= 55  # 11% of the pool, over 90% of the selection


def test_gumbel_top_k_samples_in_proportion_to_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    firsts = Counter(int(gumbel_top_k(np.log(weights), 1, seed=s)[0]) for s in range(4000))
    assert np.allclose([firsts[i] / 4000 for i in range(4)], weights / weights.sum(), atol=0.03)
    assert sorted(gumbel_top_k(np.zeros(10), 10).tolist()) == list(range(10))  # without replacement
    with pytest.raises(ValueError, match="k="):
        gumbel_top_k(np.zeros(3), 4)


def test_dsir_pieces():
    dist = ngram_distribution(["a b c", "c d"], num_buckets=64)
    assert dist.shape == (64,) and math.isclose(dist.sum(), 1.0) and dist.min() > 0
    weights = importance_log_weights(["a b", "x y"], dist, np.full(64, 1 / 64))
    assert weights[0] > weights[1]
    assert hashed_kl(["a b c"], ["a b c"]) == 0.0
    with pytest.raises(ValueError, match="non-empty"):
        dsir_resample([], ["a"], 1)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_normalize_text_ascii_fast_path_equals_the_general_path(text):
    general = normalize_whitespace(remove_punctuation(strip_accents(text.lower())))
    assert normalize_text(text) == general
