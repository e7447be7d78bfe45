"""Numbered figures and tables for a chapter, shown alike in the book, Colab and JupyterLab.

A chapter makes one `Captions(chapter)` and shows each figure with `captions.figure(caption)` and
each table with `captions.table(rows, caption)`: the outputs carry "Figure 9.2" or "Table 9.1" and the
caption, numbered in the order the cells run (the chapter's order), so the prose can refer to them
the way a textbook does. Everything is a plain cell output (the figure as the notebook's own image,
the caption and the table as HTML with a text fallback), so it needs no Sphinx role and reads the
same wherever the chapter runs. A table is an HTML table: it lines up in any font, scrolls instead
of wrapping on a phone, and right-aligns numbers.

Left out: cross-references that follow a figure when it moves (the prose names the number, and
tests/test_book.py checks that every "Figure N.M" it names exists), lists of figures, and math in
captions (write it in Unicode: α, ≈, ×).
"""

from __future__ import annotations

import html
import numbers
import re
from collections.abc import Callable, Mapping, Sequence

from lmcourse import checks

__all__ = ["Captions", "Table"]

_CAPTION_STYLE = "margin:0.2em 0 1em;font-size:0.92em;text-align:center"


class Table:
    """Rows under a header, rendered as an HTML table (text in a terminal). `formats` maps a column
    to a format spec (",.0f", ".3g") or a function of the value; numbers are right-aligned."""

    def __init__(self, rows: Sequence, columns: Sequence[str] | None = None, *, caption: str = "",
                 formats: Mapping[str, str | Callable] | None = None):
        rows = list(rows)
        if columns is None:
            if not rows or not all(isinstance(r, Mapping) for r in rows):
                raise ValueError("Table: without columns=, rows must be a non-empty list of dicts (the keys "
                                 "name the columns)")
            columns = list(rows[0])
        columns = [str(c) for c in columns]
        cells = []
        for i, row in enumerate(rows):
            values = [row.get(c, "") for c in columns] if isinstance(row, Mapping) else list(row)
            if len(values) != len(columns):
                raise ValueError(f"Table: row {i} has {len(values)} values for {len(columns)} columns {columns}")
            cells.append(values)
        formats = dict(formats or {})
        unknown = sorted(set(formats) - set(columns))
        if unknown:
            raise ValueError(f"Table: formats for unknown column(s) {unknown}; the columns are {columns}")
        self.columns, self.rows, self.caption, self.formats = columns, cells, caption, formats
        self._shown = False  # set by Captions.table, which has shown it already

    def _text(self, column: str, value) -> str:
        fmt = self.formats.get(column)
        if callable(fmt):
            return str(fmt(value))
        if fmt is not None and value != "":
            return format(value, fmt)
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    @staticmethod
    def _numeric(value) -> bool:
        return isinstance(value, numbers.Number) and not isinstance(value, bool)

    def _repr_html_(self) -> str:
        right = [all(self._numeric(row[j]) or row[j] == "" for row in self.rows) and
                 any(self._numeric(row[j]) for row in self.rows) for j in range(len(self.columns))]
        align = lambda j: " style='text-align:right'" if right[j] else ""  # noqa: E731
        head = "".join(f"<th{align(j)}>{html.escape(c)}</th>" for j, c in enumerate(self.columns))
        body = "".join("<tr>" + "".join(f"<td{align(j)}>{html.escape(self._text(self.columns[j], v))}</td>"
                                        for j, v in enumerate(row)) + "</tr>" for row in self.rows)
        caption = f"<caption style='caption-side:top;{_CAPTION_STYLE}'>{self.caption}</caption>" if self.caption else ""
        return (f"<div class='lmcourse-table' style='overflow-x:auto'><table class='table'>{caption}"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")

    def _ipython_display_(self) -> None:
        if self._shown:  # a cell that ends in captions.table(...) shows the table once, not twice
            return
        from IPython.display import display

        display(_View(self))

    def __repr__(self) -> str:
        texts = [[self._text(c, v) for c, v in zip(self.columns, row)] for row in self.rows]
        widths = [max([len(c)] + [len(t[j]) for t in texts]) for j, c in enumerate(self.columns)]
        line = lambda cells: "  ".join(c.rjust(w) if j else c.ljust(w)  # noqa: E731
                                       for j, (c, w) in enumerate(zip(cells, widths)))
        title = [html.unescape(_strip_tags(self.caption))] if self.caption else []
        return "\n".join(title + [line(self.columns)] + [line(t) for t in texts])


class _View:
    """What shows a Table: its HTML and text forms."""

    def __init__(self, table: Table):
        self.table = table

    def _repr_html_(self) -> str:
        return self.table._repr_html_()

    def __repr__(self) -> str:
        return repr(self.table)


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


class _Label(str):
    """The label ("Figure 9.2") that Captions.figure returns; a cell that ends in the call does not show it."""

    def _ipython_display_(self) -> None:
        pass


class _Caption:
    def __init__(self, label: str, text: str):
        self.label, self.text = label, text

    def _repr_html_(self) -> str:
        return f"<p class='lmcourse-caption' style='{_CAPTION_STYLE}'><b>{self.label}</b>: {html.escape(self.text)}</p>"

    def __repr__(self) -> str:
        return f"{self.label}: {self.text}"


def _caption(caption) -> str:
    checks.text("caption", caption)
    if not caption.strip():
        raise ValueError("caption: empty; say what the reader should see")
    return caption


class Captions:
    """Figure and table numbers of chapter `chapter`; see the module docstring."""

    def __init__(self, chapter: int):
        checks.positive_int("chapter", chapter)
        self.chapter, self.figures, self.tables = chapter, 0, 0

    def figure(self, caption: str, fig=None) -> str:
        """Show `fig` (matplotlib's current figure by default, laid out tight) and, under it,
        "Figure N.M: caption"; returns the label. The figure is closed, so the cell does not show it
        a second time, and a cell that ends in the call does not show the label."""
        _caption(caption)
        import matplotlib.pyplot as plt
        from IPython.display import display

        fig = plt.gcf() if fig is None else fig
        if not fig.get_axes():
            raise ValueError("Captions.figure: the figure has nothing drawn on it; draw, then call figure()")
        if not fig.get_constrained_layout():
            fig.tight_layout()  # labels inside the image, whatever its size
        self.figures += 1
        label = f"Figure {self.chapter}.{self.figures}"
        display(fig)
        plt.close(fig)
        display(_Caption(label, caption))
        return _Label(label)

    def table(self, rows: Sequence, caption: str, columns: Sequence[str] | None = None, *,
              formats: Mapping[str, str | Callable] | None = None) -> Table:
        """Show `rows` as "Table N.M: caption" (see `Table` for rows, columns and formats) and return it
        (a cell that ends in the call shows it once)."""
        _caption(caption)
        from IPython.display import display

        self.tables += 1
        label = f"Table {self.chapter}.{self.tables}"
        table = Table(rows, columns, caption=f"<b>{label}</b>: {html.escape(caption)}", formats=formats)
        display(table)
        table._shown = True
        return table
