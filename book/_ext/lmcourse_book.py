"""lmcourse_book: what the book's build, tests and Colab twins agree on, plus the Sphinx hooks.

One module so that nothing can drift: the list of chapters (read from `_toc.yml`), the repository
(read from `_config.yml`'s `repository:`), where the build folders live, what a Colab twin
contains, and the Colab link the rendered page carries all come from here. `.ci/book.py`,
`.ci/twins.py`, `tests/conftest.py` and `tests/test_book.py` import it from `book/_ext`.

As a Sphinx extension (`sphinx.local_extensions` in `_config.yml`) it
- puts an "Open in Colab" link under the title of every chapter, pointing at its twin, and a link
  that downloads the executed twin (the twin with the cached execution's outputs);
- serves MathJax 3 from the book's own `_static/` when `.ci/book.py js` has installed it with npm
  into `_build/js/`, and falls back to Sphinx's CDN default when it is absent. The widgets need no
  widget library: they are live widgets (`lmcourse.widgets._live`), plain HTML with their own script;
  so the ipywidgets embedder is never loaded.
- folds each cell's checks into a collapsed toggle (`lmcourse_checks`) and renders the glossary with
  links to the sections that teach its terms (`lmcourse_glossary`);
- makes the visible menu and contents buttons work (`static/lmcourse-nav.js`) and drops the
  second, search-only top bar (`static/lmcourse.css`).
It leaves out everything else: building and executing are `.ci/book.py`'s job.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
JUPYTER_CACHE = BUILD / ".jupyter_cache"  # Jupyter Book's default (next to _build/html)
EXECUTED_NOTEBOOKS = BUILD / "notebooks"  # jupytext conversions that nbval executes
JS_PREFIX = BUILD / "js"  # `npm install --prefix` target for the offline JavaScript
TWINS = ROOT / "notebooks"  # Colab twins, committed

# npm packages the rendered book loads.
JS_PACKAGES = {"mathjax": "3.2.2"}
EXECUTED_DOWNLOADS = "_notebooks"  # folder under the built site holding each chapter's executed .ipynb
STATIC_JS = "lmcourse-js"  # folder under _static/ that holds them in the built book
# source in node_modules -> destination under _static/lmcourse-js (files or folders)
_JS_FILES = {"mathjax/es5": "mathjax"}
_COLAB = "https://colab.research.google.com/github"


# --------------------------------------------------------------------------------------------
# The book's configuration


def config(root: Path = ROOT) -> dict:
    """The parsed `_config.yml`."""
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf8")) or {}


def cell_timeout(root: Path = ROOT) -> int:
    """Seconds one cell may run; the book build and nbval both use it."""
    return int(config(root).get("execute", {}).get("timeout", 180))


def repository(root: Path = ROOT) -> tuple[str, str, str]:
    """(url, "owner/name", branch) of the repository, from `_config.yml`'s `repository:`."""
    repo = config(root).get("repository", {})
    url = str(repo.get("url", "")).rstrip("/")
    path = urlparse(url).path.strip("/")
    if urlparse(url).netloc != "github.com" or path.count("/") != 1:
        raise ValueError(
            f"_config.yml repository.url={url!r}; expected https://github.com/OWNER/NAME"
        )
    return url, path.removesuffix(".git"), str(repo.get("branch", "main"))


def toc_docnames(root: Path = ROOT) -> list[str]:
    """Every document in `_toc.yml`, in reading order (root first)."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    site_map = parse_toc_yaml(str(root / "_toc.yml"))
    ordered: list[str] = []

    def walk(docname: str) -> None:
        ordered.append(docname)
        for subtree in site_map[docname].subtrees:
            for child in subtree.files():
                walk(child)

    walk(site_map.root.docname)
    return ordered


def front_matter(path: Path) -> dict:
    """The YAML top matter of a MyST markdown file ({} when it has none)."""
    text = path.read_text(encoding="utf8")
    match = re.match(r"---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.S)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def is_notebook(path: Path) -> bool:
    """A chapter is a MyST markdown notebook: its top matter names a kernel."""
    return path.suffix == ".md" and "kernelspec" in front_matter(path)


def chapters(root: Path = ROOT) -> list[Path]:
    """The notebooks of the book: documents of `_toc.yml` whose source has a kernelspec."""
    found = []
    for docname in toc_docnames(root):
        path = root / f"{docname}.md"
        if path.is_file() and is_notebook(path):
            found.append(path)
    return found


def read_as_built(chapter: Path, root: Path = ROOT):
    """The chapter as the book build reads it (myst-nb's own reader, with the book's MyST
    extensions), so that its jupyter-cache hash is the one the build will look up."""
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    extensions = config(root).get("parse", {}).get("myst_enable_extensions", [])
    md_config = MdParserConfig(enable_extensions=set(extensions))
    return read_myst_markdown_notebook(
        chapter.read_text(encoding="utf8"), config=md_config, add_source_map=True, path=str(chapter)
    )


# --------------------------------------------------------------------------------------------
# Colab twins


def twin_path(chapter: Path) -> Path:
    return TWINS / f"{chapter.stem}.ipynb"


def colab_url(chapter: Path, root: Path = ROOT) -> str:
    _, slug, branch = repository(root)
    return f"{_COLAB}/{slug}/blob/{branch}/notebooks/{chapter.stem}.ipynb"


def package_ref(root: Path = ROOT) -> str:
    """The git ref (branch or release tag) the twins install lmcourse from: `repository.package_ref`."""
    ref = str(config(root).get("repository", {}).get("package_ref", "")).strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", ref):
        raise ValueError(f"_config.yml repository.package_ref={ref!r}; expected a branch or tag such as main or v0.2.0")
    return ref


def install_source(root: Path = ROOT) -> str:
    """The first cell of every twin: install lmcourse where it is missing (Colab)."""
    url, _, _ = repository(root)
    return (
        "# On Colab (or any Python without lmcourse), install the course package first.\n"
        "import importlib.util\n"
        'if importlib.util.find_spec("lmcourse") is None:\n'
        f'    %pip install -q "lmcourse @ git+{url}@{package_ref(root)}"'
    )


def twin_text(chapter: Path, root: Path = ROOT) -> str:
    """The .ipynb twin of a chapter, as the exact text `.ci/twins.py` writes: no outputs."""
    import jupytext
    import nbformat

    nb = jupytext.read(chapter, fmt="md:myst")
    install = nbformat.v4.new_code_cell(install_source(root))
    install.metadata["tags"] = ["colab-install"]
    nb.cells.insert(0, install)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # stable ids: the twin changes only when the chapter does
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = {
        "kernelspec": nb.metadata.get("kernelspec", {}),
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nbformat.writes(nb, version=4) + "\n"  # validates; sources split into lines


# --------------------------------------------------------------------------------------------
# Offline JavaScript


def js_installed() -> bool:
    node_modules = JS_PREFIX / "node_modules"
    return all((node_modules / src).exists() for src in _JS_FILES)


def _use_local_js(app, config_) -> None:
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    app.lmcourse_local_js = js_installed()
    # No page embeds ipywidgets (tests/test_rendered_book.py checks it), so myst-nb must not load
    # their embedder from a CDN either.
    config_.nb_ipywidgets_js = {}
    if not app.lmcourse_local_js:
        log.info("[lmcourse] offline MathJax not installed (`.ci/book.py js`); using its CDN")
        return
    if not config_.mathjax_path or "://" in config_.mathjax_path:
        config_.mathjax_path = f"{STATIC_JS}/mathjax/tex-mml-chtml.js"
    log.info(f"[lmcourse] MathJax served from _static/{STATIC_JS}")


def _copy_local_js(app, exception) -> None:
    if exception is not None or app.builder.format != "html" or not app.lmcourse_local_js:
        return
    node_modules = JS_PREFIX / "node_modules"
    dest = Path(app.outdir) / "_static" / STATIC_JS
    for src, name in _JS_FILES.items():
        source = node_modules / src
        if source.is_dir():
            ignore = shutil.ignore_patterns("*.map", "*.LICENSE.txt")  # never loaded
            shutil.copytree(source, dest / name, dirs_exist_ok=True, ignore=ignore)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


# --------------------------------------------------------------------------------------------
# The Colab link under each chapter title


def _add_colab_badge(app, doctree) -> None:
    from docutils import nodes

    docname = app.env.docname
    if "kernelspec" not in app.env.metadata.get(docname, {}):
        return  # not a notebook: no twin
    chapter = Path(app.srcdir) / f"{docname}.md"
    if not chapter.is_file():
        return
    executed = posixpath.relpath(f"{EXECUTED_DOWNLOADS}/{docname}.ipynb", posixpath.dirname(docname) or ".")
    html = (
        f'<p class="lmcourse-colab"><a href="{colab_url(chapter, Path(app.srcdir))}" '
        f'target="_blank" rel="noopener">Open in Colab</a> '
        f'<a class="lmcourse-download" href="{executed}" download="{chapter.stem}.ipynb">'
        f'Download the executed notebook</a> '
        f'<span class="lmcourse-colab-note">(notebooks/{chapter.stem}.ipynb, with this page\'s outputs)</span></p>'
    )
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is not None:
            section.insert(section.index(title) + 1, nodes.raw("", html, format="html"))
            return


def executed_twin(chapter: Path, cache_path: Path = JUPYTER_CACHE, root: Path = ROOT):
    """The chapter's Colab twin with the outputs of its cached execution (what the page shows), or None when the cache has no execution of the chapter's current code. This is the
    notebook a reader downloads: it opens in Jupyter with the book's outputs and runs in Colab as is."""
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    try:
        record = cache.match_cache_notebook(read_as_built(chapter, root))
    except KeyError:
        return None
    executed = cache.get_cache_bundle(record.pk).nb
    twin = nbformat.reads(twin_text(chapter, root), as_version=4)
    twin_code = [c for c in twin.cells if c.cell_type == "code" and "colab-install" not in c.metadata.get("tags", [])]
    done = [c for c in executed.cells if c.cell_type == "code"]
    if [c.source for c in twin_code] != [c.source for c in done]:
        raise RuntimeError(f"{chapter}: its twin and its cached execution have different code cells")
    for count, (cell, ran) in enumerate(zip(twin_code, done), start=1):  # as if run top to bottom once
        cell.outputs, cell.execution_count = ran.outputs, count
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    return twin


def _write_executed_notebooks(app, exception) -> None:
    """Put each chapter's executed twin next to the pages, where the link under the title points."""
    if exception is not None or app.builder.format != "html":
        return
    import nbformat

    cache_path = Path(app.config.nb_execution_cache_path or JUPYTER_CACHE)
    for chapter in chapters(Path(app.srcdir)):
        nb = executed_twin(chapter, cache_path, Path(app.srcdir))
        if nb is None:
            continue  # not executed: the page shows no outputs either
        target = Path(app.outdir) / EXECUTED_DOWNLOADS / chapter.relative_to(app.srcdir).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated scripts: Sphinx 7.4 lists inline scripts added after the builder started
    twice (filename None and ""), and sphinx-thebe's second `const THEBE_JS_URL` is a script error."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
        key = (str(getattr(script, "filename", script) or ""), attributes)  # None == ""
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _add_static_path(app, config_) -> None:
    config_.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app):
    app.setup_extension("lmcourse_checks")  # checks folded under the code they check
    app.setup_extension("lmcourse_glossary")  # book/glossary.md's terms, linked to their sections
    app.connect("config-inited", _use_local_js, priority=400)
    app.connect("build-finished", _copy_local_js)
    app.connect("build-finished", _write_executed_notebooks)
    app.connect("doctree-read", _add_colab_badge)
    app.connect("config-inited", _add_static_path)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.add_css_file("lmcourse.css")
    app.add_js_file("lmcourse-nav.js")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
