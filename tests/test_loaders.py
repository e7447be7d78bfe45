"""Tests for lmcourse.data.loaders, offline: file:// URLs stand in for the network, which is blocked."""

from __future__ import annotations

import gzip
import os
import socket
import urllib.request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.corpus import generate_text
from lmcourse.data import download, iter_documents, loaders, openwebtext, tinystories
from lmcourse.files import atomic_write

SEP = "<|endoftext|>"


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Any attempt to open a socket fails the test; the default cache points into tmp_path."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("LMCOURSE_CACHE", str(tmp_path / "env-cache"))


def _plain_split(text: str, separator: str = SEP) -> list[str]:
    return [d.strip() for d in text.split(separator) if d.strip()]


# --- iter_documents -----------------------------------------------------------------------------------

@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 12, 13, 14, 100, 1 << 20])
def test_iter_documents_equals_plain_split_across_chunk_boundaries(tmp_path, chunk_size):
    text = (f"  {SEP}{SEP}\n" + generate_text(8_000, seed=3).replace(SEP, f"\n{SEP}\n")
            + f"{SEP} \n {SEP}Zoë's café ☕{SEP}  last one  ")
    path = tmp_path / "docs.txt"
    path.write_text(text, encoding="utf-8")
    documents = list(iter_documents(path, chunk_size=chunk_size))
    assert documents == _plain_split(text)
    assert documents[-2:] == ["Zoë's café ☕", "last one"]


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet="ab<|>\n é", max_size=60), separator=st.sampled_from(["<|>", "aa", "aba", "\n\n", "é"]),
       chunk_size=st.integers(1, 8))
def test_iter_documents_property(tmp_path_factory, text, separator, chunk_size):
    # Self-overlapping separators ("aa", "aba") must split exactly as str.split does, whatever the chunks.
    path = tmp_path_factory.mktemp("prop") / "t.txt"
    path.write_text(text, encoding="utf-8", newline="")
    assert list(iter_documents(path, separator, chunk_size)) == _plain_split(text, separator)


def test_iter_documents_keeps_line_endings_and_is_lazy(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"one\r\ntwo<|endoftext|>three")
    documents = iter_documents(path)
    assert next(documents) == "one\r\ntwo"
    assert list(documents) == ["three"]
    (tmp_path / "empty.txt").write_text("")
    assert list(iter_documents(tmp_path / "empty.txt")) == []


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(separator=""), ValueError, ["separator", "''"]),
        (dict(separator=None), ValueError, ["separator", "None"]),
        (dict(chunk_size=0), ValueError, ["chunk_size", "0", "positive int"]),
        (dict(chunk_size=2.5), ValueError, ["chunk_size", "2.5"]),
    ],
)
def test_iter_documents_bad_arguments(tmp_path, kwargs, exc, words):
    path = tmp_path / "t.txt"
    path.write_text("x")
    with pytest.raises(exc) as info:
        iter_documents(path, **kwargs)  # raises at the call, not at the first next()
    assert all(w in str(info.value) for w in words)


def test_iter_documents_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        iter_documents(tmp_path / "nope.txt")


# --- download -------------------------------------------------------------------------------------------

def test_download_file_url_caches_and_does_not_reread(tmp_path, monkeypatch):
    source = tmp_path / "src" / "data file.txt"
    source.parent.mkdir()
    source.write_text("hello world", encoding="utf-8")
    cache = tmp_path / "cache"
    path = download(source.as_uri(), cache)
    assert path == cache / "data file.txt" and path.read_text() == "hello world"
    assert sorted(p.name for p in cache.iterdir()) == ["data file.txt"]  # no temporary file left

    source.unlink()  # the second call must not read the source again

    def fail(*args, **kwargs):
        raise AssertionError("download re-read the source")

    monkeypatch.setattr(urllib.request, "urlopen", fail)
    assert download(source.as_uri(), cache) == path
    assert path.read_text() == "hello world"


def test_download_cache_dir_from_environment_and_filename(tmp_path, monkeypatch):
    source = tmp_path / "a.txt"
    source.write_text("abc")
    monkeypatch.setenv("LMCOURSE_CACHE", str(tmp_path / "from-env"))
    path = download(source.as_uri(), filename="renamed.txt")
    assert path == tmp_path / "from-env" / "renamed.txt" and path.read_text() == "abc"


def test_download_failure_leaves_nothing(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="could not fetch"):
        download((tmp_path / "missing.txt").as_uri(), cache)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_download_interrupted_leaves_nothing(tmp_path, monkeypatch):
    source = tmp_path / "big.txt"
    source.write_bytes(b"x" * (3 << 20))
    monkeypatch.setattr(loaders, "_BLOCK", 1 << 20)
    real_open = urllib.request.urlopen

    class Interrupting:
        def __init__(self, response):
            self.response, self.headers, self.reads = response, response.headers, 0

        def read(self, n):
            self.reads += 1
            if self.reads == 2:
                raise KeyboardInterrupt
            return self.response.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.response.close()

    monkeypatch.setattr(urllib.request, "urlopen", lambda req: Interrupting(real_open(req)))
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        download(source.as_uri(), cache)
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: download(42), TypeError, ["url", "42", "str"]),
        (lambda: download("data/local.txt"), ValueError, ["url", "data/local.txt", "file://"]),
        (lambda: download("ftp://example.org/x.txt"), ValueError, ["url", "ftp://"]),
        (lambda: download("https://example.org/"), ValueError, ["filename", "''"]),
        (lambda: tinystories("test"), ValueError, ["split", "'test'", "train", "valid"]),
        (lambda: openwebtext("validation"), ValueError, ["split", "'validation'"]),
    ],
)
def test_bad_input_is_rejected_before_any_download(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert all(w in str(info.value) for w in words)


# --- the corpora ------------------------------------------------------------------------------------------

def test_tinystories_downloads_the_split_once(tmp_path, monkeypatch):
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "TinyStoriesV2-GPT4-valid.txt").write_text(f"Once.{SEP}Twice.")
    monkeypatch.setattr(loaders, "TINYSTORIES_URL", remote.as_uri() + "/TinyStoriesV2-GPT4-{split}.txt")
    path = tinystories("valid", cache_dir=tmp_path / "cache")
    assert path.name == "TinyStoriesV2-GPT4-valid.txt"
    assert list(iter_documents(path)) == ["Once.", "Twice."]
    (remote / "TinyStoriesV2-GPT4-valid.txt").unlink()
    assert tinystories("valid", cache_dir=tmp_path / "cache") == path


def test_default_urls_are_the_cs336_ones():
    assert loaders.TINYSTORIES_URL.format(split="train") == (
        "https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-train.txt")
    assert loaders.OPENWEBTEXT_URL.format(split="valid") == (
        "https://huggingface.co/datasets/stanford-cs336/owt-sample/resolve/main/owt_valid.txt.gz")


def test_openwebtext_decompresses_and_keeps_one_copy(tmp_path):
    text = f"A web page.{SEP}Another page, with ünïcode.{SEP}"
    packed = tmp_path / "owt_valid.txt.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    cache = tmp_path / "cache"
    path = openwebtext("valid", cache_dir=cache, url=packed.as_uri())
    assert path == cache / "owt_valid.txt" and path.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in cache.iterdir()) == ["owt_valid.txt"]
    packed.unlink()
    assert openwebtext("valid", cache_dir=cache, url=packed.as_uri()) == path  # cached: no second fetch
    plain = tmp_path / "plain.txt"
    plain.write_text("not compressed")
    assert openwebtext("train", cache_dir=cache, url=plain.as_uri()).read_text() == "not compressed"


# --- atomic_write ------------------------------------------------------------------------------------------

def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match="boom"):
        with atomic_write(target, "wb") as f:
            f.write(b"half")
            raise ValueError("boom")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    with atomic_write(target, "w", encoding="utf-8") as f:
        f.write("new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    with pytest.raises(ValueError, match="mode='a'"):
        with atomic_write(target, "a"):
            pass


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_gives_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "f.txt") as f:
            f.write("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
