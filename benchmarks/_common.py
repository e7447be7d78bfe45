"""Shared helpers for the benchmarks: cached corpora, the machine description, peak memory, tables."""

from __future__ import annotations

import datetime
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from statistics import median  # noqa: F401 (re-exported for the scripts)

import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data"  # git-ignored
SPECIAL = "<|endoftext|>"
sys.path.insert(0, str(ROOT))  # lmcourse, even without `pip install -e .`
os.environ.setdefault("LMCOURSE_QUIET", "1")  # no progress bars inside timings


def corpus(size_mb: float, seed: int = 0) -> Path:
    """The package's generated story corpus of `size_mb` MB (10**6 bytes), written once and cached."""
    from lmcourse.corpus import write_corpus

    path = DATA / f"stories_{size_mb:g}MB_seed{seed}.txt"
    if not path.exists():
        write_corpus(path, int(size_mb * 1_000_000), seed=seed, separator=SPECIAL)
    return path


def machine() -> str:
    """CPU, cores, Python and package versions, date: the lines every results table starts with."""
    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = ", ".join(f"{p} {_version(p)}" for p in ("lmcourse", "tokenizers", "tiktoken", "regex"))
    return (f"- machine: {cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
            f"load average {os.getloadavg()[0]:.2f} at start\n"
            f"- Python {platform.python_version()}; {versions}\n"
            f"- date: {datetime.date.today().isoformat()}")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def run_child(args: list[str], interval: float = 0.02) -> tuple[dict, float, int]:
    """Run `python <args>` in a fresh process; return the JSON it prints last, the peak RSS (MB) and
    the largest number of processes seen in its tree at once.

    The peak is the largest total RSS of the child and all its descendants (worker processes
    included), sampled every `interval` seconds (the list of descendants every 5 intervals).
    Pages that forked workers share with their parent count once per process, so for
    multi-process code this is an upper bound.
    """
    with tempfile.TemporaryFile("w+") as out:  # not a pipe: a full pipe would block the child
        proc = subprocess.Popen([sys.executable, *args], stdout=out)
        root, peak, most, tree = psutil.Process(proc.pid), 0, 1, []
        for sample in itertools.count():
            if proc.poll() is not None:
                break
            if sample % 5 == 0:  # listing the children scans /proc (~1 ms): do it every 5th sample
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.NoSuchProcess:
                    break
            total = 0
            for p in tree:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            peak, most = max(peak, total), max(most, len(tree))
            time.sleep(interval)
        proc.wait()
        if proc.returncode:
            raise RuntimeError(f"child {args} failed with exit code {proc.returncode}")
        out.seek(0)
        return json.loads(out.read().strip().splitlines()[-1]), peak / 1e6, most


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
