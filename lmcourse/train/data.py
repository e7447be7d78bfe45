"""Token data for language-model training: token files on disk and random batches drawn from them.

- `tokenize_file`: text file -> token file, streaming, so a corpus larger than memory is fine.
- `save_tokens` / `load_tokens`: a flat array of token ids in raw binary (uint16 while the
  vocabulary fits, half the size of uint32), read back as a read-only `np.memmap` so only the pages a
  batch touches are ever read from disk.
- `get_batch`: the CS336 sampler: `batch_size` windows starting at uniformly random positions, the
  targets being the inputs shifted by one token.

Leaves out: shuffling documents, epoch bookkeeping (random windows sample with replacement, which is
what the assignment does), packing with document masks, and multi-worker loaders: one fancy-indexing
read per batch is far from the bottleneck for the models in this book.
"""

from __future__ import annotations

import os
from itertools import islice

import numpy as np
import torch

from lmcourse import checks
from lmcourse.files import atomic_write

__all__ = ["get_batch", "token_dtype", "save_tokens", "load_tokens", "tokenize_file"]




def get_batch(dataset, batch_size: int, context_length: int, device, generator: np.random.Generator | None = None,
              *, shard: tuple[int, int] = (0, 1)) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample `batch_size` windows of `context_length + 1` tokens: x = the first context_length, y = the last.

    `dataset` is a 1-D integer array (an `np.memmap` from `load_tokens` works without reading the file);
    every start in [0, len(dataset) - context_length) is equally likely. Pass a seeded
    `np.random.default_rng(seed)` as `generator` for reproducible batches. Returns two int64 tensors of
    shape (batch_size, context_length) on `device`.

    `shard` = (rank, world_size): draw the whole batch's starts (so every rank's generator stays in
    step) but read and return only rows rank * b .. (rank + 1) * b - 1, b = batch_size // world_size:
    data-parallel ranks together read exactly the batch one process would.
    """
    if not isinstance(dataset, np.ndarray) or dataset.ndim != 1 or not np.issubdtype(dataset.dtype, np.integer):
        raise TypeError(f"get_batch: dataset must be a 1-D integer numpy array (or np.memmap), got "
                        f"{type(dataset).__name__}{getattr(dataset, 'shape', '')} "
                        f"of {getattr(dataset, 'dtype', 'no dtype')}")
    checks.positive_int("batch_size", batch_size, fn="get_batch")
    checks.positive_int("context_length", context_length, fn="get_batch")
    if len(dataset) < context_length + 1:
        raise ValueError(f"get_batch: dataset has {len(dataset)} tokens; context_length={context_length} "
                         f"needs at least {context_length + 1} (inputs plus the shifted targets)")
    if generator is None:
        generator = np.random.default_rng()
    elif not isinstance(generator, np.random.Generator):
        raise TypeError(f"get_batch: generator={generator!r}; expected a numpy Generator (np.random.default_rng)")
    rank, world_size = shard
    checks.positive_int("world_size", world_size, fn="get_batch")
    if batch_size % world_size or not 0 <= rank < world_size:
        raise ValueError(f"get_batch: shard={shard!r} with batch_size={batch_size}; expected 0 <= rank < "
                         "world_size, and world_size dividing batch_size (each rank takes an equal share)")
    starts = generator.integers(0, len(dataset) - context_length, size=batch_size)
    rows = batch_size // world_size
    starts = starts[rank * rows:(rank + 1) * rows]
    # One gather for the whole batch: (batch_size, context_length + 1) indices into the memmap.
    windows = torch.from_numpy(dataset[starts[:, None] + np.arange(context_length + 1)].astype(np.int64))
    device = torch.device(device)
    if device.type == "cuda":  # pinned memory lets the copy overlap with the GPU's work
        windows = windows.pin_memory().to(device, non_blocking=True)
    else:
        windows = windows.to(device)
    return windows[:, :-1], windows[:, 1:]


def token_dtype(vocab_size: int) -> type[np.unsignedinteger]:
    """The smallest dtype for a vocabulary's ids: uint16 up to 65536 tokens (ids 0..65535), else uint32."""
    checks.positive_int("vocab_size", vocab_size, fn="token_dtype")
    return np.uint16 if vocab_size <= 1 << 16 else np.uint32


def _check_dtype(fn: str, dtype) -> np.dtype:
    if np.dtype(dtype) not in (np.dtype(np.uint16), np.dtype(np.uint32)):
        raise ValueError(f"{fn}: dtype={dtype!r}; expected np.uint16 or np.uint32")
    return np.dtype(dtype)


def _as_ids(fn: str, ids, dtype: np.dtype) -> np.ndarray:
    """`ids` as a 1-D array of `dtype`, refusing values that would wrap around in the conversion."""
    array = np.asarray(ids)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(f"{fn}: ids must be a flat sequence of integers, got shape {array.shape} of {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > np.iinfo(dtype).max):
        raise ValueError(f"{fn}: ids range over [{array.min()}, {array.max()}], which {dtype.name} cannot "
                         f"hold (max {np.iinfo(dtype).max}); use dtype=np.uint32 (see token_dtype)")
    return array.astype(dtype, copy=False)


def save_tokens(ids, path, dtype=np.uint16) -> None:
    """Write token ids to `path` as raw `dtype` values (no header), atomically."""
    dtype = _check_dtype("save_tokens", dtype)
    array = _as_ids("save_tokens", ids, dtype)
    with atomic_write(path, "wb") as f:
        f.write(array.tobytes())


def load_tokens(path, dtype=np.uint16) -> np.memmap:
    """Open a file written by `save_tokens` (or CS336's `np.memmap` token files) read-only, without reading it."""
    dtype = _check_dtype("load_tokens", dtype)
    size = os.path.getsize(path)  # FileNotFoundError names the path
    if size == 0 or size % dtype.itemsize:
        raise ValueError(f"load_tokens: {os.fspath(path)!r} has {size} bytes, not a positive multiple of "
                         f"{dtype.itemsize} ({dtype.name}); wrong dtype or not a token file")
    return np.memmap(path, dtype=dtype, mode="r")


def tokenize_file(tokenizer, text_path, out_path, dtype=None, *, read_chars: int = 1 << 20) -> int:
    """Encode the UTF-8 text file `text_path` with `tokenizer` into the token file `out_path`; return the count.

    Text is read `read_chars` characters at a time and ids are written a million at a time, through
    `tokenizer.encode_iterable` (which cuts the stream only where no token can straddle the cut), so
    memory stays bounded whatever the file's size or line lengths. `dtype` defaults to
    `token_dtype(tokenizer.vocab_size)`. The output appears only when complete.
    """
    dtype = _check_dtype("tokenize_file", dtype if dtype is not None else token_dtype(tokenizer.vocab_size))
    checks.positive_int("read_chars", read_chars, fn="tokenize_file")
    count = 0
    with open(text_path, encoding="utf-8", newline="") as text, atomic_write(out_path, "wb") as out:
        ids = tokenizer.encode_iterable(iter(lambda: text.read(read_chars), ""))
        while (block := np.fromiter(islice(ids, 1 << 20), dtype=np.int64)).size:
            out.write(_as_ids("tokenize_file", block, dtype).tobytes())
            count += block.size
    return count
