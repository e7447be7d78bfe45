"""Headless Chromium for the tests that look at what a reader's browser shows (the rendered book,
the live widgets): Debian's /usr/bin/chromium driven by Playwright, with a fresh profile and no
network but what a test routes."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ENABLE = "apt-get install chromium, then run the README's test command (bash .ci/test)"


def unavailable() -> str | None:
    """Why no browser test can run here, or None."""
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM}: {ENABLE}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Python playwright not installed (pip install -r requirements.txt): {ENABLE}"
    return None


def needs_browser():
    """A pytest mark that skips a test when no browser is available and says how to get one; in CI
    (.ci/test sets LMCOURSE_REQUIRE_BROWSER=1) a missing browser fails the module instead."""
    import os

    import pytest

    reason = unavailable()
    if reason and os.environ.get("LMCOURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required but unavailable: {reason}", pytrace=False)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@contextlib.contextmanager
def chromium():
    """A browser context on a fresh, empty user-data-dir."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="lmcourse-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, service_workers="block")
        try:
            yield context
        finally:
            context.close()


def render(page, renderer: str, data: dict, settings: list[dict]) -> list[str]:
    """What a live widget's JavaScript `renderer` draws for each of `settings`, in `page` (which must
    hold a live widget's output, so the runtime and the renderer are loaded)."""
    return page.evaluate("""([renderer, data, settings]) =>
        settings.map(s => lmcourseLive.renderers[renderer](s, data, lmcourseLive.fmt))""",
                         [renderer, data, settings])


def same_markup(page, python_html: str) -> str:
    """python_html as the browser serializes it once parsed: what a panel's innerHTML reads when
    it shows that HTML."""
    return page.evaluate("h => { const t = document.createElement('template'); t.innerHTML = h; "
                         "return t.innerHTML; }", python_html)


_ATTRIBUTE = re.compile(r"""=(['"])(.*?)\1""")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _coordinates(markup: str) -> tuple[str, list[float]]:
    """markup with the numbers in its attribute values taken out, and those numbers."""
    numbers = []

    def take(match):
        numbers.extend(float(n) for n in _NUMBER.findall(match.group(2)))
        return f"={match.group(1)}{_NUMBER.sub('#', match.group(2))}{match.group(1)}"
    return _ATTRIBUTE.sub(take, markup), numbers


def assert_same_chart(js: str, python: str, what) -> None:
    """The same markup, text and all, with coordinates at most one unit of their last printed digit
    apart (0.1 px: the charts print coordinates with one decimal): a chart's coordinates go through
    Math.log10 or Math.pow, which may differ from Python's (C's) in the last bit, and so, very
    rarely, flip the last printed digit."""
    (js_skeleton, js_numbers), (py_skeleton, py_numbers) = _coordinates(js), _coordinates(python)
    assert js_skeleton == py_skeleton, f"{what}: markup differs"
    far = [(a, b) for a, b in zip(js_numbers, py_numbers) if abs(a - b) > 0.1 + 1e-9]
    assert not far, f"{what}: coordinates differ (JavaScript, Python): {far[:5]}"


def assert_same_panel(js: str, python: str, what) -> None:
    """A live widget's panel: its chart (up to the first </svg>) as in assert_same_chart, and the
    rest (caption, table) exactly; a panel without a chart exactly."""
    if "</svg>" not in python:
        assert js == python, f"{what}: panel differs"
        return
    js_chart, _, js_rest = js.partition("</svg>")
    py_chart, _, py_rest = python.partition("</svg>")
    assert js_rest == py_rest, f"{what}: the text after the chart differs"
    assert_same_chart(js_chart, py_chart, what)


def widget_page(context, *widgets):
    """A page of `context` holding the widgets' HTML outputs (a generator for a pytest fixture: it
    yields the page, then fails if any script on it raised, and closes it)."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(f"<html><body>{''.join(w._repr_html_() for w in widgets)}</body></html>")
    yield page
    assert not errors, f"script errors: {errors}"
    page.close()


def widget_page_in_own_browser(*widgets):
    """`widget_page` in a browser of its own, skipping the test when no browser is available."""
    import pytest

    if unavailable():
        pytest.skip(unavailable())
    with chromium() as context:
        yield from widget_page(context, *widgets)
