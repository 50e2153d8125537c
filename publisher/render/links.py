"""Links: what WeChat keeps, and the numbered references that stand in for what it drops."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

WECHAT_HOSTS = ("mp.weixin.qq.com",)
UNSAFE_SCHEMES = ("javascript", "vbscript", "data", "file")


def link_kind(href: str, text: str) -> str:
    """keep | anchor | bare | unsafe | local | reference"""
    href = href.strip()
    if href.startswith("#"):
        return "anchor"
    parts = urlsplit(href)
    scheme = parts.scheme.lower()
    if scheme in UNSAFE_SCHEMES:
        return "unsafe"
    if scheme in ("http", "https") and parts.hostname in WECHAT_HOSTS:
        return "keep"
    if not scheme:
        return "local"
    if _same_url(href, text):
        return "bare"
    return "reference"


def _same_url(href: str, text: str) -> bool:
    text = text.strip()
    return any(prefix + text == href for prefix in ("", "http://", "https://", "mailto:"))


@dataclass
class Note:
    number: int
    kind: str  # "link" | "footnote"
    label: str  # link text, or the footnote label
    url: str = ""
    html: str = ""  # footnote content, filled in once the footnote block is rendered


@dataclass
class References:
    """Footnotes and external links share one numbering, in order of first appearance."""

    notes: list[Note] = field(default_factory=list)
    _by_key: dict = field(default_factory=dict)

    def link(self, url: str, text: str) -> int:
        return self._number(("link", url), "link", text, url)

    def footnote(self, footnote_id: int, label: str) -> int:
        return self._number(("footnote", footnote_id), "footnote", label)

    def footnote_content(self, footnote_id: int, html: str) -> None:
        key = ("footnote", footnote_id)
        if key in self._by_key:
            self._by_key[key].html = html

    def _number(self, key, kind: str, label: str, url: str = "") -> int:
        if key not in self._by_key:
            note = Note(len(self.notes) + 1, kind, label, url)
            self.notes.append(note)
            self._by_key[key] = note
        return self._by_key[key].number

    @property
    def title(self) -> str:
        kinds = {note.kind for note in self.notes}
        if kinds == {"link"}:
            return "参考链接"
        if kinds == {"footnote"}:
            return "注释"
        return "注释与参考链接"
