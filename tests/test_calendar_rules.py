"""Calendar findings in `publisher check`: each rule fires where it should and stays quiet otherwise."""

from __future__ import annotations

import json

import pytest
from conftest import make_image, run_cli, write

GOOD = """\
---
title: 年终回顾：我们这一年
cover: cover.jpg
tags: [年终回顾]
images:
  cover.jpg: {credit: 设计组, license: 自有}
---
正文。
"""


def calendar_findings(repo, calendar: str, *settings: str, now="2026-11-30 09:00") -> list[dict]:
    if settings:
        write(repo / "pyproject.toml", "[tool.publisher]\n" + "\n".join(settings) + "\n")
    write(repo / "calendar.yaml", calendar)
    result = run_cli("check", "--now", now, "--format", "json", cwd=repo)
    assert "Traceback" not in result.stderr, result.stderr
    files = json.loads(result.stdout)["files"]
    return next(f for f in files if f["path"] == "calendar.yaml")["findings"]


def rules(findings) -> list[str]:
    return [f["rule"] for f in findings]


@pytest.fixture
def site(repo):
    write(repo / "content/2026/review/index.md", GOOD)
    make_image(repo / "content/2026/review/cover.jpg")
    return repo


HEAD = "timezone: Asia/Shanghai\npushes:\n"


def test_a_clean_calendar_has_no_findings(site):
    calendar = HEAD + '  - at: "2026-12-01 08:00"\n    mode: mass\n    articles: [2026/review]\n' \
        'rules:\n  topics: {"2026-12": 年终回顾}\n'
    assert calendar_findings(site, calendar) == []


def test_missing_or_broken_article_due_soon_is_an_error(site):
    write(site / "content/2026/broken/index.md", "---\ntitle: " + "长" * 40 + "\n---\n")
    calendar = HEAD + '  - at: "2026-12-01 08:00"\n    articles: [2026/nope, 2026/broken]\n'
    found = calendar_findings(site, calendar)
    assert rules(found) == ["calendar/article-missing", "calendar/article-not-ready"]
    assert found[0]["line"] == 3
    far = HEAD + '  - at: "2027-03-01 08:00"\n    articles: [2026/nope]\n'
    assert calendar_findings(site, far) == []


def test_mass_quota_per_account_type(site):
    write(site / "content/2026/other/index.md", GOOD.replace("年终回顾：我们这一年", "另一篇"))
    two_a_day = HEAD + '  - at: "2026-12-10 08:00"\n    mode: mass\n    articles: [2026/review]\n' \
        '  - at: "2026-12-10 20:00"\n    mode: mass\n    articles: [2026/other]\n'
    assert rules(calendar_findings(site, two_a_day)) == ["calendar/mass-quota"]
    service = '[[tool.publisher.accounts]]\nname = "main"\ntype = "service"'
    assert calendar_findings(site, two_a_day, service) == []


def test_mode_not_allowed_for_an_unverified_account(site):
    calendar = HEAD + '  - at: "2026-12-10 08:00"\n    mode: publish\n    articles: [2026/review]\n'
    found = calendar_findings(site, calendar, '[[tool.publisher.accounts]]\nname = "main"\nverified = false')
    assert rules(found) == ["calendar/mode-not-allowed"] and "draft" in found[0]["message"]


def test_same_article_twice_and_unknown_unpublish(site):
    write(site / "content/2026/other/index.md", GOOD.replace("年终回顾：我们这一年", "另一篇"))
    calendar = HEAD + '  - at: "2026-12-10 08:00"\n    articles: [2026/review]\n' \
        '  - at: "2026-12-11 08:00"\n    articles: [2026/other, 2026/review]\n' \
        '  - at: "2026-12-12 08:00"\n    unpublish: 2026/never\n'
    found = calendar_findings(site, calendar)
    assert rules(found) == ["calendar/duplicate-article", "calendar/unpublish-unknown"]
    assert "line 3" in found[0]["message"]


def test_a_push_is_named_by_its_headline_so_moving_it_does_not_make_it_new(site):
    calendar = HEAD + '  - at: "2026-12-10 08:00"\n    articles: [2026/review]\n' \
        '  - at: "2026-12-11 08:00"\n    articles: [2026/review]\n'
    found = calendar_findings(site, calendar)
    assert rules(found) == ["calendar/duplicate-id"] and found[0]["line"] == 5 and "line 3" in found[0]["message"]


def test_weekly_minimum_and_monthly_topic(site):
    calendar = HEAD + '  - at: "2026-12-01 08:00"\n    articles: [2026/review]\n' \
        'rules:\n  min_per_week: 1\n  topics: {"2027-01": 新年计划}\n'
    write(site / "content/2026/later/index.md", GOOD.replace("年终回顾：我们这一年", "后来").replace("[年终回顾]", "[]"))
    calendar = calendar.replace("rules:", '  - at: "2026-12-22 08:00"\n    articles: [2026/later]\nrules:')
    found = calendar_findings(site, calendar)
    assert rules(found).count("calendar/weekly-minimum") == 2  # the two empty weeks between them
    assert "calendar/topic" in rules(found)


def test_planned_slot_due_soon_is_a_warning(site):
    calendar = HEAD + '  - at: "2026-12-01 20:30"\n    plan: 发布会预告\n    owner: 小李\n'
    found = calendar_findings(site, calendar)
    assert rules(found) == ["calendar/plan-due"] and found[0]["severity"] == "warning" and "小李" in found[0]["message"]
