"""Heuristic quality filters: the Gopher rules (Rae et al. 2021) and the C4 rules (Raffel et al. 2020).

Heuristics look at surface statistics only (lengths, punctuation, a few phrases), which is why they are
cheap enough to run on every page of a crawl, and why the model-based filters (`ngram_lm`, `classifier`,
`dsir`) came after them.

Gopher (MassiveText, Rae et al. 2021, appendix A), the subset the CS336 assignment uses, as `gopher_quality_filter`:
a document is kept when it has 50 to 100,000 words, a mean word length of 3 to 10 characters, at most 30%
of its lines ending in an ellipsis ("..." or "…"), and at least 80% of words containing an alphabetic
character. Words are whitespace-separated tokens; lines are the non-blank lines. `gopher_violations`
names the rules a document breaks (the pipeline's per-stage summary uses it).

C4 (section 2.2 and the reference `c4_utils.py`), as `c4_clean`, which returns the cleaned page or None:
- a line is dropped when it does not end in terminal punctuation (. ! ? "), ends in "...", has fewer than
  3 words, has a word over 1,000 characters, mentions "javascript", or is a cookie/terms-of-use notice;
  citation markers ([1], [edit], [citation needed]) are removed from lines first;
- a page is dropped when it contains "lorem ipsum" or a curly bracket "{", or when fewer than 5 sentences
  remain (sentences counted at ". ", "! ", "? " and line ends, not by a trained sentence splitter).
Left out: the bad-words list (it would have to be downloaded), English language identification, and the
three-sentence-span deduplication (see the dedup module).
"""

from __future__ import annotations

import re

from lmcourse import checks

__all__ = ["gopher_quality_filter", "gopher_violations", "c4_clean"]

_ELLIPSES = ("...", "…")

_C4_END = (".", "!", "?", '"')
_C4_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_C4_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?:\s|$)")




def gopher_violations(text: str) -> list[str]:
    """The Gopher rules `text` breaks, by name (an empty list means it passes)."""
    checks.text("text", text, fn="gopher_violations")
    words = text.split()
    violations = []
    if not 50 <= len(words) <= 100_000:
        violations.append("word_count")
    # An empty document has no mean word length; it already fails on word count, so count it as failing here too.
    mean_length = sum(map(len, words)) / len(words) if words else 0.0
    if not 3 <= mean_length <= 10:
        violations.append("mean_word_length")
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and sum(line.rstrip().endswith(_ELLIPSES) for line in lines) > 0.3 * len(lines):
        violations.append("ellipsis_lines")
    if sum(any(c.isalpha() for c in w) for w in words) < 0.8 * len(words) or not words:
        violations.append("alphabetic_words")
    return violations


def gopher_quality_filter(text: str) -> bool:
    """True when `text` passes the four Gopher rules above (keep it), False when it fails any."""
    checks.text("text", text, fn="gopher_quality_filter")
    return not gopher_violations(text)


def _c4_keep_line(line: str) -> bool:
    words = line.split()
    lowered = line.lower()
    return (line.endswith(_C4_END) and not line.endswith("...")
            and len(words) >= 3
            and max(map(len, words)) <= 1000
            and "javascript" not in lowered
            and not any(phrase in lowered for phrase in _C4_POLICY))


def c4_clean(text: str) -> str | None:
    """The C4 rules above: the page with only its good lines (joined by newlines), or None if it is dropped."""
    checks.text("text", text, fn="c4_clean")
    lowered = text.lower()
    if "lorem ipsum" in lowered or "{" in text:
        return None
    lines = (_C4_CITATION.sub("", line).strip() for line in text.splitlines())
    kept = [line for line in lines if line and _c4_keep_line(line)]
    # Kept lines all end in terminal punctuation, so each ends at least one sentence.
    if sum(len(_SENTENCE_END.findall(line)) for line in kept) < 5:
        return None
    return "\n".join(kept)
