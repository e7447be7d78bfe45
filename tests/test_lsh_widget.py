"""The LSH S-curve widget shows what lmcourse.data.lsh computes, and its sliders pick the panel."""

import re

import numpy as np
import pytest

from lmcourse.data.lsh import lsh_candidate_probability, lsh_threshold
from lmcourse.widgets import lsh_scurve_widget, scurve_panel_html, scurve_points, scurve_svg
from lmcourse.widgets.lsh import empirical_points


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


def test_widget_sliders_change_the_shown_panel():
    box = lsh_scurve_widget(4, 2, band_choices=(1, 4, 16), row_choices=(2, 8), empirical=False)
    assert box.shown() == scurve_panel_html(4, 2, empirical=False)
    box.sliders["bands"].value = 16
    assert box.shown() == scurve_panel_html(16, 2, empirical=False)
    box.sliders["rows"].value = 8
    assert box.shown() == scurve_panel_html(16, 8, empirical=False)
    box.sliders["bands"].value = 1
    assert box.shown() == scurve_panel_html(1, 8, empirical=False)
    assert box.shown() != scurve_panel_html(16, 8, empirical=False)


def test_widget_sliders_are_linked_in_the_browser(monkeypatch):
    import ipywidgets

    calls = []
    real = ipywidgets.jslink
    monkeypatch.setattr(ipywidgets, "jslink", lambda a, b: calls.append((a, b)) or real(a, b))
    box = lsh_scurve_widget(16, 8, band_choices=(4, 16), row_choices=(4, 8, 10), empirical=False)
    bands, rows = box.sliders["bands"], box.sliders["rows"]
    pages = box.children[1]
    # Without these links the static book could not change panels: no kernel runs there.
    assert calls[0] == ((bands, "index"), (pages, "selected_index"))
    assert calls[1:] == [((rows, "index"), (stack, "selected_index")) for stack in pages.children]
    assert pages.selected_index == 1 and all(s.selected_index == 1 for s in pages.children)
    assert [len(s.children) for s in pages.children] == [3, 3]


def test_widget_bad_choice():
    with pytest.raises(ValueError, match="num_bands=3"):
        lsh_scurve_widget(3, 8, empirical=False)
    with pytest.raises(ValueError, match="rows=7"):
        lsh_scurve_widget(16, 7, empirical=False)
