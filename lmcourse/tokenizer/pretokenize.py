"""Pre-tokenization: cutting text into the pieces BPE works inside.

Covers the GPT-2 split regex and two exact shortcuts that make it fast in Python (the standard `re`
on ASCII stretches; `str.split(" ")` where every space sits between non-spaces), splitting special
tokens out *before* the regex (so a special token is never merged with its neighbours), and the
places where a long text can be cut without changing the pieces (used to stream files and to count
a file in several processes). Leaves out: other models' regexes (GPT-4's, Llama's), normalisation
(NFC etc. belongs to `lmcourse.data`).
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import regex

# GPT-2's split (Radford et al. 2019): contractions, an optional space glued to the following run of
# letters / digits / other symbols, and whitespace runs that leave their last space to the next word.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT2_SPLIT = regex.compile(GPT2_SPLIT_PATTERN)

# The same split over ASCII text, for Python's built-in `re`, which is about twice as fast as `regex`
# here. On ASCII, \p{L} is [A-Za-z], \p{N} is [0-9] and `regex`'s \s is exactly these six characters
# (not \x1c-\x1f, which `re` would count as space), so both patterns give the same pieces.
_WS = r"\t\n\x0b\x0c\r "
_ASCII_SPLIT = re.compile(rf"'(?:[sdmt]|ll|ve|re)| ?[A-Za-z]+| ?[0-9]+| ?[^{_WS}A-Za-z0-9]+"
                          rf"|[{_WS}]+(?![^{_WS}])|[{_WS}]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

# Cutting just before a "\n" that is followed by a non-space never changes the pieces: that "\n"
# is always a piece of its own (the space rules leave the last whitespace character to what follows,
# and nothing but whitespace can join a "\n"), and the whitespace before it ends a run either way.
# The character after it must not start a special token, though: a special token ends the ordinary
# text before it, and then "\r\n" before "<|endoftext|>" is one piece, not two.
_CUT_FIRST = regex.compile(r"\n(?=\S)")


@functools.lru_cache(maxsize=16)
def _cut_pattern(special_tokens: tuple[str, ...] = (), on_bytes: bool = False) -> regex.Pattern:
    """Safe newline cuts, searched backwards (last first); on bytes only before printable ASCII."""
    firsts = "".join(sorted({regex.escape(t[0]) for t in special_tokens}))
    after = (r"[!-~]" if on_bytes else r"\S") + (f"(?<![{firsts}])" if firsts else "")
    if on_bytes:
        return regex.compile(rf"\n(?={after})".encode())
    return regex.compile(rf"(?r)\n(?={after})")


def split_pieces(text: str) -> list[str]:
    """`GPT2_SPLIT.findall(text)`, about twice as fast on mostly-ASCII text.

    Stretches of pure ASCII go through the `re` pattern; each non-ASCII character is widened to the
    lines around it (cut at safe places) and those go through `regex`.
    """
    if text.isascii():
        return _ASCII_SPLIT.findall(text)
    if 100 * (len(text.encode("utf-8")) - len(text)) > len(text):  # dense non-ASCII: not worth it
        return GPT2_SPLIT.findall(text)
    pieces: list[str] = []
    pos = 0
    while pos < len(text):
        m = _NON_ASCII.search(text, pos)
        if m is None:
            pieces += _ASCII_SPLIT.findall(text[pos:])
            break
        before = _cut_pattern().search(text, pos, m.start() + 1)
        after = _CUT_FIRST.search(text, m.end())
        start = pos if before is None else before.start()
        end = len(text) if after is None else after.start()
        pieces += _ASCII_SPLIT.findall(text[pos:start])
        pieces += GPT2_SPLIT.findall(text[start:end])
        pos = end
    return pieces


# Whitespace beyond ASCII, as `regex` defines \s; text holding any of it skips the space shortcut.
_UNICODE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def split_at_spaces(text: str) -> list[str] | None:
    """`text.split(" ")` when that cuts `text` exactly between GPT-2 pieces, else None.

    When every space has non-whitespace on both sides, no piece of the GPT-2 split crosses a cut
    made just before a space (a piece that holds a space starts with it). So "Felix was a boy." can
    be handled as "Felix" + " was" + " a" + " boy." — found by `str.split`, several times faster
    than the regex, and repeated often enough to be cached whole. Tabs, the rarer ASCII whitespace
    and non-ASCII whitespace simply turn the shortcut off.
    """
    # Plain substring tests: much faster than a regex that stops at every space to look around it.
    if ("  " in text or " \n" in text or "\n " in text or "\t" in text or "\r" in text
            or "\x0b" in text or "\x0c" in text):
        return None
    if not text.isascii() and _UNICODE_SPACE.search(text):
        return None
    return text.split(" ")


def special_token_pattern(special_tokens: Sequence[str]) -> regex.Pattern | None:
    """A regex that finds any special token; longer tokens first so overlapping ones resolve to the longest."""
    if not special_tokens:
        return None
    if isinstance(special_tokens, str):
        raise TypeError(f"special_tokens: expected a list of str, got the str {special_tokens!r}")
    for tok in special_tokens:
        if not isinstance(tok, str) or not tok:
            raise ValueError(f"special_tokens: {tok!r} is not a non-empty str")
    ordered = sorted(set(special_tokens), key=len, reverse=True)
    return regex.compile("|".join(regex.escape(t) for t in ordered))


def split_on_special(text: str, special: regex.Pattern | None) -> Iterator[tuple[str, bool]]:
    """Yield (segment, is_special) in order; empty ordinary segments are skipped."""
    start = 0
    if special is not None:
        for m in special.finditer(text):
            if m.start() > start:
                yield text[start : m.start()], False
            yield m.group(), True
            start = m.end()
    if start < len(text):
        yield text[start:], False


def pretokenize(text: str, special_tokens: Sequence[str] = ()) -> list[str]:
    """The pieces of `text` in order, each special token kept whole as one piece."""
    special = special_token_pattern(special_tokens)
    out: list[str] = []
    for segment, is_special in split_on_special(text, special):
        out.extend([segment] if is_special else split_pieces(segment))
    return out


def count_pretokens(text: str, special: regex.Pattern | None) -> Counter[str]:
    """Counts of the ordinary pieces of `text`; special tokens are dropped since they are never merged."""
    counts: Counter[str] = Counter()
    chunks: Counter[str] = Counter()  # chunks between spaces (see split_at_spaces), split once each below
    for segment, is_special in split_on_special(text, special):
        if is_special:
            continue
        words = split_at_spaces(segment)
        if words is None:
            counts.update(split_pieces(segment))
        else:
            chunks[words[0]] += 1
            chunks.update(map(" ".__add__, words[1:]))
    for chunk, n in chunks.items():
        for piece in split_pieces(chunk):
            counts[piece] += n
    return counts


def iter_safe_chunks(texts: Iterable[str], special_tokens: Sequence[str] = (),
                     min_chunk: int = 1 << 16) -> Iterator[str]:
    """Regroup a stream of strings into chunks that can be pre-tokenized one at a time.

    Pre-tokenizing each chunk gives exactly the pieces of the concatenated stream, and memory holds
    only the text since the last safe cut, so a large file can be fed line by line. Input is gathered
    until `min_chunk` characters wait, then cut after a special token or before a safe newline. A
    special token is trusted only once `max_len` more characters are known after its start: until
    then a longer, overlapping special token could still match there ("<|eot|>" vs "<|eot|><|eot|>").
    """
    special = special_token_pattern(special_tokens)
    max_len = max(map(len, special_tokens), default=0)
    # A special token containing a newline could straddle a newline cut; then cut only at specials.
    newline_cut = None if any("\n" in t for t in special_tokens) else _cut_pattern(tuple(special_tokens))
    pending = ""  # text since the last cut
    scan = 0  # special tokens are searched from here; everything before it is already settled
    waiting: list[str] = []  # input not yet added to `pending`
    n_waiting = 0
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"the iterable must yield str, got {type(text).__name__}")
        waiting.append(text)
        n_waiting += len(text)
        if n_waiting < min_chunk:
            continue
        searched_to = len(pending)
        pending += "".join(waiting)
        waiting, n_waiting = [], 0
        cut = 0
        if special is not None:
            trusted_end = None
            for m in special.finditer(pending, scan):
                if m.start() + max_len > len(pending):
                    break
                trusted_end = m.end()
            if trusted_end is not None:
                cut = scan = trusted_end
            else:
                scan = max(scan, len(pending) - max_len)  # no special token can start before this
        if newline_cut is not None:
            m = newline_cut.search(pending, max(cut, searched_to - 1, 1))
            if m is not None:
                cut = m.start()
        if cut:
            yield pending[:cut]
            pending = pending[cut:]
            scan = max(scan - cut, 0)
    pending += "".join(waiting)
    if pending:
        yield pending


def file_chunk_boundaries(path: str | os.PathLike, num_chunks: int, special_tokens: Sequence[str] = (),
                          window: int = 1 << 16) -> list[int]:
    """Byte offsets cutting the file into about `num_chunks` pieces, each cut at a safe place.

    A guessed offset moves forward to the first special token (cutting just before it) or safe newline
    after it, so separate processes can pre-tokenize the pieces and get exactly the serial counts.
    Fewer pieces come back when the file has too few safe places.
    """
    if not isinstance(num_chunks, int) or num_chunks < 1:
        raise ValueError(f"num_chunks: expected a positive int, got {num_chunks!r}")
    tokens = [t.encode("utf-8") for t in special_tokens]
    cut_re = _cut_pattern(tuple(special_tokens), on_bytes=True)
    if tokens:
        cut_re = regex.compile(b"|".join(regex.escape(t) for t in sorted(tokens, key=len, reverse=True))
                               + b"|" + cut_re.pattern)
    size = os.path.getsize(path)
    bounds = [0]
    with open(path, "rb") as f:
        for i in range(1, num_chunks):
            pos = max(size * i // num_chunks, bounds[-1] + 1)
            found = None
            while found is None and pos < size:
                f.seek(pos)
                buf = f.read(window)
                m = cut_re.search(buf, 1)
                if m is not None and m.start() < len(buf) - 1:
                    found = pos + m.start()
                else:
                    pos += max(len(buf) - 64, 1)  # overlap so a special token on the edge is seen whole
            if found is None:
                break
            bounds.append(found)
    bounds.append(size)
    return sorted(set(bounds))


def iter_file_text(path: str | os.PathLike, start: int = 0, end: int | None = None,
                   read_bytes: int = 1 << 22) -> Iterator[str]:
    """The bytes [start, end) of a UTF-8 file as str pieces of about `read_bytes`, never splitting a character."""
    with open(path, "rb") as f:
        f.seek(start)
        remaining = float("inf") if end is None else end - start
        carry = b""
        while remaining > 0:
            raw = f.read(int(min(read_bytes, remaining)))
            if not raw:
                break
            remaining -= len(raw)
            raw = carry + raw
            keep = _incomplete_utf8_tail(raw)
            carry = raw[len(raw) - keep:]
            yield raw[: len(raw) - keep].decode("utf-8", errors="replace")
        if carry:
            yield carry.decode("utf-8", errors="replace")


def _incomplete_utf8_tail(raw: bytes) -> int:
    """How many bytes at the end of `raw` begin a UTF-8 character whose remaining bytes are not read yet."""
    for back in range(1, min(4, len(raw)) + 1):
        lead = raw[-back]
        if lead & 0xC0 != 0x80:  # not a continuation byte: this starts the last character
            need = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
            return back if need > back else 0
    return 0
