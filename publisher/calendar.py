"""Plan stage: calendar.yaml → validated Pushes, every problem located.

Times are local times in the calendar's `timezone` ("2026-12-01 08:00") or ISO 8601 with an
offset ("2026-12-01T08:00:00+08:00"); a time without a zone is never read in the machine's zone,
because CI runners run in UTC while the team lives in UTC+8.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from publisher import yamlstrict
from publisher.findings import Finding, FindingList
from publisher.project import Project

MODES = ("draft", "publish", "mass")
MAX_ARTICLES = 8
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2})?$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PUSH_KEYS = {"at", "mode", "articles", "plan", "owner", "unpublish", "reason", "id", "account", "note"}
TOP_KEYS = {"timezone", "pushes", "rules"}
RULE_KEYS = {"min_per_week", "topics"}


class CalendarError(Exception):
    def __init__(self, findings: list[Finding]):
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


@dataclass
class Push:
    id: str
    at: datetime  # aware
    line: int  # first line of the entry in calendar.yaml
    kind: str  # "articles" | "plan" | "unpublish"
    end_line: int = 0  # last line of the entry (approval checks blame exactly these lines)
    mode: str = ""  # draft | publish | mass; "" until the account's default is applied
    articles: list[str] = field(default_factory=list)
    plan: str = ""
    owner: str = ""
    unpublish: str = ""
    reason: str = ""
    account: str | None = None


@dataclass
class Calendar:
    timezone: ZoneInfo
    pushes: list[Push]
    min_per_week: int | None = None
    topics: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def load_calendar(project: Project, text: str | None = None) -> Calendar:
    rel = project.relative(project.calendar_path)
    findings = FindingList(rel)
    if text is None:
        try:
            text = project.calendar_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings.error("calendar/unreadable", f"expected a readable UTF-8 calendar file, found: {exc}")
            raise CalendarError(findings.items) from None
    calendar = parse_calendar(text, rel, findings)
    names = {account.name for account in project.accounts}
    for push in calendar.pushes:
        if push.account and push.account not in names:
            findings.error("calendar/account", f"expected one of the accounts {', '.join(sorted(names))}, found "
                           f"'{push.account}'", push.line, field="account")
        if push.kind == "articles" and not push.mode:
            push.mode = project.account(push.account if push.account in names else None).default_mode
    if findings.has_errors:
        raise CalendarError(findings.items)
    return calendar


def parse_calendar(text: str, rel: str, findings: FindingList | None = None) -> Calendar:
    findings = findings or FindingList(rel)
    try:
        doc = yamlstrict.load(text)
    except yamlstrict.YamlError as exc:
        findings.error("calendar/yaml", exc.message, exc.line, column=exc.column, field=exc.field)
        raise CalendarError(findings.items) from None
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        findings.error("calendar/shape", "expected 'timezone:', 'pushes:' and 'rules:' at the top, found "
                       f"{type(data).__name__}", 1)
        raise CalendarError(findings.items)
    _unknown_keys(data, TOP_KEYS, (), doc, findings)
    zone = _timezone(data, doc, findings)
    pushes = _pushes(data.get("pushes"), zone, doc, findings) if zone else []
    calendar = Calendar(zone, pushes, findings=findings.items)
    _rules(data.get("rules"), calendar, doc, findings)
    _unique_ids(calendar, findings)
    if findings.has_errors:
        raise CalendarError(findings.items)
    return calendar


def _unique_ids(calendar: Calendar, findings: FindingList) -> None:
    seen: dict[str, Push] = {}
    for push in calendar.pushes:
        if push.id in seen:
            findings.error("calendar/duplicate-id", f"two pushes are both '{push.id}' (the other is on line "
                           f"{seen[push.id].line}): an article goes out once; give one of them its own 'id:'",
                           push.line, field="id")
        seen.setdefault(push.id, push)


def _unknown_keys(mapping: dict, known: set, path: tuple, doc, findings: FindingList) -> None:
    for key in mapping:
        if key not in known:
            hint = difflib.get_close_matches(str(key), sorted(known), n=1)
            suggestion = f"did you mean '{hint[0]}'?" if hint else f"expected one of {', '.join(sorted(known))}"
            findings.error("calendar/unknown-key", f"unknown key '{key}'; {suggestion}", doc.line(*path, key),
                           field=".".join(str(p) for p in (*path, key)))


def _timezone(data: dict, doc, findings: FindingList) -> ZoneInfo | None:
    name = data.get("timezone")
    if name is None:
        findings.error("calendar/timezone", "expected 'timezone: Asia/Shanghai' (or another IANA zone) at the top, "
                       "found none; times without a zone are ambiguous on a UTC runner", 1, field="timezone")
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        findings.error("calendar/timezone", f"expected an IANA time zone such as Asia/Shanghai, found '{name}'",
                       doc.line("timezone"), field="timezone")
        return None


def _pushes(entries, zone: ZoneInfo, doc, findings: FindingList) -> list[Push]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        findings.error("calendar/pushes", "expected a list of pushes ('- at: …'), found "
                       f"{type(entries).__name__}", doc.line("pushes"), field="pushes")
        return []
    end_lines: dict[int, int] = {}  # one pass: the last line of each entry
    for key, number in doc.lines.items():
        if len(key) >= 2 and key[0] == "pushes":
            end_lines[key[1]] = max(end_lines.get(key[1], 0), number)
    pushes = []
    for index, entry in enumerate(entries):
        push = _push(index, entry, zone, doc, findings, end_lines.get(index, 0))
        if push:
            pushes.append(push)
    return sorted(pushes, key=lambda p: p.at)


def _push(index: int, entry, zone: ZoneInfo, doc, findings: FindingList, end_line: int) -> Push | None:
    path = ("pushes", index)
    line = doc.line(*path)
    if not isinstance(entry, dict):
        findings.error("calendar/push", f"expected a push with 'at:' and 'articles:', 'plan:' or 'unpublish:', found "
                       f"{entry!r}", line, field=f"pushes[{index}]")
        return None
    _unknown_keys(entry, PUSH_KEYS, path, doc, findings)
    at = parse_time(entry.get("at"), zone, doc.line(*path, "at"), index, findings)
    kinds = [k for k in ("articles", "plan", "unpublish") if k in entry]
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none"
        findings.error("calendar/push-kind", f"expected exactly one of articles, plan or unpublish, found {found}",
                       line, field=f"pushes[{index}]")
        return None
    push = Push(id="", at=at or datetime.now(zone), line=line, end_line=end_line, kind=kinds[0])
    _fill(push, entry, path, doc, findings, index)
    if at is None:
        return None
    push.id = str(entry.get("id") or _default_id(push, zone))
    return push


def _fill(push: Push, entry: dict, path: tuple, doc, findings: FindingList, index: int) -> None:
    for key in ("plan", "owner", "unpublish", "reason", "account"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            findings.error("calendar/type", f"expected text for '{key}', found {value!r}", doc.line(*path, key),
                           field=f"pushes[{index}].{key}")
        elif value is not None:
            setattr(push, key, value)
    if push.kind != "articles":
        return
    mode = entry.get("mode")
    if mode is not None and mode not in MODES:
        findings.error("calendar/mode", f"expected mode draft, publish (发布) or mass (群发), found {mode!r}",
                       doc.line(*path, "mode"), field=f"pushes[{index}].mode")
    push.mode = mode if mode in MODES else ""  # "": the account's default_mode, filled in by load_calendar
    articles = entry.get("articles")
    if isinstance(articles, str):
        articles = [articles]
    if not isinstance(articles, list) or not articles or not all(isinstance(a, str) for a in articles):
        findings.error("calendar/articles", f"expected a list of article folders like [2026/year-review], found "
                       f"{articles!r}", doc.line(*path, "articles"), field=f"pushes[{index}].articles")
        return
    if len(articles) > MAX_ARTICLES:
        findings.error("calendar/articles", f"expected at most {MAX_ARTICLES} articles in one push (WeChat's limit), "
                       f"found {len(articles)}", doc.line(*path, "articles"), field=f"pushes[{index}].articles")
    push.articles = [a.strip().strip("/") for a in articles]


def parse_time(value, zone: ZoneInfo, line: int | None, index: int, findings: FindingList) -> datetime | None:
    field_name = f"pushes[{index}].at"
    if not isinstance(value, str):
        findings.error("calendar/time", f"expected a quoted time like \"2026-12-01 08:00\", found {value!r}",
                       line, field=field_name)
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        findings.error("calendar/time", f"expected \"YYYY-MM-DD HH:MM\" (local time in {zone.key}) or ISO 8601 "
                       f"with an offset, found '{text}'", line, field=field_name)
        return None
    if moment.tzinfo is None:
        if not _LOCAL_TIME.match(text):
            findings.error("calendar/time", f"expected a date and a time, found '{text}'", line, field=field_name)
            return None
        moment = moment.replace(tzinfo=zone)
    return moment


def _default_id(push: Push, zone: ZoneInfo) -> str:
    """Named by what goes out, not by when: a planner who moves a push that already went out must not
    make it new (and due) again. An article goes out once, so its headline names the push."""
    if push.kind == "articles":
        return push.articles[0].replace("/", "_")
    if push.kind == "unpublish":
        return "unpublish-" + push.unpublish.replace("/", "_")
    return f"plan-{push.at.astimezone(zone):%Y-%m-%dT%H%M}"


def _rules(rules, calendar: Calendar, doc, findings: FindingList) -> None:
    if rules is None:
        return
    if not isinstance(rules, dict):
        findings.error("calendar/rules", "expected 'min_per_week:' and 'topics:' under rules, found "
                       f"{rules!r}", doc.line("rules"), field="rules")
        return
    _unknown_keys(rules, RULE_KEYS, ("rules",), doc, findings)
    minimum = rules.get("min_per_week")
    if minimum is not None and (not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0):
        findings.error("calendar/rules", f"expected a whole number of pushes for min_per_week, found {minimum!r}",
                       doc.line("rules", "min_per_week"), field="rules.min_per_week")
    else:
        calendar.min_per_week = minimum
    topics = rules.get("topics") or {}
    if not isinstance(topics, dict):
        findings.error("calendar/rules", f"expected topics as {{\"2026-12\": 年终回顾}}, found {topics!r}",
                       doc.line("rules", "topics"), field="rules.topics")
        return
    for month, topic in topics.items():
        if not _MONTH.match(str(month)):
            findings.error("calendar/rules", f"expected a month like \"2026-12\", found '{month}'",
                           doc.line("rules", "topics", month), field=f"rules.topics.{month}")
        calendar.topics[str(month)] = str(topic)


# ---- status -------------------------------------------------------------------------------------

DONE = {"published", "sent", "drafted", "withdrawn"}


def push_status(push: Push, record: dict | None, now: datetime, grace_hours: float) -> str:
    """planned | scheduled | due | missed | in progress | published | drafted | failed, from calendar and ledger."""
    if push.kind == "plan":
        return "planned"
    state = (record or {}).get("status")
    if state == "drafted":
        return "drafted"  # a draft push is done once the draft is in the draft box
    if state in DONE:
        return "published"
    if push.at > now:  # never before its time, whatever an earlier attempt left behind
        return "scheduled"
    if state == "failed" or (record or {}).get("error"):
        return "failed"
    if state:
        return "in progress"
    late_hours = (now - push.at).total_seconds() / 3600
    return "missed" if late_hours > grace_hours else "due"


def to_ics(calendar: Calendar, statuses: dict[str, str], titles: dict[str, str], name: str) -> bytes:
    """An iCalendar file of the pushes, which the team can subscribe to."""
    from icalendar import Calendar as ICalendar
    from icalendar import Event

    ical = ICalendar()
    ical.add("calscale", "GREGORIAN")
    ical.add("prodid", "-//publisher//content calendar//ZH")
    ical.add("version", "2.0")
    ical.add("x-wr-calname", name)
    ical.add("x-wr-timezone", calendar.timezone.key)
    for push in calendar.pushes:
        event = Event()
        event.add("uid", f"{push.id}@publisher")
        event.add("dtstart", push.at)
        event.add("dtend", push.at + timedelta(minutes=30))
        event.add("dtstamp", push.at)
        event.add("summary", summary(push, titles))
        status = statuses.get(push.id, "")
        details = [f"状态 status: {status}"] if status else []
        details += [f"{i + 1}. {titles.get(key, key)} ({key})" for i, key in enumerate(push.articles)]
        if push.owner:
            details.append(f"负责人 owner: {push.owner}")
        if push.reason:
            details.append(f"原因 reason: {push.reason}")
        event.add("description", "\n".join(details))
        ical.add_component(event)
    ical.add_missing_timezones()  # VTIMEZONE blocks, which some calendar apps require
    return ical.to_ical()


MODE_LABELS = {"draft": "草稿", "publish": "发布", "mass": "群发"}


def summary(push: Push, titles: dict[str, str]) -> str:
    if push.kind == "plan":
        return f"[计划] {push.plan}"
    if push.kind == "unpublish":
        return f"[撤回] {titles.get(push.unpublish, push.unpublish)}"
    headline = titles.get(push.articles[0], push.articles[0])
    more = f" 等 {len(push.articles)} 篇" if len(push.articles) > 1 else ""
    return f"[{MODE_LABELS.get(push.mode, push.mode)}] {headline}{more}"
