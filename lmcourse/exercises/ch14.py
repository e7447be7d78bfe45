"""Chapter 14 (filtering and deduplication): the exercises' references and checks."""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections import Counter

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


def cheapest_banding(s_high: float, p_high: float, s_low: float, p_low: float) -> tuple[int, int]:
    from lmcourse.data import lsh_candidate_probability

    # Try every (b, r) up to 50 x 50; keep those whose S-curve passes above (s_high, p_high) and below
    # (s_low, p_low); take the fewest hashes b * r. A steep curve needs rows, and every row needs more
    # bands to keep the threshold where it was.
    ok = [(b * r, b, r) for b in range(1, 51) for r in range(1, 51)
          if lsh_candidate_probability(s_high, b, r) >= p_high and lsh_candidate_probability(s_low, b, r) <= p_low]
    _, b, r = min(ok)
    return b, r


def _check_cheapest_banding(answer) -> None:
    from lmcourse.data import lsh_candidate_probability

    for s_high, p_high, s_low, p_low in [(0.8, 0.99, 0.5, 0.05), (0.9, 0.95, 0.5, 0.01), (0.7, 0.9, 0.3, 0.1),
                                         (0.9, 0.99, 0.6, 0.05)]:
        call = f"my_cheapest_banding({s_high}, {p_high}, {s_low}, {p_low})"
        got = answer(s_high, p_high, s_low, p_low)
        if not (isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(x, numbers.Integral) for x in got)):
            raise Mismatch(f"{call} should return a pair of ints (b, r); got {got!r}")
        b, r = got
        if not (1 <= b <= 50 and 1 <= r <= 50):
            raise Mismatch(f"{call}: expected b and r between 1 and 50, got ({b}, {r})")
        high, low = lsh_candidate_probability(s_high, b, r), lsh_candidate_probability(s_low, b, r)
        if high < p_high or low > p_low:
            raise Mismatch(f"{call}: ({b}, {r}) gives P({s_high}) = {high:.4f} and P({s_low}) = {low:.4f}; "
                           f"expected at least {p_high} and at most {p_low}")
        best_b, best_r = cheapest_banding(s_high, p_high, s_low, p_low)  # ties in b * r may differ
        expect(b * r, best_b * best_r, f"the number of hashes b * r of {call}")


def bloom_size(num_items: int, false_positive_rate: float) -> tuple[float, int]:
    # m = n ln(1/p) / (ln 2)^2 bits at the optimal k = (m / n) ln 2 = log2(1/p) hash functions. k must be
    # a whole number, and the rate is not symmetric around the real optimum: take whichever of the two
    # integers either side gives the lower (1 - e^(-kn/m))^k.
    bits = num_items * math.log(1 / false_positive_rate) / math.log(2) ** 2
    m = math.ceil(bits)
    k = m / num_items * math.log(2)
    rate = lambda c: (1 - math.exp(-c * num_items / m)) ** c  # noqa: E731
    return bits / 8 / 1e9, min(sorted({max(1, math.floor(k)), max(1, math.ceil(k))}), key=rate)


def _check_bloom_size(answer) -> None:
    from lmcourse.data import bits_for, optimal_num_hashes

    for n, rate in [(5 * 10**9, 0.01), (5 * 10**9, 0.001), (10**6, 1e-6), (1000, 0.5), (10**4, 0.05), (7, 0.3)]:
        got = answer(n, rate)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise Mismatch(f"my_bloom_size({n}, {rate}) should return a pair (gigabytes, k); got {got!r}")
        try:
            gigabytes = float(got[0])
        except (TypeError, ValueError):
            raise Mismatch(f"my_bloom_size({n}, {rate}): expected a number of gigabytes, got {got[0]!r}") from None
        # Compared in bits, not GB (a 7-item filter is 2e-9 GB, within any absolute tolerance of 0):
        # within 1 bit, rounded up or not, and 1e-4 relative.
        expect(gigabytes * 8e9, bits_for(n, rate), f"the bits (gigabytes x 8e9) of my_bloom_size({n}, {rate})",
               rel_tol=1e-4, abs_tol=1.0)
        expect(got[1], optimal_num_hashes(bits_for(n, rate), n), f"k of my_bloom_size({n}, {rate})")


def bits_per_decade() -> float:
    # m / n = ln(1/p) / (ln 2)^2: dividing p by ten adds ln(10) / (ln 2)^2 bits per item, however big
    # the items are (and log2(10) = 3.3 more hash functions).
    return math.log(10) / math.log(2) ** 2


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    # NFD also splits each Hangul syllable into two or three jamo (letters). They are not combining
    # marks, so they survive the filter, but the text stays decomposed: "한" is now three code points
    # and no longer equals the original. Composing again puts the syllables back.
    return unicodedata.normalize("NFC", kept)


def _check_strip_accents(answer) -> None:
    from lmcourse.data import strip_accents as package_strip_accents

    for text in ["Antoine de Saint-Exupéry", "crème brûlée", unicodedata.normalize("NFD", "Ångström"),
                 "한국어", "Ærøskøbing", "", "plain ascii", "Ñandú 東京"]:
        got = answer(text)
        want = package_strip_accents(text)
        if got != want:
            shown = [hex(ord(c)) for c in got] if isinstance(got, str) else got
            raise Mismatch(f"my_strip_accents({text!r}): expected {want!r}, got {got!r} (code points {shown})")


def bag_jaccard(a: Counter, b: Counter) -> float:
    keys = set(a) | set(b)
    union = sum(max(a[x], b[x]) for x in keys)  # the multiset union: the larger count of each shingle
    return sum(min(a[x], b[x]) for x in keys) / union if union else 0.0  # two empty bags: 0, by convention


def _bag_cases():
    from lmcourse.data import bag_of_shingles

    pairs = [("abcab", "abcabcabcab"), ("abcab", "abcab"), ("abcab", "xyz"), ("aaaa", "aa"), ("abab", "baba")]
    # a trailing {} says "no keyword arguments": a Counter is a dict, and would be taken for them
    return [(bag_of_shingles(x, 2), bag_of_shingles(y, 2)) for x, y in pairs] + [(Counter(), Counter())]


EXERCISES = [
    function_exercise("cheapest_banding", "choose the bands", cheapest_banding, check=_check_cheapest_banding),
    function_exercise("bloom_size", "size a Bloom filter", bloom_size, check=_check_bloom_size),
    value_exercise("bits_per_decade", "the price of a factor of ten", bits_per_decade, rel_tol=0.02),
    function_exercise("strip_accents", "strip accents", strip_accents, check=_check_strip_accents),
    function_exercise("bag_jaccard", "Jaccard of bags", bag_jaccard, _bag_cases),
    choice_exercise(
        "repetition", "sets or bags",
        {"a": "both give 1.0: repeating a line adds no new shingle and changes no count that matters",
         "b": "the set similarity is 1.0 (duplicates) while the bag similarity sees the difference; this "
              "chapter's MinHash estimates the set version, so the pipeline treats such pages as duplicates",
         "c": "the set similarity sees the difference while the bag similarity is 1.0; this chapter's "
              "MinHash estimates the bag version"},
        "b",
        "Repeating a line adds no shingle the set has not got, so set Jaccard stays 1; the counts grow, so "
        "bag Jaccard falls. MinHash over shingle sets estimates the set version. Which one you want depends "
        "on whether repetition is content (a spammy page repeating its keyword line) or noise."),
]

WARM_UP = [
    choice("Two web pages are the same article, one with a different date line and footer. Which check "
           "finds them?",
           ["comparing their SHA-256 hashes", "comparing the sets of their word 5-grams (Jaccard similarity)",
            "comparing their lengths"],
           "b", "One changed byte changes a hash completely; the sets of 5-grams of the two pages still "
                "overlap almost entirely, which is what near-duplicate detection measures."),
    open_question("You have a million Wikipedia articles and a billion crawled pages. How could you use the "
                  "first to pick the best part of the second?",
                  "Fit a model of the target data (an n-gram LM, a classifier against random crawl pages, "
                  "or n-gram statistics for importance weights), score every crawled page, keep the best "
                  "scores: the chapter runs all three."),
]

QUIZ = [
    choice("Comparing all pairs of a billion documents by exact Jaccard similarity is out of reach. "
           "What do MinHash and LSH banding do instead?",
           ["sample a random subset of the pairs",
            "give each document a short signature whose agreement estimates Jaccard, and compare only "
            "documents that share a whole band",
            "sort the documents by length and compare neighbours"],
           "b", "The probability that two MinHash values agree is exactly the Jaccard similarity; banding "
                "turns signatures into bucket keys so that only likely pairs become candidates."),
    choice("With 128 hash functions, you go from 16 bands of 8 rows to 32 bands of 4. What happens?",
           ["the S-curve moves right: fewer candidates, more missed duplicates",
            "the S-curve moves left: almost no missed duplicates, far more candidate pairs to verify",
            "nothing: only the number of hash functions matters"],
           "b", "More bands give more chances to match and fewer rows make each match easier; the threshold "
                "(1/b)^(1/r) drops from about 0.71 to about 0.42."),
    choice("A Bloom filter says a URL is in the set of seen URLs. What do you know?",
           ["it was certainly seen", "it was probably seen; a false positive is possible",
            "nothing: Bloom filters also have false negatives"],
           "b", "A Bloom filter never forgets an inserted item, but bits set by other items can make an unseen "
                "one look present, at a rate set by bits per item and the number of hash functions."),
    choice("Why normalise text (NFC, punctuation, whitespace) before hashing it for exact deduplication?",
           ["to make hashing faster",
            "because the same visible text can be different bytes, and only equal bytes hash equally",
            "to remove personal information"],
           "b", "`é` can be one code point or two, quotes can be straight or curly: without normalisation "
                "copies that a reader sees as equal are kept twice."),
    choice("A classifier trained to tell Wikipedia from random crawl pages keeps the top 10% of a crawl. "
           "What is the risk?",
           ["none: Wikipedia is high quality",
            "the kept data drift towards whatever Wikipedia looks like, dropping good text of other kinds",
            "the classifier keeps only duplicates"],
           "b", "A filter keeps what resembles its target; forum answers, code or fiction that look unlike the "
                "target score low even when they are what a model needs."),
]
