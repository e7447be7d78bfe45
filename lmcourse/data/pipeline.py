"""The data pipeline over a folder: extraction, language and quality filters, PII masking, dedup.

`run_pipeline(input_dir, output_dir, stages)` (and `python -m lmcourse.data run`) treats every file
directly inside `input_dir` (hidden files skipped, no recursion) as one document, runs the chosen
stages in this fixed order, and writes the surviving documents to `output_dir` as UTF-8 text (an
HTML page a.html becomes a.txt; other files keep their names):

    read     files that look binary (NUL or control bytes, `extract.looks_binary`) are dropped
    extract  .html/.htm files -> visible text (`extract.extract_text_from_html_bytes`); pages with
             none are dropped; other files are read as UTF-8, invalid bytes becoming U+FFFD
    lang     keep documents whose `english_score` is at least `min_english`
    quality  keep documents that pass the Gopher rules (`quality.gopher_quality_filter`)
    pii      mask emails, phone numbers and IPv4 addresses (`pii`); nothing is dropped
    dedup    exact dedup: byte-identical documents, then lines repeated anywhere in the corpus;
             documents left empty are dropped
    minhash  near-duplicate dedup (`dedup.minhash_deduplication`)

Each stage reports what it removed; `format_summary` prints that as a table. The output directory is
written atomically (`dedup.atomic_directory`); intermediate files live in a temporary directory.

The language filter is a stand-in: the share of words that are common English function words
("the", "and", "of"...), which is around 0.4-0.5 for English prose and under 0.1 for most other
languages written in Latin script. Real pipelines use a trained language identifier (fastText's
lid.176 in CCNet, Dolma and the CS336 assignment), which needs a model download.

Leaves out: WARC input (read it with `warc`, then write pages to a folder), harmful-content
classifiers, model-based quality filters (`classifier`, `ngram_lm`), and parallel workers.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lmcourse import progress
from lmcourse.data.dedup import (atomic_directory, exact_document_deduplication, exact_line_deduplication,
                                 minhash_deduplication)
from lmcourse.data.extract import extract_text_from_html_bytes, looks_binary
from lmcourse.data.lsh import check_bands
from lmcourse.data.pii import mask_emails, mask_ips, mask_phone_numbers
from lmcourse.data.quality import gopher_violations

__all__ = ["STAGES", "StageSummary", "english_score", "run_pipeline", "format_summary"]

STAGES = ("extract", "lang", "quality", "pii", "dedup", "minhash")
_HTML_SUFFIXES = (".html", ".htm")
_WORD = re.compile(r"[a-z']+")
_ENGLISH_FUNCTION_WORDS = frozenset("""
a about after all also an and any are as at be because been but by can could did do does for from had
has have he her him his how i if in into is it its just me more my no not now of on one or our out she
so some than that the their them then there these they this to up us was we were what when which who
will with would you your
""".split())


@dataclass
class StageSummary:
    """One row of the summary: documents before and after a stage, and what else it did."""
    stage: str
    documents_in: int
    documents_out: int
    details: str = ""

    @property
    def removed(self) -> int:
        return self.documents_in - self.documents_out


def english_score(text: str) -> float:
    """The fraction of words that are common English function words (0.0 for a text with no words)."""
    if not isinstance(text, str):
        raise TypeError(f"english_score: text={text!r:.80}; expected a str")
    words = _WORD.findall(text.lower())
    return sum(w in _ENGLISH_FUNCTION_WORDS for w in words) / len(words) if words else 0.0


def _check_stages(stages) -> tuple[str, ...]:
    stages = tuple(stages)
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise ValueError(f"run_pipeline: stages={list(stages)!r}; expected a non-empty subset of {list(STAGES)}")
    return tuple(s for s in STAGES if s in stages)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{name} {count}" for name, count in counter.most_common())


def _document_stages(files: list[Path], stages: tuple[str, ...], workdir: Path,
                     min_english: float) -> tuple[list[Path], list[StageSummary]]:
    """Run read/extract/lang/quality/pii document by document; write the survivors to `workdir`."""
    entered, passed = Counter(), Counter()
    notes = {stage: Counter() for stage in ("read", *STAGES)}
    written: list[Path] = []
    for path in progress(files, desc="filtering documents"):
        data, name = path.read_bytes(), path.name
        is_html = "extract" in stages and path.suffix.lower() in _HTML_SUFFIXES
        entered["read"] += 1
        if not is_html and looks_binary(data):  # HTML may legitimately be UTF-16: extraction decides
            notes["read"]["binary"] += 1
            continue
        passed["read"] += 1
        text = data.decode("utf-8", errors="replace")
        if "extract" in stages:
            entered["extract"] += 1
            if is_html:
                text, name = extract_text_from_html_bytes(data), path.stem + ".txt"
                if text is None:
                    notes["extract"]["no text"] += 1
                    continue
            notes["extract"]["HTML pages" if is_html else "plain text"] += 1
            passed["extract"] += 1
        if "lang" in stages:
            entered["lang"] += 1
            if english_score(text) < min_english:
                notes["lang"]["not English"] += 1
                continue
            passed["lang"] += 1
        if "quality" in stages:
            entered["quality"] += 1
            violations = gopher_violations(text)
            if violations:
                notes["quality"].update(violations)  # a document can break several rules
                continue
            passed["quality"] += 1
        if "pii" in stages:
            entered["pii"] += 1
            for label, masker in (("emails", mask_emails), ("phones", mask_phone_numbers), ("IPs", mask_ips)):
                text, count = masker(text)
                notes["pii"][label] += count
            passed["pii"] += 1
        out = workdir / name
        if out.exists():
            raise ValueError(f"run_pipeline: two inputs both become {name!r} (e.g. a.html and a.txt); rename one")
        out.write_text(text, encoding="utf-8")
        written.append(out)
    rows = [StageSummary(stage, entered[stage], passed[stage], _counts(notes[stage]))
            for stage in ("read", *stages) if stage in ("read", "extract", "lang", "quality", "pii")]
    return written, rows


def run_pipeline(input_dir, output_dir, stages=STAGES, *, min_english: float = 0.2, num_hashes: int = 128,
                 num_bands: int = 16, ngrams: int = 5, jaccard_threshold: float = 0.8) -> list[StageSummary]:
    """Run `stages` (any subset of `STAGES`, always in that order) over the files in `input_dir` and
    write the result to `output_dir`. Returns one summary row per stage, "read" first."""
    stages = _check_stages(stages)
    if "minhash" in stages:
        check_bands("run_pipeline", num_hashes, num_bands)  # fail before any work, not after the filters
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise ValueError(f"run_pipeline: input_dir={str(input_dir)!r} is not a directory")
    files = sorted(p for p in input_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    with tempfile.TemporaryDirectory(prefix="lmcourse-pipeline-") as tmp, atomic_directory(output_dir) as final:
        work = Path(tmp) / "documents"
        work.mkdir()
        current, rows = _document_stages(files, stages, work, min_english)
        if "dedup" in stages:
            before = len(current)
            exact_document_deduplication(current, Path(tmp) / "exact")
            current = sorted((Path(tmp) / "exact").iterdir())
            lines = exact_line_deduplication(current, Path(tmp) / "lines")
            exact = before - len(current)
            current = [p for p in sorted((Path(tmp) / "lines").iterdir()) if p.read_bytes().strip()]
            rows.append(StageSummary("dedup", before, len(current),
                                     f"exact duplicates {exact}, lines removed {lines.lines_removed} "
                                     f"of {lines.lines_in}, emptied {before - exact - len(current)}"))
        if "minhash" in stages:
            report = minhash_deduplication(current, num_hashes, num_bands, ngrams, jaccard_threshold,
                                           Path(tmp) / "minhash")
            rows.append(StageSummary("minhash", len(current), len(report.kept),
                                     f"clusters {len(report.clusters)}, candidate pairs {report.candidate_pairs}"))
            current = sorted((Path(tmp) / "minhash").iterdir())
        for path in current:
            shutil.move(path, final / path.name)
    return rows


def format_summary(rows: list[StageSummary]) -> str:
    """The summary as an aligned text table (it is also valid markdown)."""
    table = [("stage", "in", "out", "removed", "details")]
    table += [(r.stage, f"{r.documents_in:,}", f"{r.documents_out:,}", f"{r.removed:,}", r.details) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
