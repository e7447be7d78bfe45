"""Numbered figures and tables (lmcourse.figures): what a chapter's captions and tables show."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lmcourse.figures import Captions, Table  # noqa: E402


def test_table_is_an_html_table_with_numbers_right_aligned():
    table = Table([{"model": "gpt2-<small>", "params": 124_337_664, "ratio": 0.123456}],
                  formats={"params": ",d"}, caption="<b>Table 1.1</b>: sizes")
    out = table._repr_html_()
    assert "<caption" in out and "<b>Table 1.1</b>: sizes" in out
    assert "<th>model</th><th style='text-align:right'>params</th>" in out
    assert "<td>gpt2-&lt;small&gt;</td><td style='text-align:right'>124,337,664</td>" in out
    assert "<td style='text-align:right'>0.1235</td>" in out  # floats default to 4 significant digits
    assert "overflow-x:auto" in out  # a wide table scrolls on a phone instead of wrapping
    assert repr(table).splitlines() == ["Table 1.1: sizes", "model              params   ratio",
                                        "gpt2-<small>  124,337,664  0.1235"]


def test_table_from_lists_and_callable_formats():
    table = Table([("fp32", 4), ("bf16", 2)], ["dtype", "bytes"], formats={"bytes": lambda b: f"{b} B"})
    assert "<td style='text-align:right'>4 B</td>" in table._repr_html_()


@pytest.mark.parametrize("args, kwargs, match", [
    (([("a", 1)],), {}, "without columns=, rows must be a non-empty list of dicts"),
    (([],), {}, "non-empty list of dicts"),
    (([("a", 1, 2)], ["x", "y"]), {}, "row 0 has 3 values for 2 columns"),
    (([{"x": 1}],), {"formats": {"y": ".2f"}}, r"formats for unknown column\(s\) \['y'\]"),
])
def test_table_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Table(*args, **kwargs)


def test_captions_number_figures_and_tables_in_order(capsys):
    captions = Captions(9)
    plt.plot([1, 2], [3, 4])
    assert captions.figure("loss against tokens") == "Figure 9.1"
    assert not plt.get_fignums(), "the figure is closed, so the cell does not show it twice"
    fig, ax = plt.subplots()
    ax.plot([1], [1])
    assert captions.figure("a second one", fig) == "Figure 9.2"
    table = captions.table([{"N": 1}], "runs")
    assert table.caption == "<b>Table 9.1</b>: runs"
    printed = capsys.readouterr().out  # outside a notebook, display() prints the text forms
    assert "Figure 9.1: loss against tokens" in printed and "Table 9.1: runs" in printed
    with pytest.raises(ValueError, match="nothing drawn"):
        plt.figure()
        captions.figure("empty")
    plt.close("all")
    with pytest.raises(ValueError, match="caption: empty"):
        captions.table([{"N": 1}], "  ")
    with pytest.raises(TypeError, match="caption"):
        captions.table([{"N": 1}], None)
    with pytest.raises(ValueError, match="chapter"):
        Captions(0)


def test_a_cell_that_ends_in_the_call_shows_the_figure_and_table_once(capsys):
    from IPython.core.formatters import DisplayFormatter

    captions, formatter = Captions(3), DisplayFormatter()  # the formatter IPython runs on a cell's last value
    plt.plot([1, 2], [3, 4])
    label = captions.figure("loss against tokens")
    table = captions.table([{"N": 1}], "runs")
    assert label == "Figure 3.1" and table.rows == [[1]]
    assert formatter.format(label) == ({}, {}) and formatter.format(table) == ({}, {})  # shown above already
    capsys.readouterr()
    formatter.format(Table([{"N": 2}]))  # a table no caption showed still shows itself
    assert "N\n2" in capsys.readouterr().out
