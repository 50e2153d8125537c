"""An approximation of WeChat's dark-mode recolouring, for previews and screenshots.

WeChat's reader does not simply invert an article in dark mode: it keeps each colour's hue (red stays
red) and moves its lightness, so that light backgrounds become dark and dark text becomes light, while
colours that already suit a dark page are left as they are and images are never touched. This module
does the same, deterministically, on the inline styles our HTML uses:

- `background` / `background-color` (and `bgcolor=`): light colours (HSL lightness above 50 %) get their
  lightness inverted and compressed into [#191919, 50 %], so white becomes WeChat's dark page colour;
- `color` (and `<font color=>`): dark colours (lightness below 50 %) get their lightness inverted and
  compressed into [50 %, 82 %], so black becomes the 80 %-white of WeChat's default dark text;
- borders (`border`, `border-top` … and their `*-color`): inverted either way, as a line must keep
  its contrast with what is around it;
- hue, saturation and alpha are kept; `transparent`, `currentColor`, `inherit`, `url(…)` and unknown
  values are left alone; `<img>` elements are not touched.

A whole page (`<html>`) also has the colour declarations of its `<style>` blocks recoloured (backgrounds
and text only, so a phone frame's bezel keeps its colour) and gains a rule setting the page to WeChat's
dark background `#191919` with the default text colour `rgba(255,255,255,0.8)`. A fragment (an
article's content HTML) is wrapped in a `<section>` with that background and colour.

It is an approximation for reviewing: WeChat's real algorithm also weighs each colour against the
background behind it, which this does not.
"""

from __future__ import annotations

import colorsys
import re

import lxml.html

from publisher.colors import parse_css_color

DARK_BACKGROUND = "#191919"
DARK_TEXT = "rgba(255,255,255,0.8)"
_BACKGROUND_FLOOR = 0x19 / 255  # lightness of #191919
_TEXT_CEILING = (0.8 * 255 + 0.2 * 0x19) / 255  # 80 % white over #191919, about 0.82

_BACKGROUND_PROPERTIES = {"background", "background-color"}
_TEXT_PROPERTIES = {"color"}
_BORDER_PROPERTIES = {"border", "border-color", "outline", "outline-color"} | {
    f"border-{side}{suffix}" for side in ("top", "right", "bottom", "left") for suffix in ("", "-color")}


# one colour token in a declaration value; url(…) is matched so that it can be skipped whole
_TOKEN = re.compile(r"""url\((?:"[^"]*"|'[^']*'|[^)]*)\)"""
                    r"|(?P<func>(?:rgb|hsl)a?)\((?P<args>[^()]*)\)"
                    r"|#(?P<hex>[0-9a-fA-F]{3,8})\b"
                    r"|(?<![-\w#.])(?P<name>[a-zA-Z]+)(?![-\w(])", re.IGNORECASE)
# colour declarations inside a <style> block (not `border-…`, not `background-image`)
_STYLE_DECLARATION = re.compile(r"(?<![-\w])(background-color|background|color)(\s*:\s*)([^;}]*)", re.IGNORECASE)


def dark_html(html: str) -> str:
    """The HTML as WeChat's dark mode would roughly show it: see the module's docstring."""
    if re.search(r"<html[\s>]", html, re.IGNORECASE):
        return _dark_document(html)
    root = lxml.html.fragment_fromstring(html, create_parent="section") if html.strip() else \
        lxml.html.fragment_fromstring("<section></section>")
    _recolour_tree(root)
    root.set("style", f"background-color:{DARK_BACKGROUND};color:{DARK_TEXT}")
    return lxml.html.tostring(root, encoding="unicode")


def _dark_document(html: str) -> str:
    document = lxml.html.document_fromstring(html)
    _recolour_tree(document)
    for style in document.iter("style"):
        style.text = _STYLE_DECLARATION.sub(
            lambda m: m.group(1) + m.group(2) + recolour_value(m.group(3), _role(m.group(1).lower())),
            style.text or "")
    head = document.find("head")
    if head is None:
        head = lxml.html.Element("head")
        document.insert(0, head)
    rule = lxml.html.Element("style")
    rule.text = f"html,body{{background:{DARK_BACKGROUND} !important;color:{DARK_TEXT}}}"
    head.append(rule)
    doctype = document.getroottree().docinfo.doctype or "<!DOCTYPE html>"
    return doctype + "\n" + lxml.html.tostring(document, encoding="unicode")


def _recolour_tree(root) -> None:
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag.lower() == "img":
            continue
        style = element.get("style")
        if style:
            element.set("style", recolour_style(style))
        if element.get("bgcolor"):
            element.set("bgcolor", recolour_value(element.get("bgcolor"), "background"))
        if element.tag.lower() == "font" and element.get("color"):
            element.set("color", recolour_value(element.get("color"), "text"))


def recolour_style(style: str) -> str:
    """An inline `style` attribute with its colour declarations moved to dark mode."""
    parts = []
    for declaration in _split_declarations(style):
        name, colon, value = declaration.partition(":")
        role = _role(name.strip().lower()) if colon else None
        parts.append(f"{name}:{recolour_value(value, role)}" if role else declaration)
    return ";".join(parts)


def _role(prop: str) -> str | None:
    if prop in _BACKGROUND_PROPERTIES:
        return "background"
    if prop in _TEXT_PROPERTIES:
        return "text"
    if prop in _BORDER_PROPERTIES:
        return "border"
    return None


def _split_declarations(style: str) -> list[str]:
    """Split on `;` outside parentheses and quotes (a data: URL in url(…) has its own `;`)."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(style):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0:
            parts.append(style[start:index])
            start = index + 1
    parts.append(style[start:])
    return parts


def recolour_value(value: str, role: str) -> str:
    """Every colour in a declaration's value (a shorthand may hold several) moved for `role`."""

    def replace(match: re.Match) -> str:
        parsed = _parse(match)
        if parsed is None:
            return match.group(0)
        return _format(*dark_colour(parsed[:3], role), parsed[3])

    return _TOKEN.sub(replace, value)


def dark_colour(rgb: tuple[int, int, int], role: str) -> tuple[int, int, int]:
    """One opaque colour moved to dark mode: hue and saturation kept, lightness inverted when it needs to be."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*(channel / 255 for channel in rgb))
    inverted = 1 - lightness
    if lightness > 0.5 and role in ("background", "border"):
        # (0.5, 1] → [floor, 0.5): white becomes #191919
        lightness = _BACKGROUND_FLOOR + inverted * (0.5 - _BACKGROUND_FLOOR) / 0.5
    elif lightness < 0.5 and role in ("text", "border"):
        # [0, 0.5) → (0.5, ceiling]: black becomes 80 % white on the dark page
        lightness = 0.5 + (inverted - 0.5) * (_TEXT_CEILING - 0.5) / 0.5
    else:
        return rgb
    return tuple(round(channel * 255) for channel in colorsys.hls_to_rgb(hue, lightness, saturation))


def lightness(rgb: tuple[int, int, int]) -> float:
    """HSL lightness of a colour, 0–1."""
    return colorsys.rgb_to_hls(*(channel / 255 for channel in rgb))[1]


def parse_colour(text: str) -> tuple[int, int, int, float] | None:
    """(r, g, b, alpha) of one CSS colour, or None when it is not one we can recolour."""
    match = _TOKEN.fullmatch(text.strip())
    return _parse(match) if match else None


def _parse(match: re.Match) -> tuple[int, int, int, float] | None:
    if match.group(0).lower().startswith("url("):
        return None
    parsed = parse_css_color(match.group(0))
    if parsed is None:
        return None
    r, g, b, alpha = parsed
    return round(r), round(g), round(b), alpha


def _format(r: int, g: int, b: int, alpha: float) -> str:
    if alpha >= 1:
        return f"#{r:02x}{g:02x}{b:02x}"
    return f"rgba({r},{g},{b},{alpha:g})"
