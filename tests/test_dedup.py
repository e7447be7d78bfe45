"""Tests for lmcourse.data.dedup (exact line and document dedup, atomic output directories) and
lmcourse.data.bloom (no false negatives, measured against theoretical false-positive rates)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import dedup
from lmcourse.data.bloom import (BloomFilter, bits_for, measured_false_positive_rate, optimal_num_hashes,
                                 theoretical_false_positive_rate)
from lmcourse.data.dedup import atomic_directory, exact_document_deduplication, exact_line_deduplication

# As in the CS336 fixture: navigation lines shared by pages, one page twice.
PAGES = {
    "doc1.txt": "- home\n- menu\n- back\n<Insert generic page content here for doc1.txt>\n",
    "doc2.txt": "- home\n- menu\n- back\n<Insert generic page content here for doc1.txt>\n",
    "doc3.txt": "- home\n- menu\n- back\n<Insert generic page content here for doc3.txt>\n",
    "doc4.txt": "- home\n- menu\n<Insert generic page content here for doc4.txt>\n",
    "doc5.txt": "- home\n<Insert generic page content here for doc5.txt>\n- contact\n",
}


def write(directory, files: dict) -> list:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files.items():
        path = directory / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths.append(path)
    return paths


def test_exact_line_dedup_cs336_fixture(tmp_path):
    paths = write(tmp_path / "in", PAGES)
    out = tmp_path / "out"
    out.mkdir()  # existing and empty, as the assignment's tests pass it
    report = exact_line_deduplication(paths, out)
    got = {p.name: p.read_text() for p in out.glob("*")}
    assert got == {
        "doc1.txt": "", "doc2.txt": "",  # every line of these two occurs twice
        "doc3.txt": "<Insert generic page content here for doc3.txt>\n",
        "doc4.txt": "<Insert generic page content here for doc4.txt>\n",
        "doc5.txt": "<Insert generic page content here for doc5.txt>\n- contact\n",
    }
    assert report.lines_in == 18 and report.lines_removed == 14


def test_line_endings_and_last_line_without_newline(tmp_path):
    paths = write(tmp_path / "in", {"a.txt": "same\r\nkeep a\n", "b.txt": "keep b\nsame"})
    exact_line_deduplication(paths, tmp_path / "out")
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"keep a\n"
    assert (tmp_path / "out" / "b.txt").read_bytes() == b"keep b\n"


def test_blank_lines_kept_unless_asked(tmp_path):
    paths = write(tmp_path / "in", {"a.txt": "one\n\ntwo\n", "b.txt": "three\n\nfour\n"})
    exact_line_deduplication(paths, tmp_path / "kept")
    assert (tmp_path / "kept" / "a.txt").read_text() == "one\n\ntwo\n"
    exact_line_deduplication(paths, tmp_path / "literal", keep_blank_lines=False)
    assert (tmp_path / "literal" / "a.txt").read_text() == "one\ntwo\n"


def test_bytes_pass_through_untouched(tmp_path):
    binary = bytes(range(256)).replace(b"\n", b"") + b"\n"
    paths = write(tmp_path / "in", {"a.bin": b"caf\xe9 \xff\xfe\n" + binary, "b.bin": b"\x00\x01\n" + binary})
    exact_line_deduplication(paths, tmp_path / "out")
    assert (tmp_path / "out" / "a.bin").read_bytes() == b"caf\xe9 \xff\xfe\n"
    assert (tmp_path / "out" / "b.bin").read_bytes() == b"\x00\x01\n"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "", " "]), max_size=8), min_size=1, max_size=5))
def test_line_dedup_matches_counting(tmp_path_factory, docs):
    tmp = tmp_path_factory.mktemp("lines")
    paths = write(tmp / "in", {f"{i}.txt": "".join(line + "\n" for line in doc) for i, doc in enumerate(docs)})
    exact_line_deduplication(paths, tmp / "out", keep_blank_lines=False)
    counts = Counter(line for doc in docs for line in doc)
    for i, doc in enumerate(docs):
        expected = "".join(line + "\n" for line in doc if counts[line] == 1)
        assert (tmp / "out" / f"{i}.txt").read_text() == expected


def test_document_dedup_keeps_first_in_input_order(tmp_path):
    paths = write(tmp_path / "in", {"z.txt": "same", "a.txt": "same", "m.txt": "other", "e.txt": ""})
    report = exact_document_deduplication(paths, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["e.txt", "m.txt", "z.txt"]
    assert [[p.name for p in c] for c in report.clusters] == [["z.txt", "a.txt"]]
    assert [p.name for p in report.removed] == ["a.txt"]


def test_existing_files_in_the_output_directory_are_left_alone(tmp_path):
    paths = write(tmp_path / "in", {"a.txt": "x\n", "b.txt": "y\n"})
    out = tmp_path / "out"
    write(out, {"a.txt": "old\n", "unrelated.txt": "keep me\n"})
    exact_line_deduplication(paths, out)
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.txt": "x\n", "b.txt": "y\n", "unrelated.txt": "keep me\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no temporary directory left


def test_a_crash_midway_publishes_nothing(tmp_path, monkeypatch):
    paths = write(tmp_path / "in", PAGES)
    calls = []

    def failing_key(line):
        calls.append(line)
        if len(calls) > 21:  # pass 1 reads 18 lines; fail inside pass 2, after some files are written
            raise OSError("disk full")
        return hash(line.rstrip(b"\r\n"))

    monkeypatch.setattr(dedup, "_line_key", failing_key)
    with pytest.raises(OSError, match="disk full"):
        exact_line_deduplication(paths, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_atomic_directory_replaces_an_empty_directory_in_one_step(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("a")
        assert not (out / "a.txt").exists()  # nothing visible before the block ends
    assert [p.name for p in out.iterdir()] == ["a.txt"]
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        with atomic_directory(tmp_path / "file"):
            pass


def test_bad_input(tmp_path):
    paths = write(tmp_path / "in", {"a.txt": "x"})
    write(tmp_path / "other", {"a.txt": "y"})
    with pytest.raises(TypeError, match="list of paths"):
        exact_line_deduplication(str(paths[0]), tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        exact_line_deduplication([tmp_path / "missing.txt"], tmp_path / "out")
    with pytest.raises(ValueError, match="share the base name 'a.txt'"):
        exact_document_deduplication([paths[0], tmp_path / "other" / "a.txt"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- Bloom filter

@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=50), st.integers(1, 500), st.integers(1, 8))
def test_bloom_filter_has_no_false_negatives(items, num_bits, num_hashes):
    bloom = BloomFilter(num_bits, num_hashes)
    bloom.update(items)
    assert all(bloom.contains(items)) and all(item in bloom for item in items)
    assert bloom.num_items == len(items)


def test_bloom_filter_basics():
    bloom = BloomFilter(1 << 12, 3)
    assert "never added" not in bloom and bloom.fill_ratio() == 0.0
    bloom.add(b"bytes too")
    assert b"bytes too" in bloom and bloom.fill_ratio() == 3 / 4096  # power-of-two m: k distinct bits
    with pytest.raises(TypeError, match="str or bytes"):
        bloom.add(42)
    with pytest.raises(ValueError, match="num_bits=0"):
        BloomFilter(0, 3)


@pytest.mark.parametrize("bits_per_item, num_hashes", [(4, 1), (8, 3), (8, 6), (10, 7), (10, 12)])
def test_measured_false_positive_rate_matches_theory(bits_per_item, num_hashes):
    n = 2_000
    theory = theoretical_false_positive_rate(bits_per_item * n, n, num_hashes)
    measured = measured_false_positive_rate(bits_per_item * n, n, num_hashes, num_queries=40_000, seed=1)
    # The fill ratio itself fluctuates with n = 2,000 items; 25 % relative (and 0.002 absolute) covers it.
    assert measured == pytest.approx(theory, rel=0.25, abs=0.002)


def test_optimal_num_hashes_minimises_the_rate():
    for m, n in [(10_000, 1_000), (8_000, 1_000), (1_000, 1_000), (100_000, 3_000)]:
        k = optimal_num_hashes(m, n)
        assert k == pytest.approx(m / n * 0.6931, abs=1)
        best = min(range(1, 40), key=lambda j: theoretical_false_positive_rate(m, n, j))
        assert k == best
    m = bits_for(10_000, 0.01)
    assert m == pytest.approx(95_851, abs=2)  # 9.59 bits per item for 1 %
    assert theoretical_false_positive_rate(m, 10_000, optimal_num_hashes(m, 10_000)) <= 0.0101
