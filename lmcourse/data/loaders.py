"""Real corpora for readers who are online: TinyStories and the CS336 OpenWebText sample.

Covers downloading a file once into a cache directory (atomically: a failed or interrupted download
leaves nothing behind, and the next call starts over), the two corpora CS336 assignment 1 trains on,
and streaming a large text file as documents split on "<|endoftext|>" in constant memory.
`file://` URLs work too, which is how the tests exercise all of it offline.

A download is verified before it is kept: its length against the server's Content-Length (a cut
connection), and its SHA-256 against `sha256=` when the caller knows it; a mismatch is an error
naming both values and leaves nothing in the cache.

Leaves out: resuming half-finished downloads, the Hugging Face `datasets` library (plain text files
are all the course needs), and Common Crawl WARC/WET parsing.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from lmcourse import progress
from lmcourse.files import atomic_write

__all__ = ["download", "tinystories", "openwebtext", "iter_documents",
           "TINYSTORIES_URL", "OPENWEBTEXT_URL"]

# The URLs the CS336 assignment 1 handout downloads from ({split} is "train" or "valid").
TINYSTORIES_URL = "https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-{split}.txt"
OPENWEBTEXT_URL = "https://huggingface.co/datasets/stanford-cs336/owt-sample/resolve/main/owt_{split}.txt.gz"
SPLITS = ("train", "valid")
_BLOCK = 1 << 20  # bytes per read while copying


def _cache_dir(cache_dir) -> Path:
    """The argument, else $LMCOURSE_CACHE, else ~/.cache/lmcourse."""
    if cache_dir is None:
        cache_dir = os.environ.get("LMCOURSE_CACHE") or Path.home() / ".cache" / "lmcourse"
    return Path(cache_dir).expanduser()


def _copy(source, dest: Path, total: int | None, desc: str, sha256: str | None = None, url: str = "") -> None:
    """Copy the binary stream `source` into `dest` atomically, with a progress bar; when `total` or
    `sha256` is given, check the bytes against them before `dest` appears."""
    digest, received = hashlib.sha256(), 0
    with atomic_write(dest, "wb") as out, progress(total=total, unit="B", unit_scale=True, desc=desc) as bar:
        while block := source.read(_BLOCK):
            out.write(block)
            digest.update(block)
            received += len(block)
            bar.update(len(block))
        # Raising inside the block deletes the temporary file: a bad download never reaches the cache.
        if total is not None and received != total:
            raise OSError(f"download: {url or desc} ended after {received} of {total} bytes; try again")
        if sha256 is not None and digest.hexdigest() != sha256.lower():
            raise ValueError(f"download: {url or desc} has SHA-256 {digest.hexdigest()}, expected {sha256}; "
                             "the file is damaged or not the one expected")


def download(url: str, cache_dir=None, *, filename: str | None = None, sha256: str | None = None) -> Path:
    """Download `url` into the cache directory once and return the local path.

    `filename` defaults to the last part of the URL. If that file is already in the cache, it is
    returned without touching the network (delete it to download again). `sha256`: the expected
    hex digest, checked before the file is kept.
    """
    if not isinstance(url, str):
        raise TypeError(f"download: url={url!r}; expected a str")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https", "file"):
        raise ValueError(f"download: url={url!r}; expected an http://, https:// or file:// URL")
    if sha256 is not None and not (isinstance(sha256, str) and len(sha256) == 64
                                   and all(c in "0123456789abcdefABCDEF" for c in sha256)):
        raise ValueError(f"download: sha256={sha256!r}; expected 64 hexadecimal digits")
    if filename is None:
        filename = urllib.parse.unquote(parsed.path.rsplit("/", 1)[-1])
    if not filename or "/" in filename or filename in (".", ".."):
        raise ValueError(f"download: filename={filename!r}; expected a plain file name (pass filename=...)")
    dest = _cache_dir(cache_dir) / filename
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "lmcourse"})
    try:
        with urllib.request.urlopen(request) as response:
            length = response.headers.get("Content-Length")
            _copy(response, dest, int(length) if length else None, desc=filename, sha256=sha256, url=url)
    except urllib.error.URLError as e:  # HTTPError is a URLError too
        raise OSError(f"download: could not fetch {url}: {getattr(e, 'reason', e)}") from e
    return dest


def _check_split(fn: str, split) -> None:
    if split not in SPLITS:
        raise ValueError(f"{fn}: split={split!r}; expected one of {SPLITS}")


def tinystories(split: str = "valid", cache_dir=None) -> Path:
    """Path to TinyStoriesV2-GPT4-{split}.txt (valid: 22 MB, train: 2.2 GB), downloaded on first use."""
    _check_split("tinystories", split)
    return download(TINYSTORIES_URL.format(split=split), cache_dir)


def openwebtext(split: str = "valid", cache_dir=None, url: str | None = None) -> Path:
    """Path to owt_{split}.txt, the CS336 OpenWebText sample (train is several GB), downloaded on first use.

    `url` defaults to OPENWEBTEXT_URL for the split. A .gz download is decompressed next to it
    (atomically) and the .gz removed, so the cache holds one copy.
    """
    _check_split("openwebtext", split)
    url = OPENWEBTEXT_URL.format(split=split) if url is None else url
    name = urllib.parse.unquote(urllib.parse.urlparse(url).path.rsplit("/", 1)[-1])
    if not name.endswith(".gz"):
        return download(url, cache_dir)
    text_path = _cache_dir(cache_dir) / name[: -len(".gz")]
    if text_path.exists():
        return text_path
    packed = download(url, cache_dir)
    with gzip.open(packed, "rb") as source:
        _copy(source, text_path, None, desc=f"gunzip {name}")
    packed.unlink()
    return text_path


def iter_documents(path, separator: str = "<|endoftext|>", chunk_size: int = 1 << 20) -> Iterator[str]:
    """Yield the documents of a UTF-8 text file split on `separator`, stripped, empty ones skipped.

    Reads `chunk_size` characters at a time, so memory is bounded by the longest document, not the
    file. A separator cut in two by a chunk boundary is still found: only the last
    len(separator) - 1 characters of the document so far can hold its beginning.
    """
    if not isinstance(separator, str) or not separator:
        raise ValueError(f"iter_documents: separator={separator!r}; expected a non-empty str")
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"iter_documents: chunk_size={chunk_size!r}; expected a positive int")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"iter_documents: path={str(path)!r} is not a file")
    return _documents(path, separator, chunk_size)  # a plain function, so bad input fails at the call


def _documents(path: Path, separator: str, chunk_size: int) -> Iterator[str]:
    keep = len(separator) - 1
    pending: list[str] = []  # the current document so far, in chunks (joined once, not once per chunk)
    tail = ""  # its last `keep` characters
    with open(path, encoding="utf-8", newline="") as f:  # newline="": documents come back as written
        while chunk := f.read(chunk_size):
            window = tail + chunk
            if separator not in window:
                pending.append(chunk)
                tail = window[-keep:] if keep else ""
                continue
            *complete, last = ("".join(pending) + chunk).split(separator)
            for document in complete:
                if document := document.strip():
                    yield document
            pending = [last]
            tail = last[-keep:] if keep else ""
    if document := "".join(pending).strip():
        yield document
