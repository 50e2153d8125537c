"""Headless Chromium (Debian's package) through Playwright: screenshots of built pages.

Playwright's own browser download does not work offline, so we always launch the system Chromium.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


class BrowserUnavailable(Exception):
    pass


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def browser():
    executable = chromium_path()
    if executable is None:
        raise BrowserUnavailable("Chromium is not installed: run `apt-get install chromium fonts-noto-cjk` "
                                 "(or bash scripts/setup.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserUnavailable("Playwright is not installed: run `pip install playwright` "
                                 "(never `playwright install`: the system Chromium is used)") from None
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def screenshot(page_path: Path, png_path: Path, *, width: int = 390, dark: bool = False) -> Path:
    """A full-page PNG of a local HTML file at a phone's width (device scale 1, so it stays small)."""
    with browser() as instance:
        page = instance.new_page(viewport={"width": width, "height": 800}, color_scheme="dark" if dark else "light")
        page.goto(page_path.resolve().as_uri())
        page.wait_for_load_state("load")
        png_path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png_path), full_page=True)
    return png_path
