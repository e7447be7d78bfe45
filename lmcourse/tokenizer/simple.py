"""The tokenizers BPE is measured against: characters, bytes and words.

Each has `encode`, `decode`, `encode_iterable` and `vocab_size`, like `Tokenizer`, so the chapter can
put all four side by side on the same text. What each one costs:
- characters: one id per Unicode code point, so a vocabulary of 1,114,112 mostly-unused ids;
- bytes: 256 ids and nothing unknown, but one token per UTF-8 byte (sequences get long);
- words: short sequences, but the vocabulary is open-ended and unseen words become <unk>.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import regex

from lmcourse import checks
from lmcourse.tokenizer.pretokenize import iter_safe_chunks


class _Simple:
    vocab_size: int

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: Iterable[int]) -> str:
        raise NotImplementedError

    def encode_iterable(self, iterable: Iterable[str]) -> Iterator[int]:
        for chunk in iter_safe_chunks(iterable):
            yield from self.encode(chunk)

    def _check_ids(self, ids: Iterable[int]) -> list[int]:
        ids = list(ids)
        for pos, i in enumerate(ids):
            if not isinstance(i, int) or isinstance(i, bool):
                raise TypeError(f"ids[{pos}]: expected an int token id, got {i!r}")
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"ids[{pos}] = {i} is outside the vocabulary [0, {self.vocab_size})")
        return ids


class CharacterTokenizer(_Simple):
    """One token per Unicode code point: the id is `ord(c)`."""

    vocab_size = 0x110000

    def encode(self, text: str) -> list[int]:
        checks.text("text", text)
        return [ord(c) for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        # Lone surrogates (ids 0xD800-0xDFFF) are code points but not text: show them as U+FFFD.
        return "".join(chr(i) if not 0xD800 <= i <= 0xDFFF else "\ufffd" for i in self._check_ids(ids))


class ByteTokenizer(_Simple):
    """One token per UTF-8 byte."""

    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        checks.text("text", text)
        return list(text.encode("utf-8"))

    def decode(self, ids: Iterable[int]) -> str:
        return bytes(self._check_ids(ids)).decode("utf-8", errors="replace")


class WordTokenizer(_Simple):
    """Words, punctuation marks and whitespace runs, with a vocabulary fixed at training time.

    Anything not seen in training (or too rare to keep) becomes `<unk>` (id 0), which is why word
    vocabularies must be huge and still fail on new names, typos and numbers.
    """

    SPLIT = regex.compile(r"\w+|[^\w\s]|\s+")
    UNK = "<unk>"

    def __init__(self, vocab: Iterable[str]):
        words = [self.UNK] + [w for w in dict.fromkeys(vocab) if w != self.UNK]
        self.id_to_word = words
        self.word_to_id = {w: i for i, w in enumerate(words)}
        self.vocab_size = len(words)

    @classmethod
    def train(cls, text: str, max_vocab_size: int | None = None) -> "WordTokenizer":
        """Keep the `max_vocab_size - 1` most frequent words of `text` (all of them if None)."""
        checks.text("text", text)
        if max_vocab_size is not None and (not isinstance(max_vocab_size, int) or max_vocab_size < 1):
            raise ValueError(f"max_vocab_size: expected a positive int or None, got {max_vocab_size!r}")
        counts = Counter(cls.SPLIT.findall(text))
        keep = None if max_vocab_size is None else max_vocab_size - 1
        return cls(w for w, _ in counts.most_common(keep))

    def encode(self, text: str) -> list[int]:
        checks.text("text", text)
        return [self.word_to_id.get(w, 0) for w in self.SPLIT.findall(text)]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.id_to_word[i] for i in self._check_ids(ids))
