"""`publisher serve` in a real browser: Playwright driving the system Chromium against a real uvicorn
server on 127.0.0.1 (port 0) in a background thread, serving a temporary site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_preview_server import NOW, TIPS, make_preview_site

from publisher.browser import CHROMIUM_ARGS, chromium_path
from publisher.preview import start_server

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = chromium_path()
if sync_playwright is None:
    pytest.skip("Playwright is not installed (pip install playwright; never `playwright install`)",
                allow_module_level=True)
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (apt-get install chromium, or bash scripts/setup.sh)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_preview_site(tmp_path / "site")


@pytest.fixture
def server(site: Path):
    with start_server(site, clock=lambda: NOW) as running:
        yield running


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    yield page
    context.close()


def open_live(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#pv-live")).to_have_attribute("data-state", "on", timeout=10_000)  # events connected


def test_saving_an_article_updates_the_open_page_without_a_reload(page, server, site):
    open_live(page, server.url + "/a/2026/tips")
    expect(page.locator("#pv-content")).to_contain_text("斜杠命令的五种用法")
    page.evaluate("window.__notReloaded = true")
    path = site / "content/2026/tips/index.md"
    path.write_text(TIPS + "\n刚刚保存的新段落。\n", encoding="utf-8")
    expect(page.locator("#pv-content")).to_contain_text("刚刚保存的新段落", timeout=10_000)
    assert page.evaluate("window.__notReloaded === true")  # swapped in place, not reloaded

    path.write_text("---\ntitle: [没写完\n---\n", encoding="utf-8")  # a broken save shows where and why
    error = page.locator("#pv-error")
    expect(error).to_contain_text("content/2026/tips/index.md:", timeout=10_000)
    expect(error).to_contain_text("front-matter/yaml")
    path.write_text(TIPS, encoding="utf-8")  # and the next good save recovers
    expect(page.locator("#pv-content")).to_contain_text("斜杠命令的五种用法", timeout=10_000)
    expect(page.locator("#pv-error")).to_have_count(0)
    assert page.evaluate("window.__notReloaded === true")


def test_saving_an_image_updates_the_page(page, server, site):
    from conftest import make_image

    open_live(page, server.url + "/a/2026/launch")
    image = page.locator("#pv-content img").first
    expect(image).to_have_attribute("src", "/file/content/2026/launch/images/editor.png")
    assert page.evaluate("document.querySelector('#pv-content img').naturalWidth") == 640
    version = page.evaluate("document.body.dataset.version || '0'")
    make_image(site / "content/2026/launch/images/editor.png", size=(320, 180))
    page.wait_for_function(f"() => (document.body.dataset.version || '0') !== '{version}'", timeout=10_000)
    page.wait_for_function("() => document.querySelector('#pv-content img').complete", timeout=10_000)


def luminance(css: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_dark_mode_toggle_makes_the_background_dark_and_keeps_images(page, server):
    open_live(page, server.url + "/a/2026/launch")
    background = "getComputedStyle(document.querySelector('#pv-content > section')).backgroundColor"
    light = page.evaluate(background)
    assert light in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    assert luminance(page.evaluate("getComputedStyle(document.getElementById('pv-scroll')).backgroundColor")) > 0.9
    page.click("#pv-dark")
    expect(page.locator("#pv-phone")).to_have_class(re.compile(r"\bdark\b"), timeout=10_000)
    assert luminance(page.evaluate(background)) < 0.15
    assert luminance(page.evaluate("getComputedStyle(document.getElementById('pv-scroll')).backgroundColor")) < 0.15
    text = page.evaluate("getComputedStyle(document.querySelector('#pv-content p')).color")
    assert luminance(text) > 0.5  # the text became light
    assert page.evaluate("getComputedStyle(document.querySelector('#pv-content img')).filter") == "none"
    assert "dark=1" in page.url
    page.click("#pv-light")
    expect(page.locator("#pv-phone")).not_to_have_class(re.compile(r"\bdark\b"), timeout=10_000)


def test_phone_width_switches_between_375_and_390(page, server):
    open_live(page, server.url + "/a/2026/launch")
    assert page.evaluate("document.getElementById('pv-scroll').clientWidth") == 375
    page.click("text=390 px")
    expect(page.locator("#pv-phone")).to_have_attribute("data-width", "390", timeout=10_000)
    assert page.evaluate("document.getElementById('pv-scroll').clientWidth") == 390


def test_copy_button_puts_the_exact_html_on_the_clipboard(page, server, site):
    open_live(page, server.url + "/a/2026/launch")
    page.click("#pv-copy")
    expect(page.locator("#pv-copy")).to_contain_text("已复制", timeout=10_000)
    html = page.evaluate("""async () => {
        const items = await navigator.clipboard.read();
        const item = items.find((i) => i.types.includes('text/html'));
        return item ? await (await item.getType('text/html')).text() : null;
    }""")
    assert html is not None, "no text/html item on the clipboard"
    assert "今天，我们正式发布" in html and "新的编辑器" in html
    assert "data-line" not in html and "class=" not in html  # the exact HTML, not the annotated copy
    text = page.evaluate("navigator.clipboard.readText()")
    assert "今天，我们正式发布" in text


def test_clicking_a_finding_highlights_its_place(page, server, site):
    (site / "content/2026/tips/index.md").write_text(
        TIPS.replace("斜杠命令的五种用法。", "第一段。\n\n第二段有问题的图：![缺的图](missing.png)\n"), encoding="utf-8")
    open_live(page, server.url + "/a/2026/tips")
    finding = page.locator(".pv-finding.error", has_text="image/missing")
    expect(finding).to_have_count(1)
    finding.click()
    highlighted = page.locator("#pv-content .pv-hl")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_contain_text("第二段有问题的图")


def test_calendar_shows_a_scheduled_push_on_its_day_and_links_to_the_push(page, server):
    open_live(page, server.url + "/calendar?month=2026-12")
    chip = page.locator('td[data-date="2026-12-01"] a.pv-chip.scheduled')
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("08:00")
    expect(chip).to_contain_text("帆书 3.0 正式发布")
    chip.click()
    page.wait_for_url(re.compile(r"/push/[^/]+$"))
    expect(page.locator(".pv-feed-head")).to_contain_text("帆书 3.0 正式发布")
    expect(page.locator(".pv-feed-row")).to_contain_text("小技巧第 12 期")
    page.click(".pv-feed-row")
    page.wait_for_url(re.compile(r"/a/2026/tips$"))


def test_index_filter_and_calendar_live_update(page, server, site):
    open_live(page, server.url + "/")
    rows = page.locator("#pv-articles tbody tr[data-search]")
    expect(rows).to_have_count(3)
    page.fill("#pv-filter", "林晓")
    expect(page.locator("#pv-articles tbody tr[data-search]:visible")).to_have_count(1)
    expect(page.locator("#pv-count")).to_have_text("1 of 3")
    page.fill("#pv-filter", "")
    expect(page.locator("#pv-articles tbody tr[data-search]:visible")).to_have_count(3)

    open_live(page, server.url + "/calendar?month=2026-12")
    calendar = site / "calendar.yaml"
    text = calendar.read_text(encoding="utf-8")
    calendar.write_text(text.replace("rules:", '  - at: "2026-12-22 07:30"\n    plan: 新加的计划\nrules:'),
                        encoding="utf-8")
    expect(page.locator('td[data-date="2026-12-22"] a.pv-chip.planned')).to_contain_text("新加的计划",
                                                                                           timeout=10_000)
