"""Load stage: an article folder (index.md + images) → a validated Article.

Front matter is split with python-frontmatter and parsed with our strict YAML loader, so every
problem names the file, the line and the field.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter

from publisher import yamlstrict
from publisher.findings import Finding, FindingList
from publisher.project import Project

COMMENT_MODES = ("open", "fans", "closed")
COVER_FOCUS = ("center", "top", "bottom", "left", "right")
ARTICLE_FILE = "index.md"


@dataclass(frozen=True)
class ImageCredit:
    credit: str
    license: str


@dataclass
class FrontMatter:
    title: str = ""
    author: str = ""
    digest: str | None = None
    cover: str | None = None
    cover_focus: str = "center"
    source_url: str | None = None
    comments: str = "open"
    tags: list[str] = field(default_factory=list)
    images: dict[str, ImageCredit] = field(default_factory=dict)
    theme: str | None = None


@dataclass
class Article:
    path: Path  # the Markdown file
    root: Path  # images must stay inside this folder (the repository, or the file's folder outside one)
    rel: str  # path as shown to people
    key: str  # how the calendar names it, e.g. "2026/year-review"
    meta: FrontMatter
    body: str
    body_line: int  # 1-based file line where `body` starts
    source_hash: str
    field_lines: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def line_of(self, name: str) -> int | None:
        return self.field_lines.get(name)


class ArticleError(Exception):
    """The article cannot be read at all (no file, broken YAML); `findings` say why and where."""

    def __init__(self, findings: list[Finding]):
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


def article_key(path: Path, project: Project) -> str:
    """`content/2026/x/index.md` → `2026/x`; a single file `content/2026/x.md` → `2026/x`."""
    base = path.parent if path.name == ARTICLE_FILE else path.with_suffix("")
    try:
        return base.resolve().relative_to(project.content_dir.resolve()).as_posix()
    except ValueError:
        return base.name


def find_articles(project: Project, paths: list[Path] | None = None) -> list[Path]:
    """Markdown files named on the command line (folders are searched), or every article under content/."""
    targets = paths or [project.content_dir]
    found: list[Path] = []
    for target in targets:
        if target.is_dir():
            found.extend(sorted(target.rglob(ARTICLE_FILE)))
        else:
            found.append(target)
    return found


def load_article(path: Path, project: Project) -> Article:
    rel = project.relative(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError([Finding(rel, None, "file/unreadable", "error",
                                    f"expected a readable Markdown file, found: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError([Finding(rel, _line_at(raw, exc.start), "file/encoding", "error",
                                    "expected UTF-8 text, found bytes that are not UTF-8")]) from None
    fm_text, body, fm_line, body_line = _split(text)
    findings = FindingList(rel)
    try:
        doc = yamlstrict.load(fm_text, first_line=fm_line) if fm_text is not None else yamlstrict.YamlDocument({})
    except yamlstrict.YamlError as exc:
        findings.error("front-matter/yaml", exc.message, exc.line, column=exc.column, field=exc.field)
        raise ArticleError(findings.items) from None
    root = project.root if path.resolve().is_relative_to(project.root) else path.resolve().parent
    article = Article(
        path=path, root=root, rel=rel, key=article_key(path, project), meta=FrontMatter(), body=body,
        body_line=body_line, source_hash=hashlib.sha256(raw).hexdigest(),
    )
    _apply_front_matter(article, doc, project, findings, fm_line)
    article.findings = findings.items
    return article


def _split(text: str) -> tuple[str | None, str, int, int]:
    """(front matter text, body, file line of the front matter's first line, file line of the body)."""
    handler = frontmatter.YAMLHandler()
    if not handler.detect(text):
        return None, text, 1, 1
    try:
        fm_text, body = handler.split(text)
    except ValueError:
        return None, text, 1, 1
    fm_start = text.index(fm_text)
    fm_line = text.count("\n", 0, fm_start) + 1
    body_start = text.index(body, fm_start + len(fm_text)) if body else len(text)
    return fm_text, body, fm_line, text.count("\n", 0, body_start) + 1


def _line_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


# ---- front matter fields -------------------------------------------------------------------------

def _apply_front_matter(article: Article, doc, project: Project, findings: FindingList, fm_line: int) -> None:
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        findings.error("front-matter/not-a-mapping",
                       f"expected 'key: value' lines between the --- markers, found {type(data).__name__}", fm_line)
        raise ArticleError(findings.items)
    article.field_lines = {key: doc.line(key) for key in data}
    meta = article.meta
    for key, value in data.items():
        line = doc.line(key)
        validator = _FIELDS.get(key)
        if validator is None:
            hint = difflib.get_close_matches(key, list(_FIELDS), n=1, cutoff=0.6)
            suggestion = f"did you mean '{hint[0]}'?" if hint else f"known fields: {', '.join(_FIELDS)}"
            findings.warning("front-matter/unknown-field", f"unknown field '{key}' is ignored; {suggestion}",
                             line, field=key)
            continue
        validator(meta, key, value, line, findings, project, doc)
    if "title" not in data:
        findings.error("front-matter/title-missing", "expected a 'title' field (WeChat requires one), found none",
                       fm_line, field="title")
    if not meta.author:
        meta.author = project.default_author


def _text(meta, key, value, line, findings: FindingList, project, doc, *, limit: int | None = None) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        findings.error(f"front-matter/{key}-type", f"expected text, found {_describe(value)}; quote it", line, field=key)
        return
    value = value.strip()
    if limit is not None and len(value) > limit:
        findings.error(f"front-matter/{key}-too-long",
                       f"expected at most {limit} characters (WeChat's limit), found {len(value)}: "
                       f"'{value[:limit]}' + '{value[limit:]}'", line, field=key)
    if "\\u" in value:
        findings.error(f"front-matter/{key}-escape",
                       "expected plain characters, found a \\uXXXX escape, which WeChat rejects (40033)",
                       line, field=key)
    setattr(meta, key, value)


def _title(meta, key, value, line, findings, project, doc):
    if isinstance(value, str) and not value.strip():
        findings.error("front-matter/title-missing", "expected a title, found an empty one", line, field=key)
    _text(meta, key, value, line, findings, project, doc, limit=project.limits.title)


def _author(meta, key, value, line, findings, project, doc):
    _text(meta, key, value, line, findings, project, doc, limit=project.limits.author)


def _digest(meta, key, value, line, findings, project, doc):
    _text(meta, key, value, line, findings, project, doc, limit=project.limits.digest)


def _plain(meta, key, value, line, findings, project, doc):
    _text(meta, key, value, line, findings, project, doc)


def _source_url(meta, key, value, line, findings, project, doc):
    _text(meta, key, value, line, findings, project, doc)
    url = meta.source_url
    if url and not url.startswith(("https://", "http://")):
        findings.error("front-matter/source_url", f"expected an http(s) URL for 阅读原文, found '{url}'", line, field=key)
    elif url and len(url.encode()) > 1024:
        findings.error("front-matter/source_url", f"expected at most 1 KB (WeChat's limit), found {len(url.encode())} bytes",
                       line, field=key)


def _choice(options):
    def validate(meta, key, value, line, findings, project, doc):
        if value not in options:
            findings.error(f"front-matter/{key}", f"expected one of {' | '.join(options)}, found {_describe(value)}",
                           line, field=key)
            return
        setattr(meta, key, value)
    return validate


def _tags(meta, key, value, line, findings, project, doc):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        findings.error("front-matter/tags", f"expected a list of words, found {_describe(value)}", line, field=key)
        return
    meta.tags = value


def _images(meta, key, value, line, findings, project, doc):
    if not isinstance(value, dict):
        findings.error("front-matter/images", "expected 'file: {credit: …, license: …}' entries, found "
                       f"{_describe(value)}", line, field=key)
        return
    for name, entry in value.items():
        entry_line = doc.line(key, name)
        if not isinstance(entry, dict):
            findings.error("front-matter/images", f"expected {{credit: …, license: …}} for '{name}', found "
                           f"{_describe(entry)}", entry_line, field=f"images.{name}")
            continue
        missing = [part for part in ("credit", "license") if not isinstance(entry.get(part), str) or not entry[part]]
        if missing:
            findings.error("front-matter/images", f"expected {' and '.join(missing)} for '{name}', found none",
                           entry_line, field=f"images.{name}")
        extra = sorted(set(entry) - {"credit", "license"})
        if extra:
            findings.warning("front-matter/images", f"unknown key(s) {', '.join(extra)} for '{name}' are ignored; "
                             "expected credit and license", entry_line, field=f"images.{name}")
        meta.images[str(name)] = ImageCredit(str(entry.get("credit") or ""), str(entry.get("license") or ""))


def _describe(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"yes/no value {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"'{value}'"


_FIELDS = {
    "title": _title,
    "author": _author,
    "digest": _digest,
    "cover": _plain,
    "cover_focus": _choice(COVER_FOCUS),
    "source_url": _source_url,
    "comments": _choice(COMMENT_MODES),
    "tags": _tags,
    "images": _images,
    "theme": _plain,
}
