"""Run every Colab twin as Colab runs it: a Python with torch, lmcourse installed by `pip install`
from pyproject.toml's ranges alone (no requirements.txt, no test or benchmark extras), and each
notebook executed from an empty folder outside the checkout.

    .venv/bin/python .ci/colab.py [--venv _build/colab-venv] [NAME ...]   (NAMEs: e.g. 01_overview_tokenization)

Steps:
1. a venv (created once, then reused) with the torch version requirements.txt pins (Colab brings its
   own torch) and ipykernel (Colab's kernel);
2. `pip install` of a copy of the package's own files (pyproject.toml, README.md, lmcourse/) into it,
   so nothing outside them (the chapters, tests, the repository's folders) can be relied on;
3. each twin in notebooks/ is copied into a new empty temporary folder and executed there with
   nbclient (from this .venv) on a kernel that runs the fresh venv's Python, CI=true.
A twin that raises fails the phase, with the cell and the error printed. pip reuses its cache.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import lmcourse_book as book  # noqa: E402

KERNEL_NAME = "lmcourse-colab"


def pinned(package: str) -> str:
    """`package==version` as requirements.txt pins it."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if re.match(rf"{re.escape(package)}==", line.strip()):
            return line.split("#")[0].strip()
    raise SystemExit(f"requirements.txt pins no {package}")


def pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "-q", *args]
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    # this machine's pip config names local indexes that lack most projects: one warning each
    noise = re.compile(r"WARNING: Location '.*' is ignored: it is neither a file nor a directory")
    sys.stderr.write("".join(line for line in done.stderr.splitlines(keepends=True) if not noise.search(line)))
    if done.returncode != 0:
        raise SystemExit(f"pip failed (exit {done.returncode}): {' '.join(cmd)}")


def make_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip(python, pinned("torch"), "ipykernel")
    with tempfile.TemporaryDirectory(prefix="lmcourse-package-") as tmp:
        source = Path(tmp) / "lmcourse-src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, source / name)
        shutil.copytree(ROOT / "lmcourse", source / "lmcourse",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # first the package alone (a stale copy from an earlier run is replaced), then whatever it declares
        pip(python, "--force-reinstall", "--no-deps", str(source))
        pip(python, str(source))
    return python


def kernel_dir(python: Path, where: Path) -> Path:
    """A kernelspec folder for the fresh venv's Python, to put on JUPYTER_PATH."""
    spec = where / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab-like venv)", "language": "python",
    }))
    return where


def run_twin(twin: Path, timeout: int) -> tuple[bool, float, str]:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(twin, as_version=4)
    with tempfile.TemporaryDirectory(prefix=f"colab-{twin.stem}-") as folder:
        shutil.copy2(twin, Path(folder) / twin.name)  # the notebook alone, as Colab opens it
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                                resources={"metadata": {"path": folder}})
        start = time.monotonic()
        # the kernel's own stderr (warnings, profiler chatter) goes to a file, shown only on failure
        with open(Path(folder) / "kernel-stderr.log", "w+") as log:
            try:
                client.execute(env={**os.environ, "CI": "true"}, stderr=log)
            except CellExecutionError as err:
                return False, time.monotonic() - start, str(err)[-2500:]
            except Exception as err:  # a dead kernel, a timeout
                log.seek(0)
                return False, time.monotonic() - start, f"{type(err).__name__}: {err}\n{log.read()[-1500:]}"[-2500:]
        return True, time.monotonic() - start, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=book.BUILD / "colab-venv")
    parser.add_argument("names", nargs="*", help="twins to run (default: all in _toc.yml)")
    args = parser.parse_args()
    twins = [book.twin_path(chapter) for chapter in book.chapters()]
    if args.names:
        twins = [t for t in twins if t.stem in args.names]
        if len(twins) != len(args.names):
            raise SystemExit(f"unknown twin among {args.names}; expected names like {book.chapters()[0].stem}")
    missing = [t for t in twins if not t.is_file()]
    if missing:
        raise SystemExit(f"missing twins {[t.name for t in missing]}: run .venv/bin/python .ci/twins.py")
    python = make_venv(args.venv.resolve())
    with tempfile.TemporaryDirectory(prefix="lmcourse-kernels-") as jupyter_path:
        os.environ["JUPYTER_PATH"] = str(kernel_dir(python, Path(jupyter_path)))
        failed = []
        for twin in twins:
            ok, seconds, error = run_twin(twin, book.cell_timeout())
            print(f"{'ok    ' if ok else 'FAILED'} {twin.name:45s} {seconds:6.1f} s", flush=True)
            if not ok:
                failed.append(twin.name)
                print("    " + error.replace("\n", "\n    "), flush=True)
    print(f"{len(twins) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
