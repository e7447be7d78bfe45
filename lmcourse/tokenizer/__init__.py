"""Tokenizers: byte-level BPE (training and encoding) and the simple tokenizers it is compared with.

- `pretokenize`: the GPT-2 split regex, special tokens, safe places to cut a stream
- `train`: `train_bpe`, fast incremental BPE training over a file
- `naive`: the step-by-step version, for reading and for the merge widget
- `bpe`: `Tokenizer` (encode / decode / encode_iterable / from_files / save / to_tiktoken)
- `vocab`: GPT-2's vocab.json + merges.txt format
- `simple`: character, byte and word tokenizers with the same interface
"""

from lmcourse.tokenizer.bpe import Tokenizer
from lmcourse.tokenizer.gpt2 import GPT2_END_OF_TEXT, gpt2_files, tiktoken_from_gpt2_files
from lmcourse.tokenizer.naive import MergeStep, bpe_steps, merge_pieces, naive_train_bpe
from lmcourse.tokenizer.pretokenize import GPT2_SPLIT_PATTERN, pretokenize
from lmcourse.tokenizer.simple import ByteTokenizer, CharacterTokenizer, WordTokenizer
from lmcourse.tokenizer.train import count_file_pretokens, train_bpe, train_bpe_from_counts

__all__ = [
    "Tokenizer", "train_bpe", "train_bpe_from_counts", "count_file_pretokens", "bpe_steps", "naive_train_bpe",
    "MergeStep", "merge_pieces", "GPT2_END_OF_TEXT", "gpt2_files", "tiktoken_from_gpt2_files",
    "pretokenize", "GPT2_SPLIT_PATTERN", "ByteTokenizer", "CharacterTokenizer", "WordTokenizer",
]
