"""Tests for lmcourse.data.corpus: determinism, the size contract, atomic writes, and that the text is
rich and grammatical enough to learn from."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from itertools import islice

import pytest

from lmcourse.data import corpus, generate_stories, generate_text, write_corpus

SEP = "<|endoftext|>"
NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS.index(word.lower())


@pytest.fixture(scope="module")
def megabyte() -> str:
    return generate_text(1_000_000, seed=0)


def test_same_seed_same_stories_different_seed_different():
    assert list(generate_stories(20, seed=7)) == list(generate_stories(20, seed=7))
    assert list(generate_stories(20, seed=7)) != list(generate_stories(20, seed=8))
    assert generate_text(5_000, seed=3) == generate_text(5_000, seed=3)


def test_output_is_pinned_across_platforms_and_versions():
    # Only random.Random(seed).random() feeds the generator, which CPython keeps stable across versions
    # and platforms; this hash pins it, so a change to the grammar must update it on purpose.
    text = generate_text(20_000, seed=0)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] == PINNED_SHA256_PREFIX


PINNED_SHA256_PREFIX = "38cc28b05dc71d24"


def test_generate_stories_counts_and_infinite_stream():
    assert len(list(generate_stories(5))) == 5
    assert list(generate_stories(0)) == []
    first = list(islice(generate_stories(seed=1), 30))  # None: never runs dry
    assert first == list(generate_stories(30, seed=1))  # and a prefix is a prefix
    assert all(isinstance(s, str) and s and SEP not in s for s in first)


@pytest.mark.parametrize("num_bytes", [0, 1, 100, 5_000, 54_321])
def test_generate_text_stops_at_first_boundary_at_or_after_num_bytes(num_bytes):
    text = generate_text(num_bytes, seed=2)
    data = text.encode("utf-8")
    if num_bytes == 0:
        assert text == ""
        return
    assert len(data) >= num_bytes
    # Without its last story, the text was still short of num_bytes.
    assert len(data[: data.rfind(SEP.encode())]) < num_bytes if SEP in text else True


def test_separator_sits_between_stories_only():
    stories = list(generate_stories(10, seed=4))
    text = generate_text(len(SEP.join(stories[:10]).encode()), seed=4)
    assert text == SEP.join(stories)
    assert not text.startswith(SEP) and not text.endswith(SEP)
    custom = generate_text(3_000, seed=4, separator="\n\n=====\n\n")
    assert custom.split("\n\n=====\n\n")[:3] == stories[:3]


def test_write_corpus_matches_generate_text(tmp_path):
    path = write_corpus(tmp_path / "sub" / "corpus.txt", 30_000, seed=5)
    assert path == tmp_path / "sub" / "corpus.txt"
    assert path.read_bytes() == generate_text(30_000, seed=5).encode("utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["corpus.txt"]  # no temporary file left
    write_corpus(str(path), 1_000, seed=6)  # overwrites, accepts str paths
    assert path.read_bytes() == generate_text(1_000, seed=6).encode("utf-8")


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_write_corpus_leaves_nothing_behind_when_generation_fails(tmp_path, monkeypatch, error):
    real = corpus.generate_stories

    def failing(*args, **kwargs):
        yield from islice(real(*args, **kwargs), 3)
        raise error("boom")

    monkeypatch.setattr(corpus, "generate_stories", failing)
    target = tmp_path / "corpus.txt"
    with pytest.raises(error):
        write_corpus(target, 1_000_000)
    assert list(tmp_path.iterdir()) == []
    # An existing file is left as it was.
    target.write_text("old")
    with pytest.raises(error):
        write_corpus(target, 1_000_000)
    assert [p.name for p in tmp_path.iterdir()] == ["corpus.txt"] and target.read_text() == "old"


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: generate_text(-1), ValueError, ["num_bytes", "-1", "non-negative int"]),
        (lambda: generate_text(1.5), TypeError, ["num_bytes", "1.5", "int"]),
        (lambda: generate_text(True), TypeError, ["num_bytes", "True"]),
        (lambda: generate_text(10, separator=None), TypeError, ["separator", "None", "str"]),
        (lambda: generate_text(10, seed="0"), TypeError, ["seed", "'0'", "int"]),
        (lambda: generate_stories(-3), ValueError, ["num_stories", "-3"]),
        (lambda: generate_stories(2.0), TypeError, ["num_stories", "2.0"]),
        (lambda: generate_stories(2, seed=1.0), TypeError, ["seed", "1.0"]),
        (lambda: write_corpus("x.txt", -5), ValueError, ["num_bytes", "-5"]),
        (lambda: write_corpus("x.txt", 5, separator=b"|"), TypeError, ["separator", "b'|'"]),
    ],
)
def test_bad_input_names_argument_value_and_expectation(call, exc, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_vocabulary_is_rich_and_open_ended(megabyte):
    words = megabyte.split()
    assert len(set(words)) > 2_000
    counts = Counter(re.findall(r"[a-z]+", megabyte.lower()))
    assert len(counts) > 600  # several hundred distinct lowercase words
    # Word frequencies fall off like real text: the top word is common, most words are rare.
    ranked = [c for _, c in counts.most_common()]
    assert ranked[0] > 50 * ranked[len(ranked) // 2]
    # Held-out stories hold words (names) that the training stories never used.
    held_out = set(generate_text(50_000, seed=1).split())
    assert len(held_out - set(words)) >= 10


def test_contractions_digits_and_non_ascii_present(megabyte):
    for word in ["didn't", "it's", "I'm", "don't", "can't", "Let's", "I'll"]:
        assert re.search(rf"(?<![\w']){re.escape(word)}(?![\w'])", megabyte, re.IGNORECASE), word
    assert re.search(r"\b\d+ years old\b", megabyte) and re.search(r"\b(three|five|seven) years old\b", megabyte)
    assert "café" in megabyte and ("Zoë" in megabyte or "José" in megabyte)
    assert any(ord(ch) > 0xFFFF for ch in megabyte)  # an emoji: 4 bytes in UTF-8
    non_ascii = sum(ch > "\x7f" for ch in megabyte)
    assert 0 < non_ascii < 0.01 * len(megabyte)  # present, but a small fraction


def test_stories_have_paragraphs_dialogue_and_arithmetic_that_adds_up(megabyte):
    stories = megabyte.split(SEP)
    assert all("\n\n" in s for s in stories[:50])
    assert sum('"' in s for s in stories) > 0.8 * len(stories)
    assert all(s.count('"') % 2 == 0 for s in stories)  # quotes are closed
    # The trip plot's arithmetic, with numbers as digits or words ("9", "nine", "Nine").
    sums = re.findall(
        r"(?:gave \w+|got) (\w+) \w+(?: from \w+ \w+)?\. "
        r"(?:On the way home, \w+ gave|Then \w+ met \w+ and shared) (\w+) (?:to|with) \w+\. "
        r"(?:Now \w+ had (\w+) |\"How many do you have now\?\" asked \w+\.\n\"(\w+)!\")",
        megabyte,
    )
    assert len(sums) > 50
    for given, gave, *left in sums:
        assert _number(given) - _number(gave) == _number(left[0] or left[1])


def test_agreement_capitals_and_articles(megabyte):
    assert not re.search(r"\b(?:[Hh]e|[Ss]he) were\b|\b[Tt]hey (?:was|wasn't)\b", megabyte)
    assert not re.search(r"[.!?] [a-z]", megabyte)  # sentences start with a capital
    assert not re.search(r"(?:^|\n)[a-z]", megabyte)  # and so do paragraphs and dialogue lines
    assert not re.search(r"\ba [aeio]\w", megabyte)
    assert not re.search(r"\ban (?!hour|honest)[b-df-hj-np-tv-z]", megabyte)
    assert "  " not in megabyte and "{" not in megabyte  # no empty slot, no unfilled template field

