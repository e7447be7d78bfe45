"""Build steps for the book, called by .ci/build-book and .ci/test (run with .venv/bin/python).

    book.py notebooks                 jupytext: each chapter in _toc.yml -> _build/notebooks/book/*.ipynb
    book.py js                        npm: MathJax into _build/js (skipped when present)
    book.py build --mode force|cache  jupyter-book build into _build/html (executing per --mode)
          [--require-cached]          ... and fail if the build executed anything (cache mode only)
    book.py timeout                   the per-cell timeout from _config.yml

`build` writes a derived config, _build/config/_config.yml, that differs from _config.yml only
in `execute:` (mode and an absolute cache path) and in absolute extension paths.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import lmcourse_book as book  # noqa: E402


def convert_notebooks() -> list[Path]:
    """Write every chapter as .ipynb under _build/notebooks/, mirroring its place in the repo."""
    import jupytext

    out_root = book.EXECUTED_NOTEBOOKS
    if out_root.exists():
        shutil.rmtree(out_root)  # no stale notebook of a removed chapter gets executed
    written = []
    for chapter in book.chapters():
        target = out_root / chapter.relative_to(ROOT).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(jupytext.read(chapter, fmt="md:myst"), target, fmt="ipynb")
        written.append(target)
    return written


def install_js() -> None:
    """npm-install the pinned JavaScript packages into _build/js, unless already there."""
    node_modules = book.JS_PREFIX / "node_modules"

    def installed(name: str) -> str | None:
        manifest = node_modules / name / "package.json"
        return json.loads(manifest.read_text())["version"] if manifest.is_file() else None

    missing = [f"{n}@{v}" for n, v in book.JS_PACKAGES.items() if installed(n) != v]
    if not missing:
        print(f"JavaScript packages present in {book.JS_PREFIX.relative_to(ROOT)}")
        return
    if shutil.which("npm") is None:
        print("npm not found: the book will load MathJax from its CDN", file=sys.stderr)
        return
    book.JS_PREFIX.mkdir(parents=True, exist_ok=True)
    # a package.json of our own keeps npm from walking up into the repository
    (book.JS_PREFIX / "package.json").write_text('{"name": "lmcourse-book-js", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--prefix", str(book.JS_PREFIX), "--no-save", "--no-package-lock",
         "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", *missing],
        check=True,
    )
    print(f"installed {' '.join(missing)} into {book.JS_PREFIX.relative_to(ROOT)}")


def derived_config(mode: str) -> Path:
    import yaml

    cfg = book.config()
    cfg.setdefault("execute", {})["execute_notebooks"] = mode
    cfg["execute"]["cache"] = str(book.JUPYTER_CACHE)
    sphinx = cfg.setdefault("sphinx", {})
    sphinx["local_extensions"] = {
        name: str((ROOT / path).resolve()) for name, path in (sphinx.get("local_extensions") or {}).items()
    }
    path = book.BUILD / "config" / "_config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def cache_records() -> dict[int, str]:
    from jupyter_cache import get_cache

    return {r.pk: r.hashkey for r in get_cache(str(book.JUPYTER_CACHE)).list_cache_records()}


def uncached_chapters() -> list[Path]:
    """Chapters whose current code has no executed notebook in the cache."""
    from jupyter_cache import get_cache

    cache = get_cache(str(book.JUPYTER_CACHE))
    missing = []
    for chapter in book.chapters():
        try:
            cache.match_cache_notebook(book.read_as_built(chapter))
        except KeyError:
            missing.append(chapter)
    return missing


def build(mode: str, require_cached: bool) -> int:
    if require_cached:
        if mode != "cache":
            sys.exit("--require-cached needs --mode cache")
        missing = uncached_chapters()
        if missing:
            names = ", ".join(str(p.relative_to(ROOT)) for p in missing)
            sys.exit(f"not executed by the notebook tests (no cache entry): {names}\n"
                     "run the notebook phase of .ci/test first (it fills _build/.jupyter_cache)")
    install_js()
    config = derived_config(mode)
    before = cache_records() if require_cached else {}
    env = dict(os.environ, CI=os.environ.get("CI") or "true")  # quiet progress bars, as in tests
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
           "--config", str(config), "--toc", str(ROOT / "_toc.yml"),
           "--builder", "html", "-W", "--keep-going", "--all"]
    shutil.rmtree(book.BUILD / "html", ignore_errors=True)  # no stale page of a removed chapter
    print("+", " ".join(cmd), flush=True)
    start = time.monotonic()
    status = subprocess.run(cmd, env=env, cwd=ROOT).returncode
    print(f"jupyter-book build ({mode} mode): exit {status} in {time.monotonic() - start:.1f} s")
    if status == 0 and require_cached:
        added = set(cache_records().items()) - set(before.items())
        if added:
            print(f"FAILED: the build executed {len(added)} notebook(s) itself instead of using the "
                  "notebook tests' execution (jupyter-cache records added: "
                  f"{sorted(pk for pk, _ in added)})", file=sys.stderr)
            return 1
        print(f"the build executed nothing: all {len(book.chapters())} chapter(s) came from the cache")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("notebooks")
    sub.add_parser("js")
    sub.add_parser("timeout")
    b = sub.add_parser("build")
    b.add_argument("--mode", choices=["force", "cache"], default="force")
    b.add_argument("--require-cached", action="store_true")
    args = parser.parse_args()
    if args.command == "notebooks":
        written = convert_notebooks()
        for path in written:
            print(path.relative_to(ROOT))
        print(f"{len(written)} chapter(s) converted into {book.EXECUTED_NOTEBOOKS.relative_to(ROOT)}")
    elif args.command == "js":
        install_js()
    elif args.command == "timeout":
        print(book.cell_timeout())
    elif args.command == "build":
        return build(args.mode, args.require_cached)
    return 0


if __name__ == "__main__":
    sys.exit(main())
