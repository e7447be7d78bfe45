"""Regenerate the Colab twins: notebooks/NN_name.ipynb for every chapter in _toc.yml.

    .venv/bin/python .ci/twins.py          write every twin, delete twins of removed chapters
    .venv/bin/python .ci/twins.py --check  only report twins that are out of date (exit 1)

A twin is the chapter converted by jupytext, without outputs, with a first cell that installs
lmcourse from the repository named in _config.yml (see book/_ext/lmcourse_book.py: twin_text).
tests/test_book.py fails when a twin differs from what this script would write.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import lmcourse_book as book  # noqa: E402


def plan() -> tuple[dict[Path, str], list[Path]]:
    """(twin path -> wanted text, stale twins to delete)."""
    wanted = {book.twin_path(chapter): book.twin_text(chapter) for chapter in book.chapters()}
    stale = sorted(p for p in book.TWINS.glob("*.ipynb") if p not in wanted)
    return wanted, stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report out-of-date twins, write nothing")
    args = parser.parse_args()
    wanted, stale = plan()
    outdated = [p for p, text in wanted.items() if not p.is_file() or p.read_text(encoding="utf8") != text]
    if args.check:
        for path in outdated + stale:
            print(f"out of date: {path.relative_to(ROOT)}")
        return 1 if outdated or stale else 0
    book.TWINS.mkdir(exist_ok=True)
    for path in outdated:
        path.write_text(wanted[path], encoding="utf8")
        print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        path.unlink()
        print(f"deleted {path.relative_to(ROOT)} (its chapter is not in _toc.yml)")
    print(f"{len(wanted)} twin(s) in sync")
    return 0


if __name__ == "__main__":
    sys.exit(main())
