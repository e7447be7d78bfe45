"""The speculative-decoding widget plots lmcourse.accounting.speculative's formulas, and its sliders
pick the panel, in Python and in the reader's browser (js/speculative.js, checked against the
Python panel in Chromium). The sampling itself is tested in test_speculative.py."""


import numpy as np
import pytest

import browser
from lmcourse.accounting.speculative import best_gamma, expected_speedup, expected_tokens_per_call
from lmcourse.widgets.speculative import (COST_CHOICES, GAMMA_CHOICES, speculative_curves, speculative_panel_html,
                                          speculative_widget)

needs_browser = browser.needs_browser()

# Points as chapter 10 measures them (a numpy float among them), a speedup only for gamma = 3.
MEASURED = {1: [(0.55, 1.5, None)], 3: [(np.float32(0.612), 2.3, 0.83), (0.9, 3.4, None)], 8: []}


def test_curves_and_panel():
    curves = speculative_curves(3, 0.2, num_points=5)
    assert curves.tokens_per_call[0] == 1 and curves.tokens_per_call[-1] == 4
    assert curves.speedup[-1] == pytest.approx(4 / 1.6)
    assert best_gamma(0.9, 0.0, max_gamma=8) == 8 and best_gamma(0.5, 0.5) == 1
    panel = speculative_panel_html(4, 0.1, [(0.7, 2.6, 1.8)])
    assert panel.count("<circle") == 1 and panel.count("<rect") == 2  # the frame and the measured speedup
    row = f"<td>0.8</td><td>{expected_tokens_per_call(0.8, 4):.2f}</td><td>{expected_speedup(0.8, 4, 0.1):.2f}</td>"
    assert row == "<td>0.8</td><td>3.36</td><td>2.40</td>" and row in panel
    with pytest.raises(ValueError, match="num_points=1"):
        speculative_curves(3, 0.2, num_points=1)


def test_widget_panel_is_the_python_panel_for_its_settings():
    widget = speculative_widget(4, 0.1, MEASURED)
    assert widget.settings == {"gamma": 4, "cost_ratio": 0.1}
    assert widget.panel() == widget.initial == speculative_panel_html(4, 0.1)
    assert "<circle" not in widget.panel() and "Points: measured" not in widget.panel()
    three = widget.panel(gamma=3, cost_ratio=0.5)
    assert three == speculative_panel_html(3, 0.5, MEASURED[3]) and three.count("<circle") == 2
    assert "gamma = <b>3</b>" in three and "c = <b>0.5</b>" in three
    assert widget.data["measured"] == {"1": [(0.55, 1.5, None)], "3": MEASURED[3], "8": []}
    assert widget.controls["cost_ratio"].labels == ("0", "0.05", "0.1", "0.2", "0.3", "0.5")
    with pytest.raises(ValueError, match="cost_ratio=0.4"):
        widget.panel(cost_ratio=0.4)  # not on the slider


def test_widget_bad_input():
    with pytest.raises(ValueError, match="gamma=7"):
        speculative_widget(7)
    with pytest.raises(ValueError, match="cost_ratio=0.15"):
        speculative_widget(4, 0.15)
    with pytest.raises(ValueError, match="measured gamma=7"):
        speculative_widget(4, 0.1, {7: [(0.5, 1.5, None)]})
    with pytest.raises(ValueError, match=r"measured\[3\] holds \(0.5, 1.5\)"):
        speculative_widget(4, 0.1, {3: [(0.5, 1.5)]})
    with pytest.raises(ValueError, match="alpha in"):
        speculative_widget(4, 0.1, {3: [(1.5, 1.5, None)]})
    with pytest.raises(TypeError, match="measured is a list"):
        speculative_widget(4, 0.1, [(0.5, 1.5, None)])
    with pytest.raises(ValueError, match="cost_choices holds -0.1"):
        speculative_widget(4, 0.1, cost_choices=(0.1, -0.1))


# ---- in the browser: js/speculative.js draws what speculative_panel_html draws --------------------

@pytest.fixture(scope="module")
def page():
    yield from browser.widget_page_in_own_browser(speculative_widget(3, 0.3, MEASURED))


@needs_browser
@pytest.mark.parametrize("options", [dict(measured=MEASURED), dict(),
                                     dict(gamma_choices=(1, 12, 16, 17), cost_choices=(0.0, 0.01, 1 / 3, 2.0))],
                         ids=["book", "no-points", "other-grid"])
def test_renderer_draws_the_python_panel_at_every_setting(page, options):
    """Every (gamma, c) of the grid, with and without measured points; the other grid has gammas
    whose y axis ticks step by more than one, costs whose best gamma is 1 and 16 alike, and a c
    that prints with many digits."""
    widget = speculative_widget(options.get("gamma_choices", GAMMA_CHOICES)[0],
                                options.get("cost_choices", COST_CHOICES)[0], **options)
    settings = [dict(gamma=g, cost_ratio=c) for g in widget.controls["gamma"].values
                for c in widget.controls["cost_ratio"].values]
    for s, js in zip(settings, browser.render(page, "speculative", widget.data, settings), strict=True):
        browser.assert_same_panel(js, widget.panel(**s), s)


@needs_browser
def test_moving_the_sliders_redraws_the_panel(page):
    widget = speculative_widget(3, 0.3, MEASURED)
    panel = page.locator(".lmcourse-live-panel")

    def shows(**changes):
        browser.assert_same_panel(panel.inner_html(), browser.same_markup(page, widget.panel(**changes)), changes)

    def slide(name, value):
        index = widget.controls[name].values.index(value)
        page.locator(f"[data-control={name}]").evaluate(
            f"e => {{ e.value = '{index}'; e.dispatchEvent(new Event('input', {{bubbles: true}})); }}")
        assert page.locator(f"[data-readout={name}]").inner_text() == f"{value:g}"

    shows()
    assert panel.locator("circle").count() == 2 and panel.locator("rect").count() == 2
    slide("cost_ratio", 0.05)
    shows(cost_ratio=0.05)
    assert "speedup at c = 0.05" in panel.inner_text()
    slide("gamma", 8)
    shows(gamma=8, cost_ratio=0.05)
    assert panel.locator("circle").count() == 0 and "Points: measured" not in panel.inner_text()
    slide("gamma", 1)
    slide("cost_ratio", 0.0)
    shows(gamma=1, cost_ratio=0.0)
    assert panel.locator("circle").count() == 1 and panel.locator("rect").count() == 1  # no measured speedup
