"""Saving and loading a byte-level BPE vocabulary in GPT-2's published file format.

GPT-2 ships `encoder.json` (token string -> id) and `vocab.bpe` (one merge per line). Token bytes
are written with a printable stand-in character per byte (`bytes_to_unicode`), so every token is a
visible string with no spaces; CS336's reference files use the same format. Writes are atomic.
Leaves out: SentencePiece models and HF `tokenizer.json`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence

from lmcourse.files import atomic_write


@functools.lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table.

    Printable Latin-1 bytes stand for themselves; the other 68 (controls, space, ...) are shifted
    to code points 256 and up, so a token such as b" the" is written "Ġthe".
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table = {b: chr(b) for b in keep}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


@functools.lru_cache(maxsize=1)
def unicode_to_bytes() -> dict[str, int]:
    return {c: b for b, c in bytes_to_unicode().items()}


def token_to_str(token: bytes) -> str:
    table = bytes_to_unicode()
    return "".join(table[b] for b in token)


def str_to_token(text: str, where: str = "token") -> bytes:
    table = unicode_to_bytes()
    try:
        return bytes(table[c] for c in text)
    except KeyError as e:
        raise ValueError(f"{where}: {text!r} contains {e.args[0]!r}, which is not a GPT-2 byte character") from None


def save_vocab_merges(vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]],
                      vocab_path: str | os.PathLike, merges_path: str | os.PathLike) -> None:
    """Write `vocab` as JSON {token string: id} and `merges` as lines "left right"."""
    vocab_json = {}
    for i, tok in vocab.items():
        key = token_to_str(tok)
        if key in vocab_json:
            raise ValueError(f"vocab: token {tok!r} appears twice (ids {vocab_json[key]} and {i}); "
                             "the JSON format needs each token once")
        vocab_json[key] = i
    with atomic_write(vocab_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(vocab_json, ensure_ascii=False, indent=0))
    lines = ["#version: 0.2"] + [f"{token_to_str(a)} {token_to_str(b)}" for a, b in merges]
    with atomic_write(merges_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def load_vocab_merges(vocab_path: str | os.PathLike,
                      merges_path: str | os.PathLike) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """Read files written by `save_vocab_merges` or GPT-2's published encoder.json / vocab.bpe."""
    for name, p in (("vocab_path", vocab_path), ("merges_path", merges_path)):
        if not os.path.isfile(p):
            raise FileNotFoundError(f"{name}: no such file: {os.fspath(p)!r}")
    with open(vocab_path, encoding="utf-8") as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"vocab_path: {os.fspath(vocab_path)!r} is not JSON ({e})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"vocab_path: expected a JSON object of token -> id, got {type(raw).__name__}")
    vocab = {}
    for key, i in raw.items():
        if not isinstance(i, int):
            raise ValueError(f"vocab_path: id of {key!r} is {i!r}, expected an int")
        # A key made only of byte stand-ins is decoded through the table (this includes ASCII special
        # tokens such as <|endoftext|>); anything else was written as plain text.
        table = unicode_to_bytes()
        vocab[i] = bytes(table[c] for c in key) if all(c in table for c in key) else key.encode("utf-8")
    merges = []
    with open(merges_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or (n == 1 and line.startswith("#version")):
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"merges_path: line {n} is {line!r}, expected two tokens separated by a space")
            merges.append((str_to_token(parts[0], f"merges_path line {n}"),
                           str_to_token(parts[1], f"merges_path line {n}")))
    return vocab, merges
