"""Mermaid diagrams → PNG (publisher.render.diagram): rendering, the cache, and what happens without the tools."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from publisher.render import diagram
from publisher.render.diagram import (
    ENV_VAR,
    MAX_BYTES,
    MAX_WIDTH,
    Diagram,
    DiagramError,
    DiagramUnavailable,
    find_mermaid_js,
    render_mermaid,
)

REPO = Path(__file__).resolve().parents[1]
MERMAID_JS = find_mermaid_js(REPO)
FLOWCHART = "graph LR; A[写作] --> B[审核] --> C{发布}"


def _playwright_installed() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def _why_no_browser() -> str | None:
    if diagram._chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium fonts-noto-cjk)"
    if not _playwright_installed():
        return "Playwright is not installed (pip install playwright)"
    if MERMAID_JS is None:
        return f"mermaid.js is not installed (npm install --prefix {REPO}/.publisher-cache/npm mermaid@11)"
    return None


needs_browser = pytest.mark.skipif(_why_no_browser() is not None, reason=str(_why_no_browser()))


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("diagram-cache")


@pytest.fixture(scope="module")
def flowchart(cache) -> Diagram:
    return render_mermaid(FLOWCHART, cache, mermaid_js=MERMAID_JS)


def _no_browser(*args, **kwargs):
    raise AssertionError("the browser was asked to render a cached diagram")


# ---- with Chromium and mermaid.js ----

@pytest.mark.browser
@needs_browser
def test_flowchart_with_chinese_labels_becomes_a_sane_png(flowchart, cache):
    assert flowchart.path.parent == cache / "diagrams"
    assert flowchart.path.suffix == ".png" and flowchart.path.is_file()
    assert 100 <= flowchart.width <= MAX_WIDTH and 30 <= flowchart.height <= 400
    assert flowchart.width > flowchart.height  # left to right
    assert 1000 < flowchart.path.stat().st_size < MAX_BYTES
    with Image.open(flowchart.path) as image:
        assert image.format == "PNG"
        assert image.size == (2 * flowchart.width, 2 * flowchart.height)  # device scale 2
        pixels = image.convert("L")
        lightest, darkest = pixels.getextrema()
        assert lightest < 128, "nothing dark was drawn: no text or lines"
        assert darkest == 255 and pixels.getpixel((0, 0)) == 255, "the background is not white"
        dark = sum(pixels.histogram()[:200])
        assert dark > 0.01 * pixels.width * pixels.height


@pytest.mark.browser
@needs_browser
def test_sidecar_holds_the_display_size(flowchart):
    meta = json.loads(flowchart.path.with_suffix(".json").read_text())
    assert (meta["width"], meta["height"]) == (flowchart.width, flowchart.height)
    assert not list(flowchart.path.parent.glob("*.tmp")) and not list(flowchart.path.parent.glob(".*.tmp"))


@pytest.mark.browser
@needs_browser
def test_cached_diagram_needs_no_browser(flowchart, cache, monkeypatch):
    files = sorted(cache.rglob("*"))
    monkeypatch.setattr(diagram._browser, "render", _no_browser)
    started = time.perf_counter()
    again = render_mermaid(FLOWCHART, cache, mermaid_js=MERMAID_JS)
    assert time.perf_counter() - started < 0.2
    assert again == flowchart
    assert sorted(cache.rglob("*")) == files


@pytest.mark.browser
@needs_browser
def test_cache_is_keyed_by_source(flowchart, cache):
    other = render_mermaid(FLOWCHART.replace("发布", "上线"), cache, mermaid_js=MERMAID_JS)
    assert other.path != flowchart.path and other.path.is_file()


@pytest.mark.browser
@needs_browser
def test_warm_render_is_fast(flowchart, cache):
    started = time.perf_counter()
    render_mermaid("sequenceDiagram\n  作者->>编辑: 提交 PR\n  编辑-->>作者: 通过", cache, mermaid_js=MERMAID_JS)
    assert time.perf_counter() - started < 2.0  # ~0.1 s once Chromium is up; generous for busy machines


@pytest.mark.browser
@needs_browser
def test_wide_diagram_is_capped_at_the_column_width(cache):
    source = "graph LR\n" + " --> ".join(f"N{i}[第 {i} 步]" for i in range(14))
    wide = render_mermaid(source, cache, mermaid_js=MERMAID_JS)
    assert wide.width == MAX_WIDTH
    with Image.open(wide.path) as image:
        assert image.width <= 2 * MAX_WIDTH
        assert abs(image.width / image.height - wide.width / wide.height) < 0.05


@pytest.mark.browser
@needs_browser
def test_invalid_source_raises_mermaids_parse_error(cache, monkeypatch):
    with pytest.raises(DiagramError) as caught:
        render_mermaid("graph LR; A[--> ", cache, mermaid_js=MERMAID_JS)
    assert str(caught.value).startswith("Parse error on line")
    assert "\n" not in str(caught.value)
    assert "Expecting" in caught.value.detail and caught.value.line is not None
    # the verdict is cached too: checking the article again starts no browser
    monkeypatch.setattr(diagram._browser, "render", _no_browser)
    with pytest.raises(DiagramError, match="Parse error"):
        render_mermaid("graph LR; A[--> ", cache, mermaid_js=MERMAID_JS)


@pytest.mark.browser
@needs_browser
def test_unknown_diagram_type_is_a_diagram_error(cache):
    with pytest.raises(DiagramError, match="No diagram type detected"):
        render_mermaid("这不是图", cache, mermaid_js=MERMAID_JS)
    # and the browser still works after errors
    assert render_mermaid("graph TD; X --> Y", cache, mermaid_js=MERMAID_JS).path.is_file()


# ---- without them (no browser needed) ----

def test_missing_mermaid_js_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(diagram, "CHECKOUT_NPM", tmp_path / "no-checkout")
    monkeypatch.setattr(diagram._browser, "render", _no_browser)
    with pytest.raises(DiagramUnavailable, match="npm install") as caught:
        render_mermaid(FLOWCHART, tmp_path / ".publisher-cache", mermaid_js=tmp_path / "missing/mermaid.min.js")
    assert "mermaid" in str(caught.value)
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(DiagramUnavailable, match="npm install"):
        render_mermaid(FLOWCHART, tmp_path / ".publisher-cache")  # looked for beside the cache: nothing there


def test_missing_chromium_says_how_to_install_it(tmp_path, monkeypatch):
    script = tmp_path / "mermaid.min.js"
    script.write_text("window.mermaid = {};")
    monkeypatch.setattr(diagram, "_chromium_path", lambda: None)
    monkeypatch.setattr(diagram._browser, "render", _no_browser)
    with pytest.raises(DiagramUnavailable, match="apt-get install chromium"):
        render_mermaid(FLOWCHART, tmp_path / "cache", mermaid_js=script)


def test_missing_playwright_says_how_to_install_it(tmp_path, monkeypatch):
    script = tmp_path / "mermaid.min.js"
    script.write_text("window.mermaid = {};")
    monkeypatch.setattr(diagram, "_chromium_path", lambda: "/usr/bin/chromium")
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # makes the import fail
    monkeypatch.setattr(diagram._browser, "render", _no_browser)
    with pytest.raises(DiagramUnavailable, match="pip install playwright"):
        render_mermaid(FLOWCHART, tmp_path / "cache", mermaid_js=script)


def test_find_mermaid_js_order(tmp_path, monkeypatch):
    monkeypatch.setattr(diagram, "CHECKOUT_NPM", tmp_path / "no-checkout")
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert find_mermaid_js(tmp_path) is None
    in_cache = tmp_path / ".publisher-cache/npm/node_modules/mermaid/dist/mermaid.min.js"
    in_project = tmp_path / "node_modules/mermaid/dist/mermaid.min.js"
    from_env = tmp_path / "elsewhere/mermaid.min.js"
    for path in (in_cache, in_project, from_env):
        path.parent.mkdir(parents=True)
        path.write_text("//")
    assert find_mermaid_js(tmp_path) == in_project.resolve()
    in_project.unlink()
    assert find_mermaid_js(tmp_path) == in_cache.resolve()
    monkeypatch.setenv(ENV_VAR, str(from_env))
    assert find_mermaid_js(tmp_path) == from_env.resolve()
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere.js"))  # a wrong setting falls back to the others
    assert find_mermaid_js(tmp_path) == in_cache.resolve()


def test_cache_key_follows_the_mermaid_build(tmp_path):
    script = tmp_path / "node_modules/mermaid/dist/mermaid.min.js"
    script.parent.mkdir(parents=True)
    script.write_text("//")
    (script.parent.parent / "package.json").write_text('{"name": "mermaid", "version": "11.0.0"}')
    first = diagram._fingerprint(script)
    (script.parent.parent / "package.json").write_text('{"name": "mermaid", "version": "11.0.1"}')
    assert diagram._fingerprint(script) != first
    assert "11.0.1" in diagram._fingerprint(script)


def test_damaged_cache_entry_is_ignored(tmp_path):
    png, meta = tmp_path / "x.png", tmp_path / "x.json"
    png.write_bytes(b"")
    for text in ("", "{", "[]", '{"width": "wide", "height": 3}', '{"width": 0, "height": 3}'):
        meta.write_text(text)
        assert diagram._read_cached(png, meta) is None
    meta.write_text('{"width": 10, "height": 3}')
    assert diagram._read_cached(png, meta) == Diagram(png, 10, 3)
    png.unlink()
    assert diagram._read_cached(png, meta) is None


def test_oversized_png_is_made_to_fit(monkeypatch):
    import io
    import random

    rng = random.Random(1)
    noise = Image.frombytes("RGB", (400, 300), bytes(rng.randrange(256) for _ in range(400 * 300 * 3)))
    raw = io.BytesIO()
    noise.save(raw, format="PNG")
    monkeypatch.setattr(diagram, "MAX_BYTES", len(raw.getvalue()) // 4)
    fitted = diagram._fit(raw.getvalue(), 200, 150)
    assert len(fitted) <= diagram.MAX_BYTES
    with Image.open(io.BytesIO(fitted)) as image:
        assert image.width <= 400 and abs(image.width / image.height - 4 / 3) < 0.02
