"""The LSH S-curve widget shows what lmcourse.data.lsh computes, and its sliders pick the panel, in
Python and in the reader's browser (js/lsh.js, checked against the Python panel in Chromium)."""

import re

import numpy as np
import pytest

import browser
from lmcourse.data.lsh import lsh_candidate_probability, lsh_threshold
from lmcourse.widgets import lsh_scurve_widget, scurve_panel_html, scurve_points, scurve_svg
from lmcourse.widgets.lsh import BAND_CHOICES, ROW_CHOICES, empirical_points

needs_browser = browser.needs_browser()


def test_scurve_points_are_the_banding_formula():
    curve = scurve_points(20, 5, num_points=11)
    s = np.linspace(0, 1, 11)
    np.testing.assert_allclose(curve.similarity, s)
    np.testing.assert_allclose(curve.probability, 1 - (1 - s**5) ** 20)
    assert curve.threshold == pytest.approx((1 / 20) ** (1 / 5))
    assert curve.probability[0] == 0 and curve.probability[-1] == 1
    assert np.all(np.diff(curve.probability) >= 0)  # more similar pairs are never less likely candidates
    # MMDS's example (b = 20, r = 5): a pair at s = 0.8 is missed about once in 3,000.
    assert 1 - lsh_candidate_probability(0.8, 20, 5) == pytest.approx(0.00035, abs=1e-5)


def test_threshold_is_near_the_steepest_point():
    for b, r in [(16, 8), (20, 5), (32, 4), (8, 10)]:
        curve = scurve_points(b, r, num_points=2001)
        steepest = curve.similarity[np.argmax(np.gradient(curve.probability))]
        assert abs(steepest - curve.threshold) < 0.07, (b, r, steepest, curve.threshold)


def test_scurve_points_bad_input():
    with pytest.raises(ValueError, match="num_points"):
        scurve_points(4, 4, num_points=1)
    with pytest.raises(ValueError, match="num_bands"):
        scurve_points(0, 4)


def test_empirical_points_follow_the_curve_and_are_cached():
    points = empirical_points(8, 4)
    assert empirical_points(8, 4) is points  # computed once per (b, r)
    s, rate = np.array(points).T
    assert s[0] == 0 and s[-1] == 1 and rate[0] == 0 and rate[-1] == 1
    # 100 pairs per point: within 4 standard errors of the formula.
    p = lsh_candidate_probability(s, 8, 4)
    assert np.all(np.abs(rate - p) <= 4 * np.sqrt(p * (1 - p) / 100) + 1e-9)


def test_svg_draws_curve_threshold_points_and_marker():
    curve = scurve_points(16, 8)
    svg = scurve_svg(curve, [(0.5, 0.1), (0.9, 1.0)], jaccard_threshold=0.8)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<circle") == 2 and svg.count("<polyline") == 1
    assert f"(1/b)^(1/r) = {lsh_threshold(16, 8):.2f}" in svg and "verify at 0.8" in svg
    assert len(re.findall(r"-?\d+\.\d,-?\d+\.\d", svg)) == len(curve.similarity)  # one vertex per point
    assert "<circle" not in scurve_svg(curve) and "verify at" not in scurve_svg(curve)


def test_panel_caption_has_the_numbers():
    html = scurve_panel_html(16, 8, jaccard_threshold=0.8, empirical=False)
    assert "128 hash functions" in html and f"<b>{lsh_threshold(16, 8):.3f}</b>" in html
    assert f"<b>{lsh_candidate_probability(0.8, 16, 8):.3f}</b>" in html
    assert "<circle" not in html and "Orange points" not in html
    assert scurve_panel_html(16, 8).count("<circle") == 11


def test_widget_panel_is_the_python_panel_for_its_settings():
    widget = lsh_scurve_widget(4, 2, band_choices=(1, 4, 16), row_choices=(2, 8), empirical=False)
    assert widget.settings == {"num_bands": 4, "rows": 2}
    assert widget.panel() == widget.initial == scurve_panel_html(4, 2, empirical=False)
    assert widget.panel(num_bands=16, rows=8) == scurve_panel_html(16, 8, empirical=False)
    assert widget.panel(num_bands=1) != widget.panel()
    assert widget.data["empirical"] is None  # nothing measured, nothing carried
    with pytest.raises(ValueError, match="num_bands=2"):
        widget.panel(num_bands=2)  # not on this widget's grid


def test_widget_carries_the_measured_points_of_every_setting():
    widget = lsh_scurve_widget(jaccard_threshold=0.7, num_pairs=50)
    assert widget.controls["num_bands"].values == BAND_CHOICES and widget.controls["rows"].values == ROW_CHOICES
    assert set(widget.data["empirical"]) == {f"{b},{r}" for b in BAND_CHOICES for r in ROW_CHOICES}
    assert widget.data["empirical"]["32,3"] == empirical_points(32, 3, num_pairs=50)
    assert widget.panel(num_bands=32, rows=3) == scurve_panel_html(32, 3, jaccard_threshold=0.7, num_pairs=50)
    assert "verify at 0.7" in widget.panel() and widget.panel().count("<circle") == 11


def test_widget_bad_input():
    with pytest.raises(ValueError, match="num_bands=3"):
        lsh_scurve_widget(3, 8, empirical=False)
    with pytest.raises(ValueError, match="rows=7"):
        lsh_scurve_widget(16, 7, empirical=False)
    with pytest.raises(ValueError, match="row_choices=0"):
        lsh_scurve_widget(16, 8, row_choices=(0, 8), empirical=False)
    with pytest.raises(ValueError, match="jaccard_threshold=1.5"):
        lsh_scurve_widget(jaccard_threshold=1.5, empirical=False)


# ---- in the browser: js/lsh.js draws what scurve_panel_html draws ---------------------------------

@pytest.fixture(scope="module")
def page():
    yield from browser.widget_page_in_own_browser(lsh_scurve_widget())


@needs_browser
@pytest.mark.parametrize("options", [dict(), dict(empirical=False), dict(jaccard_threshold=0.35, num_pairs=40),
                                     dict(num_bands=20, rows=5, jaccard_threshold=1.0, band_choices=(20, 64),
                                          row_choices=(5, 16, 30))],
                         ids=["book", "no-points", "low-threshold", "other-grid"])
def test_renderer_draws_the_python_panel_at_every_setting(page, options):
    """Every (b, r) of the grid; thresholds on both sides of the curve, so every label placement."""
    widget = lsh_scurve_widget(**options)
    settings = [dict(num_bands=b, rows=r) for b in widget.controls["num_bands"].values
                for r in widget.controls["rows"].values]
    for s, js in zip(settings, browser.render(page, "lsh", widget.data, settings), strict=True):
        browser.assert_same_panel(js, widget.panel(**s), s)


@needs_browser
def test_moving_the_sliders_redraws_the_panel(page):
    widget = lsh_scurve_widget()
    panel = page.locator(".lmcourse-live-panel")

    def shows(**changes):
        browser.assert_same_panel(panel.inner_html(), browser.same_markup(page, widget.panel(**changes)), changes)

    def slide(name, value):
        index = widget.controls[name].values.index(value)
        page.locator(f"[data-control={name}]").evaluate(
            f"e => {{ e.value = '{index}'; e.dispatchEvent(new Event('input', {{bubbles: true}})); }}")
        assert page.locator(f"[data-readout={name}]").inner_text() == str(value)

    shows()
    slide("num_bands", 2)
    shows(num_bands=2)
    assert "16 hash functions" in panel.inner_text()  # 2 bands of 8 rows
    slide("rows", 1)
    shows(num_bands=2, rows=1)
    assert "threshold (1/b)1/r = 0.500" in panel.inner_text()
    slide("num_bands", 32)
    slide("rows", 10)
    shows(num_bands=32, rows=10)
    assert panel.locator("circle").count() == 11
