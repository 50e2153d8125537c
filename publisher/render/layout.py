"""Layout stage: theme CSS + Jinja2 template → css-inline → minified, inline-styled HTML.

A repository's `layouts/` folder overrides the built-in files of the same name:
`layouts/article.html`, `layouts/themes/<name>/theme.css|theme.toml`, `layouts/new/index.md`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import css_inline
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

BUILTIN_LAYOUTS = Path(__file__).resolve().parent.parent / "layouts"
BLOCK_TAGS = "section|p|h[1-6]|blockquote|figure|figcaption|table|thead|tbody|tfoot|tr|td|th|pre|hr|br|ul|ol|li|svg"
_SPACE_AFTER_BLOCK = re.compile(rf"(</?(?:{BLOCK_TAGS})\b[^<>]*>)\s+(?=<)")
_SPACE_BEFORE_BLOCK = re.compile(rf">\s+(?=</?(?:{BLOCK_TAGS})\b)")
# A start tag as html5ever serialises it: every attribute value double-quoted, `"` escaped.
_START_TAG = re.compile(r'<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>/"]+(?:="[^"]*")?)*)\s*(/?)>')
_BUILD_ATTRS = re.compile(r'\s+(?:class|data-line)="[^"]*"')


class ThemeError(Exception):
    pass


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    css: str
    pygments_style: str
    folder: Path


def theme_folders(layouts_dir: Path | None) -> list[Path]:
    folders = [layouts_dir / "themes"] if layouts_dir else []
    return [*folders, BUILTIN_LAYOUTS / "themes"]


def available_themes(layouts_dir: Path | None) -> list[str]:
    names = set()
    for folder in theme_folders(layouts_dir):
        if folder.is_dir():
            names.update(child.name for child in folder.iterdir() if (child / "theme.css").is_file())
    return sorted(names)


def load_theme(name: str, layouts_dir: Path | None) -> Theme:
    return _load_theme(name, layouts_dir, *_theme_stamp(name, layouts_dir))


def _theme_stamp(name: str, layouts_dir: Path | None) -> tuple:
    """File times, so an edited theme is reloaded by a long-running preview server."""
    stamps = []
    for folder in theme_folders(layouts_dir):
        for file in ("theme.css", "theme.toml"):
            path = folder / name / file
            stamps.append(path.stat().st_mtime_ns if path.exists() else 0)
    return tuple(stamps)


@lru_cache(maxsize=32)
def _load_theme(name: str, layouts_dir: Path | None, *_stamp) -> Theme:
    for folder in theme_folders(layouts_dir):
        css_path = folder / name / "theme.css"
        if css_path.is_file():
            settings = _theme_settings(folder / name / "theme.toml")
            return Theme(name, settings.get("label", name), css_path.read_text(encoding="utf-8"),
                         settings.get("pygments_style", "friendly"), folder / name)
    known = available_themes(layouts_dir)
    hint = difflib.get_close_matches(name, known, n=1)
    suggestion = f"did you mean '{hint[0]}'? " if hint else ""
    raise ThemeError(f"expected one of the themes {', '.join(known)}; found '{name}'. {suggestion}"
                     "Add layouts/themes/<name>/theme.css to make a new one")


def _theme_settings(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: invalid TOML: {exc}") from None


@lru_cache(maxsize=8)
def environment(layouts_dir: Path | None) -> Environment:
    loaders = [FileSystemLoader(str(layouts_dir))] if layouts_dir and layouts_dir.is_dir() else []
    loaders.append(FileSystemLoader(str(BUILTIN_LAYOUTS)))
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(enabled_extensions=("html",), default=False),
                       keep_trailing_newline=False, auto_reload=True)


@lru_cache(maxsize=32)
def _inliner(css: str) -> css_inline.CSSInliner:
    return css_inline.CSSInliner(load_remote_stylesheets=False, minify_css=True, resolve_css_variables=True,
                                 extra_css=css)


def compose(body_html: str, references, theme: Theme, layouts_dir: Path | None) -> str:
    """The themed article with build attributes (class, data-line) still in place, for linting."""
    template = environment(layouts_dir).get_template("article.html")
    notes = [_note_view(note) for note in references.notes]
    html = template.render(body=Markup(body_html), notes=notes, notes_title=references.title)
    html = _inliner(theme.css).inline_fragment(minify(html), "")
    return html


def _note_view(note) -> dict:
    return {"number": note.number, "kind": note.kind, "label": note.label, "url": note.url,
            "html": Markup(note.html)}


def minify(html: str) -> str:
    html = _SPACE_AFTER_BLOCK.sub(r"\1", html.strip())
    return _SPACE_BEFORE_BLOCK.sub(">", html)


def strip_build_attributes(html: str) -> str:
    """Remove class and data-line, which WeChat would drop anyway, from every start tag."""
    return _START_TAG.sub(lambda m: f"<{m.group(1)}{_BUILD_ATTRS.sub('', m.group(2))}{m.group(3)}>", html)
