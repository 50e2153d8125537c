"""Calendar rules for `publisher check`: what the planner should hear about before a push is due.

Errors: a push due within 3 days whose article is missing or fails its checks; a mode the account
may not use; 群发 beyond the account type's quota; the same article in two pushes; withdrawing an
article no earlier push sends. Warnings: weeks below the minimum, a month's topic nobody covers, a
planned slot due soon with nothing written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from publisher.calendar import Calendar, Push
from publisher.findings import FindingList
from publisher.project import Project

DUE_SOON = timedelta(days=3)
SERVICE_MASS_PER_MONTH = 4
SUBSCRIPTION_MASS_PER_DAY = 1


def check_calendar_rules(calendar: Calendar, project: Project, now: datetime, article_errors: dict[str, int],
                         article_tags: dict[str, set[str]], rel: str) -> list:
    """`article_errors`: article key → its error count (missing: no such article); `article_tags`: key → its
    tags and title, searched for each month's topic."""
    findings = FindingList(rel)
    for rule in RULES:
        rule(calendar, project, now, findings, article_errors, article_tags)
    return findings.items


def _due_soon(calendar, project, now, findings, errors, tags):
    for push in _sends(calendar):
        if not now <= push.at <= now + DUE_SOON:
            continue
        for key in push.articles:
            if key not in errors:
                findings.error("calendar/article-missing", f"expected article '{key}' in content/ for the push due "
                               f"{_local(push, calendar)}, found none", push.line, field="articles")
            elif errors[key]:
                findings.error("calendar/article-not-ready", f"the push due {_local(push, calendar)} includes "
                               f"'{key}', which has {errors[key]} error(s); run publisher check on it", push.line,
                               field="articles")
    for push in calendar.pushes:
        if push.kind == "plan" and now <= push.at <= now + DUE_SOON:
            findings.warning("calendar/plan-due", f"the planned slot '{push.plan}' ({push.owner or 'no owner'}) is "
                             f"due {_local(push, calendar)} and has no article yet", push.line, field="plan")


def _modes(calendar, project, now, findings, errors, tags):
    for push in _sends(calendar):
        account = project.account(push.account) if push.account in {a.name for a in project.accounts} else \
            project.accounts[0]
        if push.mode not in account.allowed_modes:
            findings.error("calendar/mode-not-allowed", f"expected a mode {account.label} may use "
                           f"({', '.join(account.allowed_modes)}), found {push.mode}: since July 2025 unverified "
                           "accounts can only create drafts", push.line, field="mode")


def _mass_quota(calendar, project, now, findings, errors, tags):
    by_account = defaultdict(list)
    for push in _sends(calendar):
        if push.mode == "mass":
            by_account[push.account or project.accounts[0].name].append(push)
    for name, pushes in by_account.items():
        account = next((a for a in project.accounts if a.name == name), project.accounts[0])
        if account.type == "subscription":
            _over(pushes, lambda p: p.at.astimezone(calendar.timezone).date().isoformat(),
                  SUBSCRIPTION_MASS_PER_DAY, "day", account.label, findings)
        else:
            _over(pushes, lambda p: p.at.astimezone(calendar.timezone).strftime("%Y-%m"),
                  SERVICE_MASS_PER_MONTH, "month", account.label, findings)


def _over(pushes: list[Push], period, limit: int, unit: str, label: str, findings: FindingList) -> None:
    counts = Counter()
    for push in pushes:
        counts[period(push)] += 1
        if counts[period(push)] > limit:
            findings.error("calendar/mass-quota", f"expected at most {limit} 群发 a {unit} for {label}, found "
                           f"{counts[period(push)]} on {period(push)}; WeChat answers 45028 to the extra one",
                           push.line, field="mode")


def _duplicates(calendar, project, now, findings, errors, tags):
    first_seen: dict[str, Push] = {}
    for push in _sends(calendar):
        for key in push.articles:
            if key in first_seen:
                findings.error("calendar/duplicate-article", f"'{key}' is already in the push of "
                               f"{_local(first_seen[key], calendar)} (line {first_seen[key].line}); an article goes "
                               "out once", push.line, field="articles")
            else:
                first_seen[key] = push
    for push in calendar.pushes:
        if push.kind == "unpublish":
            earlier = first_seen.get(push.unpublish)
            if earlier is None or earlier.at > push.at:
                findings.error("calendar/unpublish-unknown", f"expected an earlier push sending '{push.unpublish}' "
                               "to withdraw, found none", push.line, field="unpublish")


def _weekly_minimum(calendar, project, now, findings, errors, tags):
    if not calendar.min_per_week:
        return
    slots = [p for p in calendar.pushes if p.kind in ("articles", "plan")]  # a planned slot fills its week
    if not slots:
        return
    weeks = Counter(p.at.astimezone(calendar.timezone).isocalendar()[:2] for p in slots)
    first, last = min(weeks), max(weeks)
    monday = datetime.fromisocalendar(first[0], first[1], 1)
    while monday.isocalendar()[:2] <= last:
        week = monday.isocalendar()[:2]
        if weeks[week] < calendar.min_per_week:
            findings.warning("calendar/weekly-minimum", f"expected at least {calendar.min_per_week} push(es) in the "
                             f"week of {monday:%Y-%m-%d}, found {weeks[week]}", None, field="rules.min_per_week")
        monday += timedelta(days=7)


def _topics(calendar, project, now, findings, errors, tags):
    for month, topic in calendar.topics.items():
        keys = [k for p in _sends(calendar) if p.at.astimezone(calendar.timezone).strftime("%Y-%m") == month
                for k in p.articles]
        if not any(topic in words for key in keys for words in tags.get(key, ())):
            findings.warning("calendar/topic", f"expected an article in {month} on the month's topic '{topic}' "
                             "(as a tag or in its title), found none", None, field=f"rules.topics.{month}")


def _sends(calendar: Calendar) -> list[Push]:
    return [p for p in calendar.pushes if p.kind == "articles"]


def _local(push: Push, calendar: Calendar) -> str:
    return push.at.astimezone(calendar.timezone).strftime("%Y-%m-%d %H:%M")


RULES = [_due_soon, _modes, _mass_quota, _duplicates, _weekly_minimum, _topics]
