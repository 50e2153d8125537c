"""Static linter for WeChat's article-structure spec (verify_article_structure), no browser.

The spec is shared/wechat/structure-spec/verify_article_structure.md. Every finding has the rule id
``structure/<key>``; the keys the WeChat API returns are kept (``opacity``, ``width``, ``nestNodes`` ...).

Rules this mode covers (key, severity, spec section):

* ``opacity``                    error    1.1    ``opacity: 0`` on an image or video, or on an element
  holding text, images or videos
* ``caret-color``                error    1.2    a fully transparent ``caret-color``
* ``line-height``                error    1.3    line-height below the font size on text estimated to wrap
  or to contain a ``<br>`` (inherited values included: unitless and percent values are resolved against
  the inheriting font size, lengths against the declaring one)
* ``width``                      error    1.4    a fixed width wider than the column (squeezed on phones,
  fixed and left-aligned on wide screens), a fixed width that fills the phone column without being
  centred, margins or padding that leave no room for the content or push it past the screen edge (not
  inside an ancestor that clips), table columns whose fixed widths add up to more than the column.
  ``data-ignore-width`` exempts a subtree; only the outermost offending element is reported.
* ``height``                     error    1.5.1  a zero height on an element that holds text in its own lines
* ``height-nodisplay``           error    1.5.2  a fixed height smaller than a lower-bound estimate of the
  content (a zero height whose text sits in nested blocks is this case); scroll containers are exempt
* ``text-align``                 error    1.6    ``text-align: start`` or ``end``
* ``animate-begin``              error    1.7    an SVG animation whose ``begin`` has touchstart without click
* ``pre``                        error    1.8    ``<pre>`` holding prose rather than code
* ``nestNodes``                  error    2.1    a chain of more than 10 same-tag elements each holding a
  single child; counted whatever the styles, as WeChat's fixture requires (the levels that repeat their
  parent's style are the ones the editor deletes; the message counts them)
* ``leaf-block``                 error    2.2    a block element inside ``span[leaf]``
* ``nodeleaf``                   error    2.3    ``section[nodeleaf]`` holding anything but images/components
* ``font-family``                warning  3      a per-element font family other than the default stack
  (monospace inside ``pre``/``code`` is allowed)
* ``darkmode-low-contrast``      warning  4.1.1  text/background contrast below 2:1 where both colours are
  known from inline styles (gradients are mixed to one colour); ``data-ignore-dm="low-contrast"`` exempts
* ``darkmode-text-bg-gradient``  warning  4.1.2  text on a gradient background;
  ``data-ignore-dm="text-bg-gradient"`` exempts
* ``important``                  warning  4.5.2  ``!important`` in an inline style

Assumptions, as on WeChat's article page: a 375 px screen with 16 px page padding (a 343 px column),
``max-width: 100%`` and ``box-sizing: border-box`` on every element, 17 px / 1.6 body text.
Whatever needs real layout (rendered heights, real text wrapping, computed colours from stylesheets,
redundant nesting that only rendering reveals) is in :mod:`publisher.lint.layout`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from html import escape

import lxml.html
from lxml import etree

from publisher.colors import parse_css_color
from publisher.findings import Finding, shorten

SCREEN_WIDTH = 375.0
PAGE_PADDING = 16.0
COLUMN_WIDTH = SCREEN_WIDTH - 2 * PAGE_PADDING
ROOT_FONT_SIZE = 17.0
ROOT_LINE_HEIGHT = ("factor", 1.6)
ROOT_COLOR = (0.0, 0.0, 0.0, 0.9)
WHITE = (255.0, 255.0, 255.0, 1.0)
NEST_LIMIT = 10
LOW_CONTRAST = 2.0
NEAR_FULL = 0.9  # a fixed width above this share of the phone column looks full-width there

ERROR = "error"
WARNING = "warning"

_SPACE = " \t\r\n\f\xa0\u200b\u200c\u200d\u2060\ufeff\u3000"
INLINE_TAGS = frozenset(
    ["a", "abbr", "b", "bdi", "bdo", "big", "br", "cite", "code", "data", "dfn", "em", "font", "i", "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr", "del", "ins", "textarea", "select", "button", "input"]
)
REPLACED_TAGS = frozenset(["img", "svg", "video", "audio", "iframe", "canvas", "embed", "object", "picture", "input", "math"])
MEDIA_TAGS = REPLACED_TAGS | {"mpvoice", "qqmusic", "mp-common-profile", "mp-common-videosnap"}
BLOCK_TAGS = frozenset(
    ["address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul", "caption", "colgroup"]
)
HIDDEN_TAGS = frozenset(["script", "style", "template", "head", "title", "noscript", "meta", "link", "base"])
TABLE_PARTS = frozenset(["table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"])
NODELEAF_OK = frozenset(["img", "iframe", "video", "audio", "br", "mpvoice", "qqmusic"])
ANIMATION_TAGS = frozenset(["animate", "animatetransform", "animatemotion", "animatecolor", "set"])
HEADING_EM = {"h1": 2.0, "h2": 1.5, "h3": 1.17, "h4": 1.0, "h5": 0.83, "h6": 0.67}
FONT_SIZE_KEYWORDS = {
    "xx-small": 9, "x-small": 10, "small": 13, "medium": 16, "large": 18, "x-large": 24,
    "xx-large": 32, "xxx-large": 48,
}
FONT_SIZE_ATTR = {"1": 10, "2": 13, "3": 16, "4": 18, "5": 24, "6": 32, "7": 48}
DEFAULT_FONT_STACK = (
    "mp-quote,pingfang sc,system-ui,-apple-system,blinkmacsystemfont,helvetica neue,"
    "hiragino sans gb,microsoft yahei ui,microsoft yahei,arial,sans-serif"
)
_ABS_UNITS = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6}
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z%]*)$")
_IMPORTANT = re.compile(r"!\s*important\s*$", re.I)
_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")
_SPACES = re.compile(r"\s+")
_GRADIENT = re.compile(r"gradient\s*\(")
_URL = re.compile(r"url\(\s*['\"]?\s*[^'\")\s]")
_COLOR_TOKEN = re.compile(r"#[0-9a-f]{3,8}\b|(?:rgba?|hsla?)\([^)]*\)|\b[a-z]+\b", re.I)
_CODE_CHARS = re.compile(r"[{}\[\]();=<>$#_/\\|&*+]")
_CODE_CLASS = re.compile(r"code|hljs|highlight|language-|lang-|prism|syntax", re.I)


# ---------------------------------------------------------------------------------------------------
# CSS values


class Style:
    """One parsed ``style`` attribute: declarations (last one wins) and the properties marked !important."""

    __slots__ = ("decls", "important", "key", "props")

    def __init__(self, decls: dict[str, str], important: tuple[str, ...]):
        self.decls = decls
        self.important = important
        self.key = tuple(sorted(decls.items()))
        self.props = frozenset(decls)

    def get(self, prop: str, default: str | None = None) -> str | None:
        return self.decls.get(prop, default)


_STYLE_CACHE: dict[str, Style] = {}
EMPTY_STYLE = Style({}, ())


def _split_declarations(text: str) -> list[str]:
    parts = text.split(";")
    if "(" not in text and '"' not in text and "'" not in text:
        return parts
    out: list[str] = []
    buf: str | None = None
    for part in parts:
        buf = part if buf is None else buf + ";" + part
        if buf.count("(") <= buf.count(")") and buf.count('"') % 2 == 0 and buf.count("'") % 2 == 0:
            out.append(buf)
            buf = None
    if buf is not None:
        out.append(buf)
    return out


def parse_style(text: str | None) -> Style:
    """Parse an inline style into a cached :class:`Style`; never raises."""
    if not text or not text.strip():
        return EMPTY_STYLE
    cached = _STYLE_CACHE.get(text)
    if cached is not None:
        return cached
    decls: dict[str, str] = {}
    important: list[str] = []
    for decl in _split_declarations(text):
        prop, sep, value = decl.partition(":")
        prop = prop.strip().lower()
        if not sep or not prop:
            continue
        value = value.strip()
        if _IMPORTANT.search(value):
            value = _IMPORTANT.sub("", value).strip()
            important.append(prop)
        decls.pop(prop, None)  # keep declaration order: a repeated property moves to its last place
        decls[prop] = value
    style = Style(decls, tuple(important))
    if len(_STYLE_CACHE) > 50_000:
        _STYLE_CACHE.clear()
    _STYLE_CACHE[text] = style
    return style


def length_px(value: str | None, font_size: float, base: float | None = None) -> float | None:
    """A CSS length in px: absolute units, em/rem/ex/ch, vw/vh on a 375x667 screen, % of ``base``."""
    if not value:
        return None
    m = _LENGTH.match(value.strip().lower())
    if not m:
        return None
    number, unit = float(m[1]), m[2]
    if unit in _ABS_UNITS:
        return number * _ABS_UNITS[unit]
    if unit == "":
        return 0.0 if number == 0 else None
    if unit == "em":
        return number * font_size
    if unit == "rem":
        return number * 16.0
    if unit in ("ex", "ch"):
        return number * font_size * 0.5
    if unit == "vw":
        return number * SCREEN_WIDTH / 100
    if unit == "vh":
        return number * 667 / 100
    if unit == "%" and base is not None:
        return number * base / 100
    return None


def is_fixed_length(value: str | None) -> bool:
    """True for a non-zero length that does not follow the screen (px, pt, em ...; not %, vw, auto)."""
    if not value:
        return False
    m = _LENGTH.match(value.strip().lower())
    return bool(m) and float(m[1]) != 0 and m[2] not in ("", "%", "vw", "vh", "vmin", "vmax")


def parse_color(value: str | None) -> tuple[float, float, float, float] | None:
    """rgba with 0-255 channels and 0-1 alpha, or None when unknown (currentColor, var(), ...)."""
    return parse_css_color(value) if value else None


def blend(top: tuple[float, ...], bottom: tuple[float, ...]) -> tuple[float, float, float, float]:
    a = top[3]
    return (top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1.0)


def luminance(rgb: tuple[float, ...]) -> float:
    def lin(c: float) -> float:
        c = min(max(c, 0.0), 255.0) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])


def contrast_ratio(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _gradient_colors(value: str) -> list[tuple[float, float, float, float]]:
    colors = []
    for token in _COLOR_TOKEN.findall(value):
        color = parse_color(token)
        if color is not None and not (token.isalpha() and token.lower() in ("to", "at", "deg")):
            colors.append(color)
    return colors


def _fmt(px: float) -> str:
    return f"{px:.0f}px" if abs(px - round(px)) < 0.05 else f"{px:.1f}px"


def _value(raw: str, px: float) -> str:
    """A declared value, with its px equivalent when it isn't in px already."""
    return raw if raw.strip().lower().endswith("px") else f"{raw} (= {_fmt(px)})"


# ---------------------------------------------------------------------------------------------------
# The tree, with inherited and box values computed once per element


class Box:
    """An element with its parsed style and the computed values the rules need."""

    __slots__ = (
        "el", "parent", "children", "style", "tag", "display", "hidden", "in_svg", "svg_interactive",
        "container", "replaced", "font_size", "lh", "lh_origin", "letter_spacing", "color", "color_origin",
        "bg", "bg_kind", "bg_origin", "text_align", "nowrap", "in_code", "ignore_width", "cw", "left", "fluid",
        "clips", "positioned", "own_text", "inline_text", "text_below", "media_below",
    )

    def __init__(self, el, parent: Box | None):
        self.el = el
        self.parent = parent
        self.children: list[Box] = []
        self.tag = el.tag.lower() if isinstance(el.tag, str) else ""
        self.style = parse_style(el.get("style"))
        self.own_text = self.inline_text = self.text_below = self.media_below = False

    @property
    def line(self) -> int | None:
        return self.el.sourceline

    def has_attr(self, name: str) -> bool:
        return self.el.get(name) is not None

    def lh_px(self) -> float:
        kind, value = self.lh
        if kind == "px":
            return value
        if kind == "factor":
            return value * self.font_size
        return self.font_size * 1.2

    def ignores_dm(self, rule: str) -> bool:
        return rule in (self.el.get("data-ignore-dm") or "").split()


def _root_box(el) -> Box:
    box = Box(el, None)
    box.display, box.hidden, box.in_svg, box.svg_interactive = "block", False, False, False
    box.container, box.replaced, box.positioned = True, False, False
    box.font_size, box.lh, box.lh_origin, box.letter_spacing = ROOT_FONT_SIZE, ROOT_LINE_HEIGHT, None, 0.0
    box.color, box.color_origin, box.bg, box.bg_kind, box.bg_origin = ROOT_COLOR, None, WHITE, "page", None
    box.text_align, box.nowrap, box.in_code, box.ignore_width = "left", False, False, False
    box.cw, box.left, box.fluid, box.clips = COLUMN_WIDTH, 0.0, True, False
    _compute(box, box)  # the body's own style, if it has one
    return box


def _compute(box: Box, parent: Box) -> None:
    """Fill in the inherited and box values of ``box`` from its parent (pre-order)."""
    _compute_display(box, parent)
    _compute_font(box, parent)
    _compute_colors(box, parent)
    _compute_text(box, parent)
    _compute_width(box, parent)


def _compute_display(box: Box, parent: Box) -> None:
    st, tag = box.style, box.tag
    display = (st.get("display") or "").lower()
    box.display = display
    box.hidden = parent.hidden or display == "none" or tag in HIDDEN_TAGS or box.has_attr("hidden")
    box.in_svg = parent.in_svg or parent.tag == "svg"
    box.svg_interactive = parent.svg_interactive or (
        box.el.get("data-mode") == "svg" or box.el.get("data-role") == "absolute-layout"
    )
    box.replaced = tag in REPLACED_TAGS
    if display:
        box.container = display not in ("inline", "contents", "none") and not box.replaced
    else:
        box.container = tag not in INLINE_TAGS and "-" not in tag and not box.replaced and ":" not in tag
    box.positioned = (st.get("position") or "").lower() in ("absolute", "fixed")
    box.ignore_width = parent.ignore_width or box.has_attr("data-ignore-width")
    overflow = ((st.get("overflow") or "") + " " + (st.get("overflow-x") or "")).lower()
    box.clips = parent.clips or "hidden" in overflow or "clip" in overflow  # descendants seen only inside it


def _compute_font(box: Box, parent: Box) -> None:
    st = box.style
    fs = _font_size(st.get("font-size"), parent.font_size)
    if fs is None:
        fs = parent.font_size
        if box.tag in HEADING_EM:
            fs *= HEADING_EM[box.tag]
        elif box.tag in ("small", "sub", "sup"):
            fs /= 1.2
        elif box.tag == "font" and box.el.get("size") in FONT_SIZE_ATTR:
            fs = float(FONT_SIZE_ATTR[box.el.get("size")])
    box.font_size = fs
    box.lh, box.lh_origin = _line_height(st.get("line-height"), fs, parent)
    if box.lh_origin is None and box.lh is not parent.lh:
        box.lh_origin = box
    ls = st.get("letter-spacing")
    box.letter_spacing = parent.letter_spacing if ls is None else (length_px(ls, fs) or 0.0)


def _font_size(value: str | None, parent_fs: float) -> float | None:
    if not value:
        return None
    v = value.strip().lower()
    if v in FONT_SIZE_KEYWORDS:
        return float(FONT_SIZE_KEYWORDS[v])
    if v == "smaller":
        return parent_fs / 1.2
    if v == "larger":
        return parent_fs * 1.2
    return length_px(v, parent_fs, parent_fs)


def _line_height(value: str | None, fs: float, parent: Box):
    """Computed line-height as (kind, value) and the element that declared it (None: same as parent's)."""
    if not value or value.strip().lower() in ("inherit", "unset"):
        return parent.lh, parent.lh_origin
    v = value.strip().lower()
    if v in ("normal", "initial"):
        return ("normal", None), None
    m = _LENGTH.match(v)
    if m and m[2] == "":
        return ("factor", float(m[1])), None
    px = length_px(v, fs, fs)
    if px is None:
        return parent.lh, parent.lh_origin
    return ("px", px), None


_COLOR_PROPS = frozenset(("color", "background", "background-color", "background-image"))


def _compute_colors(box: Box, parent: Box) -> None:
    st = box.style
    if not (st.props & _COLOR_PROPS) and box.tag != "font" and box.el.get("bgcolor") is None:
        box.color, box.color_origin = parent.color, parent.color_origin
        box.bg, box.bg_kind, box.bg_origin = parent.bg, parent.bg_kind, parent.bg_origin
        return
    color = parse_color(st.get("color") or (box.el.get("color") if box.tag == "font" else None))
    if color is None or color[3] == 0:
        box.color, box.color_origin = parent.color, parent.color_origin
    else:
        box.color, box.color_origin = color, box
    box.bg, box.bg_kind, box.bg_origin = parent.bg, parent.bg_kind, parent.bg_origin
    background = " ".join(filter(None, (st.get("background"), st.get("background-image"))))
    if background and _URL.search(background):
        box.bg, box.bg_kind, box.bg_origin = None, "image", box
        return
    if background and _GRADIENT.search(background):
        stops = _gradient_colors(background)
        if stops:
            mixed = [blend(c, parent.bg or WHITE) for c in stops]
            avg = tuple(sum(c[i] for c in mixed) / len(mixed) for i in range(3))
            box.bg, box.bg_kind, box.bg_origin = (*avg, 1.0), "gradient", box
            return
    solid = parse_color(st.get("background-color") or box.el.get("bgcolor"))
    if solid is None and st.get("background") and not _GRADIENT.search(st.get("background")):
        solid = next(filter(None, map(parse_color, _COLOR_TOKEN.findall(st.get("background")))), None)
    if solid is not None and (solid[3] >= 1 or solid[3] > 0 and parent.bg is not None):
        box.bg, box.bg_kind, box.bg_origin = blend(solid, parent.bg or WHITE), "color", box


def _compute_text(box: Box, parent: Box) -> None:
    st = box.style
    align = (st.get("text-align") or box.el.get("align") or "").lower()
    box.text_align = align or parent.text_align
    ws = (st.get("white-space") or "").lower()
    box.nowrap = parent.nowrap if not ws else ws in ("nowrap", "pre")
    if box.tag == "pre" and not ws:
        box.nowrap = True
    box.in_code = parent.in_code or box.tag in ("pre", "code", "kbd", "samp", "tt")


def side_values(st: Style, prop: str) -> dict[str, str]:
    """Raw top/right/bottom/left values of margin or padding: the shorthand, then the longhands."""
    out = dict.fromkeys(("top", "right", "bottom", "left"), "0")
    vals = (st.get(prop) or "").split()
    if 1 <= len(vals) <= 4:
        top = vals[0]
        right = vals[1] if len(vals) > 1 else top
        bottom = vals[2] if len(vals) > 2 else top
        left = vals[3] if len(vals) > 3 else right
        out.update(top=top, right=right, bottom=bottom, left=left)
    for side in out:
        if st.get(f"{prop}-{side}") is not None:
            out[side] = st.get(f"{prop}-{side}")
    return out


def _sides(st: Style, prop: str, fs: float, base: float) -> tuple[float | None, float | None]:
    """Left and right px of margin/padding (None for auto or unknown)."""
    vals = side_values(st, prop)
    return length_px(vals["left"], fs, base), length_px(vals["right"], fs, base)


def _border_x(st: Style, fs: float) -> float:
    total = 0.0
    for side in ("left", "right"):
        value = st.get(f"border-{side}-width") or st.get(f"border-{side}") or st.get("border-width") or st.get("border")
        if value and "none" not in value and "hidden" not in value:
            total += next(filter(None, (length_px(t, fs) for t in value.split())), 0.0)
    return total


_WIDTH_PROPS = frozenset(("width", "min-width", "max-width", "margin", "margin-left", "margin-right", "padding",
                "padding-left", "padding-right", "border", "border-width", "border-left", "border-right"))


def declared_width(box: Box, base: float) -> tuple[str | None, float | None]:
    """The declared width (raw value) and its px value against ``base``, from style or width attribute."""
    raw = box.style.get("width")
    if raw is None and box.tag in ("img", "table", "td", "th", "col", "video", "iframe", "svg"):
        attr = box.el.get("width")
        if attr and attr.strip().replace(".", "", 1).isdigit():
            raw = attr.strip() + "px"
        elif attr:
            raw = attr.strip()
    return raw, length_px(raw, box.font_size, base) if raw else None


def _compute_width(box: Box, parent: Box) -> None:
    box.cw, box.left, box.fluid = parent.cw, parent.left, parent.fluid
    st = box.style
    if not box.container or box.in_svg or not (st.props & _WIDTH_PROPS):
        return
    base = parent.cw
    ml, mr = _sides(st, "margin", box.font_size, base)
    pl, pr = _sides(st, "padding", box.font_size, base)
    border = _border_x(st, box.font_size)
    inner = (pl or 0.0) + (pr or 0.0) + border
    raw, width = declared_width(box, base)
    if is_fixed_length(raw):
        box.fluid = False
    if width is None:
        width = base - (ml or 0.0) - (mr or 0.0)
    width = min(width, base)  # max-width: 100% on every element
    box.cw = max(width - inner, 0.0)
    box.left = parent.left + (ml or 0.0) + (pl or 0.0) + border / 2


def build_tree(root) -> list[Box]:
    """All boxes in document order; the first is the root (body)."""
    top = _root_box(root)
    boxes = [top]
    stack = [(child, top) for child in reversed(root) if isinstance(child.tag, str)]
    while stack:
        el, parent = stack.pop()
        box = Box(el, parent)
        _compute(box, parent)
        parent.children.append(box)
        boxes.append(box)
        stack.extend((child, box) for child in reversed(el) if isinstance(child.tag, str))
    _compute_content(boxes)
    return boxes


def _is_blank(text: str | None) -> bool:
    return not text or not text.strip(_SPACE)


def _compute_content(boxes: list[Box]) -> None:
    """Bottom-up: which elements hold text (own, in their line boxes, anywhere below) or media."""
    for box in reversed(boxes):
        if box.hidden:
            continue
        el = box.el
        box.own_text = not box.in_svg and (
            not _is_blank(el.text) or any(not _is_blank(child.tail) for child in el)
        )
        inline_text = box.own_text
        text_below = box.own_text
        media = box.tag in MEDIA_TAGS or (box.tag.startswith("mp-") and box.tag != "mp-style-type")
        for child in box.children:
            if child.hidden:
                continue
            text_below = text_below or child.text_below
            media = media or child.media_below
            if not child.container and not child.replaced:
                inline_text = inline_text or child.inline_text
        box.inline_text, box.text_below, box.media_below = inline_text, text_below, media


def parse_html(html: str):
    """The body (or the fragment's implied body) of ``html``; None when there is nothing to lint."""
    if not html or not html.strip():
        return None
    # lxml.etree's parser: plain elements, without lxml.html's per-element class lookup (2x faster)
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        doc = lxml.html.document_fromstring(html, parser=parser)
    except ValueError:  # a str with an XML encoding declaration
        doc = lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except etree.ParserError:
        return None
    body = doc.find("body")
    return body if body is not None else doc


# ---------------------------------------------------------------------------------------------------
# Inline content: line segments of a block container, for line counting


def _line_segments(box: Box) -> list[list[tuple[str, Box, float]]]:
    """The container's own line content split at forced breaks: (text, owner, line box height)."""
    segments: list[list[tuple[str, Box, float]]] = [[]]
    _walk_inline(box, box.lh_px(), segments)
    return [seg for seg in segments if any(not _is_blank(t) for t, _, _ in seg)]


def _walk_inline(box: Box, lh: float, segments: list) -> None:
    """Collect text with the height of its line box: the largest line-height of its inline ancestors."""
    if box.el.text:
        segments[-1].append((box.el.text, box, lh))
    for child in box.children:
        if child.hidden:
            pass
        elif child.tag == "br" or (child.container and not child.display.startswith("inline")):
            segments.append([])  # a forced break; a block child's lines are its own
        elif not child.container and not child.replaced:
            _walk_inline(child, max(lh, child.lh_px()), segments)
        if child.el.tail:
            segments[-1].append((child.el.tail, box, lh))


def text_width(text: str, font_size: float, letter_spacing: float = 0.0, keep_spaces: bool = False) -> float:
    """Estimated advance of ``text``: CJK and full-width glyphs 1 em, others about 0.55 em."""
    if not keep_spaces:
        text = _SPACES.sub(" ", text)
    wide = len(_WIDE.findall(text))
    narrow = len(text) - wide
    return (wide + narrow * 0.55) * font_size + letter_spacing * len(text)


def estimate_lines(box: Box, segments: list[list[tuple[str, Box, float]]]) -> int:
    """How many text lines the container renders at the phone column width (an estimate)."""
    avail = max(box.cw, 1.0)
    lines = 0
    for seg in segments:
        width = sum(text_width(t, owner.font_size, owner.letter_spacing) for t, owner, _ in seg)
        lines += 1 if box.nowrap else max(1, math.ceil(width / avail - 0.02))
    return lines


# ---------------------------------------------------------------------------------------------------
# Findings


class Context:
    """What rules share: the boxes, the path, and how to turn a box into a Finding."""

    def __init__(self, boxes: list[Box], path: str, line_offset: int):
        self.boxes = boxes
        self.path = path
        self.line_offset = line_offset

    def visible(self) -> Iterator[Box]:
        """Boxes that render as article content (not hidden, not the root, not inside an SVG)."""
        for box in self.boxes[1:]:
            if not box.hidden and not box.in_svg:
                yield box

    def finding(self, box: Box, key: str, severity: str, message: str) -> Finding:
        line = box.line
        return Finding(
            path=self.path,
            line=None if line is None else line + self.line_offset,
            rule=f"structure/{key}",
            severity=severity,
            message=message,
            snippet=snippet(box.el),
        )


def snippet(el) -> str:
    """The element's outerHTML, shortened: start tag, first text, an ellipsis for the rest."""
    attrs = ""
    for k, v in el.attrib.items():
        attrs += f' {k}="{escape(str(v)[:150], quote=True)}"'
        if len(attrs) > 200:
            break
    inner = escape((el.text or "")[:200], quote=False)
    rest = "…" if len(el) else ""
    return shorten(f"<{el.tag}{attrs}>{inner}{rest}</{el.tag}>")


def _label(box: Box) -> str:
    line = f" (line {box.line})" if box.line else ""
    return f"<{box.tag}>{line}"


Rule = Callable[[Context], Iterator[Finding]]


# ---------------------------------------------------------------------------------------------------
# 1.1 - 1.8 CSS properties


def rule_opacity(ctx: Context) -> Iterator[Finding]:
    """1.1: content with opacity 0 (editors overlay an SVG background instead; the image can't be edited)."""
    for box in ctx.visible():
        value = box.style.get("opacity")
        if value is None or not _zero_number(value):
            continue
        images = box.tag in ("img", "video") or next(box.el.iter("img", "video"), None) is not None
        if images or box.text_below:
            what = "its text" if box.text_below else "the image" if box.tag != "video" else "the video"
            yield ctx.finding(
                box, "opacity", ERROR,
                f"opacity is {value}, so {what} is invisible and cannot be edited after publishing; "
                "show the content itself with opacity above 0 instead of covering it",
            )


def _zero_number(value: str) -> bool:
    v = value.strip().lower()
    try:
        return float(v[:-1]) == 0 if v.endswith("%") else float(v) == 0
    except ValueError:
        return False


def rule_caret_color(ctx: Context) -> Iterator[Finding]:
    """1.2: a transparent text cursor."""
    for box in ctx.visible():
        value = box.style.get("caret-color")
        color = parse_color(value)
        if color is not None and color[3] == 0:
            yield ctx.finding(
                box, "caret-color", ERROR,
                f"caret-color is {value}, which hides the cursor in the editor; remove it or use a visible colour",
            )


def rule_line_height(ctx: Context) -> Iterator[Finding]:
    """1.3: line-height below the font size on text with more than one line (lines overlap)."""
    reported: set[int] = set()
    for box in ctx.visible():
        if not box.container or not box.inline_text or box.font_size < 1:
            continue
        segments = _line_segments(box)
        bad = [(owner, lh) for seg in segments for t, owner, lh in seg
               if not _is_blank(t) and owner.font_size >= 1 and lh < owner.font_size - 0.5]
        if not bad or estimate_lines(box, segments) < 2:
            continue
        owner, lh = bad[0]
        origin = owner.lh_origin or owner
        if id(origin) in reported:
            continue
        reported.add(id(origin))
        where = "" if origin is box else f" (set on {_label(origin)}, text in {_label(box)})"
        yield ctx.finding(
            origin, "line-height", ERROR,
            f"line-height {_fmt(lh)} is below font-size {_fmt(owner.font_size)} on multi-line text{where}; "
            "lines will overlap; use a line-height >= the font size, e.g. 1.5",
        )


def rule_width(ctx: Context) -> Iterator[Finding]:
    """1.4: fixed widths that don't adapt to the screen, and content pushed out of the column.

    Only the outermost offending element of a subtree is reported.
    """
    reported: set[int] = set()
    for box in ctx.visible():
        if box.ignore_width or box.positioned or not (box.container or box.replaced):
            continue
        message = _width_problem(box) or _offset_problem(box) or _table_problem(box)
        if message and not _inside(box, reported):
            reported.add(id(box))
            yield ctx.finding(box, "width", ERROR, message)


def _inside(box: Box, ids: set[int]) -> bool:
    parent = box.parent
    while parent is not None:
        if id(parent) in ids:
            return True
        parent = parent.parent
    return False


def _width_problem(box: Box) -> str | None:
    parent = box.parent
    avail = parent.cw
    raw, width = declared_width(box, avail)
    min_raw = box.style.get("min-width")
    min_width = length_px(min_raw, box.font_size, avail) if is_fixed_length(min_raw) else None
    if min_width is not None and min_width > avail + PAGE_PADDING:
        return (f"min-width {_value(min_raw, min_width)} overflows the {_fmt(avail)} available on a "
                f"{SCREEN_WIDTH:.0f}px screen; use a percentage or remove min-width")
    if not is_fixed_length(raw) or width is None or not parent.fluid or _centred(box):
        return None
    if width > avail + 1:
        return (f"fixed width {_value(raw, width)} is wider than the {_fmt(avail)} available on a "
                f"{SCREEN_WIDTH:.0f}px screen and not centred: it is squeezed to 100% on phones but stays "
                f"{_fmt(width)} and left-aligned on wider screens; use a percentage width such as 100%")
    if width >= NEAR_FULL * avail and (box.text_below or box.media_below):
        return (f"fixed width {raw} nearly fills the {_fmt(avail)} phone column but is not centred, so it "
                "looks centred on phones and left-aligned on wider screens; use a percentage width, "
                "or centre it with margin: 0 auto")
    return None


def _centred(box: Box) -> bool:
    st, parent = box.style, box.parent
    margin = side_values(st, "margin")
    if margin["left"].lower() == "auto" and margin["right"].lower() == "auto":
        return True
    inline_level = box.replaced or box.display.startswith("inline")
    if inline_level and parent.text_align == "center":
        return True
    return parent.display in ("flex", "inline-flex") and "center" in (parent.style.get("justify-content") or "")


def _offset_problem(box: Box) -> str | None:
    if not box.container or not (box.text_below or box.media_below):
        return None
    st, parent = box.style, box.parent
    if not any(p in st.decls for p in ("margin", "margin-left", "margin-right", "padding", "padding-left",
                                       "padding-right")):
        return None
    avail = parent.cw
    ml, mr = _sides(st, "margin", box.font_size, avail)
    if parent.clips:
        return None  # only the clipping ancestor's box is seen, and it is checked itself
    if ml is not None and parent.left + ml < -PAGE_PADDING - 1:
        return (f"margin-left {_fmt(ml)} moves the content {_fmt(-(parent.left + ml))} left of the column, "
                "past the screen edge; keep horizontal offsets inside the column")
    _, width = declared_width(box, avail)
    if is_fixed_length(st.get("width")) and width is not None and ml is not None:
        right = parent.left + ml + min(width, avail)
        if right > COLUMN_WIDTH + PAGE_PADDING + 1:
            return (f"margin-left {_fmt(ml)} plus width {_fmt(min(width, avail))} ends {_fmt(right - COLUMN_WIDTH)} "
                    "past the column, beyond the screen edge; reduce the margin or use percentages")
        return None
    room = box.cw if width is None or not is_fixed_length(st.get("width")) else None
    if room is not None and room < box.font_size and box.cw < avail:
        used = avail - room
        return (f"margins and padding take {_fmt(used)} of the {_fmt(avail)} available, leaving "
                f"{_fmt(room)} for the content, which is pushed beyond the screen edge; "
                "reduce the horizontal margin/padding")
    return None


def _table_problem(box: Box) -> str | None:
    if box.tag != "table":
        return None
    avail = box.parent.cw
    widest = 0.0
    for row in box.el.iter("tr"):
        total = 0.0
        for cell in row:
            if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th"):
                total += _cell_width(cell, box.font_size, avail)
        widest = max(widest, total)
    if widest > avail + PAGE_PADDING:
        return (f"the table's fixed column widths add up to {_fmt(widest)}, more than the {_fmt(avail)} "
                "available on a phone, so it overflows; use percentage column widths")
    return None


def _cell_width(cell, fs: float, avail: float) -> float:
    style = parse_style(cell.get("style"))
    raw = style.get("width") or (cell.get("width", "").strip() + "px" if cell.get("width", "").strip().isdigit() else None)
    if raw is None and (cell.get("data-colwidth") or "").strip().isdigit():
        raw = cell.get("data-colwidth").strip() + "px"
    return (length_px(raw, fs) or 0.0) if is_fixed_length(raw) else 0.0


def rule_height(ctx: Context) -> Iterator[Finding]:
    """1.5: zero or fixed heights that hide or clip text."""
    for box in ctx.visible():
        if not box.container or box.svg_interactive or box.tag in TABLE_PARTS or _scrolls(box):
            continue
        height = _fixed_height(box)
        if height is None:
            continue
        if height == 0:
            yield from _zero_height(ctx, box)
        else:
            yield from _clipped_height(ctx, box, height)


def _scrolls(box: Box) -> bool:
    values = " ".join(filter(None, (box.style.get("overflow"), box.style.get("overflow-y")))).lower()
    return any(word in values for word in ("auto", "scroll", "overlay"))


def _fixed_height(box: Box) -> float | None:
    for prop in ("height", "max-height"):
        raw = box.style.get(prop)
        if raw is not None and (is_fixed_length(raw) or _zero_length(raw)):
            value = length_px(raw, box.font_size)
            if value is not None:
                return value
    return None


def _zero_length(raw: str) -> bool:
    m = _LENGTH.match(raw.strip().lower())
    return bool(m) and float(m[1]) == 0


def _zero_height(ctx: Context, box: Box) -> Iterator[Finding]:
    raw = box.style.get("height") or box.style.get("max-height")
    pad = side_values(box.style, "padding")
    if any(length_px(pad[p], box.font_size, box.cw) for p in ("top", "bottom")):
        return  # the padding-bottom aspect-ratio box: the content lives in the padding
    if box.inline_text:
        yield ctx.finding(
            box, "height", ERROR,
            f"height is {raw} on an element with text, which is invisible or overlaps what follows on "
            "phones; remove the height (or use height: auto)",
        )
    elif box.text_below:
        yield ctx.finding(
            box, "height-nodisplay", ERROR,
            f"height is {raw} but the element contains text in nested blocks, which overflow the "
            "zero-height container and are cut off or overlap on phones; remove the height",
        )


def _clipped_height(ctx: Context, box: Box, height: float) -> Iterator[Finding]:
    if not (box.text_below or box.media_below):
        return
    content = _min_height(box, top=True)
    if content > height + 4 and content > height * 1.1:
        raw = box.style.get("height") or box.style.get("max-height")
        yield ctx.finding(
            box, "height-nodisplay", ERROR,
            f"fixed height {raw} is smaller than its content (at least {_fmt(content)} on a phone), so the "
            "rest is clipped or overlaps; use height: auto, or make the container scroll",
        )


def _min_height(box: Box, top: bool = False) -> float:
    """A lower bound on the border-box height of a container at phone width."""
    if not top:
        fixed = _fixed_height(box)
        if fixed is not None:
            return fixed
    if box.replaced:
        return _replaced_height(box)
    row = box.tag == "tr" or box.display in ("flex", "inline-flex", "grid", "inline-grid") and "column" not in (
        (box.style.get("flex-direction") or "") + (box.style.get("flex-flow") or ""))
    flow = 0.0
    atomic = 0.0
    for child in box.children:
        if child.hidden or child.positioned or child.in_svg and child.tag != "svg":
            continue
        if child.container and not child.display.startswith("inline") and not row:
            flow += _min_height(child)
        elif child.container or child.replaced:
            atomic = max(atomic, _min_height(child))
    lines = estimate_lines(box, _line_segments(box)) if box.inline_text else 0
    inline = max(lines * box.lh_px(), atomic)
    pad = side_values(box.style, "padding")
    return flow + inline + sum(length_px(pad[p], box.font_size, box.cw) or 0.0 for p in ("top", "bottom"))


def _replaced_height(box: Box) -> float:
    """An image's height from its width and data-ratio (height/width); other media only from a height."""
    height = length_px(box.style.get("height"), box.font_size)
    if height:
        return height
    attr = box.el.get("height") or ""
    if attr.strip().isdigit():
        return float(attr)
    try:  # on video iframes data-ratio is width/height, so only images use it here
        ratio = float(box.el.get("data-ratio") or 0) if box.tag == "img" else 0.0
    except ValueError:
        ratio = 0.0
    _, width = declared_width(box, box.parent.cw)
    if width is None:
        try:
            width = float(box.el.get("data-w") or 0)
        except ValueError:
            width = 0.0
    return min(width, box.parent.cw) * ratio


def rule_text_align(ctx: Context) -> Iterator[Finding]:
    """1.6: text-align start/end renders differently across clients."""
    for box in ctx.visible():
        value = (box.style.get("text-align") or "").lower()
        if value in ("start", "end"):
            fix = "left" if value == "start" else "right"
            yield ctx.finding(
                box, "text-align", ERROR,
                f"text-align is {value}, which some clients centre and others align; use text-align: {fix}",
            )


def rule_animate_begin(ctx: Context) -> Iterator[Finding]:
    """1.7: SVG animations triggered only by touchstart never run on PC."""
    for box in ctx.boxes:
        if box.tag not in ANIMATION_TAGS or box.hidden:
            continue
        begin = box.el.get("begin")
        if not begin:
            continue
        events = {_event_name(part) for part in begin.split(";")}
        if "touchstart" in events and "click" not in events:
            yield ctx.finding(
                box, "animate-begin", ERROR,
                f'begin="{begin}" only listens to touchstart, so the animation never starts on PC; '
                'use begin="touchstart; click"',
            )


def _event_name(part: str) -> str:
    name = re.split(r"[+-]", part.strip(), maxsplit=1)[0].strip()
    return name.rsplit(".", 1)[-1].lower()


def rule_pre(ctx: Context) -> Iterator[Finding]:
    """1.8: <pre> around ordinary text does not wrap on phones."""
    for box in ctx.visible():
        if box.tag != "pre" or not box.text_below or _looks_like_code(box):
            continue
        ws = (box.style.get("white-space") or "").lower()
        if ws in ("pre-wrap", "pre-line", "normal", "break-spaces"):
            continue
        yield ctx.finding(
            box, "pre", ERROR,
            "<pre> wraps ordinary text, which does not wrap and is cut off on phones; "
            "use <p> or <section> for prose and keep <pre> for code",
        )


def _looks_like_code(box: Box) -> bool:
    el = box.el
    if any(isinstance(d.tag, str) and d.tag.lower() == "code" for d in el.iterdescendants()):
        return True
    hints = " ".join(filter(None, (el.get("class"), el.get("data-lang"), el.get("lang"))))
    if _CODE_CLASS.search(hints):
        return True
    text = "".join(el.itertext())
    chars = len(text) - len(_SPACES.findall(text))
    return chars > 0 and len(_CODE_CHARS.findall(text)) >= max(3, 0.04 * chars) and not _mostly_cjk(text)


def _mostly_cjk(text: str) -> bool:
    return len(_WIDE.findall(text)) > 0.3 * max(len(text.strip()), 1)


# ---------------------------------------------------------------------------------------------------
# 2 Structure


def rule_nesting(ctx: Context) -> Iterator[Finding]:
    """2.1: a chain of more than 10 same-tag elements, each the single child of the one above.

    The spec's example triggers at the 10th level whatever the styles; the levels that add no new
    inline style are the ones the editor deletes, so the message counts those.
    """
    depth: dict[int, int] = {}
    same_style: dict[int, int] = {}
    for box in ctx.visible():
        if box.tag in MEDIA_TAGS:
            continue
        parent = box.parent
        chained = parent.tag == box.tag and id(parent) in depth and _child_count(parent) == 1
        depth[id(box)] = depth[id(parent)] + 1 if chained else 1
        redundant = chained and parent.style.key == box.style.key
        same_style[id(box)] = same_style[id(parent)] + 1 if chained and redundant else 0 if not chained \
            else same_style[id(parent)]
        if depth[id(box)] == NEST_LIMIT + 1:
            yield ctx.finding(
                box, "nestNodes", ERROR,
                f"<{box.tag}> is nested more than {NEST_LIMIT} levels deep in <{box.tag}> elements that each "
                f"hold a single child ({same_style[id(box)]} of the levels repeat their parent's inline style); "
                "the editor removes redundant levels; merge them into one element",
            )


def _child_count(box: Box) -> int:
    el = box.el
    count = len(box.children)
    if not _is_blank(el.text):
        count += 1
    return count + sum(1 for child in el if not _is_blank(child.tail))


def rule_leaf_block(ctx: Context) -> Iterator[Finding]:
    """2.2: span[leaf] may only hold inline content."""
    for box in ctx.visible():
        if box.tag != "span" or not box.has_attr("leaf"):
            continue
        block = next((d for d in box.el.iterdescendants() if isinstance(d.tag, str) and d.tag.lower() in BLOCK_TAGS), None)
        if block is not None:
            yield ctx.finding(
                box, "leaf-block", ERROR,
                f"span[leaf] is an inline container but holds a block <{block.tag.lower()}>; the editor "
                "deletes it; move the block out of the span",
            )


def rule_nodeleaf(ctx: Context) -> Iterator[Finding]:
    """2.3: section[nodeleaf] may only hold images or official components."""
    for box in ctx.visible():
        if box.tag != "section" or not box.has_attr("nodeleaf"):
            continue
        bad = [c.tag for c in box.children if c.tag not in NODELEAF_OK and "-" not in c.tag]
        if bad or box.own_text:
            what = f"<{bad[0]}>" if bad else "text"
            yield ctx.finding(
                box, "nodeleaf", ERROR,
                f"section[nodeleaf] may only hold an image or an official component but holds {what}; "
                "the editor deletes it",
            )


# ---------------------------------------------------------------------------------------------------
# 3 Fonts, 4 Dark Mode


def rule_font_family(ctx: Context) -> Iterator[Finding]:
    """3: don't set font-family; the platform's default stack keeps editor and readers consistent."""
    for box in ctx.visible():
        value = box.style.get("font-family") or (box.el.get("face") if box.tag == "font" else None)
        if not value or _allowed_font(value, box):
            continue
        yield ctx.finding(
            box, "font-family", WARNING,
            f"font-family is set to {shorten(value, 60)}; WeChat recommends no font-family so its default "
            "stack renders the same in the editor and on iOS/Android; remove it",
        )


def _allowed_font(value: str, box: Box) -> bool:
    stack = ",".join(part.strip().strip("'\"").lower() for part in value.split(","))
    if stack in ("inherit", "initial", "unset", DEFAULT_FONT_STACK):
        return True
    return box.in_code and stack.endswith("monospace")


def rule_low_contrast(ctx: Context) -> Iterator[Finding]:
    """4.1.1: text whose colour is too close to its (inline) background colour."""
    seen: set[tuple[int, int]] = set()
    for box in ctx.visible():
        if not box.own_text or box.font_size < 1 or box.bg_kind not in ("color", "gradient") or box.bg is None:
            continue
        if box.color[3] == 0 or "text" in (box.style.get("-webkit-background-clip") or "") + (
                box.style.get("background-clip") or ""):
            continue
        key = (id(box.color_origin), id(box.bg_origin))
        if key in seen or any(b is not None and b.ignores_dm("low-contrast") for b in (box, box.color_origin)):
            continue
        fg = blend(box.color, box.bg)
        ratio = contrast_ratio(fg, box.bg)
        if ratio < LOW_CONTRAST:
            seen.add(key)
            yield ctx.finding(
                box, "darkmode-low-contrast", WARNING,
                f"text colour {_css(fg)} on background {_css(box.bg)} has a contrast of {ratio:.2f}:1 "
                f"(expected at least {LOW_CONTRAST:.0f}:1), hard to read and adjusted by Dark Mode; "
                "pick a colour with more contrast",
            )


def _css(color: tuple[float, ...]) -> str:
    return "rgb({:.0f}, {:.0f}, {:.0f})".format(*color[:3])


def rule_text_bg_gradient(ctx: Context) -> Iterator[Finding]:
    """4.1.2: text on gradients; Dark Mode flattens them to one colour."""
    seen: set[int] = set()
    for box in ctx.visible():
        if not box.own_text or box.bg_kind != "gradient" or id(box.bg_origin) in seen:
            continue
        seen.add(id(box.bg_origin))
        if box.bg_origin.ignores_dm("text-bg-gradient") or box.ignores_dm("text-bg-gradient"):
            continue
        yield ctx.finding(
            box.bg_origin, "darkmode-text-bg-gradient", WARNING,
            "text sits on a gradient background, which Dark Mode mixes into one colour; use a solid "
            "background colour behind text, keep gradients for purely decorative areas",
        )


def rule_important(ctx: Context) -> Iterator[Finding]:
    """4.5.2: !important defeats the platform's styles and Dark Mode."""
    for box in ctx.visible():
        if box.style.important:
            props = ", ".join(box.style.important[:4]) + (" …" if len(box.style.important) > 4 else "")
            yield ctx.finding(
                box, "important", WARNING,
                f"!important on {props}; it overrides the platform's own styles and Dark Mode; remove it",
            )


STATIC_RULES: list[tuple[str, Rule]] = [
    ("opacity", rule_opacity),
    ("caret-color", rule_caret_color),
    ("line-height", rule_line_height),
    ("width", rule_width),
    ("height", rule_height),  # also reports height-nodisplay
    ("text-align", rule_text_align),
    ("animate-begin", rule_animate_begin),
    ("pre", rule_pre),
    ("nestNodes", rule_nesting),
    ("leaf-block", rule_leaf_block),
    ("nodeleaf", rule_nodeleaf),
    ("font-family", rule_font_family),
    ("darkmode-low-contrast", rule_low_contrast),
    ("darkmode-text-bg-gradient", rule_text_bg_gradient),
    ("important", rule_important),
]


def lint_html(html: str, path: str, *, line_offset: int = 0) -> list[Finding]:
    """Check article HTML (a whole document or a fragment) against WeChat's structure spec."""
    root = parse_html(html)
    if root is None:
        return []
    ctx = Context(build_tree(root), path, line_offset)
    findings: list[Finding] = []
    for _name, rule in STATIC_RULES:
        findings.extend(rule(ctx))
    findings.sort(key=lambda f: (f.line or 0, f.rule))
    return findings
