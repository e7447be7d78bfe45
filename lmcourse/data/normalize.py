"""Text normalization before filtering and deduplication: Unicode forms, accents, whitespace, punctuation.

Two strings can print the same and still differ: "é" is one code point (U+00E9) in NFC and two in NFD
("e" + U+0301 COMBINING ACUTE ACCENT). Hashes, n-grams and MinHash shingles see code points, so a
pipeline first puts text into one form. This module has the pieces (`normalize_unicode`,
`strip_accents`, `normalize_whitespace`, `normalize_punctuation`, `remove_punctuation`), the one
combination deduplication uses (`normalize_text`: lowercase, NFD, accents off, punctuation off,
whitespace collapsed, as in the CS336 assignment 4 handout) and `word_tokens`, the word splitter the
classifier, the n-gram model and DSIR share.

Leaves out: language-specific rules (Turkish dotless i, German ß casing, CJK word segmentation),
transliteration beyond dropping combining marks ("ø" and "ß" stay as they are), and repairing
mojibake ("cafÃ©"; see the `ftfy` package).
"""

from __future__ import annotations

import re
import unicodedata

from lmcourse import checks

__all__ = ["normalize_unicode", "strip_accents", "normalize_whitespace", "normalize_punctuation",
           "remove_punctuation", "normalize_text", "word_tokens", "FORMS"]

FORMS = ("NFC", "NFD", "NFKC", "NFKD")

# Typographic punctuation mapped to its ASCII twin, so "don’t" and "don't" are one word to a hash.
# (NFKC would do some of this, but it also rewrites "ﬁ", "²" and full-width letters, which is a separate choice.)
_PUNCT = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "\u00ad": "",  # a soft hyphen is invisible: drop it
})
# Zero-width characters split or join words invisibly; they count as nothing, not as spaces.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
# remove_punctuation for pure-ASCII text as one str.translate: the ASCII characters of Unicode category P*.
_ASCII_PUNCT_TO_SPACE = str.maketrans({chr(i): " " for i in range(128) if unicodedata.category(chr(i)).startswith("P")})
_WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")




def normalize_unicode(text: str, form: str = "NFC") -> str:
    """`text` in Unicode normal form `form` (NFC composes "e" + U+0301 into "é", NFD splits it)."""
    checks.text("text", text, fn="normalize_unicode")
    if form not in FORMS:
        raise ValueError(f"normalize_unicode: form={form!r}; expected one of {FORMS}")
    return unicodedata.normalize(form, text)


def strip_accents(text: str) -> str:
    """Drop combining marks: "Antoine de Saint-Exupéry" -> "Antoine de Saint-Exupery".

    NFD splits each precomposed character into a base and combining marks, which are dropped. The result
    is put back into NFC because NFD also splits Hangul syllables into jamo, which are not accents.
    """
    checks.text("text", text, fn="strip_accents")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def normalize_whitespace(text: str) -> str:
    """Zero-width characters removed, every run of whitespace (newlines, tabs, NBSP...) one space, ends stripped.

    Callers that need lines (the C4 rules, line deduplication) apply it to each line.
    """
    checks.text("text", text, fn="normalize_whitespace")
    return _SPACES.sub(" ", _ZERO_WIDTH.sub("", text)).strip()


def normalize_punctuation(text: str) -> str:
    """Curly quotes, guillemets, dashes and "…" replaced by their ASCII forms; soft hyphens dropped."""
    checks.text("text", text, fn="normalize_punctuation")
    return text.translate(_PUNCT)


def remove_punctuation(text: str) -> str:
    """Every Unicode punctuation character (categories P*) replaced by a space.

    A space rather than nothing, so "end.Start" stays two words; symbols ($, +, emoji) are kept.
    """
    checks.text("text", text, fn="remove_punctuation")
    return "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)


def normalize_text(text: str) -> str:
    """The normalization deduplication compares documents under: lowercase, NFD, accents, punctuation
    and zero-width characters removed, whitespace collapsed. Idempotent (a property test checks).

    Lowercasing comes first because it can add combining marks ("İ".lower() is "i" + U+0307), which
    the accent stripping then removes.
    """
    checks.text("text", text, fn="normalize_text")
    if text.isascii():  # most web text: no accents or zero-width characters, so one translate and a split do it
        return " ".join(text.lower().translate(_ASCII_PUNCT_TO_SPACE).split())
    return normalize_whitespace(remove_punctuation(strip_accents(text.lower())))


def word_tokens(text: str) -> list[str]:
    """Lowercased NFC words and single punctuation marks: "Don’t stop!" -> ["don't", "stop", "!"].

    Punctuation is normalized first and an apostrophe inside a word keeps it whole. These are the
    features of the classifier, the n-gram model and DSIR.
    """
    checks.text("text", text, fn="word_tokens")
    return _WORD.findall(unicodedata.normalize("NFC", text).lower().translate(_PUNCT))
