"""Copywriting: spacing between Chinese and Latin text, full-width punctuation in Chinese sentences and
repeated punctuation (！！！, ？？, 。。), for prose only.

The corrections come from autocorrect (`autocorrect_py.format`), applied to the prose pieces of each
Markdown line; code blocks, HTML blocks and math (found with the renderer's own markdown-it parser),
inline code, link destinations, autolinks, inline HTML and bare URLs are cut out first and never
change. The front matter is not part of the body and is never looked at. `publisher fix` (see
publisher/fix.py) applies the same corrections that `check` reports.
"""

from __future__ import annotations

import re

import autocorrect_py as autocorrect

from publisher.findings import Finding, shorten

RULE = "compliance/copywriting"
PROTECTED_BLOCKS = {"fence", "code_block", "html_block", "math_block", "math_block_label"}

_CJK = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e"
_URL_STOP = r"\s<>\[\]()（）《》，。！？；：、\"'“”‘’"
_INLINE_PROTECTED = re.compile(
    r"(?P<code>(`+)[^`]?.*?(?<!`)\2(?!`))"  # inline code, any number of backticks
    r"|\$[^$\n]+\$"  # inline math
    r"|\]\((?:[^()\n]|\([^()\n]*\))*\)"  # link or image destination (and title)
    r"|\]\[[^\]\n]*\]"  # reference link label
    r"|\[\^[^\]\s]+\]"  # footnote reference
    r"|<[^<>\n]+>"  # autolink or inline HTML tag
    r"|&#?\w+;"  # HTML entity
    r"|(?:https?|ftp)://[^" + _URL_STOP + r"]+"  # bare URL
    r"|www\.[^" + _URL_STOP + r"]+"
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"  # e-mail address
    # the brackets of link text: markup, not prose (autocorrect would want a space before each `[`)
    r"|!?\[|\]"
)
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")
_REPEATED = [
    (re.compile(r"(?<=[" + _CJK + r"])[!！]{2,}"), "！"),
    (re.compile(r"(?<=[" + _CJK + r"])[?？]{2,}"), "？"),
    (re.compile(r"。{2,}"), "。"),
]


def protected_lines(body: str) -> set[int]:
    """0-based body lines that belong to code blocks, HTML blocks or math blocks."""
    from publisher.render.markdown import parser

    lines: set[int] = set()
    for token in parser().parse(body):
        if token.type in PROTECTED_BLOCKS and token.map:
            lines.update(range(token.map[0], token.map[1]))
    return lines


def fix_prose(text: str) -> str:
    """Correct one piece of prose (no code, no URLs); applying it twice changes nothing more."""
    for _ in range(4):
        fixed = autocorrect.format(text)
        for pattern, replacement in _REPEATED:
            fixed = pattern.sub(replacement, fixed)
        if fixed == text:
            break
        text = fixed
    return text


def fix_line(line: str) -> str:
    """Correct the prose of one Markdown line (without its line ending), leaving protected spans as they are."""
    if not line.strip() or _REFERENCE_DEFINITION.match(line):
        return line
    out, last = [], 0
    for match in _INLINE_PROTECTED.finditer(line):
        out.append(_fix_piece(line[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_fix_piece(line[last:]))
    return "".join(out)


def _fix_piece(piece: str) -> str:
    if not piece or piece.isascii():
        return piece
    # keep the piece's surrounding whitespace: it separates it from the protected spans around it
    core = piece.strip()
    start = piece.index(core[0]) if core else 0
    return piece[:start] + fix_prose(core) + piece[start + len(core):] if core else piece


def fix_body(body: str) -> str:
    """The Markdown body with every prose line corrected; line endings and protected lines kept byte for byte."""
    skip = protected_lines(body)
    lines = body.splitlines(keepends=True)
    for index, raw in enumerate(lines):
        if index in skip:
            continue
        content = raw.rstrip("\r\n")
        fixed = fix_line(content)
        if fixed != content:
            lines[index] = fixed + raw[len(content):]
    return "".join(lines)


def corrections(body: str) -> list[tuple[int, int, str, str]]:
    """(0-based body line, 1-based column, found, suggested) for every line that would change."""
    skip = protected_lines(body)
    found = []
    for index, raw in enumerate(body.splitlines()):
        if index in skip:
            continue
        fixed = fix_line(raw)
        if fixed != raw:
            prefix = 0
            while prefix < min(len(raw), len(fixed)) and raw[prefix] == fixed[prefix]:
                prefix += 1
            found.append((index, prefix + 1, raw, fixed))
    return found


def _excerpt(old: str, new: str, column: int) -> tuple[str, str]:
    """The changed part of a line, with a little context on each side."""
    suffix = 0
    while suffix < min(len(old), len(new)) - column + 1 and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    start = max(0, column - 1 - 6)
    return old[start:len(old) - max(0, suffix - 6)], new[start:len(new) - max(0, suffix - 6)]


def check(article, rendered, project, now=None) -> list[Finding]:
    findings = []
    for index, column, old, new in corrections(article.body):
        found, expected = _excerpt(old, new, column)
        findings.append(Finding(
            article.rel, article.body_line + index, RULE, "warning",
            f"expected '{shorten(expected, 60)}' (spacing between Chinese and Latin text, full-width punctuation, "
            f"no repeated punctuation), found '{shorten(found, 60)}'; `publisher fix` corrects it",
            column=column, snippet=shorten(new),
        ))
    return findings
