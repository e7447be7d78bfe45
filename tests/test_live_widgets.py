"""Live widgets (lmcourse.widgets._live): the JavaScript that redraws a panel in the reader's browser
draws exactly what the package's Python draws.

In headless Chromium: the runtime's Python-style number formatting against Python's own format()
over tricky and random doubles; each renderer against its Python view function, string for string,
over every discrete choice and random numbers; and the widget's HTML output itself, its controls
moved as a reader moves them. Without Chromium these skip (and say how to enable them); .ci/test
sets LMCOURSE_REQUIRE_BROWSER=1 in CI, which makes that a failure.
"""

from __future__ import annotations

import random

import pytest

import browser
from lmcourse.accounting import GPUS, PRESETS
from lmcourse.accounting.hardware import GPU
from lmcourse.widgets import _live
from lmcourse.widgets._svg import Panel
from lmcourse.widgets.roofline import MEASURED, OPERATIONS, operation_cost, roofline_panel_html, roofline_widget
from lmcourse.widgets.zero import PSI_CHOICES, zero_html, zero_widget

needs_browser = browser.needs_browser()


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
def chromium():
    """One browser for the module (Playwright's sync API runs one at a time); a page per widget."""
    if browser.unavailable():
        pytest.skip(browser.unavailable())
    with browser.chromium() as context:
        yield context


@pytest.fixture(scope="module")
def page(chromium):
    yield from browser.widget_page(chromium, zero_widget())


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


# ---- the roofline widget -------------------------------------------------------------------------

# A measured machine with fixed numbers, so the page is the same on every run (the book's is measured).
CPU = GPU("this machine (cpu, measured)", 16e9, {"fp32": 1.2e11}, 2.1e10)
CUDA = GPU("this machine (cuda, measured)", 80e9, {"fp32": 5.1e13, "bf16": 6.6e14}, 2.9e12)  # fp32 and bf16
MODEL_OPERATIONS = ("attention prefill", "model prefill", "decode step")


def test_roofline_output_carries_the_svg_helper_before_its_renderer():
    widget = roofline_widget(machine=CPU)
    assert widget.scripts == ("svg", "roofline")
    out = widget._repr_html_()
    assert out.index("live.svg = {Panel") < out.index("renderers.roofline =") < out.index("mountAll();")
    assert widget.initial in out and "memory-bound" in widget.initial


@pytest.fixture(scope="module")
def roofline_page(chromium):
    """Two roofline widgets: the book's (H100, decode step) and one that starts on an A100."""
    widgets = (roofline_widget("H100-80GB", "bf16", "decode step", machine=CPU),
               roofline_widget("A100-80GB", "fp16", "matmul", machine=CPU))
    yield from browser.widget_page(chromium, *widgets)


def _shape(rng: random.Random) -> int:
    """A control's integer from 1 to 2^20, spread evenly over its powers of two."""
    return min(int(2 ** rng.uniform(0, 20)), 2**20)


def _roofline_settings(rng: random.Random, operation: str, preset: str) -> dict:
    return dict(operation=operation, preset=preset, m=_shape(rng), k=_shape(rng), n=_shape(rng),
                batch=min(int(2 ** rng.uniform(0, 16)), 2**16), seq=_shape(rng))


@needs_browser
def test_roofline_costs_are_the_python_costs(roofline_page):
    """The ported cost formulas give the very doubles lmcourse.accounting does: every operation,
    preset and dtype, on random shapes and on the edges where a min() cap or a window starts."""
    widget, rng = roofline_widget(machine=CPU), random.Random(2)
    settings = []
    for operation in OPERATIONS:
        for preset in (PRESETS if operation in MODEL_OPERATIONS else ["llama2-7b"]):
            for dtype in widget.data["dtype_bytes"]:
                settings += [dict(_roofline_settings(rng, operation, preset), dtype=dtype) for _ in range(8)]
                edges = [(1, 1), (2**16, 2**20), (1, 4096), (1, 4097), (1024, 1), (1025, 1), (32000, 1), (32001, 3)]
                settings += [dict(operation=operation, preset=preset, dtype=dtype, m=b, k=s, n=s, batch=min(b, 2**16),
                                  seq=s) for b, s in edges]
    got = roofline_page.evaluate("""([settings, data]) =>
        settings.map(s => lmcourseLive.renderers.roofline.cost(s, data))""", [settings, widget.data])
    for s, js in zip(settings, got):
        cost = operation_cost(**s)
        # float(): Playwright hands a whole-number double over as an int of its shortest digits
        assert (js["name"], float(js["flops"]), float(js["bytes"])) == (cost.name, cost.flops, cost.bytes), s


@needs_browser
def test_svg_panel_draws_the_python_panel(roofline_page):
    """js/svg.js against lmcourse.widgets._svg.Panel: linear axes exactly, log axes as charts."""
    cases = [((0.0, 1.0), (0.0, 1.0), False, False, {}), ((0.0, 3.5), (-2.0, 40.0), False, False,
             {"width": 300, "height": 200, "margins": (30, 10, 10, 30)}), ((0.01, 1e4), (1e9, 1e16), True, True, {})]
    for x_range, y_range, log_x, log_y, geometry in cases:
        panel = Panel(x_range, y_range, log_x=log_x, log_y=log_y, **geometry)
        ticks = [[x_range[0] + (x_range[1] - x_range[0]) * i / 4 for i in range(5)],
                 [y_range[0] + (y_range[1] - y_range[0]) * i / 4 for i in range(5)]]
        points = list(zip(*ticks))
        python = (panel.grid(*ticks) + panel.grid(*ticks, vertical_lines=True) + panel.frame("x & <y>", "y's")
                  + panel.frame("a", "b", box=False) + panel.polyline(points, "#123", 2.5, " stroke-dasharray='2 2'")
                  + panel.svg("a <title>", "<g/>"))
        js = roofline_page.evaluate("""([xRange, yRange, logX, logY, geometry, ticks, points]) => {
            const panel = new lmcourseLive.svg.Panel(xRange, yRange, {logX, logY, ...geometry});
            return panel.grid(...ticks) + panel.grid(...ticks, {verticalLines: true}) + panel.frame("x & <y>", "y's")
              + panel.frame("a", "b", {box: false}) + panel.polyline(points, "#123", 2.5, " stroke-dasharray='2 2'")
              + panel.svg("a <title>", "<g/>"); }""", [x_range, y_range, log_x, log_y, geometry, ticks, points])
        if log_x or log_y:
            browser.assert_same_chart(js, python, (x_range, y_range))
        else:
            assert js == python, (x_range, y_range)


@needs_browser
def test_roofline_renderer_draws_the_python_panel(roofline_page):
    """Every GPU (a measured CPU with fp32 alone and a measured GPU with bf16 too) in each of its
    dtypes, every operation and model preset, on random shapes."""
    rng = random.Random(3)
    for machine in (CPU, CUDA):
        widget = roofline_widget(machine=machine)
        gpus = {**GPUS, MEASURED: machine}
        settings = []
        for gpu in widget.controls["gpu"].values:
            for dtype in gpus[gpu].peak_flops:
                for operation in OPERATIONS:
                    for preset in (PRESETS if operation in MODEL_OPERATIONS else ["llama2-7b"] * 6):
                        settings.append(dict(_roofline_settings(rng, operation, preset), gpu=gpu, dtype=dtype))
        for s, js in zip(settings, browser.render(roofline_page, "roofline", widget.data, settings)):
            browser.assert_same_panel(js, widget.panel(**s), s)


def _select(root, name: str, value) -> None:
    """Choose `value` in the select for control `name`, as a reader does."""
    root.locator(f"[data-control={name}]").select_option(label=str(value))


def _offered(root, name: str = "dtype") -> list[str]:
    return root.locator(f"[data-control={name}] option:not([disabled])").evaluate_all(
        "options => options.map(o => o.textContent)")


@needs_browser
def test_moving_the_roofline_controls_redraws_the_panel(roofline_page):
    book, a100 = roofline_page.locator(".lmcourse-live").nth(0), roofline_page.locator(".lmcourse-live").nth(1)
    widget = roofline_widget("H100-80GB", "bf16", "decode step", machine=CPU)
    panel = book.locator(".lmcourse-live-panel")

    def shows(**changes):
        browser.assert_same_panel(panel.inner_html(), browser.same_markup(roofline_page, widget.panel(**changes)), changes)

    shows()
    # The widget that starts on an A100 offers no fp8 before the reader touches anything.
    assert _offered(a100) == ["fp32", "tf32", "bf16", "fp16"]
    assert a100.locator("[data-control=dtype] option[value='4']").evaluate("o => o.hidden")
    _select(book, "dtype", "fp8")
    shows(dtype="fp8")
    _select(book, "gpu", "A100-80GB")  # no fp8 on an A100: the dtype moves to bf16
    assert book.locator("[data-control=dtype] option:checked").inner_text() == "bf16"
    assert _offered(book) == ["fp32", "tf32", "bf16", "fp16"]
    shows(gpu="A100-80GB")
    _select(book, "dtype", "tf32")
    _select(book, "gpu", MEASURED)  # only fp32 measured on this CPU
    assert _offered(book) == ["fp32"]
    shows(gpu=MEASURED, dtype="fp32")
    assert "this machine (cpu, measured)" in panel.inner_text()
    _select(book, "gpu", "H200-141GB")  # fp32 is offered again and stays
    assert _offered(book) == ["fp32", "tf32", "bf16", "fp16", "fp8"]
    _select(book, "operation", "matmul")
    book.locator("[data-control=m]").fill("1")
    shows(gpu="H200-141GB", dtype="fp32", operation="matmul", m=1)
    assert "memory-bound" in panel.inner_text()
    for name, value in (("m", 8192), ("k", 8192), ("n", 8192)):
        book.locator(f"[data-control={name}]").fill(str(value))
    shows(gpu="H200-141GB", dtype="fp32", operation="matmul", m=8192, k=8192, n=8192)
    assert "compute-bound" in panel.inner_text()
    _select(book, "operation", "model prefill")
    _select(book, "preset", "mixtral-8x7b")
    book.locator("[data-control=batch]").fill("8")
    book.locator("[data-control=seq]").fill("4096")
    shows(gpu="H200-141GB", dtype="fp32", operation="model prefill", m=8192, k=8192, n=8192, preset="mixtral-8x7b",
          batch=8, seq=4096)
    book.locator("[data-control=seq]").fill("0")
    assert "seq / context: 0; expected an integer from 1 to 1048576" in panel.inner_text()
    book.locator("[data-control=batch]").fill("70000")
    book.locator("[data-control=seq]").fill("4096")
    assert "batch: 70000; expected an integer from 1 to 65536" in panel.inner_text()
