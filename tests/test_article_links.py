"""Links between articles: published URL (info), unpublished (warning), unpublished and due soon (error)."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import run_cli, write

from publisher.content import load_article
from publisher.lint import article_links
from publisher.project import load_project

URL = "https://mp.weixin.qq.com/s/xyz"
ZONE = ZoneInfo("Asia/Shanghai")

LINKING = """\
---
title: 文章 A
author: 小王
---

第一段正文。

参见[上一篇](../b/index.md)，以及[同一篇](../b/)和[绝对路径](/content/2026/b/index.md)。

[不是文章](../b/notes.txt)
"""


@pytest.fixture
def site(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.publisher]
        default_author = "编辑部"
        timezone = "Asia/Shanghai"
    """)
    write(tmp_path / "content/2026/a/index.md", LINKING)
    write(tmp_path / "content/2026/b/index.md", "---\ntitle: 文章 B\nauthor: 小王\n---\n\n正文。\n")
    write(tmp_path / "content/2026/b/notes.txt", "notes\n")
    for args in (["init", "-q", "-b", "main"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "articles"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True)
    article_links.clear_cache()
    yield tmp_path
    article_links.clear_cache()


def publish_b(root, status="published"):
    from publisher.ledger import Ledger

    record = {"push_id": "p1", "status": status, "articles": [{"key": "2026/b"}], "urls": [URL]}
    Ledger(root, remote=None).update("p1: published", lambda snapshot: {"accounts/main/pushes/p1.json": record})


def findings(root, now=None):
    project = load_project(root)
    article = load_article(root / "content/2026/a/index.md", project)
    return article_links.check(article, None, project, now=now)


def test_published_article_link_reports_the_url_it_will_use(site):
    publish_b(site)
    found = findings(site)
    assert [f.rule for f in found] == ["compliance/article-link"] * 3
    assert all(f.severity == "info" and URL in f.message for f in found)
    assert {f.line for f in found} == {8}
    assert article_links.published_urls(load_project(site)) == {"2026/b": URL}


def test_unpublished_article_link_is_a_warning(site):
    found = findings(site)
    assert [f.rule for f in found] == ["compliance/article-link-unpublished"] * 3
    assert all(f.severity == "warning" for f in found)


def test_a_draft_is_not_published(site):
    publish_b(site, status="drafted")
    assert {f.severity for f in findings(site)} == {"warning"}
    assert article_links.published_urls(load_project(site)) == {}


def test_unpublished_link_in_a_push_due_tomorrow_is_an_error(site):
    write(site / "calendar.yaml", 'timezone: Asia/Shanghai\npushes:\n'
          '  - at: "2026-12-02 08:00"\n    mode: publish\n    articles: [2026/a]\n')
    found = findings(site, now=datetime(2026, 12, 1, 9, 0, tzinfo=ZONE))
    assert {f.severity for f in found} == {"error"} and "2026-12-02 08:00" in found[0].message
    # a week before, the same push is not due soon yet
    assert {f.severity for f in findings(site, now=datetime(2026, 11, 25, 9, 0, tzinfo=ZONE))} == {"warning"}


def test_cli_check_reports_each_case(site):
    def rules(extra_calendar=None):
        if extra_calendar:
            write(site / "calendar.yaml", extra_calendar)
        result = run_cli("check", "content/2026/a/index.md", "--no-cache", "--format", "json", cwd=site)
        assert "Traceback" not in result.stderr, result.stderr
        report = json.loads(result.stdout)["files"]
        return [(f["rule"], f["severity"]) for file in report for f in file["findings"]
                if "article-link" in f["rule"] or f["rule"] == "link/local"]

    found = rules()
    assert ("compliance/article-link-unpublished", "warning") in found
    assert ("link/local", "warning") in found  # notes.txt is not an article: the renderer's warning stays
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    found = rules(f'timezone: Asia/Shanghai\npushes:\n  - at: "{tomorrow}"\n    mode: publish\n'
                  '    articles: [2026/a]\n')
    assert ("compliance/article-link-unpublished", "error") in found
    publish_b(site)
    assert ("compliance/article-link", "info") in rules()


def test_links_that_are_not_articles_are_not_this_rules(site):
    write(site / "content/2026/a/index.md", "---\ntitle: A\n---\n\n[x](notes.md) [y](https://example.com) "
          "[z](#top) [w](../missing/)\n")
    assert findings(site) == []


def rendered_a(root):
    from publisher.render import render_article

    project = load_project(root)
    return render_article(load_article(root / "content/2026/a/index.md", project), project)


def test_renderer_uses_the_published_url_once_the_article_is_out(site):
    before = rendered_a(site)
    assert URL not in before.html and "<a " not in before.html  # unpublished: only the text
    assert [f.rule for f in before.findings] == ["link/local"]  # notes.txt; the articles are the rule's
    publish_b(site)
    article_links.clear_cache()
    after = rendered_a(site)
    assert after.html.count(f'<a href="{URL}"') == 3
    for text in ("上一篇", "同一篇", "绝对路径"):
        assert f">{text}</a>" in after.html
    assert "index.md" not in after.html and "../b/" not in after.html


def test_check_now_and_the_ledger_are_never_hidden_by_the_cache(site):
    write(site / "calendar.yaml", 'timezone: Asia/Shanghai\npushes:\n'
          '  - at: "2026-12-02 08:00"\n    mode: publish\n    articles: [2026/a]\n')

    def severities(now):
        result = run_cli("check", "content/2026/a/index.md", "--now", now, "--format", "json", cwd=site)
        return {f["severity"] for file in json.loads(result.stdout)["files"] for f in file["findings"]
                if f["rule"].startswith("compliance/article-link")}

    assert severities("2026-11-25 09:00") == {"warning"}
    assert severities("2026-12-01 09:00") == {"error"}  # the same file, checked again with the cache on
    publish_b(site)
    assert severities("2026-12-01 09:00") == {"info"}
