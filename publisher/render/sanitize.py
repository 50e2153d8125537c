"""Raw HTML in Markdown: keep what WeChat keeps, remove the rest and say what and where.

An allowlist of tags and attributes; scripts, styles, iframes and their content, event handlers,
`class`/`id` and `javascript:` URLs are removed with a warning. One Sanitizer follows a whole
sequence of fragments (all HTML blocks of an article, or the inline HTML of one paragraph), so an
element opened in one block and closed in a later one stays whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

BLOCK_TAGS = {"section", "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure", "figcaption",
              "table", "thead", "tbody", "tfoot", "tr", "td", "th", "pre", "hr", "ul", "ol", "li"}
INLINE_TAGS = {"span", "strong", "b", "em", "i", "u", "s", "del", "sup", "sub", "br", "img", "a", "code",
               "small", "mark", "ruby", "rt", "rp", "caption", "colgroup", "col"}
SVG_TAGS = {"svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan",
            "animate", "animatetransform", "animatemotion", "set", "image", "foreignobject"}
ALLOWED_TAGS = BLOCK_TAGS | INLINE_TAGS | SVG_TAGS
RENAMED = {"div": "section"}  # WeChat keeps <section> where it mangles <div>
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea",
                        "select", "button", "form", "video", "audio", "head", "title", "link", "meta"}
VOID = {"br", "hr", "img", "col", "meta", "link", "input", "source", "wbr"}
COMMON_ATTRS = {"style", "title", "align", "width", "height", "colspan", "rowspan", "data-ignore-width",
                "data-ignore-dm", "data-miniprogram-appid", "data-miniprogram-path", "data-miniprogram-type"}
TAG_ATTRS = {"img": {"src", "alt"}, "a": {"href"}}
SVG_ATTRS = {"viewbox", "xmlns", "d", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
             "stroke-dasharray", "stroke-dashoffset", "opacity", "fill-opacity", "stroke-opacity", "transform",
             "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "points", "attributename", "from",
             "to", "values", "dur", "begin", "end", "repeatcount", "fill-rule", "type", "keytimes", "calcmode",
             "text-anchor", "font-size", "font-weight", "path", "restart", "preserveaspectratio", "dx", "dy",
             "keysplines", "additive", "accumulate", "by"}


@dataclass
class Removal:
    line: int
    what: str
    why: str


@dataclass
class OpenTag:
    name: str
    line: int


class Sanitizer(HTMLParser):
    """Feed fragments with `feed_fragment(text, line)`; `removals` collects what was taken out.

    `on_image(src, line)` returns the src to emit (or None to drop the image); `on_link(href, line)`
    returns "keep", "drop" (keep the text) or a note number to append after the text.
    """

    def __init__(self, on_image=None, on_link=None):
        super().__init__(convert_charrefs=False)
        self.on_image = on_image or (lambda src, line: src)
        self.on_link = on_link or (lambda href, line: "keep")
        self.removals: list[Removal] = []
        self.stack: list[OpenTag] = []
        self.skipping: str | None = None  # inside <script>… until its end tag
        self._out: list[str] = []
        self._base_line = 1
        self._pending_notes: list[tuple[int, int]] = []  # (stack depth of the <a>, note number)

    # -- driving -------------------------------------------------------------------------------

    def feed_fragment(self, text: str, line: int) -> str:
        self._base_line = line
        self._out = []
        self.feed(text)
        self.goahead(True)  # flush pending text now: fragments are complete
        self.reset_position()
        return "".join(self._out)

    def reset_position(self) -> None:
        self.lineno, self.offset = 1, 0

    def close_all(self) -> str:
        """Close whatever is still open at the end of the sequence, with a warning for each."""
        self._out = []
        while self.stack:
            tag = self.stack.pop()
            self.removals.append(Removal(tag.line, f"<{tag.name}>", "it was never closed; closed at the end"))
            self._emit_end(tag.name)
        self.skipping = None
        return "".join(self._out)

    def _line(self) -> int:
        return self._base_line + self.getpos()[0] - 1

    # -- HTMLParser callbacks ----------------------------------------------------------------

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, self_closing=tag in VOID)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs, self_closing: bool) -> None:
        line = self._line()
        if self.skipping:
            return
        if tag in DROPPED_WITH_CONTENT:
            self.removals.append(Removal(line, f"<{tag}>", "WeChat strips it; it was removed with its content"))
            if not self_closing and tag not in VOID:
                self.skipping = tag
            return
        name = RENAMED.get(tag, tag)
        if name not in ALLOWED_TAGS:
            self.removals.append(Removal(line, f"<{tag}>", "not among the tags WeChat keeps; its text was kept"))
            return
        kept = self._attributes(name, attrs, line)
        if kept is None:
            return
        self._out.append(f"<{name}{kept}{' /' if self_closing and name in SVG_TAGS else ''}>")
        if not self_closing and name not in VOID:
            self.stack.append(OpenTag(name, line))

    def _attributes(self, name: str, attrs, line: int) -> str | None:
        allowed = COMMON_ATTRS | TAG_ATTRS.get(name, set()) | (SVG_ATTRS if name in SVG_TAGS else set())
        parts = [f' data-line="{line}"'] if name not in SVG_TAGS else []
        for key, value in attrs:
            value = value or ""
            if key.startswith("on") or key in ("class", "id") or key not in allowed:
                why = "event handlers run scripts" if key.startswith("on") else "WeChat drops it"
                self.removals.append(Removal(line, f"{key}= on <{name}>", why))
                continue
            if key in ("href", "src") and value.strip().lower().startswith(("javascript:", "vbscript:", "data:")):
                self.removals.append(Removal(line, f"{key}=\"{value[:30]}\" on <{name}>", "script and data URLs are unsafe"))
                continue
            if name == "img" and key == "src":
                value = self.on_image(value, line)
                if value is None:
                    return None
            if name == "a" and key == "href":
                decision = self.on_link(value, line)
                if decision != "keep":
                    if isinstance(decision, int):
                        self._pending_notes.append((len(self.stack), decision))
                    return None  # keep the text, drop the <a>
            parts.append(f' {key}="{escape(value)}"')
        return "".join(parts)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping:
                self.skipping = None
            return
        name = RENAMED.get(tag, tag)
        if self._pending_notes and name == "a" and self._pending_notes[-1][0] == len(self.stack):
            self._out.append(f"<sup>[{self._pending_notes.pop()[1]}]</sup>")
            return
        if not any(open_tag.name == name for open_tag in self.stack):
            return  # a stray end tag, or the end of a removed element
        while self.stack:
            open_tag = self.stack.pop()
            self._emit_end(open_tag.name)
            if open_tag.name == name:
                break

    def _emit_end(self, name: str) -> None:
        self._out.append(f"</{name}>")

    def handle_data(self, data):
        if not self.skipping:
            self._out.append(escape(data, quote=False))

    def handle_entityref(self, name):
        if not self.skipping:
            self._out.append(f"&{name};")

    def handle_charref(self, name):
        if not self.skipping:
            self._out.append(f"&#{name};")

    def handle_comment(self, data):
        pass

    def handle_decl(self, decl):
        pass

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass


def is_block_html(fragment: str) -> bool:
    return fragment.lstrip().startswith("<")


@dataclass
class SanitizeResult:
    html: str
    removals: list[Removal] = field(default_factory=list)
