"""The CLI's data steps: read the config, fetch or write the corpus, train BPE, tokenize into token files.

A run directory holds what its data was made from (data.json), the tokenizer (vocab.json,
merges.txt) and the token files (train.bin, val.bin). Each step is skipped when its output exists,
so a second run, or a run resumed after an interruption, starts where the first stopped (the
parallel tokenizer keeps its finished pieces, `lmcourse.train.encode`).

Sources (`data.source` in the config, or `--data`):
- "generated": the book's corpus, written into the run directory (train.txt with the data seed,
  val.txt with seed + 1); offline, the default;
- "tinystories" / "openwebtext": the CS336 assignment-1 files, downloaded once into the cache
  directory (`lmcourse.data.loaders`, with a progress bar, checked for size and, where a checksum is
  known, SHA-256);
- a path: a UTF-8 text file, or a folder whose *.txt files are joined (separated by the first
  special token) into corpus.txt; its last 1% (at least one safe cut) becomes the validation set.

Leaves out: Hugging Face `datasets`, shuffling documents, and deduplication/filtering (`lmcourse.data`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from lmcourse.config import TransformerConfig
from lmcourse.corpus import write_corpus
from lmcourse.data.loaders import openwebtext, tinystories
from lmcourse.files import atomic_write
from lmcourse.tokenizer import Tokenizer, train_bpe
from lmcourse.tokenizer.pretokenize import file_chunk_boundaries
from lmcourse.train.encode import encode_file
from lmcourse.train.loop import TrainConfig

__all__ = ["DATA_DEFAULTS", "SOURCES", "load_config", "check_config", "prepare_data", "text_sources"]

DATA_DEFAULTS = {"source": "generated", "corpus_bytes": None, "vocab_size": None, "seed": 0,
                 "special_tokens": ["<|endoftext|>"]}
SOURCES = ("generated", "tinystories", "openwebtext")  # or a path
VAL_FRACTION = 0.01  # of a text file given by path


def load_config(path, max_iters: int | None = None, source: str | None = None) -> tuple[dict, dict, dict]:
    """Read and validate a config file; returns (model fields, train fields, data fields)."""
    with open(path, encoding="utf-8") as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from None
    return check_config(raw, str(path), max_iters, source)


def check_config(raw, where: str, max_iters: int | None = None, source: str | None = None) -> tuple[dict, dict, dict]:
    """Validate a config dict (a file's content or a preset); `source` overrides data.source."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a JSON object with 'model', 'train' and 'data'")
    _no_unknown(where, raw, {"model", "train", "data"})
    for part in ("model", "data"):
        if not isinstance(raw.get(part), dict):
            raise ValueError(f"{where}: '{part}' is missing or not an object")
    model, train_fields, data = dict(raw["model"]), dict(raw.get("train", {})), {**DATA_DEFAULTS, **raw["data"]}
    _no_unknown(f"{where}: data", data, set(DATA_DEFAULTS))
    if source is not None:
        data["source"] = source
    if data["source"] not in SOURCES and not Path(data["source"]).exists():
        raise ValueError(f"{where}: data source {data['source']!r} is neither one of {SOURCES} nor an existing "
                         "text file or folder")
    if data["source"] != "generated":
        data["source"] = data["source"] if data["source"] in SOURCES else str(Path(data["source"]).resolve())
    for name in ("corpus_bytes", "vocab_size"):
        value = data[name]
        needed = name == "vocab_size" or data["source"] == "generated"
        if (needed or value is not None) and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            raise ValueError(f"{where}: data.{name}={value!r}; expected a positive int")
    if "vocab_size" in model:
        raise ValueError(f"{where}: model.vocab_size is set by the tokenizer; put it in data.vocab_size")
    TransformerConfig.from_dict({**model, "vocab_size": data["vocab_size"]})  # fail now, not after BPE
    if "checkpoint_path" in train_fields:
        raise ValueError(f"{where}: train.checkpoint_path is DIR/ckpt.pt, chosen by --out")
    if max_iters is not None:
        train_fields["max_iters"] = max_iters
    TrainConfig.from_dict(train_fields)
    return model, train_fields, data


def _no_unknown(where: str, d: dict, known: set) -> None:
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(known)}")


def text_sources(out: Path, data: dict, cache_dir=None) -> dict[str, tuple[Path, int, int | None]]:
    """{"train": (text file, start byte, end byte or None), "val": ...} for the configured source."""
    source, specials = data["source"], data["special_tokens"]
    separator = specials[0] if specials else "\n"
    if source == "generated":
        for name, num_bytes, seed in (("train", data["corpus_bytes"], data["seed"]),
                                      ("val", max(data["corpus_bytes"] // 10, 1), data["seed"] + 1)):
            if not (out / f"{name}.txt").exists():
                write_corpus(out / f"{name}.txt", num_bytes, seed=seed, separator=separator)
        return {"train": (out / "train.txt", 0, None), "val": (out / "val.txt", 0, None)}
    if source in ("tinystories", "openwebtext"):
        fetch = tinystories if source == "tinystories" else openwebtext
        return {"train": (fetch("train", cache_dir), 0, None), "val": (fetch("valid", cache_dir), 0, None)}
    path = Path(source)
    if path.is_dir():
        path = _join_folder(path, out / "corpus.txt", separator)
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"data source {source}: the text is empty")
    # The validation set starts at the last safe cut before the final VAL_FRACTION of the file.
    cuts = file_chunk_boundaries(path, max(2, round(1 / VAL_FRACTION)), specials)
    if len(cuts) < 3:
        raise ValueError(f"data source {source}: found no place to cut off a validation set (no special token "
                         "and no newline between paragraphs); give a longer file or more documents")
    return {"train": (path, 0, cuts[-2]), "val": (path, cuts[-2], None)}


def _join_folder(folder: Path, joined: Path, separator: str) -> Path:
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise ValueError(f"data source {folder}: a folder with no *.txt files")
    if not joined.exists():
        with atomic_write(joined, "wb") as out:
            for i, path in enumerate(files):
                if i:
                    out.write(separator.encode("utf-8"))
                with open(path, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
    return joined


def prepare_data(out: Path, data: dict, cache_dir=None, num_workers: int | None = None) -> Tokenizer:
    """Corpus, tokenizer and token files in `out`, each step skipped when its output exists; returns the tokenizer."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "data.json"  # what the files in `out` were made from
    if manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")) != data:
        raise ValueError(f"{out} holds data prepared from {manifest.read_text(encoding='utf-8')}, not {data}; "
                         "use another --out (or delete the directory)")
    with atomic_write(manifest, "w", encoding="utf-8") as f:
        json.dump(data, f)
    specials = data["special_tokens"]
    texts = text_sources(out, data, cache_dir)
    if (out / "vocab.json").exists() and (out / "merges.txt").exists():
        tokenizer = Tokenizer.from_files(out / "vocab.json", out / "merges.txt", specials)
    else:
        train_text, start, end = texts["train"]
        if start or end is not None:  # BPE trains on the training part only, never on the validation text
            train_text = _copy_range(train_text, start, end, out / "bpe_train.txt")
        tokenizer = Tokenizer(*train_bpe(train_text, data["vocab_size"], specials, num_workers=num_workers),
                              specials)
        tokenizer.save(out / "vocab.json", out / "merges.txt")
    for name, (path, start, end) in texts.items():
        if not (out / f"{name}.bin").exists():
            encode_file(tokenizer, path, out / f"{name}.bin", start=start, end=end, num_workers=num_workers,
                        desc=f"tokenizing {name}")
    return tokenizer


def _copy_range(path: Path, start: int, end: int | None, dest: Path) -> Path:
    if not dest.exists():
        with open(path, "rb") as f, atomic_write(dest, "wb") as out:
            f.seek(start)
            remaining = (end if end is not None else os.path.getsize(path)) - start
            while remaining > 0 and (block := f.read(min(1 << 22, remaining))):
                out.write(block)
                remaining -= len(block)
    return dest
