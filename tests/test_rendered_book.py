"""The built book, as a reader's browser shows it: every page of _build/html in headless Chromium.

Serves _build/html on 127.0.0.1 (a free port, stopped at the end) and loads each page with
Playwright driving Debian's /usr/bin/chromium. A page passes when
- every <img> loaded (naturalWidth > 0);
- where the page has math, MathJax typeset all of it and no raw `\\(`/`$...$` TeX is left in prose;
- no page holds an ipywidgets view (the widgets are live widgets: plain HTML and their own script,
  with nothing to load), and no live widget's script failed;
- every request went to the local server and succeeded: a request to any other host fails the
  test (the book must work offline), and so does a script error on the page;
- a chapter carries its "Open in Colab" link to its twin, and a link to its executed notebook
  that the site serves, with outputs.

Without Chromium, Playwright or a build, the tests skip and say how to enable them; .ci/test sets
LMCOURSE_REQUIRE_RENDERED_BOOK=1, which turns those skips into failures.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import lmcourse_book as book  # noqa: E402

import browser  # noqa: E402  (tests/browser.py)

HTML = book.BUILD / "html"
NOT_PAGES = {"_static", "_sources", "_images", "reports"}
BUILD_IT = "run the README's test command (bash .ci/test), which builds it from the tested execution"


def _pages() -> list[str]:
    if not (HTML / "index.html").is_file():
        return []
    return sorted(
        p.relative_to(HTML).as_posix()
        for p in HTML.rglob("*.html")
        if not NOT_PAGES & set(p.relative_to(HTML).parts)
    )


def _unavailable() -> str | None:
    if browser.unavailable():
        return browser.unavailable()
    if not _pages():
        return f"no built book in {HTML}: {BUILD_IT}"
    return None


PAGES = _pages()
REASON = _unavailable()
if REASON and os.environ.get("LMCOURSE_REQUIRE_RENDERED_BOOK") == "1":
    pytest.fail(f"rendered-book test required but unavailable: {REASON}", pytrace=False)
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser_context():
    with browser.chromium() as context:
        yield context


_IMAGES_JS = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener("load", r); i.addEventListener("error", r); })));
  return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
}"""

_MATH_JS = """async () => {
  const math = [...document.querySelectorAll("span.math, div.math")];
  const raw = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body,
                                           NodeFilter.SHOW_TEXT);
  const skip = "pre, code, script, style, mjx-container, .cell_output, .output, textarea";
  const tex = /\\\\\\(|\\\\\\)|\\\\\\[|\\\\\\]|\\$[^$\\n]*[\\\\^_{}][^$\\n]*\\$/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement && n.parentElement.closest(skip)) continue;
    if (tex.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 80));
  }
  if (math.length === 0) return {count: 0, untypeset: [], raw};
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise))
    return {count: math.length, untypeset: ["MathJax is not loaded"], raw};
  await MathJax.startup.promise;
  const untypeset = math.filter(m => !m.querySelector("mjx-container"))
                        .map(m => m.textContent.trim().slice(0, 80));
  return {count: math.length, untypeset, raw};
}"""

_WIDGET_VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]'  # none may be left


@pytest.mark.parametrize("page_path", PAGES or ["(no build)"])
def test_page_renders(page_path, server, browser_context):
    problems: list[str] = []
    local = urlparse(server).netloc

    def route(r):
        if urlparse(r.request.url).netloc == local:
            r.continue_()
        else:
            problems.append(f"request to another host (the book must work offline): {r.request.url}")
            r.abort()

    page = browser_context.new_page()
    page.route("**/*", route)
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    try:
        page.goto(f"{server}/{page_path}", wait_until="load")
        page.wait_for_load_state("networkidle")

        broken = page.evaluate(_IMAGES_JS)
        assert not broken, f"{page_path}: images that did not load: {broken}"

        math = page.evaluate(_MATH_JS)
        assert not math["untypeset"], f"{page_path}: math MathJax did not typeset: {math['untypeset']}"
        assert not math["raw"], f"{page_path}: raw TeX left in the text: {math['raw']}"

        views = page.locator(_WIDGET_VIEWS).count()
        assert not views, f"{page_path}: {views} ipywidgets view(s), which the book has no embedder for"

        for chapter in book.chapters():
            if page_path == chapter.relative_to(ROOT).with_suffix(".html").as_posix():
                hrefs = page.eval_on_selector_all("p.lmcourse-colab a", "as => as.map(a => a.href)")
                assert hrefs[0] == book.colab_url(chapter), f"{page_path}: Colab link {hrefs}"
                # the executed notebook: served by the site, with this page's outputs in it
                download = page.request.get(hrefs[1])
                assert download.ok, f"{page_path}: executed notebook {hrefs[1]}: HTTP {download.status}"
                cells = json.loads(download.body())["cells"]
                assert any(c.get("outputs") for c in cells if c["cell_type"] == "code"), \
                    f"{page_path}: the downloadable notebook {hrefs[1]} has no outputs"

        page.wait_for_load_state("networkidle")  # fonts MathJax and widgets asked for
        assert not problems, f"{page_path}:\n" + "\n".join(problems)
    finally:
        page.close()


def test_every_chapter_has_a_page():
    built = set(PAGES)
    for chapter in book.chapters():
        name = chapter.relative_to(ROOT).with_suffix(".html").as_posix()
        assert name in built, f"{name} missing from {HTML}: rebuild the book"



@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_navigation_buttons_work(width, server, browser_context):
    """One header, and its buttons do what they show: on a wide screen the menu button hides and
    restores the chapter list; on a phone it opens the chapter list, and the contents button the
    page's sections, each in a dialog."""
    chapter = book.chapters()[0].relative_to(ROOT).with_suffix(".html").as_posix()
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{server}/{chapter}", wait_until="networkidle")
        assert not page.locator("#pst-header").is_visible(), "a second top bar is showing"
        menu = page.locator(".bd-header-article .primary-toggle")
        sidebar = page.locator("#pst-primary-sidebar")
        if width >= 992:
            assert sidebar.bounding_box()["x"] >= 0
            menu.click()
            page.wait_for_function("document.querySelector('#pst-primary-sidebar').getBoundingClientRect().right <= 0")
            menu.click()
            page.wait_for_function("document.querySelector('#pst-primary-sidebar').getBoundingClientRect().left >= 0")
            return
        for button, dialog, expected in [("primary", "pst-primary-sidebar-modal", "Overview and tokenization"),
                                         ("secondary", "pst-secondary-sidebar-modal", "Exercises")]:
            page.locator(f".bd-header-article .{button}-toggle").click()
            page.wait_for_function(f"document.getElementById('{dialog}').open")
            assert expected in page.locator(f"#{dialog}").inner_text(), f"{dialog} opened without {expected!r}"
            page.keyboard.press("Escape")
            page.wait_for_function(f"!document.getElementById('{dialog}').open")
    finally:
        page.close()


_OVERFLOW_JS = """() => {
  const article = document.querySelector('.bd-article');
  const inWidget = e => e.closest('.lmcourse-live');
  const clipped = [...article.querySelectorAll('pre')].filter(p => !inWidget(p) && p.scrollWidth > p.clientWidth + 1)
    .map(p => p.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80));
  const wide = [...article.querySelectorAll('mjx-container[display="true"]')].filter(m => m.scrollWidth > m.clientWidth + 1);
  const asserts = [...article.querySelectorAll('.cell_input pre')].filter(p => !p.closest('details:not([open])'))
    .flatMap(p => p.textContent.split('\\n')).filter(line => line.startsWith('assert')).length;
  return {clipped, wide: wide.length, asserts,
          unscrollable: wide.filter(m => !['auto', 'scroll'].includes(getComputedStyle(m).overflowX)).length};
}"""
WIDE_EQUATIONS_PER_PAGE = 2  # the rare display equation wider than the column scrolls; more would be a habit


@pytest.mark.parametrize("chapter", [c.relative_to(ROOT).with_suffix(".html").as_posix() for c in book.chapters()])
def test_code_math_and_figures_fit_the_column(chapter, server, browser_context):
    """At the default desktop width no code line is cut off at the column's edge (cells, outputs and
    package listings wrap), a display equation wider than the column scrolls, rarely, and every
    figure a cell drew carries at least 1.5 pixels per displayed pixel, so it stays sharp on a
    high-DPI screen (the chapters ask matplotlib for retina PNGs)."""
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{server}/{chapter}", wait_until="networkidle")
        page.wait_for_function("!document.querySelector('mjx-container') || document.querySelector('mjx-container').childElementCount > 0")
        found = page.evaluate(_OVERFLOW_JS)
        assert not found["clipped"], f"{chapter}: code cut off at the column's edge, e.g. {found['clipped'][:3]}"
        assert found["unscrollable"] == 0, f"{chapter}: {found['unscrollable']} wide equation(s) cannot scroll"
        assert found["wide"] <= WIDE_EQUATIONS_PER_PAGE, f"{chapter}: {found['wide']} equations wider than the column"
        # the checks CI runs are folded under the code they check (book/_ext/lmcourse_checks.py)
        assert found["asserts"] == 0, f"{chapter}: {found['asserts']} assert lines in view, not folded"
        blurry = page.evaluate("""() => [...document.querySelectorAll('.cell_output img')]
            .filter(i => i.src.endsWith('.png') && i.getBoundingClientRect().width > 0)
            .filter(i => i.naturalWidth < 1.5 * i.getBoundingClientRect().width)
            .map(i => `${i.src.split('/').pop()} (${i.naturalWidth} px shown at ${Math.round(i.getBoundingClientRect().width)})`)""")
        assert not blurry, f"{chapter}: low-resolution figures: {blurry[:3]}"
    finally:
        page.close()


_CONTRAST_JS = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = e => {
    for (let x = e; x; x = x.parentElement) {
      const c = getComputedStyle(x).backgroundColor, v = rgb(c);
      if (v.length === 3 || (v.length === 4 && v[3] > 0.5)) return c;
    }
    return getComputedStyle(document.body).backgroundColor;
  };
  const low = [];
  document.querySelectorAll('.lmcourse-live *, .lmcourse-quiz *').forEach(e => {
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) return;
    if (!e.getClientRects().length) return;  // hidden (another page of a stack)
    // SVG text is painted with fill, not color (a chart's labels and its caption)
    const ink = e instanceof SVGElement ? getComputedStyle(e).fill : getComputedStyle(e).color;
    const a = lum(ink), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 3) low.push(`${e.textContent.trim().slice(0, 30)} (${ratio.toFixed(1)}:1)`);
  });
  return low;
}"""


@pytest.mark.parametrize("chapter", [c.relative_to(ROOT).with_suffix(".html").as_posix() for c in book.chapters()])
def test_widget_text_is_readable_in_dark_mode(chapter, server, browser_context):
    """In the book's dark mode every visible text inside a widget keeps a contrast of at least 3:1
    against the background it sits on (WCAG's floor for large text; body text should reach 4.5)."""
    page = browser_context.new_page()
    try:
        page.add_init_script("localStorage.setItem('theme', 'dark'); localStorage.setItem('mode', 'dark');")
        page.goto(f"{server}/{chapter}", wait_until="networkidle")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        low = page.evaluate(_CONTRAST_JS)
        assert not low, f"{chapter}: widget text hard to read in dark mode: {low[:5]}"
    finally:
        page.close()


@pytest.mark.parametrize("chapter", [c.relative_to(ROOT).with_suffix(".html").as_posix() for c in book.chapters()])
def test_widgets_are_usable_on_a_phone(chapter, server, browser_context):
    """At 390 px every slider keeps a track a thumb can move along (>= 100 px) and no widget chart
    runs past the column."""
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{server}/{chapter}", wait_until="networkidle")
        found = page.evaluate("""() => {
          const right = document.querySelector('.bd-article').getBoundingClientRect().right;
          const shown = e => e.getClientRects().length > 0;
          const tracks = '.lmcourse-live input[type=range]';
          return {tracks: [...document.querySelectorAll(tracks)].filter(shown)
                            .map(e => Math.round(e.getBoundingClientRect().width)),
                  wide: [...document.querySelectorAll('.lmcourse-live-panel svg, .lmcourse-live')]
                            .filter(shown)
                            .filter(s => s.getBoundingClientRect().right > right + 2).length};
        }""")
        assert all(width >= 100 for width in found["tracks"]), f"{chapter}: slider tracks {found['tracks']} px"
        assert found["wide"] == 0, f"{chapter}: {found['wide']} widget chart(s) run past the column"
    finally:
        page.close()



def _python_panel(spec: dict):
    """A live widget's Python view for the page's `spec`: `.panel(**settings)` overrides every
    setting, so a widget built with any starting values gives the panel for the page's setting.
    The roofline's "this machine" is the machine the page was built on, whose numbers it carries.
    The LSH and speculative widgets are built over the page's grid and options; the LSH panel
    measures its MinHash points anew (they are seeded), so they must be the page's."""
    from lmcourse.accounting import GPU
    from lmcourse.widgets import (bpe_merge_explorer, lsh_scurve_widget, memory_widget, roofline_widget,
                                  speculative_widget, zero_widget)
    from lmcourse.widgets.roofline import MEASURED

    data = spec["data"]
    grid = {c["name"]: c["values"] for c in spec["controls"]}
    if spec["renderer"] == "roofline":
        return roofline_widget(machine=GPU(**data["gpus"][MEASURED])).panel
    if spec["renderer"] == "bpe_merges":  # its special tokens are no control: the page's data carries them
        return bpe_merge_explorer(special_tokens=data["special_tokens"]).panel
    if spec["renderer"] == "lsh":
        return lsh_scurve_widget(grid["num_bands"][0], grid["rows"][0], band_choices=grid["num_bands"],
                                 row_choices=grid["rows"], jaccard_threshold=data["jaccard_threshold"],
                                 empirical=data["empirical"] is not None, num_pairs=data["num_pairs"]).panel
    if spec["renderer"] == "speculative":
        measured = {int(gamma): [tuple(point) for point in points] for gamma, points in data["measured"].items()}
        return speculative_widget(grid["gamma"][0], grid["cost_ratio"][0], measured, gamma_choices=grid["gamma"],
                                  cost_choices=grid["cost_ratio"]).panel
    return {"zero": zero_widget, "memory": memory_widget}[spec["renderer"]]().panel


_MOVE_JS = """([root, name, kind, target]) => {
  const e = document.querySelectorAll('.lmcourse-live')[root].querySelector(`[data-control="${name}"]`);
  if (kind === 'checkbox') e.checked = !e.checked; else e.value = String(target);
  e.dispatchEvent(new Event(kind === 'select' || kind === 'checkbox' ? 'change' : 'input', {bubbles: true}));
}"""
_READ_JS = """(root) => {
  const r = document.querySelectorAll('.lmcourse-live')[root];
  const raw = {};
  r.querySelectorAll('[data-control]').forEach(e => {
    raw[e.dataset.control] = e.type === 'checkbox' ? e.checked : e.value; });
  return {raw, panel: r.querySelector('.lmcourse-live-panel').innerHTML};
}"""


def _settings(spec: dict, raw: dict) -> dict:
    """The Python values the controls show: an index into a control's values, or a typed number."""
    out = {}
    for c in spec["controls"]:
        value = raw[c["name"]]
        if c["kind"] in ("select", "slider"):
            out[c["name"]] = c["values"][int(value)]
        elif c["kind"] == "number":
            out[c["name"]] = int(value) if c["integer"] else float(value)
        else:
            out[c["name"]] = value
    return out


def _new_value(control: dict, raw):
    """A different value for the control, as a reader would pick one."""
    if control["kind"] in ("select", "slider"):
        return (int(raw) + max(1, len(control["values"]) // 3)) % len(control["values"])
    if control["kind"] == "number":
        value = float(raw)
        new = value * 2 if value * 2 <= control["max"] else value / 2
        return int(new) if control["integer"] else new
    if control["kind"] == "text":
        return f"{raw} {raw}" if raw else "typed text"
    return None  # a checkbox toggles


@pytest.mark.parametrize("chapter", [c.relative_to(ROOT).with_suffix(".html").as_posix() for c in book.chapters()])
def test_every_live_widget_control_redraws_the_package_figure(chapter, server, browser_context):
    """On the built page, with no kernel: each control of each live widget, moved in turn, leaves the
    panel showing what the package's Python view computes for the controls' new setting, and
    changes the panel whenever that view changes."""
    page = browser_context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server}/{chapter}", wait_until="networkidle")
        specs = [json.loads(t) for t in page.eval_on_selector_all(
            ".lmcourse-live script.lmcourse-live-spec", "ss => ss.map(s => s.textContent)")]
        for root, spec in enumerate(specs):
            view = _python_panel(spec)
            for control in spec["controls"]:
                before = page.evaluate(_READ_JS, root)
                old = view(**_settings(spec, before["raw"]))
                page.evaluate(_MOVE_JS, [root, control["name"], control["kind"],
                                         _new_value(control, before["raw"][control["name"]])])
                after = page.evaluate(_READ_JS, root)
                settings = _settings(spec, after["raw"])
                assert settings != _settings(spec, before["raw"]), f"{chapter}: {control['name']} did not move"
                expected = view(**settings)
                browser.assert_same_panel(  # a chart's coordinates within a unit of their last digit
                    after["panel"], browser.same_markup(page, expected),
                    f"{chapter}: {spec['renderer']} widget after moving {control['name']}: panel is not the package's "
                    f"for {settings}")
                if expected != old:
                    assert after["panel"] != before["panel"], f"{chapter}: {control['name']} did not redraw"
        assert not errors, f"{chapter}: script errors {errors}"
    finally:
        page.close()


_CLICK_EVERY_OPTION_JS = """() => [...document.querySelectorAll('.lmcourse-quiz')].map(quiz => ({
  kind: quiz.classList.contains('lmcourse-warm-up') ? 'warm-up' : 'quiz',
  right: [...quiz.querySelectorAll('fieldset[data-answer]')].map(fs => {
    const right = [];
    for (const input of fs.querySelectorAll('input[type=radio]')) {
      input.click();
      if (fs.querySelector('.lmcourse-quiz-feedback').classList.contains('right')) right.push(input.value);
    }
    return right;
  }),
  answers: [...quiz.querySelectorAll('details')].length}))"""


@pytest.mark.parametrize("chapter", [c.relative_to(ROOT).with_suffix(".html").as_posix() for c in book.chapters()])
def test_warm_up_and_quiz_check_themselves_on_the_page(chapter, server, browser_context):
    """On the built page, with no kernel: a lecture chapter shows its warm-up first and its quiz
    later; clicking every option of every choice marks exactly the package's answer right, and every
    question keeps its answer collapsed for a reader whose browser runs no script."""
    from lmcourse.exercises import Workbook

    number = int(Path(chapter).name[:2])
    page = browser_context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server}/{chapter}", wait_until="networkidle")
        found = page.evaluate(_CLICK_EVERY_OPTION_JS)
        if number > 17:  # the appendix is not a lecture
            assert found == [], f"{chapter}: unexpected quiz"
            return
        workbook = Workbook(number)
        expected = [(kind, [[q.answer] for q in questions if q.is_choice], len(questions))
                    for kind, questions in (("warm-up", workbook.warm_up_questions), ("quiz", workbook.quiz_questions))]
        assert [(f["kind"], f["right"], f["answers"]) for f in found] == expected, \
            f"{chapter}: the page's self-checks differ from lmcourse.exercises.ch{number:02d}"
        assert not errors, f"{chapter}: script errors {errors}"
    finally:
        page.close()


KEY_TERMS = ["RoPE", "GQA", "ZeRO", "MFU", "KV cache", "MinHash", "DPO", "GRPO", "FlashAttention", "Chinchilla"]


def test_search_leads_to_the_glossary_and_the_glossary_to_the_sections(server, browser_context):
    """Searching a key term lists its glossary entry first; every "Taught in" link of the glossary
    lands on a section that exists in its chapter."""
    page = browser_context.new_page()
    try:
        for term in KEY_TERMS:
            page.goto(f"{server}/search.html?q={term}", wait_until="networkidle")
            page.wait_for_function("document.querySelectorAll('#search-results li a').length > 0", timeout=20_000)
            first = page.eval_on_selector("#search-results li a", "a => a.getAttribute('href')")
            assert first.startswith("book/glossary.html#term-"), f"search for {term!r} starts with {first}"
        page.goto(f"{server}/book/glossary.html", wait_until="networkidle")
        links = page.eval_on_selector_all("dl.glossary dd a.reference", "as => as.map(a => a.href)")
        assert len(links) >= 50, f"only {len(links)} glossary links"
        ids = {}
        for link in links:
            url, anchor = link.split("#")
            if url not in ids:
                page.goto(url, wait_until="domcontentloaded")
                ids[url] = set(page.eval_on_selector_all("section[id]", "ss => ss.map(s => s.id)"))
            assert anchor in ids[url], f"glossary link {link}: no section #{anchor}"
    finally:
        page.close()
