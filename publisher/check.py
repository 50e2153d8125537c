"""`publisher check`: load → render → lint for every article, plus .html files and the calendar.

Results are cached per article, keyed by the bytes of everything that shapes them (the article,
its images, the theme, the template, the settings, the renderer version), so a second run over an
unchanged repository only hashes files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from publisher.content import ArticleError, find_articles, load_article
from publisher.findings import Finding, shorten
from publisher.project import Project

ARTICLE_LINK_RULES = "compliance/article-link"  # prefix of the rules about links between articles
_DATA_LINE = re.compile(r'data-line="(\d+)"')
_BUILD_ATTR = re.compile(r'\s(?:class|data-line)="[^"]*"')


@dataclass
class FileReport:
    path: str
    findings: list[Finding] = field(default_factory=list)
    characters: int | None = None  # of WeChat's content budget, for articles
    cached: bool = False

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)


def check(project: Project, paths: list[Path] | None = None, *, layout: bool = False, use_cache: bool = True,
          progress=None, now=None) -> list[FileReport]:
    from publisher.cache import CheckCache

    cache = CheckCache(project) if use_cache else None
    html_files = [p for p in (paths or []) if p.suffix.lower() in (".html", ".htm")]
    md_targets = [p for p in (paths or []) if p not in html_files and p.name != Path(project.calendar).name]
    articles = find_articles(project, md_targets) if md_targets or not paths else []
    reports: list[FileReport] = []
    for path in articles:
        reports.append(check_article(project, path, cache, layout, now))
        if progress:
            progress()
    for path in html_files:
        reports.append(check_html_file(project, path, layout))
    if _wants_calendar(project, paths):
        reports.append(check_calendar(project, reports, now))
    if cache:
        cache.save()
    return reports


def _wants_calendar(project: Project, paths: list[Path] | None) -> bool:
    if not project.calendar_path.is_file():
        return False
    return not paths or any(p.resolve() == project.calendar_path.resolve() for p in paths)


def check_article(project: Project, path: Path, cache=None, layout: bool = False, now=None) -> FileReport:
    rel = project.relative(path)
    if cache and not layout and (hit := cache.get(rel, path)):
        return FileReport(rel, hit["findings"], hit.get("characters"), cached=True)
    try:
        rendered, findings = analyse_article(project, path, layout, now)
    except ArticleError as exc:
        return FileReport(rel, exc.findings)
    report = FileReport(rel, findings, rendered.characters)
    # links to other articles depend on the ledger and the clock, which the cache key cannot see
    links_articles = any(f.rule.startswith(ARTICLE_LINK_RULES) for f in findings)
    if cache and not layout and not links_articles:
        deps = [a.path for a in rendered.assets] + _cover_path(rendered.article)
        cache.put(rel, report.findings, report.characters, deps)
    return report


def analyse_article(project: Project, path: Path, layout: bool = False, now=None):
    """Load, render and lint one article: (Rendered, sorted findings). Raises ArticleError."""
    from publisher.lint.limits import check_limits
    from publisher.render import render_article

    article = load_article(path, project)
    rendered = render_article(article, project)
    from publisher.lint.compliance import check_compliance

    findings = [*article.findings, *rendered.findings, *check_limits(rendered, project),
                *lint_structure(rendered.annotated_html, article.rel, layout),
                *check_compliance(article, rendered, project, now)]
    return rendered, sorted(findings, key=_order)


def _cover_path(article) -> list[Path]:
    if not article.meta.cover:
        return []
    path = (article.folder / article.meta.cover).resolve()
    return [path] if path.is_file() and path.is_relative_to(article.root) else []


def lint_structure(annotated_html: str, rel: str, layout: bool = False) -> list[Finding]:
    """Structure-spec findings on rendered HTML, placed on the Markdown line of the element."""
    from publisher.lint.structure import lint_html

    findings = lint_html(annotated_html, rel)
    if layout:
        from publisher.lint.layout import lint_html_in_browser

        findings += lint_html_in_browser(annotated_html, rel)
    return [_relocate(f) for f in findings]


def _relocate(finding: Finding) -> Finding:
    snippet = finding.snippet or ""
    match = _DATA_LINE.search(snippet)
    line = int(match.group(1)) if match else None
    return Finding(finding.path, line, finding.rule, finding.severity, finding.message, None, finding.field,
                   shorten(_BUILD_ATTR.sub("", snippet)) if snippet else None)


def check_html_file(project: Project, path: Path, layout: bool = False) -> FileReport:
    rel = project.relative(path)
    try:
        html = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return FileReport(rel, [Finding(rel, None, "file/unreadable", "error", f"cannot read the file: {exc.strerror}")])
    from publisher.lint.structure import lint_html

    findings = lint_html(html, rel)
    if layout:
        from publisher.lint.layout import lint_html_in_browser

        findings += lint_html_in_browser(html, rel)
    return FileReport(rel, sorted(findings, key=_order), len(html))


def check_calendar(project: Project, reports: list[FileReport], now=None) -> FileReport:
    from datetime import datetime

    from publisher.calendar import CalendarError, load_calendar
    from publisher.lint.calendar_rules import check_calendar_rules

    rel = project.relative(project.calendar_path)
    try:
        calendar = load_calendar(project)
    except CalendarError as exc:
        return FileReport(rel, exc.findings)
    errors, tags = _article_facts(project, calendar, reports)
    moment = now or datetime.now(calendar.timezone)
    findings = [*calendar.findings, *check_calendar_rules(calendar, project, moment, errors, tags, rel)]
    return FileReport(rel, sorted(findings, key=_order))


def _article_facts(project: Project, calendar, reports: list[FileReport]) -> tuple[dict, dict]:
    """For every article the calendar names: its error count (from this run's reports, else checked now)
    and its tags plus title, for the monthly topics. Missing articles are left out."""
    from publisher.content import ArticleError, load_article

    by_path = {r.path: r for r in reports}
    errors, tags = {}, {}
    keys = {k for push in calendar.pushes for k in [*push.articles, push.unpublish] if k}
    for key in sorted(keys):
        path = project.content_dir / key / "index.md"
        if not path.is_file():
            continue
        report = by_path.get(project.relative(path)) or check_article(project, path)
        errors[key] = report.errors
        try:
            meta = load_article(path, project).meta
            tags[key] = {*meta.tags, meta.title}
        except ArticleError:
            tags[key] = set()
    return errors, tags


def _order(finding: Finding):
    return (finding.line or 0, finding.column or 0, finding.rule)
