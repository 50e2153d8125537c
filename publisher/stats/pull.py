"""`publisher stats pull`: WeChat's datacube numbers → the SQLite store → the ledger's export.

Which days: with --since/--until exactly those (re-pulled days replace what was stored); otherwise
every day of the last WINDOW_DAYS that is missing or was still delayed (`is_delay`) last time, so a
run that was skipped, killed or early is caught up by the next one. The newest day is yesterday,
Beijing time, and only after 08:00 (WeChat's numbers for a day appear then).

Which endpoints: the current ones (getbizsummary, getarticleread, getarticleshare,
getarticletotaldetail) and the follower reports (getusersummary, getusercumulate); when the current
ones answer 48001 but the legacy ones work, the legacy ones (getuserread, getarticlesummary,
getarticletotal). Each is called with windows no longer than its maximum span.

Every (endpoint, window) is stored in its own transaction: the endpoint's columns for those days
are cleared, its rows upserted, and the window marked pulled. Articles are joined to the ledger's
pushes through `msg_data_id` (msgid = "<msg_data_id>_<idx>", idx 1-based), or through title and
date for a push whose msg_data_id was never seen (a 群发 recovered after a lost answer).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from publisher.stats.store import BEIJING, upsert

READY_AT = time(8, 0)  # a day's numbers appear the next morning, Beijing time
FIRST_DAY = date(2014, 12, 1)  # datacube has nothing earlier
WINDOW_DAYS = 30  # what a pull without --since looks at: WeChat's own retention is limited

# where readers came from → SOURCES keys: the current endpoints name the scene, getuserread gives a code
SCENES = {"公众号消息": "message", "聊天会话": "friends", "朋友圈": "moments", "公众号主页": "profile",
          "推荐": "recommend", "搜一搜": "search", "其他": "other"}
ALL_SCENES = "全部"
SOURCE_CODES = {0: "message", 1: "friends", 2: "moments", 4: "profile", 5: "other", 6: "recommend", 7: "search"}
ALL_SOURCES = 99999999


class StatsError(Exception):
    """Something the person running the pull must fix or know (no datacube rights, a damaged export)."""


class StatsUsageError(StatsError):
    """Days that cannot be asked for (in the future, before 2014-12-01, --since after --until)."""


# ---- days ------------------------------------------------------------------------------------------

def latest_ready_day(now: datetime) -> date:
    """The newest day WeChat has numbers for at `now`."""
    local = now.astimezone(BEIJING)
    return local.date() - timedelta(days=1 if local.time() >= READY_AT else 2)


def requested_days(since: date | None, until: date | None, now: datetime) -> tuple[date, date, bool]:
    """(first, last, explicit): the range asked for, checked against what WeChat can have."""
    latest = latest_ready_day(now)
    if until is not None and until > latest:
        raise StatsUsageError(f"--until {until}: expected a day WeChat has numbers for, at most {latest} (yesterday, "
                         f"Beijing time, available after 08:00), found a day in the future")
    last = until or latest
    first = since or max(FIRST_DAY, last - timedelta(days=WINDOW_DAYS - 1))
    if since is not None and since > last:
        raise StatsUsageError(f"--since {since}: expected a day on or before {last}, found a later one")
    if first < FIRST_DAY:
        raise StatsUsageError(f"--since {first}: expected {FIRST_DAY} or later (WeChat's analytics start then)")
    return first, last, since is not None or until is not None


def windows(first: date, last: date, span: int) -> list[tuple[date, date]]:
    out, start = [], first
    while start <= last:
        end = min(last, start + timedelta(days=span - 1))
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


def day_range(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


# ---- endpoints -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    name: str
    span: int  # days one call may cover
    store: Callable[[Writer, dict], None]
    reports_delay: bool = True  # the current endpoints say `is_delay`; the legacy ones say nothing
    changes_for: int = 0  # days after which a day's answer stops changing (running totals), 0: final at once


@dataclass
class Writer:
    """Writes one endpoint's answer for one window into the store."""

    connection: sqlite3.Connection
    account: str
    days: list[str]

    def _on_days(self, statement: str, extra: str = "") -> None:
        marks = ",".join("?" * len(self.days))
        self.connection.execute(f"{statement} WHERE account = ? AND ref_date IN ({marks}){extra}",
                                (self.account, *self.days))

    def clear(self, table: str, columns: tuple[str, ...]) -> None:
        self._on_days(f"UPDATE {table} SET {', '.join(f'{column} = NULL' for column in columns)}")

    def delete(self, table: str) -> None:
        self._on_days(f"DELETE FROM {table}")

    def zero_fill(self, column: str) -> None:
        """An article missing from a day's list had none of it that day: 0, not unknown."""
        self._on_days(f"UPDATE article_daily SET {column} = 0", f" AND {column} IS NULL")

    def upsert(self, table: str, keys: tuple[str, ...], values: dict) -> None:
        upsert(self.connection, table, ("account", *keys), {"account": self.account, **values})

    def article(self, msgid: str, **metadata) -> None:
        """Make sure the article has a row; fill in what this endpoint knows about it."""
        data_id, _, idx = msgid.rpartition("_")
        known = {key: value for key, value in metadata.items() if value not in (None, "")}
        self.upsert("articles", ("msgid",), {"msgid": msgid, "msg_data_id": data_id or msgid,
                                             "idx": int(idx) if idx.isdigit() else 1, **known})


def _sources(entries) -> dict[str, int]:
    """`read_user_source` → {source key: readers}; a scene this publisher does not know counts as 其他."""
    out: dict[str, int] = {}
    for entry in entries or []:
        scene = str(entry.get("scene_desc", ""))
        if scene == ALL_SCENES:
            continue
        key = SCENES.get(scene, "other")
        out[key] = out.get(key, 0) + (_int(entry.get("user_count")) or 0)
    return out


def _int(value) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _metrics(detail: dict, names: dict[str, str]) -> dict:
    return {column: _int(detail.get(field_name)) for column, field_name in names.items()}


ACCOUNT_TOTALS = {"read_user": "read_user", "share_user": "share_user", "zaikan_user": "zaikan_user",
                  "like_user": "like_user", "comment_count": "comment_count", "collection_user": "collection_user"}


def store_bizsummary(w: Writer, answer: dict) -> None:
    w.clear("account_daily", tuple(ACCOUNT_TOTALS))
    w.delete("account_sources")
    for item in answer.get("list") or []:
        day, detail = str(item.get("ref_date")), item.get("detail") or {}
        w.upsert("account_daily", ("ref_date",), {"ref_date": day, **_metrics(detail, ACCOUNT_TOTALS)})
        for source, readers in _sources(detail.get("read_user_source")).items():
            w.upsert("account_sources", ("ref_date", "source"), {"ref_date": day, "source": source,
                                                                  "read_user": readers})


def store_articleread(w: Writer, answer: dict) -> None:
    w.clear("article_daily", ("read_user",))
    w.delete("article_sources")
    for item in answer.get("list") or []:
        day, msgid, detail = str(item.get("ref_date")), str(item.get("msgid")), item.get("detail") or {}
        w.article(msgid, title=item.get("title"))
        w.upsert("article_daily", ("msgid", "ref_date"),
                 {"msgid": msgid, "ref_date": day, "read_user": _int(detail.get("read_user"))})
        for source, readers in _sources(detail.get("read_user_source")).items():
            w.upsert("article_sources", ("msgid", "ref_date", "source"),
                     {"msgid": msgid, "ref_date": day, "source": source, "read_user": readers})
    w.zero_fill("read_user")


def store_articleshare(w: Writer, answer: dict) -> None:
    w.clear("article_daily", ("share_user",))
    for item in answer.get("list") or []:
        day, msgid, detail = str(item.get("ref_date")), str(item.get("msgid")), item.get("detail") or {}
        w.article(msgid, title=item.get("title"))
        w.upsert("article_daily", ("msgid", "ref_date"),
                 {"msgid": msgid, "ref_date": day, "share_user": _int(detail.get("share_user"))})
    w.zero_fill("share_user")


PUBLISH_TYPES = {0: "mass", 1: "publish"}  # 0 已通知 (群发), 1 未开启通知 (发布)


# what only getarticletotaldetail has per article, as running totals since publication
RUNNING_TOTALS = ("zaikan_user", "like_user", "comment_count", "collection_user")


def store_articletotaldetail(w: Writer, answer: dict) -> None:
    """Articles published on the window's days: their metadata, and their 在看, likes, comments and
    favourites per day (the differences of WeChat's running totals)."""
    for item in answer.get("list") or []:
        msgid = str(item.get("msgid"))
        w.article(msgid, title=item.get("title"), publish_date=item.get("ref_date"),
                  publish_type=PUBLISH_TYPES.get(_int(item.get("publish_type"))), url=item.get("content_url"))
        w.connection.execute(f"UPDATE article_daily SET {', '.join(f'{c} = NULL' for c in RUNNING_TOTALS)} "
                             "WHERE account = ? AND msgid = ?", (w.account, msgid))
        previous = dict.fromkeys(RUNNING_TOTALS, 0)
        for entry in sorted(item.get("detail_list") or [], key=lambda e: str(e.get("stat_date"))):
            totals = {column: _int(entry.get(column)) or 0 for column in RUNNING_TOTALS}
            daily = {column: max(0, totals[column] - previous[column]) for column in RUNNING_TOTALS}
            w.upsert("article_daily", ("msgid", "ref_date"), {"msgid": msgid, "ref_date": str(entry.get("stat_date")),
                                                              **daily})
            previous = totals


def store_usersummary(w: Writer, answer: dict) -> None:
    w.clear("account_daily", ("new_user", "cancel_user"))
    totals: dict[str, list[int]] = {}
    for item in answer.get("list") or []:
        day = totals.setdefault(str(item.get("ref_date")), [0, 0])
        day[0] += _int(item.get("new_user")) or 0
        day[1] += _int(item.get("cancel_user")) or 0
    for day, (new, cancel) in totals.items():
        w.upsert("account_daily", ("ref_date",), {"ref_date": day, "new_user": new, "cancel_user": cancel})


def store_usercumulate(w: Writer, answer: dict) -> None:
    w.clear("account_daily", ("cumulate_user",))
    for item in answer.get("list") or []:
        w.upsert("account_daily", ("ref_date",), {"ref_date": str(item.get("ref_date")),
                                                  "cumulate_user": _int(item.get("cumulate_user"))})


LEGACY_TOTALS = {"read_user": "int_page_read_user", "share_user": "share_user", "collection_user": "add_to_fav_user"}


def store_userread(w: Writer, answer: dict) -> None:
    w.clear("account_daily", tuple(LEGACY_TOTALS))
    w.delete("account_sources")
    for item in answer.get("list") or []:
        day, code = str(item.get("ref_date")), _int(item.get("user_source"))
        if code == ALL_SOURCES:
            w.upsert("account_daily", ("ref_date",), {"ref_date": day, **_metrics(item, LEGACY_TOTALS)})
        elif code in SOURCE_CODES:
            w.upsert("account_sources", ("ref_date", "source"),
                     {"ref_date": day, "source": SOURCE_CODES[code], "read_user": _int(item.get("int_page_read_user")) or 0})


def store_articlesummary(w: Writer, answer: dict) -> None:
    w.clear("article_daily", tuple(LEGACY_TOTALS))
    for item in answer.get("list") or []:
        day, msgid = str(item.get("ref_date")), str(item.get("msgid"))
        w.article(msgid, title=item.get("title"))
        w.upsert("article_daily", ("msgid", "ref_date"),
                 {"msgid": msgid, "ref_date": day, **_metrics(item, LEGACY_TOTALS)})
    for column in LEGACY_TOTALS:
        w.zero_fill(column)


def store_articletotal(w: Writer, answer: dict) -> None:
    for item in answer.get("list") or []:
        w.article(str(item.get("msgid")), title=item.get("title"), url=item.get("url"),
                  publish_date=item.get("ref_date"))


FOLLOWERS = [Endpoint("getusersummary", 7, store_usersummary, reports_delay=False),
             Endpoint("getusercumulate", 7, store_usercumulate, reports_delay=False)]
# getarticletotaldetail first: its rows exist when the daily lists fill in the 0s of articles they leave out
CURRENT = [Endpoint("getarticletotaldetail", 1, store_articletotaldetail, changes_for=30),
           Endpoint("getbizsummary", 1, store_bizsummary), Endpoint("getarticleread", 1, store_articleread),
           Endpoint("getarticleshare", 1, store_articleshare)]
LEGACY = [Endpoint("getuserread", 3, store_userread, reports_delay=False),
          Endpoint("getarticlesummary", 1, store_articlesummary, reports_delay=False),
          Endpoint("getarticletotal", 1, store_articletotal, reports_delay=False, changes_for=7)]


# ---- the run ---------------------------------------------------------------------------------------

@dataclass
class PullResult:
    first: date
    last: date
    calls: int = 0
    legacy: bool = False  # the current endpoints were refused and the legacy ones used
    delayed: set[str] = field(default_factory=set)  # days WeChat said are not final yet
    days: set[str] = field(default_factory=set)  # days something was stored for
    articles: int = 0  # articles matched to the ledger's pushes

    @property
    def months(self) -> set[str]:
        return {day[:7] for day in self.days}


class Puller:
    """Pulls the days asked for from `client` (publisher.wechat.client.WeChatClient) into `connection`."""

    def __init__(self, client, connection: sqlite3.Connection, account: str, *, latest: date,
                 progress: Callable[[int], Callable[[], None]] | None = None):
        self.client, self.connection, self.account = client, connection, account
        self.latest = latest
        self.progress = progress  # given the number of calls, returns a tick
        self.result = PullResult(latest, latest)

    def run(self, first: date, last: date, *, explicit: bool) -> PullResult:
        """Pull; `self.result` says what was stored even when this raises halfway."""
        from publisher.wechat.errors import Unauthorized

        result = self.result = PullResult(first, last)
        plan = self.plan(CURRENT + FOLLOWERS, first, last, explicit)
        tick = self.progress(len(plan)) if self.progress else (lambda: None)
        while plan:
            endpoint, window = plan.pop(0)
            try:
                self.pull_window(endpoint, window, result)
            except Unauthorized as exc:
                if endpoint not in CURRENT:
                    raise self.no_rights(exc) from None
                # only the legacy reports are open to this account: they replace the current ones
                result.legacy = True
                plan = self.plan(LEGACY, first, last, explicit) + [item for item in plan if item[0] in FOLLOWERS]
                continue
            tick()
        return result

    def no_rights(self, exc) -> StatsError:
        return StatsError(f"WeChat refused the analytics API ({exc.endpoint}: errcode {exc.errcode}, api unauthorized): "
                          f"{exc.hint}")

    def plan(self, endpoints: list[Endpoint], first: date, last: date, explicit: bool) -> list[tuple]:
        """(endpoint, (start, end)) for every call to make: all windows when explicit, else those with a
        day not yet pulled or still delayed."""
        plan = []
        for endpoint in endpoints:
            done = set() if explicit else self.final_days(endpoint.name)
            if endpoint.changes_for:  # its recent days' totals still grow: ask again
                done = {day for day in done if day <= (self.latest - timedelta(days=endpoint.changes_for)).isoformat()}
            for start, end in windows(first, last, endpoint.span):
                if any(day.isoformat() not in done for day in day_range(start, end)):
                    plan.append((endpoint, (start, end)))
        return plan

    def final_days(self, endpoint: str) -> set[str]:
        rows = self.connection.execute("SELECT ref_date FROM pulled_days WHERE account = ? AND endpoint = ? "
                                       "AND is_delay = 0", (self.account, endpoint))
        return {row[0] for row in rows}

    def pull_window(self, endpoint: Endpoint, window: tuple[date, date], result: PullResult) -> None:
        answer = self.client.datacube(endpoint.name, *window)
        result.calls += 1
        days = [day.isoformat() for day in day_range(*window)]
        delayed = self._delayed(endpoint, answer, window)
        with self.connection:
            writer = Writer(self.connection, self.account, days)
            endpoint.store(writer, answer)
            now = datetime.now(BEIJING).isoformat(timespec="seconds")
            for day in days:
                writer.upsert("pulled_days", ("endpoint", "ref_date"), {
                    "endpoint": endpoint.name, "ref_date": day, "is_delay": int(day in delayed), "pulled_at": now})
        result.days.update(days)
        if not endpoint.changes_for:  # running totals are asked for again anyway, delayed or not
            result.delayed.update(delayed)

    def _delayed(self, endpoint: Endpoint, answer: dict, window: tuple[date, date]) -> set[str]:
        if endpoint.reports_delay:
            return {day.isoformat() for day in day_range(*window)} if answer.get("is_delay") else set()
        # the legacy endpoints cannot say: an empty answer for the newest day is taken as not there yet
        if not answer.get("list") and window[1] >= self.latest:
            return {self.latest.isoformat()}
        return set()
