"""lmcourse_checks: a chapter's checks folded away on the rendered page, never removed.

Chapters check what they compute with `assert`s at the end of a cell (CI runs every one of them).
A reader of the book should see the computation and its result first, so this Sphinx extension
splits each code cell's listing: every run of checks (asserts, and loops or ifs holding only
asserts, with the comment lines just above them) folds into a collapsed "N checks" toggle where
it stood, and the code around it stays in view. A cell made only of checks becomes one toggle. Notebooks (the Colab twins, JupyterLab) keep their cells whole; the cells run
unchanged everywhere, only the page's listing is folded.

`split_checks` is the pure part (source in, segments of code and of checks out) and is what
tests/test_book.py checks; `setup` registers the post-transform that applies it to every cell.
"""

from __future__ import annotations

import ast
import html
import re

from docutils import nodes

__all__ = ["split_checks", "setup"]

_MAGIC = re.compile(r"^\s*[%!]")


def _is_check(statement: ast.stmt) -> bool:
    """An assert, or a for/while/if/with whose every branch holds only checks."""
    if isinstance(statement, ast.Assert):
        return True
    if isinstance(statement, (ast.For, ast.While, ast.If, ast.With)):
        bodies = [statement.body, getattr(statement, "orelse", [])]
        return all(_is_check(s) for body in bodies for s in body)
    return False


def _asserts(statement: ast.stmt) -> int:
    return sum(isinstance(node, ast.Assert) for node in ast.walk(statement))


def split_checks(source: str) -> list[tuple[str, int]]:
    """The cell as segments (text, asserts): each run of top-level check statements, with the
    comment lines directly above it, is a segment with its number of asserts (> 0); the code
    between runs is a segment with 0. A cell that does not parse is one code segment."""
    lines = source.splitlines()
    # IPython magics and shell escapes are not Python: blank them for the parser, same line count.
    try:
        tree = ast.parse("\n".join("" if _MAGIC.match(line) else line for line in lines))
    except SyntaxError:
        return [(source, 0)]
    runs = []  # (first line, last line, asserts), 0-based inclusive, of each run of checks
    for statement in tree.body:
        if not _is_check(statement):
            continue
        first, last = statement.lineno - 1, statement.end_lineno - 1
        if runs and all(not line.strip() or line.lstrip().startswith("#") for line in lines[runs[-1][1] + 1:first]):
            runs[-1] = (runs[-1][0], last, runs[-1][2] + _asserts(statement))
        else:
            runs.append((first, last, _asserts(statement)))
    segments, done = [], 0
    for first, last, count in runs:
        while first > done and lines[first - 1].lstrip().startswith("#"):
            first -= 1  # a comment introducing the checks goes with them
        code = "\n".join(lines[done:first]).strip("\n")
        if code.strip():
            segments.append((code, 0))
        segments.append(("\n".join(lines[first:last + 1]).strip("\n"), count))
        done = last + 1
    rest = "\n".join(lines[done:]).strip("\n")
    if rest.strip() or not segments:
        segments.append((rest if segments else source, 0))
    return segments


_KEEP = ("language", "linenos", "classes", "highlight_args")  # how the listing is highlighted


class FoldedChecks(nodes.Element):
    """A collapsed <details> around a cell's checks."""


def _visit(self, node: FoldedChecks) -> None:
    label = f"{node['count']} check{'s' if node['count'] != 1 else ''} on the results above"
    if node["whole_cell"]:
        label = f"A cell of checks: {node['count']} assert{'s' if node['count'] != 1 else ''}"
    self.body.append(f'<details class="lmcourse-checks"><summary>{html.escape(label)}</summary>\n')


def _depart(self, node: FoldedChecks) -> None:
    self.body.append("</details>\n")


def _fold_checks(app, doctree, docname) -> None:
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code" or not cell.children:
            continue
        source_box = cell.children[0]
        if source_box.get("nb_element") != "cell_code_source":
            continue
        blocks = [b for b in source_box.children if isinstance(b, nodes.literal_block)]
        if len(blocks) != 1:
            continue
        block = blocks[0]
        segments = split_checks(block.astext())
        if all(count == 0 for _, count in segments):
            continue
        keep = {k: v for k, v in block.attributes.items() if k in _KEEP}
        parts = []
        for text, count in segments:
            listing = nodes.literal_block(text, text, **keep)
            if count:
                folded = FoldedChecks(count=count, whole_cell=len(segments) == 1)
                folded += listing
                listing = folded
            parts.append(listing)
        source_box.replace(block, parts)


def setup(app):
    app.add_node(FoldedChecks, html=(_visit, _depart))
    app.connect("doctree-resolved", _fold_checks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
