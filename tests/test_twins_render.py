"""What a notebook reader sees: each Colab twin rendered by a real notebook renderer (nbconvert's
HTML exporter, which renders Markdown cells as Jupyter does) must show no syntax that only the
book's Sphinx build understands: directives (```{name}, :::), roles ({ref}`x`), targets ((label)=),
or jupytext/MyST cell markers. Such text appears raw in Colab and JupyterLab, and the reader loses
whatever it was meant to show (a code listing, a cross-reference, a note)."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import lmcourse_book as book  # noqa: E402

nbconvert = pytest.importorskip("nbconvert")

RAW = {
    "a MyST directive": re.compile(r"```+\s*\{[a-z][\w-]*\}|^:::+\s*\{?[a-z]", re.M),
    "a MyST role": re.compile(r"(?<![\w}\\])\{[a-z][\w:-]*\}`"),  # not TeX's \frac{a}{b} before a backtick
    "a MyST target": re.compile(r"^\([\w.-]+\)=\s*$", re.M),
    "a directive option": re.compile(r"^:(tags|pyobject|language|name|class|label|caption):", re.M),
    "a jupytext cell marker": re.compile(r"^\+\+\+\s*$", re.M),
}


class _Text(HTMLParser):
    """The text a reader sees in the rendered Markdown cells (code outside them is skipped)."""

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if self.depth or "jp-MarkdownCell" in classes:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def rendered_markdown_text(twin: Path) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    html, _ = exporter.from_filename(str(twin))
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def raw_syntax(text: str) -> list[str]:
    found = []
    for what, pattern in RAW.items():
        for match in pattern.finditer(text):
            line = text[text.rfind("\n", 0, match.start()) + 1: text.find("\n", match.end())]
            found.append(f"{what}: {line.strip()[:100]!r}")
    return found


def test_the_detector_sees_sphinx_only_syntax():
    for sample in ["```{literalinclude} ../x.py", "::: {note}", "see {numref}`fig-1`", "(sec-rope)=",
                   ":pyobject: RMSNorm", "+++"]:
        assert raw_syntax(sample), sample
    assert not raw_syntax("plain prose with `code`, $x^2$ and a ```python fence")
    assert not raw_syntax("written `a/b` or `\\frac{a}{b}`")  # TeX in inline code is no role


@pytest.mark.slow
@pytest.mark.parametrize("chapter", book.chapters(), ids=lambda p: p.stem)
def test_twin_shows_no_raw_sphinx_syntax(chapter):
    twin = book.twin_path(chapter)
    if not twin.is_file():
        pytest.skip("missing twin (reported by test_book.py)")
    text = rendered_markdown_text(twin)
    assert len(text) > 1000, f"{twin.name}: the renderer found almost no Markdown text; is the parser still right?"
    # a fence like ```{note} renders as a code block whose text hides the directive's name: read the sources too
    import nbformat

    sources = "\n".join(c.source for c in nbformat.read(twin, as_version=4).cells if c.cell_type == "markdown")
    problems = sorted(set(raw_syntax(text) + raw_syntax(sources)))
    assert not problems, f"{twin.name} shows raw Sphinx-only syntax to a notebook reader:\n  " + "\n  ".join(problems)
