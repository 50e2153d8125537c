"""Render: Article + theme → the exact content HTML WeChat receives, with assets and findings.

`render_article` is the one function the CLI, `build`, the preview server and `publish` call, so
what is previewed is byte for byte what is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

from publisher.content import Article
from publisher.findings import Finding, FindingList
from publisher.project import Project
from publisher.render.images import Asset
from publisher.render.layout import Theme, ThemeError, compose, load_theme, strip_build_attributes
from publisher.render.links import References
from publisher.render.markdown import RenderState, render_body

RENDERER_VERSION = "1"
_TAG = re.compile(r"<[^>]*>")  # bump when output changes for the same input: it invalidates check caches


@dataclass
class Rendered:
    article: Article
    theme: Theme
    html: str  # the content field of draft/add, before image URLs are swapped for uploaded ones
    annotated_html: str  # the same with class and data-line kept, for linting and the preview
    digest: str
    assets: list[Asset] = field(default_factory=list)
    references: References = field(default_factory=References)
    findings: list[Finding] = field(default_factory=list)

    @property
    def characters(self) -> int:
        """Text characters, as WeChat's editor counts 正文字数 against the 20,000 limit (tags excluded)."""
        return len(unescape(_TAG.sub("", self.html)))

    @property
    def size(self) -> int:
        return len(self.html.encode("utf-8"))


def theme_for(article: Article, project: Project) -> Theme:
    name = article.meta.theme or project.theme
    return load_theme(name, project.layouts_dir)


def render_article(article: Article, project: Project, theme: Theme | None = None) -> Rendered:
    findings = FindingList(article.rel)
    if theme is None:
        try:
            theme = theme_for(article, project)
        except ThemeError as exc:
            findings.error("theme/unknown", str(exc), article.line_of("theme"), field="theme")
            theme = load_theme(project.theme if article.meta.theme else "default", project.layouts_dir)
    state = RenderState(article.folder, article.root, article.body_line, findings, theme.pygments_style,
                        cache_dir=project.cache_dir, resolve_article_link=_article_link_resolver(article, project))
    body = render_body(article.body, state)
    annotated = compose(body, state.references, theme, project.layouts_dir)
    return Rendered(
        article=article, theme=theme, html=strip_build_attributes(annotated), annotated_html=annotated,
        digest=article.meta.digest or default_digest(state.first_paragraph or "", project.limits.digest),
        assets=state.assets, references=state.references, findings=findings.items,
    )


def _article_link_resolver(article: Article, project: Project):
    """href → (key, published URL or None) for links to other articles; the ledger is read only if one occurs."""
    from publisher.lint.article_links import linked_article, published_urls

    def resolve(href: str) -> tuple[str, str | None] | None:
        key = linked_article(href, article, project)
        return (key, published_urls(project).get(key)) if key else None

    return resolve


_SENTENCE_END = re.compile(r"[。！？!?；;]")


def default_digest(paragraph: str, limit: int) -> str:
    """The start of the first paragraph, cut at a sentence end when one falls inside the limit."""
    text = " ".join(paragraph.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
    return cut[: ends[-1]] if ends and ends[-1] >= limit // 3 else cut[: limit - 1] + "…"
