"""Layout mode of the WeChat structure linter: renders the article in Chromium and measures it.

Needs Playwright and Debian's Chromium (/usr/bin/chromium); :func:`browser_available` says whether both
work here. The page imitates WeChat's article page: 16 px padding, 17 px / 1.6 text, ``max-width: 100%``
and ``box-sizing: border-box`` on every element. Images are replaced by blank SVGs of their ``data-w`` x
``data-ratio`` size (WeChat's own fallback when images don't load), every request is refused, page scripts
are removed and JavaScript is off. Each element carries ``data-lint-id`` so a measurement maps back to
the parsed element, its source line and its snippet.

Rules this mode covers (rule id ``structure/<key>``, as in :mod:`publisher.lint.structure`):

* ``height``                error    1.5.1  an element with an inline zero height whose own lines hold text
* ``height-nodisplay``      error    1.5.2  text or images rendered below the bottom of a fixed-height
  container, or text anywhere in nested blocks of a zero-height one (images only are allowed there);
  scroll containers, table parts, SVG interiors and SVG-interaction containers are exempt
* ``width``                 error    1.4    content or text rendered past the screen edge at 375 px
  (outermost element only; scroll containers, clipping ancestors and ``data-ignore-width`` subtrees
  exempt); an element with a fixed width that is centred on a 375 px screen but not on a 677 px one
  (1.4.1), or that fills the phone column and takes a clearly smaller share at 677 px (1.4.3)
* ``line-height``           error    1.3    glyphs of different lines of one block container that overlap
  (text rects cut down to their em box), in text whose line-height is below its font size
* ``opacity``               error    1.1    computed opacity 0 on an image or on text
* ``nestNodes``             error    2.1    more than 10 nested same-tag single-child elements in the DOM the
  browser built (which may differ from the source's)
* ``darkmode-low-contrast`` warning  4.1.1  computed text colour against the computed background below
  2:1 (gradients mixed to one colour; background images skipped); ``data-ignore-dm`` exempts
* ``darkmode-text-bg-gradient`` warning 4.1.2 text over a gradient background

Rules decided from the source alone (caret-color, text-align, animate-begin, pre, leaf-block, nodeleaf,
font-family, important) are only in the static mode; run both for a full check.
"""

from __future__ import annotations

import functools
import os
from urllib.parse import quote

from lxml import etree

from publisher.findings import Finding
from publisher.lint.structure import (
    LOW_CONTRAST,
    NEST_LIMIT,
    PAGE_PADDING,
    ROOT_FONT_SIZE,
    parse_html,
    snippet,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE_SCREEN = 677
TIMEOUT_MS = 60_000
ID_ATTR = "data-lint-id"

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>
html, body {{ margin: 0; padding: 0; background: #fff; }}
#js_content {{ padding: 0 {pad}px; font-size: {fs}px; line-height: 1.6; color: rgba(0, 0, 0, 0.9);
  overflow-wrap: break-word; text-align: justify;
  font-family: "PingFang SC", system-ui, -apple-system, "Noto Sans CJK SC", "Helvetica Neue", sans-serif; }}
#js_content * {{ max-width: 100% !important; box-sizing: border-box !important; }}
#js_content p {{ margin: 0; }}
#js_content img {{ height: auto !important; }}
</style></head><body><div id="js_content">{content}</div></body></html>"""

# Geometry of elements with an authored fixed width, measured at each screen width.
MEASURE_JS = r"""
() => {
  const FIXED = /^-?(\d+\.?\d*|\.\d+)(px|pt|pc|in|cm|mm|q|em|rem|ex|ch)$/i;
  const out = {};
  for (const el of document.querySelectorAll('#js_content [data-lint-id]')) {
    if (!fixedWidth(el) || el.closest('[data-ignore-width]')) continue;
    if (el.tagName.toLowerCase() !== 'svg' && el.closest('svg')) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.position === 'absolute' || cs.position === 'fixed') continue;
    if (cs.display === 'inline' && !isReplaced(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 0) continue;
    const box = containerBox(el);
    if (!box || box.right - box.left <= 0) continue;
    const mid = (r.left + r.right) / 2, boxMid = (box.left + box.right) / 2;
    out[el.getAttribute('data-lint-id')] = {
      share: r.width / (box.right - box.left), offset: mid - boxMid, width: r.width,
      content: hasContent(el),
    };
  }
  return out;

  function fixedWidth(el) {
    const w = el.style.width, mw = el.style.minWidth;
    if ((w && FIXED.test(w) && parseFloat(w) !== 0) || (mw && FIXED.test(mw) && parseFloat(mw) !== 0)) return true;
    const attr = el.getAttribute('width');
    return !w && !!attr && /^\d+(\.\d+)?(px)?$/.test(attr.trim()) && /^(img|table|td|th|video|iframe|svg)$/i.test(el.tagName);
  }
  function isReplaced(el) { return /^(img|svg|video|iframe|canvas|embed|object)$/i.test(el.tagName); }
  function hasContent(el) {
    return isReplaced(el) || /[^\s\u00a0\u200b\u3000\ufeff]/.test(el.textContent) || !!el.querySelector('img,video,iframe,svg');
  }
  function containerBox(el) {
    let p = el.parentElement;
    while (p && getComputedStyle(p).display.startsWith('inline') && p.id !== 'js_content') p = p.parentElement;
    if (!p) return null;
    const r = p.getBoundingClientRect(), cs = getComputedStyle(p);
    return {
      left: r.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft),
      right: r.right - parseFloat(cs.borderRightWidth) - parseFloat(cs.paddingRight),
    };
  }
}
"""

CHECK_JS = r"""
({screen, nestLimit, lowContrast}) => {
  const root = document.getElementById('js_content');
  const SPACE = /[^\s\u00a0\u200b\u200c\u200d\u2060\u3000\ufeff]/;
  const FIXED = /^-?(\d+\.?\d*|\.\d+)(px|pt|pc|in|cm|mm|q|em|rem|ex|ch|vw|vh)$/i;
  const TABLE = /^(table|thead|tbody|tfoot|tr|td|th|caption)$/i;
  const out = [];
  const styleCache = new Map();
  const cs = el => { let s = styleCache.get(el); if (!s) { s = getComputedStyle(el); styleCache.set(el, s); } return s; };
  const id = el => { const t = el.closest('[data-lint-id]'); return t ? t.getAttribute('data-lint-id') : null; };
  const inSvg = el => el.tagName.toLowerCase() !== 'svg' && !!el.closest('svg');
  const svgInteractive = el => !!el.closest('[data-mode="svg"], [data-role="absolute-layout"]');
  const report = (key, el, data) => { const i = id(el); if (i !== null) out.push(Object.assign({key, id: i}, data || {})); };
  const textNodes = scope => {
    const nodes = [], walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (SPACE.test(n.data) && p && !inSvg(p) && !/^(script|style)$/i.test(p.tagName)) nodes.push(n);
    }
    return nodes;
  };
  const rects = node => { const r = document.createRange(); r.selectNodeContents(node);
    return Array.from(r.getClientRects()).filter(x => x.width > 0.5 && x.height > 0.5); };
  const visible = el => el.getClientRects().length > 0 && cs(el).visibility !== 'hidden';
  const scrolls = el => { for (let p = el; p && p !== root; p = p.parentElement) {
      if (/(auto|scroll|overlay)/.test(cs(p).overflowX)) return true; } return false; };
  // Inside an ancestor that clips (overflow hidden/clip) only that ancestor's box is seen; it is checked itself.
  const clipped = el => { for (let p = el; p && p !== root; p = p.parentElement) {
      if (/(hidden|clip)/.test(cs(p).overflowX)) return true; } return false; };
  const blockOf = el => { let p = el; while (p !== root && cs(p).display === 'inline') p = p.parentElement; return p; };
  const zeroInline = v => !!v && /^0+(\.0+)?([a-z]+)?$/i.test(v.trim());
  const texts = textNodes(root);
  const elements = Array.from(root.querySelectorAll('[data-lint-id]'));

  checkHeights(); checkOverflow(); checkLineOverlap(); checkOpacity(); checkNesting(); checkContrast();
  return out;

  function checkHeights() {
    for (const el of elements) {
      if (TABLE.test(el.tagName) || inSvg(el) || svgInteractive(el) || !visible(el)) continue;
      const s = cs(el), h = el.style.height || el.style.maxHeight;
      if (!h || !(FIXED.test(h.trim()) || zeroInline(h)) || s.display.startsWith('inline') && s.display !== 'inline-block') continue;
      if (/(auto|scroll|overlay)/.test(s.overflowY)) continue;
      const box = el.getBoundingClientRect();
      if (zeroInline(h) && (parseFloat(s.paddingTop) > 0 || parseFloat(s.paddingBottom) > 0)) continue;
      let ownText = false, anyText = false, below = 0;
      for (const t of textNodes(el)) {
        if (blockOf(t.parentElement) === el) ownText = true;
        for (const r of rects(t)) { anyText = true; below = Math.max(below, r.bottom - box.bottom); }
      }
      for (const m of zeroInline(h) ? [] : el.querySelectorAll('img, video, iframe')) {
        // a zero height over images only is the SVG-interaction idiom the spec allows
        if (visible(m)) below = Math.max(below, m.getBoundingClientRect().bottom - box.bottom);
      }
      if (zeroInline(h) && ownText) report('height', el, {value: h, hidden: below});
      else if (zeroInline(h) ? anyText : below > 2) report('height-nodisplay', el, {value: h, hidden: below});
    }
  }

  function checkOverflow() {
    const reported = new Set();
    for (const el of elements) {
      if (inSvg(el) || el.closest('[data-ignore-width]') || !visible(el)) continue;
      const s = cs(el);
      if (s.display === 'inline' && !/^(img|svg|video|iframe)$/i.test(el.tagName)) continue;
      if (s.position === 'fixed') continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 0 || (r.right <= screen + 1 && r.left >= -1)) continue;
      if (!(/^(img|svg|video|iframe)$/i.test(el.tagName) || SPACE.test(el.textContent) || el.querySelector('img,video,iframe,svg'))) continue;
      if (scrolls(el.parentElement) || clipped(el.parentElement) || ancestorIn(el, reported)) continue;
      reported.add(el);
      report('width', el, {kind: 'overflow', left: r.left, right: r.right});
    }
    for (const t of texts) {
      const p = t.parentElement;
      if (p.closest('[data-ignore-width]') || scrolls(p) || clipped(p)) continue;
      const rs = rects(t);
      const right = Math.max(...rs.map(x => x.right), 0);
      if (right > screen + 1 && !ancestorIn(p, reported)) {
        const b = blockOf(p); reported.add(b);
        report('width', b, {kind: 'text-overflow', left: 0, right});
      }
    }
  }
  function ancestorIn(el, set) { for (let p = el; p; p = p.parentElement) if (set.has(p)) return true; return false; }

  function checkLineOverlap() {
    // Lines of one block container whose glyphs overlap: each text rect is cut down to its em box
    // (the font's ascent and descent make rects taller than the glyphs), then compared pairwise.
    const groups = new Map();
    for (const t of texts) {
      const p = t.parentElement, s = cs(p);
      const lh = parseFloat(s.lineHeight), fs = parseFloat(s.fontSize);
      if (!(lh < fs - 0.5) || fs < 1 || !visible(p)) continue;
      const block = blockOf(p);
      if (!groups.has(block)) groups.set(block, {boxes: [], lh, fs, text: p});
      for (const r of rects(t).slice(0, 200)) {
        const h = Math.min(r.height, fs), mid = (r.top + r.bottom) / 2;
        groups.get(block).boxes.push({left: r.left, right: r.right, top: mid - h / 2, bottom: mid + h / 2, fs});
      }
    }
    for (const [block, g] of groups) {
      const boxes = g.boxes.sort((a, b) => a.top - b.top).slice(0, 400);
      if (!overlapping(boxes)) continue;
      let origin = g.text;
      while (origin !== block && !origin.style.lineHeight) origin = origin.parentElement;
      for (let o = origin; o && o !== root && !o.style.lineHeight; o = o.parentElement) origin = o.parentElement;
      report('line-height', origin && origin !== root ? origin : block, {lh: g.lh, fs: g.fs});
    }
  }
  function overlapping(boxes) {
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length && boxes[j].top < boxes[i].bottom; j++) {
        const a = boxes[i], b = boxes[j];
        const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (dx > 1 && dy > 0.15 * Math.min(a.fs, b.fs)) return true;
      }
    }
    return false;
  }

  function checkOpacity() {
    const reported = new Set();
    for (const el of elements) {
      if (inSvg(el) || cs(el).opacity !== '0' || ancestorIn(el.parentElement, reported)) continue;
      const content = /^(img|video)$/i.test(el.tagName) || textNodes(el).length > 0;
      if (content) { reported.add(el); report('opacity', el, {}); }
    }
  }

  function checkNesting() {
    const depth = new Map();
    for (const el of root.querySelectorAll('*')) {
      if (inSvg(el) || /^(img|video|svg|iframe|audio)$/i.test(el.tagName)) continue;
      const p = el.parentElement;
      const chained = p && p !== root && p.tagName === el.tagName && depth.has(p) && single(p);
      const d = chained ? depth.get(p) + 1 : 1;
      depth.set(el, d);
      if (d === nestLimit + 1) report('nestNodes', el, {tag: el.tagName.toLowerCase()});
    }
  }
  function single(el) {
    let n = 0;
    for (const c of el.childNodes) if (c.nodeType === 1 || (c.nodeType === 3 && SPACE.test(c.data))) n++;
    return n === 1;
  }

  function checkContrast() {
    const seen = new Set(), seenGradient = new Set();
    for (const t of texts) {
      const p = t.parentElement;
      if (seen.has(p) || !visible(p) || parseFloat(cs(p).fontSize) < 1) continue;
      seen.add(p);
      const bg = background(p);
      if (!bg) continue;
      if (bg.gradient && !seenGradient.has(bg.origin)) {
        seenGradient.add(bg.origin);
        if (!ignores(bg.origin, 'text-bg-gradient') && !ignores(p, 'text-bg-gradient')) report('darkmode-text-bg-gradient', bg.origin, {});
      }
      const fg = parseColor(cs(p).color);
      if (!fg || fg[3] === 0 || ignores(p, 'low-contrast') || /text/.test(cs(p).webkitBackgroundClip || '')) continue;
      const ratio = contrast(blend(fg, bg.color), bg.color);
      if (ratio < lowContrast) report('darkmode-low-contrast', p, {fg: blend(fg, bg.color), bg: bg.color, ratio});
    }
  }
  function ignores(el, rule) { return (el.getAttribute('data-ignore-dm') || '').split(/\s+/).includes(rule); }
  function background(el) {
    // Nearest painted background up to the article root; null when none is set (the page's own white).
    const layers = [];
    let origin = null, gradient = false;
    for (let p = el; p && p !== root; p = p.parentElement) {
      const s = cs(p);
      if (s.backgroundImage && s.backgroundImage !== 'none') {
        if (/url\(/.test(s.backgroundImage)) return null;
        const stops = (s.backgroundImage.match(/rgba?\([^)]*\)/g) || []).map(parseColor).filter(Boolean);
        if (stops.length) {  // mixed into one opaque colour, as Dark Mode does
          const mixed = stops.map(c => blend(c, [255, 255, 255, 1]));
          layers.push([0, 1, 2].map(i => mixed.reduce((a, c) => a + c[i], 0) / mixed.length).concat([1]));
          origin = origin || p; gradient = true;
          break;
        }
      }
      const c = parseColor(s.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); origin = origin || p; if (c[3] >= 1) break; }
    }
    if (!layers.length) return null;
    let color = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) color = blend(layers[i], color);
    return {color, origin, gradient};
  }
  function parseColor(v) {
    const m = /rgba?\(([^)]*)\)/.exec(v || '');
    if (!m) return null;
    const parts = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  }
  function blend(top, bottom) { const a = top[3]; return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]); }
  function lum(c) { const f = x => { x /= 255; return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); }
  function contrast(a, b) { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
}
"""


@functools.lru_cache(maxsize=1)
def browser_available() -> bool:
    """True when Playwright is installed and Debian's Chromium starts (checked once per process)."""
    if not os.access(CHROMIUM, os.X_OK):
        return False
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    try:
        with sync_playwright() as pw:
            pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS).close()
    except Exception:  # any launch failure means "no browser here"
        return False
    return True


def lint_html_in_browser(html: str, path: str, *, width: int = 375, line_offset: int = 0) -> list[Finding]:
    """Render ``html`` at ``width`` px (and at 677 px for width rules) and report layout findings."""
    with LayoutLinter(width=width) as linter:
        return linter.lint(html, path, line_offset=line_offset)


class LayoutLinter:
    """One Chromium for many documents: ``with LayoutLinter() as linter: linter.lint(html, path)``."""

    def __init__(self, *, width: int = 375):
        self.width = width
        self._pw = None
        self._browser = None

    def __enter__(self) -> LayoutLinter:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception:
            self._pw.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._pw is not None:
            self._pw.stop()

    def lint(self, html: str, path: str, *, line_offset: int = 0) -> list[Finding]:
        root = parse_html(html)
        if root is None:
            return []
        elements = prepare(root)
        content = (root.text or "") + "".join(
            etree.tostring(child, method="html", encoding="unicode") for child in root
        )
        page_html = PAGE.format(pad=int(PAGE_PADDING), fs=int(ROOT_FONT_SIZE), content=content)
        raw, wide, phone = self._measure(page_html)
        return build_findings(raw, wide, phone, elements, path, line_offset, self.width)

    def _measure(self, page_html: str):
        context = self._browser.new_context(
            viewport={"width": WIDE_SCREEN, "height": 900}, java_script_enabled=False, offline=True
        )
        try:
            page = context.new_page()
            page.route("**/*", lambda route: route.abort())
            page.set_content(page_html, wait_until="load", timeout=TIMEOUT_MS)
            wide = page.evaluate(MEASURE_JS)
            page.set_viewport_size({"width": self.width, "height": 667})
            phone = page.evaluate(MEASURE_JS)
            raw = page.evaluate(
                CHECK_JS, {"screen": self.width, "nestLimit": NEST_LIMIT, "lowContrast": LOW_CONTRAST}
            )
        finally:
            context.close()
        return raw, wide, phone


def prepare(root) -> list:
    """Tag elements with their index, drop scripts and handlers, swap images for blank SVGs of their size."""
    elements = []
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in ("script", "noscript") and el is not root:
            _drop(el)
            continue
        for name in [n for n in el.attrib if n.lower().startswith("on")]:
            del el.attrib[name]
        if tag == "img":
            _placeholder(el)
        elif tag in ("iframe", "video", "audio", "source"):
            el.attrib.pop("src", None)  # no network; their boxes keep their declared size
        el.set(ID_ATTR, str(len(elements)))
        elements.append(el)
    return elements


def _drop(el) -> None:
    parent = el.getparent()
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _number(value: str | None) -> float | None:
    try:
        return float(str(value).strip().removesuffix("px")) if value else None
    except ValueError:
        return None


def _placeholder(img) -> None:
    """WeChat's fallback for images that don't load: style width, data-w, width attribute, else 1x1."""
    width = _number(img.get("data-w")) or _number(img.get("width")) or 1.0
    ratio = _number(img.get("data-ratio"))
    height = width * ratio if ratio else (_number(img.get("height")) or 1.0)
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{max(height, 1):.0f}'/>"
    img.set("src", "data:image/svg+xml," + quote(svg))
    img.attrib.pop("srcset", None)


def build_findings(raw: list[dict], wide: dict, phone: dict, elements: list, path: str,
                   line_offset: int, width: int) -> list[Finding]:
    """Findings from the page's raw reports and the two width measurements, one per rule and element."""
    found: dict[tuple[str, int], Finding] = {}
    for item in raw:
        found.setdefault((item["key"], int(item["id"])), _finding(item, elements, path, line_offset, width))
    for index, finding in _width_changes(wide, phone, elements, path, line_offset, width):
        found.setdefault(("width", index), finding)
    return sorted(found.values(), key=lambda f: (f.line or 0, f.rule))


def _make(el, key: str, severity: str, message: str, path: str, line_offset: int) -> Finding:
    line = el.sourceline
    saved = el.attrib.pop(ID_ATTR, None)  # the snippet must not show our own attribute
    try:
        text = snippet(el)
    finally:
        if saved is not None:
            el.set(ID_ATTR, saved)
    return Finding(path=path, line=None if line is None else line + line_offset, rule=f"structure/{key}",
                   severity=severity, message=message, snippet=text)


def _px(value: float) -> str:
    return f"{value:.0f}px"


def _finding(item: dict, elements: list, path: str, line_offset: int, width: int) -> Finding:
    el = elements[int(item["id"])]
    key = item["key"]
    message = _MESSAGES[key](item, width)
    severity = "warning" if key.startswith("darkmode") else "error"
    return _make(el, key, severity, message, path, line_offset)


def _msg_height(item: dict, width: int) -> str:
    return (f"height is {item['value']} on an element whose own lines hold text; on a {width}px screen the "
            "text is invisible or overlaps what follows; remove the height")


def _msg_nodisplay(item: dict, width: int) -> str:
    if item["hidden"] <= 2:
        return (f"height is {item['value']} but the element holds text in nested blocks, rendered outside its "
                f"zero-height box on a {width}px screen (clipped or overlapping); remove the height")
    return (f"fixed height {item['value']} is smaller than the rendered content, which extends "
            f"{_px(item['hidden'])} below it on a {width}px screen and is clipped or overlaps; use height: auto")


def _msg_width(item: dict, width: int) -> str:
    if item.get("kind") == "text-overflow":
        return (f"text runs to x={_px(item['right'])}, past the right edge of a {width}px screen, and is cut off; "
                "let it wrap (no <pre>/nowrap for prose) or make the container scroll")
    side = f"to x={_px(item['right'])}" if item["right"] > width + 1 else f"from x={_px(item['left'])}"
    return (f"the element extends {side}, outside a {width}px screen (0-{width}px), so part of it is cut off; "
            "use percentage widths and smaller horizontal offsets")


def _msg_line_height(item: dict, width: int) -> str:
    return (f"line-height {_px(item['lh'])} is below font-size {_px(item['fs'])} and the rendered lines overlap "
            f"on a {width}px screen; use a line-height >= the font size, e.g. 1.5")


def _msg_opacity(item: dict, width: int) -> str:
    return "computed opacity is 0 on content (image or text), which is invisible and can't be edited; remove it"


def _msg_nest(item: dict, width: int) -> str:
    return (f"<{item['tag']}> is nested more than {NEST_LIMIT} levels deep in <{item['tag']}> elements that each hold "
            "a single child (in the DOM the browser built); the editor removes redundant levels; merge them")


def _rgb(c: list) -> str:
    return "rgb({:.0f}, {:.0f}, {:.0f})".format(*c[:3])


def _msg_contrast(item: dict, width: int) -> str:
    return (f"rendered text colour {_rgb(item['fg'])} on background {_rgb(item['bg'])} has a contrast of "
            f"{item['ratio']:.2f}:1 (expected at least {LOW_CONTRAST:.0f}:1); hard to read and adjusted by Dark "
            "Mode; pick a colour with more contrast")


def _msg_gradient(item: dict, width: int) -> str:
    return ("text is rendered on a gradient background, which Dark Mode mixes into one colour; put text on a "
            "solid background colour")


_MESSAGES = {
    "height": _msg_height,
    "height-nodisplay": _msg_nodisplay,
    "width": _msg_width,
    "line-height": _msg_line_height,
    "opacity": _msg_opacity,
    "nestNodes": _msg_nest,
    "darkmode-low-contrast": _msg_contrast,
    "darkmode-text-bg-gradient": _msg_gradient,
}


def _width_changes(wide: dict, phone: dict, elements: list, path: str, line_offset: int, width: int):
    """1.4.1 and 1.4.3: fixed widths that look centred / full-width on phones and not on wider screens."""
    reported: set = set()
    for key in sorted(phone, key=int):
        p, w = phone[key], wide.get(key)
        el = elements[int(key)]
        if w is None or not p["content"] or any(a in reported for a in el.iterancestors()):
            continue
        message = None
        if abs(p["offset"]) <= 1.5 and abs(w["offset"]) > 8:
            message = (f"fixed width: centred on a {width}px screen but {_px(abs(w['offset']))} off centre on a "
                       f"{WIDE_SCREEN}px one; use a percentage width or centre it with margin: 0 auto")
        elif p["share"] >= 0.8 and p["share"] - w["share"] > 0.15:
            message = (f"fixed width: {p['share']:.0%} of the column on a {width}px screen but {w['share']:.0%} on "
                       f"a {WIDE_SCREEN}px one; use a percentage width so it keeps its proportion")
        if message:
            reported.add(el)
            yield int(key), _make(el, "width", "error", message, path, line_offset)

