"""Links between articles: a relative Markdown link to another article of the repository.

Readers cannot open a file of the repository, but they can open the other article's WeChat page once
it is published. So a link such as `../other-slug/index.md`, `../other-slug/` or
`/content/2026/x/index.md` that names an article is reported as
- info `compliance/article-link` with the published URL, when the ledger shows the article published;
- warning `compliance/article-link-unpublished` otherwise, and an error of the same rule when the
  linking article is in a push due within DUE_SOON (readers would get a dead link's bare text).
Links to files that are not articles are left to the renderer's `link/local` warning.

`published_urls(project)` gives article key → URL, for the renderer to substitute.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from publisher.findings import Finding

RULE = "compliance/article-link"
RULE_UNPUBLISHED = "compliance/article-link-unpublished"
PUBLISHED = ("published", "sent")
DUE_SOON = timedelta(days=3)
CACHE_SECONDS = 30.0  # one `check` of many articles reads the ledger once; `serve` sees new records soon

_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}


def published_urls(project, account=None) -> dict[str, str]:
    """Article key → the URL of its published page, from the ledger's published pushes.

    The real ledger branch is read (never the sandbox's, whose URLs are not real), whether or not
    this machine has credentials: a writer checking links needs the URLs the team published.
    """
    from publisher.ledger import LedgerError
    from publisher.project import ConfigError
    from publisher.publish import open_ledger, push_records

    if account is None or isinstance(account, str):
        account = project.account(account)
    cache_key = (str(project.root), account.name)
    hit = _cache.get(cache_key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return dict(hit[1])
    try:
        records = push_records(open_ledger(project).snapshot(), account)
    except (LedgerError, ConfigError):  # no git repository: nothing has been published from here
        records = {}
    urls: dict[str, str] = {}
    # later publications of the same article win: order by when they were recorded, then by push id
    for _, record in sorted(records.items(), key=lambda item: (_last_event(item[1]), item[0])):
        if record.get("status") not in PUBLISHED:
            continue
        for item, url in zip(record.get("articles") or [], record.get("urls") or [], strict=False):
            key = item.get("key") if isinstance(item, dict) else item
            if key and isinstance(url, str) and url:
                urls[key] = url
    _cache[cache_key] = (time.monotonic(), urls)
    return dict(urls)


def _last_event(record: dict) -> str:
    events = record.get("events") or [{}]
    return str(events[-1].get("time", "")) if isinstance(events[-1], dict) else ""


def clear_cache() -> None:
    _cache.clear()


def linked_article(href: str, article, project) -> str | None:
    """The key of the article a relative link points to, or None when it points to no article."""
    from publisher.content import ARTICLE_FILE, article_key

    parts = urlsplit(href.strip())
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    target = (project.root / path.lstrip("/")) if path.startswith("/") else (article.folder / path)
    try:
        target = target.resolve()
    except OSError:
        return None
    if target.is_dir():
        target = target / ARTICLE_FILE
    if target.name != ARTICLE_FILE or not target.is_file():
        return None
    if not target.is_relative_to(project.content_dir.resolve()):
        return None
    if target == Path(article.path).resolve():
        return None  # a link to itself is an anchor problem, not this rule's
    return article_key(target, project)


def links(body: str) -> list[tuple[str, int]]:
    """(href, 0-based body line) of every Markdown link in the body."""
    from publisher.render.markdown import parser

    found = []
    for token in parser().parse(body):
        if token.type != "inline" or not token.children:
            continue
        line = token.map[0] if token.map else 0
        for child in token.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "link_open":
                found.append((str(child.attrs.get("href", "")), line))
    return found


def due_pushes(project, key: str, now: datetime) -> list:
    """Pushes of articles that include `key` and are due within DUE_SOON of `now`."""
    from publisher.calendar import CalendarError, load_calendar

    if not project.calendar_path.is_file():
        return []
    try:
        calendar = load_calendar(project)
    except CalendarError:
        return []  # the calendar's own check reports it
    if now.tzinfo is None:
        now = now.replace(tzinfo=calendar.timezone)
    return [push for push in calendar.pushes
            if push.kind == "articles" and key in push.articles and now <= push.at <= now + DUE_SOON]


def check(article, rendered, project, now: datetime | None = None) -> list[Finding]:
    targets = [(href, line, key) for href, line in links(article.body)
               if (key := linked_article(href, article, project))]
    if not targets:
        return []
    urls = published_urls(project)
    soon = None
    findings = []
    for href, line, key in targets:
        file_line = article.body_line + line
        if key in urls:
            findings.append(Finding(article.rel, file_line, RULE, "info",
                                    f"the link to '{href}' (article {key}) will use its published URL {urls[key]}",
                                    snippet=urls[key]))
            continue
        if soon is None:
            soon = due_pushes(project, article.key, now or datetime.now().astimezone())
        if soon:
            push = soon[0]
            findings.append(Finding(
                article.rel, file_line, RULE_UNPUBLISHED, "error",
                f"expected article {key} (linked as '{href}') to be published before push '{push.id}' at "
                f"{push.at.strftime('%Y-%m-%d %H:%M')}, which is due within {DUE_SOON.days} days; the ledger shows "
                "it unpublished, so readers would get only the link's text"))
        else:
            findings.append(Finding(
                article.rel, file_line, RULE_UNPUBLISHED, "warning",
                f"the link to '{href}' points to article {key}, which the ledger does not show published yet; "
                "until it is, readers get only the link's text"))
    return findings
