"""Tests for lmcourse.corpus: determinism, the size contract, atomic writes, and that the text is
rich (a vocabulary that keeps growing, Zipf-like frequencies), grammatical and arithmetically right."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from itertools import islice

import pytest

from lmcourse.corpus import generate_stories, generate_text, write_corpus
from lmcourse.corpus import grammar as _stories
from lmcourse.corpus import lexicon as _lexicon
from lmcourse.corpus import stories as corpus
from lmcourse.tokenizer import pretokenize

SEP = "<|endoftext|>"
NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                "sixteen seventeen eighteen nineteen twenty").split()


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


PINNED_SHA256_PREFIX = "31300a9274acd341"


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
    # Without its last story, the text was still short of num_bytes (one story alone: nothing to drop).
    cut = data.rfind(SEP.encode())
    assert (cut == -1 and len(generate_text(1, seed=2).encode()) == len(data)) or len(data[:cut]) < num_bytes


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
        (lambda: generate_text(-1), ValueError, ["num_bytes", "-1", "an integer >= 0"]),
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


def _distinct_pretokens(text: str) -> int:
    return len(set(pretokenize(text, [SEP])) - {SEP})


def test_vocabulary_grows_with_the_corpus_like_natural_text():
    # Heaps' law: distinct words ~ N**beta with beta around 0.5-0.7 in natural text; 4x the text should
    # bring about 4**0.55 ~ 2.1x the distinct GPT-2 pre-tokens, where a closed vocabulary would saturate.
    text = generate_text(400_000, seed=3)
    small, large = _distinct_pretokens(text[:100_000]), _distinct_pretokens(text)
    assert small > 1_200 and large > 1.7 * small
    # Held-out stories hold words (names, places, numbers) that the training stories never used.
    held_out = set(generate_text(100_000, seed=1).split())
    assert len(held_out - set(text.split())) > 300


def test_vocabulary_is_rich_and_zipfian(megabyte):
    assert _distinct_pretokens(megabyte) > 4_000
    counts = Counter(re.findall(r"[a-z]+", megabyte.lower()))
    assert len(counts) > 3_000  # thousands of distinct lowercase words, not hundreds
    ranked = [c for _, c in counts.most_common()]
    assert ranked[0] > 50 * ranked[len(ranked) // 10]  # a few words dominate ...
    assert sum(c == 1 for c in ranked) > 0.2 * len(ranked)  # ... and many turn up once
    top = [w for w, _ in Counter(p for p in pretokenize(megabyte, [SEP]) if p != SEP).most_common(20)]
    assert {" the", " was", " and", " to", "."} <= set(top)  # the glue of English, for BPE to learn first


def test_contractions_digits_and_non_ascii_present(megabyte):
    for word in ["didn't", "it's", "I'm", "don't", "can't", "Let's", "I'll", "o'clock"]:
        assert re.search(rf"(?<![\w']){re.escape(word)}(?![\w'])", megabyte, re.IGNORECASE), word
    assert re.search(r"\b\d+ years old\b", megabyte) and re.search(r"\b(three|five|seven) years old\b", megabyte)
    assert re.search(r"\bin (?:18|19|20)\d\d\b", megabyte)  # years
    assert re.search(r"\bat \d{1,2}:\d\d\b", megabyte)  # times
    assert re.search(r"\$\d+\.\d\d\b", megabyte) and re.search(r"\b\d+ cents\b", megabyte)  # prices
    assert len(set(re.findall(r"\b\d{3,4}\b", megabyte))) > 150  # counts, house numbers, years
    assert "café" in megabyte and ("Zoë" in megabyte or "José" in megabyte)
    assert any(ord(ch) > 0xFFFF for ch in megabyte)  # an emoji: 4 bytes in UTF-8
    non_ascii = sum(ch > "\x7f" for ch in megabyte)
    assert 0 < non_ascii < 0.01 * len(megabyte)  # present, but a small fraction


def _money(text: str) -> int:
    """Cents in "$3.50", "$5" or "75 cents"."""
    if text.endswith("cents"):
        return int(text.split()[0])
    dollars, _, cents = text[1:].partition(".")
    return 100 * int(dollars) + int(cents or 0)


def test_stories_have_paragraphs_dialogue_and_arithmetic_that_adds_up(megabyte):
    stories = megabyte.split(SEP)
    assert all("\n\n" in s for s in stories[:50])
    assert sum('"' in s for s in stories) > 0.6 * len(stories)
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
    # Shopping: the price plus the change is what was paid.
    money = r"(\$\d+(?:\.\d\d)?|\d+ cents)"
    shop = re.findall(rf"(?:sign said|It cost) {money}\.(?:(?!{SEP}).)*?paid {money} for the [^,]+, and "
                      rf"the shopkeeper(?:, [^,]+,)? gave \w+ {money} back", megabyte, re.DOTALL)
    assert len(shop) > 50
    assert all(_money(price) + _money(change) == _money(paid) for price, paid, change in shop)
    # A collection: what one had plus what one was given.
    collected = re.findall(r"had (\d+) (?:[a-z ]+|of them)[.,](?:(?!{}).)*?(?:Inside were|found) (\w+) more"
                           r"(?:(?!{}).)*?Now \w+ had (\d+)".format(SEP, SEP), megabyte, re.DOTALL)
    assert len(collected) > 50
    assert all(int(a) + _number(b) == int(c) for a, b, c in collected)
    # A party: friends times balloons each.
    balloons = re.findall(r"(\w+) friends came to the party, and each one brought (\w+) balloons\. "
                          r"That made (\w+) balloons", megabyte)
    assert len(balloons) > 20
    assert all(_number(a) * _number(b) == _number(c) for a, b, c in balloons)


def test_agreement_capitals_and_articles(megabyte):
    assert not re.search(r"\b(?:[Hh]e|[Ss]he) were\b|\b[Tt]hey (?:was|wasn't)\b", megabyte)
    assert not re.search(r"[.!?] [a-z]", megabyte)  # sentences start with a capital
    assert not re.search(r"(?:^|\n)[a-z]", megabyte)  # and so do paragraphs and dialogue lines
    assert not re.search(r"\ba [aeio]\w|\ba u(?!ni|se|su|k)", megabyte)  # "a unicorn", never "a apple"
    assert not re.search(r"\ban (?!hour|honest)[b-df-hj-np-tv-z]|\ban (?:uni|use)", megabyte)
    siblings = re.findall(r"(brother|sister|sibling), [^,]+, was \w+, and (\w+) liked", megabyte)
    assert len(siblings) > 20
    assert all({"brother": "he", "sister": "she", "sibling": "they"}[a] == b for a, b in siblings)
    assert "  " not in megabyte and "{" not in megabyte  # no empty slot, no unfilled template field
    assert not re.search(r"\b(\w+) \1\b", megabyte)  # no doubled words


@pytest.mark.parametrize("word, plural", [("box", "boxes"), ("puppy", "puppies"), ("toy", "toys"),
                                          ("mouse/mice", "mice"), ("teddy bear", "teddy bears")])
def test_nouns_get_plurals(word, plural):
    assert _lexicon._nouns(word) == ((word.split("/")[0], plural),)


@pytest.mark.parametrize("item, forms", [
    ("play tag", ("play tag", "played tag", "playing tag")),
    ("skip stones/skipped", ("skip stones", "skipped stones", "skipping stones")),
    ("swim/swam", ("swim", "swam", "swimming")),
    ("ride bikes/rode", ("ride bikes", "rode bikes", "riding bikes")),
    ("carry bags", ("carry bags", "carried bags", "carrying bags")),
    ("tie bows", ("tie bows", "tied bows", "tying bows")),
    ("read stories/read", ("read stories", "read stories", "reading stories")),
])
def test_verbs_get_past_and_ing_forms(item, forms):
    assert _lexicon._verbs(item) == (forms,)


def test_a_name_always_has_the_same_pronoun():
    story, pronouns = _stories._Story(random.Random(0)), {}
    for _ in range(20_000):
        name, pronoun = story.person()
        assert pronouns.setdefault(name, pronoun) == pronoun, name
    assert len(pronouns) > 1_000  # well into the coined tail


def test_grades_and_zipf_ranks():
    assert _lexicon._grades("big/bigger, tiny, nice, good/better/best") == (
        ("big", "bigger", "biggest"), ("tiny", "tinier", "tiniest"), ("nice", "nicer", "nicest"),
        ("good", "better", "best"))
    # P(rank >= r) = (1 + r/scale)**-0.5: rank 0 below u = 1 - 1/sqrt(2), then a tail with no end in sight.
    assert _stories._zipf_rank(0.0, 1.0) == 0 and _stories._zipf_rank(0.29, 1.0) == 0
    assert _stories._zipf_rank(0.3, 1.0) == 1 and _stories._zipf_rank(0.9375, 1.0) == 255  # 16**2 - 1
    assert _stories._zipf_rank(1 - 2**-40, 1.0) == _stories._MAX_RANK
