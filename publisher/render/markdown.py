"""Render stage: Markdown tokens → WeChat-safe HTML with theme classes (inlined later by layout).

The parser is markdown-it-py with mdit-py-plugins' GFM set (tables, strikethrough, task lists,
alerts, footnotes, autolinks) and dollar math. The walker below turns its syntax tree into HTML
through one named rule per node type (`BLOCK_RULES`, `INLINE_RULES`), the way markdown-it-py's
own renderer does, but with WeChat's rules applied: lists flattened, links to references, code
with explicit whitespace, math as SVG, raw HTML through the allowlist. Every block element carries
`data-line` (its Markdown line) so later findings can point back to the source; layout strips it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.gfm import gfm_plugin
from PIL import Image

from publisher.findings import FindingList
from publisher.render import code as code_stage
from publisher.render.images import Asset, ImageProblem, resolve_image
from publisher.render.links import References, link_kind
from publisher.render.math import MathError, render_math
from publisher.render.sanitize import Sanitizer

BULLETS = ("•", "◦", "▪")
TASK_MARKERS = {True: "☑", False: "☐"}
MAX_LIST_DEPTH = 5  # deeper levels share the last indentation
ALERT_TITLES = {"NOTE": "说明", "TIP": "提示", "IMPORTANT": "重要", "WARNING": "警告", "CAUTION": "注意"}
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


FOOTNOTE_RULES = ["footnote_def", "footnote_ref", "footnote_tail", "footnote_inline"]


@lru_cache(maxsize=2)
def parser(footnotes: bool = True) -> MarkdownIt:
    # typographer stays off: authors' quotes and dashes are theirs, never rewritten
    md = MarkdownIt("commonmark", {"html": True}).use(gfm_plugin, dollarmath=True)
    if not footnotes:
        md.disable(FOOTNOTE_RULES, ignoreInvalid=True)
    return md


def syntax_tree(markdown: str, state: RenderState) -> SyntaxTreeNode:
    try:
        return SyntaxTreeNode(parser().parse(markdown))
    except ValueError:  # the footnote plugin can mis-nest tokens for a definition inside a definition
        state.findings.warning("markdown/footnotes", "a footnote definition inside another could not be read; "
                               "footnotes in this article are shown as text", state.body_line)
        return SyntaxTreeNode(parser(footnotes=False).parse(markdown))


@dataclass
class RenderState:
    """What one article's rendering accumulates besides the HTML."""

    article_folder: object
    root: object
    body_line: int
    findings: FindingList
    code_style: str
    references: References = field(default_factory=References)
    assets: list[Asset] = field(default_factory=list)
    first_paragraph: str | None = None
    block_html: Sanitizer | None = None
    cache_dir: Path | None = None  # where rendered diagrams are kept; None: diagrams stay code
    # href → (linked article's key, its published URL or None); None when the href names no article
    resolve_article_link: Callable[[str], tuple[str, str | None] | None] | None = None


def render_body(markdown: str, state: RenderState) -> str:
    tree = syntax_tree(markdown, state)
    walker = Walker(state)
    state.block_html = walker.new_sanitizer()
    html = walker.children(tree)
    html += state.block_html.feed_fragment("", state.body_line) + state.block_html.close_all()
    walker.report_removals(state.block_html)
    return html


class Walker:
    def __init__(self, state: RenderState):
        self.state = state
        self.inline_html: Sanitizer | None = None

    # -- dispatch --------------------------------------------------------------------------------

    def children(self, node: SyntaxTreeNode) -> str:
        return "".join(self.node(child) for child in node.children)

    def node(self, node: SyntaxTreeNode) -> str:
        rule = BLOCK_RULES.get(node.type) or INLINE_RULES.get(node.type)
        if rule is None:
            return self.children(node)
        return rule(self, node)

    def line(self, node: SyntaxTreeNode) -> int | None:
        return self.state.body_line + node.map[0] if node.map else None

    def attr_line(self, node: SyntaxTreeNode) -> str:
        line = self.line(node)
        return f' data-line="{line}"' if line else ""

    def inline(self, node: SyntaxTreeNode) -> str:
        """Render an `inline` node with a fresh inline-HTML sanitizer (tags cannot leak out of it)."""
        outer, self.inline_html = self.inline_html, self.new_sanitizer()
        self._inline_line = self.line(node) or self.state.body_line
        html = self.children(node) + self.inline_html.close_all()
        self.report_removals(self.inline_html)
        self.inline_html = outer
        return html

    # -- raw HTML ------------------------------------------------------------------------------

    def new_sanitizer(self) -> Sanitizer:
        return Sanitizer(on_image=self._raw_image, on_link=self._raw_link)

    def _raw_image(self, src: str, line: int) -> str | None:
        asset = self.image_asset(src, line)
        return src if asset else None

    def _raw_link(self, href: str, line: int):
        kind = link_kind(href, "")
        if kind == "keep":
            return "keep"
        if kind == "reference":
            return self.state.references.link(href, href)
        return "drop"

    def report_removals(self, sanitizer: Sanitizer) -> None:
        for removal in sanitizer.removals:
            self.state.findings.warning("html/removed", f"removed {removal.what}: {removal.why}", removal.line)
        sanitizer.removals.clear()

    # -- images --------------------------------------------------------------------------------

    def image_asset(self, src: str, line: int | None) -> Asset | None:
        try:
            asset = resolve_image(src, self.state.article_folder, self.state.root)
        except ImageProblem as problem:
            self.state.findings.error(problem.rule, problem.message, line)
            return None
        if all(existing.path != asset.path for existing in self.state.assets):
            self.state.assets.append(asset)
        return asset


# ---- block rules ---------------------------------------------------------------------------------

def heading(w: Walker, node) -> str:
    return f"<{node.tag}{w.attr_line(node)}>{w.node(node.children[0])}</{node.tag}>"


def paragraph(w: Walker, node) -> str:
    inline_node = node.children[0]
    if w.state.first_paragraph is None:
        w.state.first_paragraph = _plain_text(inline_node)
    figure = _lone_image(w, node, inline_node)
    if figure is not None:
        return figure
    body = w.node(inline_node)
    if node.hidden:  # tight list item: no <p> around the text
        return body
    return f"<p{w.attr_line(node)}>{body}</p>"


def _lone_image(w: Walker, node, inline_node) -> str | None:
    """A paragraph holding only an image becomes a figure with a caption."""
    parts = [child for child in inline_node.children if not (child.type == "text" and not child.content.strip())]
    if len(parts) != 1 or parts[0].type != "image":
        return None
    image = parts[0]
    img = image_html(w, image, w.line(node))
    caption = image.attrs.get("title") or _plain_text(image)
    caption_html = f'<figcaption class="caption">{escape(caption)}</figcaption>' if caption else ""
    return f'<figure class="figure"{w.attr_line(node)}>{img}{caption_html}</figure>'


def blockquote(w: Walker, node) -> str:
    return f"<blockquote{w.attr_line(node)}>{w.children(node)}</blockquote>"


def alert(w: Walker, node) -> str:
    kind = str(node.meta.get("kind", "NOTE")).upper()
    title = ALERT_TITLES.get(kind, kind.title())
    body = "".join(w.node(child) for child in node.children if child.type != "alert_title")
    return (f'<section class="alert alert-{kind.lower()}"{w.attr_line(node)}>'
            f'<p class="alert-title">{title}</p>{body}</section>')


def hr(w: Walker, node) -> str:
    return f"<hr{w.attr_line(node)}>"


def fence(w: Walker, node) -> str:
    language = (node.info or "").strip().split(maxsplit=1)[0].lower() if node.info else ""
    if language == "mermaid" and (figure := diagram(w, node)):
        return figure
    if language and language != "mermaid" and not code_stage.known_language(language):
        w.state.findings.add("info", "code/unknown-language",
                             f"no highlighting for language '{language}'; shown as plain text", w.line(node))
    inner = code_stage.highlight(node.content, language or None, w.state.code_style)
    label = f'<section class="code-lang">{escape(language)}</section>' if language else ""
    return (f'<section class="code-block"{w.attr_line(node)}>{label}'
            f'<pre class="code-pre"><code class="code">{inner}</code></pre></section>')


def diagram(w: Walker, node) -> str | None:
    """A Mermaid diagram as a PNG image (WeChat keeps images; it breaks diagram SVG). None: show the code."""
    from publisher.render.diagram import DiagramError, DiagramUnavailable, render_mermaid

    if w.state.cache_dir is None:
        return None
    try:
        picture = render_mermaid(node.content, w.state.cache_dir)
    except DiagramUnavailable as exc:
        w.state.findings.warning("diagram/unavailable", f"the diagram is shown as code: {exc}", w.line(node))
        return None
    except DiagramError as exc:
        w.state.findings.error("diagram/invalid", f"expected a valid Mermaid diagram, found: {exc}", w.line(node))
        return None
    src = f"diagrams/{picture.path.name}"
    with Image.open(picture.path) as image:
        pixel_width, pixel_height = image.size
    asset = Asset(src, picture.path, src, pixel_width, pixel_height, "PNG", picture.path.stat().st_size)
    if all(existing.path != asset.path for existing in w.state.assets):
        w.state.assets.append(asset)
    return (f'<figure class="figure diagram"{w.attr_line(node)}><img class="img"{w.attr_line(node)} src="{src}" '
            f'data-w="{pixel_width}" alt="diagram"></figure>')


def math_block(w: Walker, node) -> str:
    try:
        svg = render_math(node.content.strip(), True, w.state.cache_dir)
    except MathError as exc:
        w.state.findings.error("math/invalid", f"expected LaTeX that can be typeset, found "
                               f"'{node.content.strip()[:60]}' ({exc})", w.line(node))
        return f'<p class="math-error"{w.attr_line(node)}>{escape(node.content.strip())}</p>'
    return f'<section class="math-block"{w.attr_line(node)}>{svg}</section>'


def table(w: Walker, node) -> str:
    return (f'<section class="table-wrap"{w.attr_line(node)}><table>{w.children(node)}</table></section>')


def table_part(w: Walker, node) -> str:
    return f"<{node.tag}>{w.children(node)}</{node.tag}>"


def table_cell(w: Walker, node) -> str:
    style = node.attrs.get("style")
    style_attr = f' style="{escape(str(style))}"' if style else ""
    return f"<{node.tag}{style_attr}>{w.children(node)}</{node.tag}>"


def html_block(w: Walker, node) -> str:
    return w.state.block_html.feed_fragment(node.content, w.line(node) or w.state.body_line)


def footnote_block(w: Walker, node) -> str:
    """Footnotes are collected into the references list; nothing is rendered in place."""
    for footnote in node.children:
        footnote_id = footnote.meta.get("id")
        content = "".join(
            w.node(child.children[0]) if child.type == "paragraph" else w.node(child)
            for child in footnote.children
        )
        w.state.references.footnote_content(footnote_id, content)
    return ""


def bullet_list(w: Walker, node) -> str:
    """A top-level list: its rows (nested levels included) in one block that spaces it from what follows."""
    return f'<section class="list"{w.attr_line(node)}>{flat_list(w, node, 0)}</section>'


def flat_list(w: Walker, node, depth: int) -> str:
    """Nested lists as sibling rows with explicit markers: WeChat breaks <ul>/<ol> inside <li>."""
    ordered = node.type == "ordered_list"
    number = int(node.attrs.get("start", 1)) if ordered else 0
    rows = []
    for item in node.children:
        marker = _marker(item, ordered, number, depth)
        number += 1
        rows.append(_list_item(w, item, marker, depth))
    return "".join(rows)


def _marker(item, ordered: bool, number: int, depth: int) -> tuple[str, str]:
    if "checked" in item.meta:
        checked = bool(item.meta["checked"])
        return TASK_MARKERS[checked], "task-done" if checked else "task"
    if ordered:
        return f"{number}.", "number"
    return BULLETS[depth % len(BULLETS)], "bullet"


def _list_item(w: Walker, item, marker: tuple[str, str], depth: int) -> str:
    level = min(depth, MAX_LIST_DEPTH)
    out, content = [], []
    symbol, kind = marker

    def flush(with_marker: bool) -> None:
        if not content and not with_marker:
            return
        mark = escape(symbol) if with_marker else ""
        out.append(f'<section class="li li-{level}"{w.attr_line(item)}>'
                   f'<span class="li-marker li-{kind}">{mark}</span>'
                   f'<section class="li-body">{"".join(content)}</section></section>')
        content.clear()

    first = True
    for child in item.children:
        if child.type in ("bullet_list", "ordered_list"):
            flush(first)
            first = False
            out.append(flat_list(w, child, depth + 1))
        else:
            content.append(w.node(child))
    flush(first)
    return "".join(out)


# ---- inline rules --------------------------------------------------------------------------------

def inline(w: Walker, node) -> str:
    return w.inline(node)


def text(w: Walker, node) -> str:
    if w.inline_html is not None and w.inline_html.skipping:
        return ""
    return escape(node.content, quote=False)


def softbreak(w: Walker, node) -> str:
    # Chinese authors wrap lines in the source; a space between two CJK characters would show.
    previous, following = node.previous_sibling, node.next_sibling
    before = previous.content[-1:] if previous is not None and previous.type == "text" else ""
    after = following.content[:1] if following is not None and following.type == "text" else ""
    if before and after and _CJK.match(before) and _CJK.match(after):
        return ""
    return " "


def hardbreak(w: Walker, node) -> str:
    return "<br>"


def code_inline(w: Walker, node) -> str:
    return f'<code class="code-inline">{escape(node.content, quote=False)}</code>'


def strong(w: Walker, node) -> str:
    return f"<strong>{w.children(node)}</strong>"


def em(w: Walker, node) -> str:
    return f"<em>{w.children(node)}</em>"


def strikethrough(w: Walker, node) -> str:
    return f'<span class="strike">{w.children(node)}</span>'


def link(w: Walker, node) -> str:
    href = str(node.attrs.get("href", ""))
    label_text = _plain_text(node)
    label = w.children(node)
    kind = link_kind(href, label_text)
    line = w._inline_line
    if kind == "keep":
        title = node.attrs.get("title")
        title_attr = f' title="{escape(str(title))}"' if title else ""
        return f'<a href="{escape(href)}"{title_attr}>{label}</a>'
    if kind == "reference":
        number = w.state.references.link(href, label_text)
        return f'{label}<sup class="ref">[{number}]</sup>'
    if kind == "unsafe":
        w.state.findings.warning("link/unsafe", f"removed the link to '{href[:40]}': script and data URLs are "
                                 "unsafe; its text was kept", line)
    elif kind == "local" and (target := _linked_article(w, href)):
        _, url = target
        if url:  # the other article is out: its WeChat page replaces the repository path
            return f'<a href="{escape(url)}">{label}</a>'
        # compliance/article-link-unpublished reports it, with the push's due date
    elif kind == "local":
        w.state.findings.warning("link/local", f"the link to '{href}' points to a file in the repository, which "
                                 "readers cannot open; its text was kept", line)
    return label


def _linked_article(w: Walker, href: str) -> tuple[str, str | None] | None:
    resolve = w.state.resolve_article_link
    return resolve(href) if resolve else None


def image(w: Walker, node) -> str:
    return image_html(w, node, w._inline_line)


def image_html(w: Walker, node, line: int | None) -> str:
    src = str(node.attrs.get("src", ""))
    alt = _plain_text(node)
    asset = w.image_asset(src, line)
    width = f' data-w="{asset.width}"' if asset else ""
    place = f' data-line="{line}"' if line else ""
    return f'<img class="img"{place} src="{escape(src)}"{width} alt="{escape(alt)}">'


def footnote_ref(w: Walker, node) -> str:
    number = w.state.references.footnote(node.meta.get("id"), str(node.meta.get("label", "")))
    return f'<sup class="ref">[{number}]</sup>'


def math_inline(w: Walker, node) -> str:
    try:
        return f'<span class="math-inline">{render_math(node.content.strip(), False, w.state.cache_dir)}</span>'
    except MathError as exc:
        w.state.findings.error("math/invalid", f"expected LaTeX that can be typeset, found "
                               f"'{node.content.strip()[:60]}' ({exc})", w._inline_line)
        return f'<code class="code-inline">{escape(node.content)}</code>'


def html_inline(w: Walker, node) -> str:
    return w.inline_html.feed_fragment(node.content, w._inline_line)


def _plain_text(node) -> str:
    """The readable text of a node (alt text, link labels, the digest)."""
    if node.type in ("text", "code_inline", "math_inline"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return " "
    return "".join(_plain_text(child) for child in node.children)


BLOCK_RULES = {
    "heading": heading,
    "paragraph": paragraph,
    "blockquote": blockquote,
    "alert": alert,
    "hr": hr,
    "fence": fence,
    "code_block": fence,
    "math_block": math_block,
    "math_block_label": math_block,
    "table": table,
    "thead": table_part,
    "tbody": table_part,
    "tr": table_part,
    "th": table_cell,
    "td": table_cell,
    "html_block": html_block,
    "footnote_block": footnote_block,
    "bullet_list": bullet_list,
    "ordered_list": bullet_list,
}

INLINE_RULES = {
    "inline": inline,
    "text": text,
    "softbreak": softbreak,
    "hardbreak": hardbreak,
    "code_inline": code_inline,
    "strong": strong,
    "em": em,
    "s": strikethrough,
    "link": link,
    "image": image,
    "footnote_ref": footnote_ref,
    "math_inline": math_inline,
    "html_inline": html_inline,
}
