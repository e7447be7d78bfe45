"""Live widgets (lmcourse.widgets._live): the JavaScript that redraws a panel in the reader's browser
draws exactly what the package's Python draws.

In headless Chromium: the runtime's Python-style number formatting against Python's own format()
over tricky and random doubles; each renderer against its Python view function, string for string,
over every discrete choice and random numbers; and the widget's HTML output itself, its controls
moved as a reader moves them. Without Chromium these skip (and say how to enable them); .ci/test
sets LMCOURSE_REQUIRE_BROWSER=1 in CI, which makes that a failure.
"""

from __future__ import annotations

import os
import random

import pytest

import browser
from lmcourse.widgets import _live
from lmcourse.widgets.zero import PSI_CHOICES, zero_html, zero_widget

REASON = browser.unavailable()
if REASON and os.environ.get("LMCOURSE_REQUIRE_BROWSER") == "1":
    pytest.fail(f"browser test required but unavailable: {REASON}", pytrace=False)
needs_browser = pytest.mark.skipif(REASON is not None, reason=REASON or "")


# ---- the Python side, no browser -----------------------------------------------------------------

def test_controls_check_their_starting_values():
    with pytest.raises(ValueError, match="stage=7"):
        _live.select("stage", "stage", [0, 1, 2, 3], 7)
    with pytest.raises(ValueError, match="num_gpus=0"):
        _live.number("num_gpus", "GPUs", 0, 1, 100)
    with pytest.raises(ValueError, match="kind='knob'"):
        _live.Control("x", "x", "knob", 1)
    with pytest.raises(ValueError, match="num_params"):
        zero_widget(num_params=7.4e9)  # not on the slider
    with pytest.raises(ValueError, match="stage"):
        zero_widget(stage=5)


def test_panel_is_the_python_view_and_names_unknown_controls():
    widget = zero_widget()
    assert widget.panel() == widget.initial == zero_html(7.5e9, 64, 1, 12)
    assert widget.panel(stage=3, num_gpus=8) == zero_html(7.5e9, 8, 3, 12)
    with pytest.raises(ValueError, match=r"unknown control\(s\) \['gpus'\]"):
        widget.panel(gpus=8)


def test_output_carries_its_spec_scripts_and_starting_panel():
    out = zero_widget()._repr_html_()
    assert out.count("<script") == 2 and "window.lmcourseLive.mountAll()" in out
    assert zero_html(7.5e9, 64, 1, 12) in out
    spec = out[out.index("class='lmcourse-live-spec'>"):]
    assert "</" not in spec[:spec.index("</script>")], "a '</' inside the JSON spec would end its script tag"


# ---- in the browser ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page():
    if REASON:
        pytest.skip(REASON)
    with browser.chromium() as context:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(f"<html><body>{zero_widget()._repr_html_()}</body></html>")
        yield page
        assert not errors, f"script errors: {errors}"


def _numbers(rng: random.Random) -> list[float]:
    """Doubles that trip up a naive formatter: exact halves (Python rounds them to even), values
    just beside a power of ten, huge and tiny magnitudes, and random ones."""
    values = [0.0, 0.5, 1.5, 2.5, 0.125, 0.375, 31.25, 31.35, 1.875, 2.675, 999.5, 9.995, 9.9995, 99999.5,
              1e-5, 1.2345e-5, 0.0001, 0.00012345, 123456789.0, 1e15, 1e16, 1e21, 1.5e21, 2.5e25, 7.5e9,
              64.0, 1e100, 5e-324, 12.0, 100.0, 1000.0, 0.1, 0.2, 0.3]
    values += [rng.uniform(0, 10) for _ in range(100)]
    values += [10 ** rng.uniform(-6, 26) for _ in range(300)]
    values += [rng.randint(0, 10**6) / 8 for _ in range(100)]  # many exact halves and eighths
    return values + [-v for v in values[:50]]


@needs_browser
def test_number_formatting_matches_python(page):
    values = _numbers(random.Random(0))
    specs = [("f", p, False) for p in (0, 1, 2, 3)] + [("f", p, True) for p in (0, 1, 2)] + \
            [("g", p, False) for p in (1, 2, 3, 4, 6)]
    got = page.evaluate("""([values, specs]) => specs.map(([kind, p, comma]) =>
        values.map(v => kind === "f" ? lmcourseLive.fmt.f(v, p, comma) : lmcourseLive.fmt.g(v, p)))""",
                        [values, specs])
    for (kind, p, comma), row in zip(specs, got):
        spec = f"{',' if comma else ''}.{p}{kind}"
        wrong = [(v, js, format(v, spec)) for v, js in zip(values, row) if js != format(v, spec)]
        assert not wrong, f"format spec {spec}: (value, JavaScript, Python) {wrong[:5]}"
    sizes = [0, 999, 1000, 999.96, 31.25e9, 1.875e9, 1.2e12, 7.5e14] + values[:200]
    sizes = [s for s in sizes if s >= 0]
    from lmcourse.widgets.memory import format_bytes
    js = page.evaluate("sizes => sizes.map(lmcourseLive.fmt.bytes)", sizes)
    assert js == [format_bytes(s) for s in sizes]
    assert page.evaluate("lmcourseLive.fmt.escape(`<a href=\"x\">'&'</a>`)") == \
        "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"


@needs_browser
def test_zero_renderer_draws_the_python_panel(page):
    widget, rng = zero_widget(), random.Random(1)
    settings = [dict(num_params=psi, num_gpus=n, stage=stage, optimizer_bytes=k)
                for psi in PSI_CHOICES for stage in range(4)
                for n, k in [(1, 12), (64, 12), (rng.randint(1, 10**6), rng.choice([0, 8, 12, 16.5, 64]))]]
    settings += [dict(num_params=rng.choice(PSI_CHOICES), num_gpus=rng.randint(1, 5000), stage=rng.randrange(4),
                      optimizer_bytes=round(rng.uniform(0, 64), rng.choice([0, 1, 2]))) for _ in range(200)]
    for s, js in zip(settings, browser.render(page, "zero", widget.data, settings)):
        assert js == widget.panel(**s), f"zero panel differs for {s}"


@needs_browser
def test_moving_the_zero_controls_redraws_the_panel(page):
    widget = zero_widget()
    panel = page.locator(".lmcourse-live-panel")
    assert panel.inner_html() == browser.same_markup(page, widget.panel())
    index = PSI_CHOICES.index(1.75e11)
    page.locator("[data-control=num_params]").evaluate(
        f"e => {{ e.value = '{index}'; e.dispatchEvent(new Event('input', {{bubbles: true}})); }}")
    assert page.locator("[data-readout=num_params]").inner_text() == "175B"
    assert panel.inner_html() == browser.same_markup(page, widget.panel(num_params=1.75e11))
    page.locator("[data-control=stage]").select_option("3")
    page.locator("[data-control=num_gpus]").fill("1024")
    page.locator("[data-control=optimizer_bytes]").fill("8")
    expected = widget.panel(num_params=1.75e11, stage=3, num_gpus=1024, optimizer_bytes=8)
    assert panel.inner_html() == browser.same_markup(page, expected)
    assert "<b>2.1 GB</b>" in expected  # 175e9 * (2 + 2 + 8) bytes / 1024 GPUs
    page.locator("[data-control=num_gpus]").fill("0")
    assert "GPUs N_d: 0; expected an integer from 1 to 1000000" in panel.inner_text()
    page.locator("[data-control=num_gpus]").fill("2.5")
    assert "GPUs N_d: 2.5; expected an integer" in panel.inner_text()
    page.locator("[data-control=num_gpus]").fill("64")
    assert panel.inner_html() == browser.same_markup(page, widget.panel(num_params=1.75e11, stage=3, optimizer_bytes=8))
