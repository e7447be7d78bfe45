import math
import unicodedata


def _threshold_only(s_high, p_high, s_low, p_low):  # puts the threshold (1/b)^(1/r) between the two, ignores p
    from lmcourse.data import lsh_threshold

    ok = [(b * r, b, r) for b in range(1, 51) for r in range(1, 51) if s_low < lsh_threshold(b, r) < s_high]
    _, b, r = min(ok)
    return b, r


def _log2_bits(num_items, false_positive_rate):  # n log2(1/p) bits: the bound without the 1/ln 2 of a Bloom filter
    bits = num_items * math.log2(1 / false_positive_rate)
    return bits / 8 / 1e9, round(bits / num_items * math.log(2))


def _no_recompose(text):  # NFD and drop the marks, but leave the text decomposed (Hangul breaks into jamo)
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _set_jaccard(a, b):  # the Jaccard of the keys: forgets the counts
    keys_a, keys_b = set(a), set(b)
    return len(keys_a & keys_b) / len(keys_a | keys_b) if keys_a | keys_b else 0.0


WRONG = {
    "cheapest_banding": _threshold_only,
    "bloom_size": _log2_bits,
    "bits_per_decade": math.log2(10),  # the extra hash functions per factor of ten, not the extra bits
    "strip_accents": _no_recompose,
    "bag_jaccard": _set_jaccard,
    "repetition": "c",
}
