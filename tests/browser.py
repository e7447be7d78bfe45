"""Headless Chromium for the tests that look at what a reader's browser shows (the rendered book,
the live widgets): Debian's /usr/bin/chromium driven by Playwright, with a fresh profile and no
network but what a test routes."""

from __future__ import annotations

import contextlib
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
