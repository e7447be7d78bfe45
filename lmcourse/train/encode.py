"""Tokenizing a large text file on every core into one token file, resumable if interrupted.

`encode_file(tokenizer, text_path, out_path)` cuts the file (or a byte range of it) into pieces
at places no token can straddle (`lmcourse.tokenizer.pretokenize.file_chunk_boundaries`: before a
special token or at a safe newline), so encoding the pieces separately gives exactly the ids of
encoding the whole. Worker processes encode pieces in parallel, each streaming its piece through
`Tokenizer.encode_iterable` and writing a part file atomically; the parent only counts, so memory is
bounded by (workers x one piece's ids), not by the corpus. When every part exists they are
concatenated, streaming, into `out_path` (atomically, fsync'd) and the parts are deleted.

Resuming: the parts live in a folder next to the output with a plan (the source's size and mtime,
the byte boundaries, the tokenizer's fingerprint). A second call with the same plan keeps the parts
already written and encodes only the rest; a changed source or tokenizer starts over.

Leaves out: encoding on several machines, and pieces inside one very long line without a safe cut
(such a file is encoded as fewer, larger pieces).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from lmcourse import checks, progress
from lmcourse.files import atomic_write
from lmcourse.tokenizer import Tokenizer
from lmcourse.tokenizer.pretokenize import file_chunk_boundaries, iter_file_text, iter_safe_chunks
from lmcourse.train.data import token_dtype

__all__ = ["encode_file", "PIECE_BYTES"]

PIECE_BYTES = 16 << 20  # text per piece: large enough that a worker's piece cache warms up, small enough to resume


def _fingerprint(tokenizer: Tokenizer) -> str:
    digest = hashlib.sha256()
    for i in sorted(tokenizer.vocab):
        digest.update(i.to_bytes(4, "little") + tokenizer.vocab[i])
    digest.update(repr(tokenizer.merges).encode() + repr(tokenizer.special_tokens).encode())
    return digest.hexdigest()[:16]


_WORKER: dict = {}


def _start_worker(vocab, merges, special_tokens) -> None:
    # One Tokenizer per worker process, kept for all its pieces: its piece cache stays warm.
    _WORKER["tokenizer"] = Tokenizer(vocab, merges, special_tokens)


CHUNK_CHARS = 1 << 20  # text encoded per call: long enough that per-call costs vanish, short enough to stay in cache


def _encode_piece(text_path: str, start: int, end: int, part: str, dtype: str) -> tuple[int, int]:
    # A safe chunk at a time through encode(), each chunk's ids written as one array: about 10%
    # faster than streaming single ids through encode_iterable, and memory stays one chunk's worth.
    tokenizer, dtype, count = _WORKER["tokenizer"], np.dtype(dtype), 0
    chunks = iter_safe_chunks(iter_file_text(text_path, start, end, read_bytes=CHUNK_CHARS),
                              tokenizer.special_tokens, min_chunk=CHUNK_CHARS)
    with atomic_write(part, "wb") as f:
        for chunk in chunks:
            ids = np.array(tokenizer.encode(chunk), dtype=dtype)  # token_dtype holds every id
            f.write(ids.tobytes())
            count += ids.size
    return end - start, count


def encode_file(tokenizer: Tokenizer, text_path, out_path, *, start: int = 0, end: int | None = None,
                num_workers: int | None = None, piece_bytes: int = PIECE_BYTES, desc: str | None = None) -> int:
    """Encode bytes [start, end) of the UTF-8 file `text_path` into the token file `out_path`; returns the count.

    `num_workers` defaults to every core; `end` to the file's end (the range must begin and end at
    safe cuts: the file's ends, or boundaries from `file_chunk_boundaries`). The dtype is
    `token_dtype(tokenizer.vocab_size)`. Ids equal `tokenizer.encode` of the range's text.
    """
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"encode_file: tokenizer={type(tokenizer).__name__}; expected a lmcourse Tokenizer")
    text_path, out_path = Path(text_path), Path(out_path)
    if not text_path.is_file():
        raise FileNotFoundError(f"encode_file: text_path={str(text_path)!r} is not a file")
    size = text_path.stat().st_size
    end = size if end is None else checks.integer("end", end, least=0, fn="encode_file")
    start = checks.integer("start", start, least=0, fn="encode_file")
    if not start <= end <= size:
        raise ValueError(f"encode_file: start={start}, end={end}; expected 0 <= start <= end <= {size} (the file's size)")
    num_workers = checks.positive_int("num_workers", num_workers or os.cpu_count() or 1, fn="encode_file")
    checks.positive_int("piece_bytes", piece_bytes, fn="encode_file")
    dtype = np.dtype(token_dtype(tokenizer.vocab_size))

    parts_dir = out_path.with_name(f".{out_path.name}.parts")
    plan = {"source": str(text_path.resolve()), "size": size, "mtime_ns": text_path.stat().st_mtime_ns,
            "start": start, "end": end, "piece_bytes": piece_bytes, "dtype": dtype.name,
            "tokenizer": _fingerprint(tokenizer)}
    bounds = _plan(parts_dir, plan, text_path, tokenizer.special_tokens, num_workers)
    pieces = [(a, b, parts_dir / f"{i:06d}.bin") for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]
    todo = [(a, b, part) for a, b, part in pieces if not part.exists()]
    with progress(total=end - start, initial=end - start - sum(b - a for a, b, _ in todo), unit="B",
                  unit_scale=True, desc=desc or f"tokenizing {text_path.name}") as bar:
        if todo:
            with ProcessPoolExecutor(min(num_workers, len(todo)), initializer=_start_worker,
                                     initargs=(tokenizer.vocab, tokenizer.merges, tokenizer.special_tokens)) as pool:
                jobs = [pool.submit(_encode_piece, str(text_path), a, b, str(part), dtype.name) for a, b, part in todo]
                for job in jobs:
                    bar.update(job.result()[0])
    count = 0
    with atomic_write(out_path, "wb") as out:  # parts in order, a block at a time: memory stays flat
        for _, _, part in pieces:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 22)
            count += part.stat().st_size // dtype.itemsize
    shutil.rmtree(parts_dir)
    return count


def _plan(parts_dir: Path, plan: dict, text_path: Path, special_tokens, num_workers: int) -> list[int]:
    """The byte boundaries of the pieces: those of an unfinished run with the same plan (whatever its
    number of workers), else new ones, at least one piece per worker."""
    plan_path = parts_dir / "plan.json"
    if plan_path.exists():
        saved = json.loads(plan_path.read_text(encoding="utf-8"))
        if saved.get("plan") == plan:
            return saved["bounds"]
        shutil.rmtree(parts_dir)  # another source, range or tokenizer: its parts are of no use
    parts_dir.mkdir(parents=True, exist_ok=True)
    start, end = plan["start"], plan["end"]
    wanted = max(num_workers, -(-(end - start) // plan["piece_bytes"]))
    # Boundaries over the whole file, kept where they fall inside the range: cuts at safe places only.
    size = plan["size"]
    inner = file_chunk_boundaries(text_path, max(1, wanted * size // max(end - start, 1)), special_tokens)
    bounds = [start, *[b for b in inner if start < b < end], end] if end > start else [start, end]
    with atomic_write(plan_path, "w", encoding="utf-8") as f:
        json.dump({"plan": plan, "bounds": bounds}, f)
    return bounds
