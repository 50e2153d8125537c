"""Code blocks: Pygments colours as inline styles, whitespace kept as &nbsp; and <br>.

WeChat collapses spaces and ignores `white-space: pre`, so indentation and line breaks must be
spelled out; long lines scroll horizontally (the theme styles the <pre> for that).
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Token
from pygments.util import ClassNotFound

TAB = "    "


@lru_cache(maxsize=64)
def _lexer(language: str):
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=8)
def _styles(style_name: str) -> dict:
    style = get_style_by_name(style_name)
    result = {}
    for ttype, spec in style:
        declarations = []
        if spec["color"]:
            declarations.append(f"color:#{spec['color']}")
        if spec["bold"]:
            declarations.append("font-weight:bold")
        if spec["italic"]:
            declarations.append("font-style:italic")
        result[ttype] = ";".join(declarations)
    return result


def known_language(language: str) -> bool:
    return _lexer(language) is not None


def highlight(code: str, language: str | None, style_name: str) -> str:
    """Inline HTML for the inside of <code>: coloured spans, &nbsp; for spaces, <br> between lines."""
    code = code.rstrip("\n").replace("\t", TAB)
    lexer = _lexer(language) if language else None
    tokens = lexer.get_tokens(code) if lexer else [(Token.Text, code)]
    styles = _styles(style_name)
    parts: list[str] = []
    for style, text in _merge(tokens, styles):
        html = _whitespace(escape(text, quote=False))
        parts.append(f'<span style="{style}">{html}</span>' if style and text.strip() else html)
    return "".join(parts)


def _merge(tokens, styles: dict):
    """Join neighbouring tokens that share a style, so the HTML stays small."""
    current_style, buffer = None, []
    for ttype, text in tokens:
        style = _style_for(ttype, styles)
        if style != current_style and buffer:
            yield current_style, "".join(buffer)
            buffer = []
        current_style = style
        buffer.append(text)
    if buffer:
        yield current_style, "".join(buffer)


def _style_for(ttype, styles: dict) -> str:
    while ttype not in styles and ttype.parent is not None:
        ttype = ttype.parent
    return styles.get(ttype, "")


def _whitespace(html: str) -> str:
    return html.replace(" ", "&nbsp;").replace("\n", "<br>")
