"""Tests for lmcourse.data.pipeline and `python -m lmcourse.data run`: every stage on a folder the test
writes (HTML, binary, invalid UTF-8, another language, spam, PII, exact and near copies), stage
subsets, the summary table, and that a failure publishes nothing."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from lmcourse.corpus import generate_stories
from lmcourse.data import pipeline
from lmcourse.data.neardup import near_duplicate
from lmcourse.data.pipeline import english_score, format_summary, run_pipeline

ROOT = Path(__file__).resolve().parents[1]
FOOTER = "\nSubscribe to our newsletter for more stories!\n"
FRENCH = ("Le petit renard vivait près de la rivière. Chaque matin, il traversait le pont de bois pour aller "
          "chercher des baies dans la forêt, puis il rentrait chez lui avant la pluie. ") * 4
SPAM = "\n".join(f"BEST DEALS {i} click here now ..." for i in range(40))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A small crawl: five stories (with a shared footer and PII), copies, a page, and junk."""
    d = tmp_path_factory.mktemp("crawl") / "in"
    d.mkdir()
    stories = list(generate_stories(6, seed=11))
    pii = ["Write to jane.doe@example.com.", "Call (555) 123-4567 today.", "Server 192.168.0.1 is up.", "", ""]
    for i, story in enumerate(stories[:5]):
        (d / f"story{i}.txt").write_text(f"{story}\n{pii[i]}{FOOTER}")
    (d / "story0_copy.txt").write_bytes((d / "story0.txt").read_bytes())
    near = near_duplicate(stories[1], 0.01, random.Random(0), ["apple", "river"])
    (d / "story1_near.txt").write_text(f"{near}{FOOTER}")
    paragraphs = "".join(f"<p>{p}</p>" for p in stories[2].split("\n\n"))
    (d / "page.html").write_bytes(f"<html><head><script>var x = 1;</script></head><body>{paragraphs}"
                                  f"</body></html>".encode("utf-8"))
    (d / "empty.html").write_bytes(b"<html><body><script>only()</script></body></html>")
    (d / "french.txt").write_text(FRENCH)
    (d / "spam.txt").write_text(SPAM)
    (d / "image.bin").write_bytes(bytes(range(256)) * 8)
    (d / "latin1.txt").write_bytes(stories[5].replace("a", "\xe0", 1).encode("latin-1", "replace") + b"\xff")
    (d / ".hidden").write_text("skipped")
    return d


def test_every_stage_removes_what_it_should(folder, tmp_path):
    rows = run_pipeline(folder, tmp_path / "out")
    summary = {r.stage: r for r in rows}
    assert [r.stage for r in rows] == ["read", "extract", "lang", "quality", "pii", "dedup", "minhash"]
    assert (summary["read"].documents_in, summary["read"].removed) == (13, 1)  # image.bin; .hidden skipped
    assert summary["extract"].removed == 1 and "no text 1" in summary["extract"].details  # empty.html
    assert summary["lang"].removed == 1  # french.txt
    assert summary["quality"].removed == 1 and "ellipsis_lines" in summary["quality"].details  # spam.txt
    assert summary["pii"].details == "emails 2, phones 1, IPs 1"  # story0 and its copy
    # story0_copy is an exact copy; every line of page.txt is a paragraph of story2.txt, so line dedup
    # empties it (and takes those paragraphs out of story2.txt too: line dedup keeps no first copy).
    assert summary["dedup"].details.startswith("exact duplicates 1,") and summary["dedup"].details.endswith("emptied 1")
    assert summary["minhash"].removed == 1 and "clusters 1" in summary["minhash"].details  # story1_near
    out = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert out == ["latin1.txt", "story0.txt", "story1.txt", "story2.txt", "story3.txt", "story4.txt"]
    texts = {name: (tmp_path / "out" / name).read_text(encoding="utf-8") for name in out}
    assert all("Subscribe to our newsletter" not in t for t in texts.values())  # a repeated line, removed
    assert "|||EMAIL_ADDRESS|||" in texts["story0.txt"] and "jane.doe" not in texts["story0.txt"]
    assert "|||PHONE_NUMBER|||" in texts["story1.txt"]
    assert "\ufffd" in texts["latin1.txt"]  # invalid UTF-8 read with replacement characters
    assert "\n\n" in texts["story0.txt"]  # blank lines are layout: line dedup keeps them
    assert texts["story2.txt"].strip() == "Server |||IP_ADDRESS||| is up."
    table = format_summary(rows)
    assert table.splitlines()[0].startswith("| stage") and len(table.splitlines()) == 2 + len(rows)


def test_a_subset_of_stages(folder, tmp_path):
    rows = run_pipeline(folder, tmp_path / "out", ["pii"])
    assert [r.stage for r in rows] == ["read", "pii"]
    out = {p.name for p in (tmp_path / "out").iterdir()}
    # Without extraction, HTML is just text; without dedup, copies stay; only binary is dropped.
    assert "page.html" in out and "story0_copy.txt" in out and "image.bin" not in out and len(out) == 12


def test_a_failing_stage_publishes_nothing(folder, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(pipeline, "minhash_deduplication", broken)
    with pytest.raises(RuntimeError, match="worker died"):
        run_pipeline(folder, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(folder, tmp_path):
    with pytest.raises(ValueError, match="subset of"):
        run_pipeline(folder, tmp_path / "out", ["extract", "translate"])
    with pytest.raises(ValueError, match="not a directory"):
        run_pipeline(tmp_path / "nowhere", tmp_path / "out")


@pytest.mark.slow
def test_command_line(folder, tmp_path):
    command = [sys.executable, "-m", "lmcourse.data", "run", "--input", str(folder), "--output",
               str(tmp_path / "out"), "--stages", "extract,lang,quality,dedup,minhash", "--num-hashes", "64",
               "--num-bands", "8"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={"LMCOURSE_QUIET": "1",
                                                                                   "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "| minhash" in done.stdout and "| pii" not in done.stdout
    assert len(list((tmp_path / "out").iterdir())) == 6
    bad = subprocess.run(command[:-4] + ["--num-hashes", "64", "--num-bands", "7"], capture_output=True, text=True,
                         cwd=ROOT)
    assert bad.returncode == 2 and "not divisible by num_bands=7" in bad.stderr


def test_english_score():
    assert english_score("The cat sat on the mat and it was happy.") > 0.4
    assert english_score(FRENCH) < 0.1
    assert english_score("") == 0.0 and english_score("12345 !!!") == 0.0
    with pytest.raises(TypeError, match="expected a str"):
        english_score(b"bytes")
