"""What `publisher stats pull` and `stats report` do around the stages: which WeChat (or the embedded
sandbox), which ledger branch, where the database lives, and keeping the database and the ledger's
export in step."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from publisher.project import Account, Project
from publisher.stats.export import ExportError, export_digest, export_files, remember_export, sync_database
from publisher.stats.join import join_ledger
from publisher.stats.pull import Puller, PullResult, StatsError, latest_ready_day, requested_days
from publisher.stats.store import open_store


@dataclass
class Stats:
    """The database of one account, in step with `snapshot`, the ledger branch as it was when opened."""

    connection: sqlite3.Connection
    ledger: object
    snapshot: object
    sandbox: bool

    @property
    def where(self) -> str:
        return f"the ledger branch {self.ledger.branch}"


def database_path(project: Project, account: Account, sandbox: bool) -> Path:
    return project.cache_dir / "stats" / f"{account.name}{'-sandbox' if sandbox else ''}.sqlite"


def open_stats(project: Project, account: Account, *, sandbox: bool, ledger=None, snapshot=None) -> Stats:
    """The account's database, rebuilt from the ledger's export when it is missing or behind. The ledger
    (and a snapshot of it) may be given when the caller has read it already."""
    from publisher.ledger import LedgerError
    from publisher.publish import open_ledger

    ledger = ledger or open_ledger(project, sandbox=sandbox)
    path = database_path(project, account, sandbox)
    try:
        connection = open_store(path)
    except (ValueError, sqlite3.DatabaseError) as exc:
        raise StatsError(f"{path}: {exc}") from None
    try:
        snapshot = snapshot or ledger.snapshot()
        sync_database(connection, account.name, snapshot, ledger.branch)
    except (ExportError, LedgerError) as exc:
        connection.close()
        raise StatsError(str(exc)) from None
    return Stats(connection, ledger, snapshot, sandbox)


def pull_stats(project: Project, account: Account, *, since: date | None, until: date | None, now: datetime,
               progress=None, say=print) -> tuple[PullResult, str]:
    """Pull, join to the ledger's pushes, export to the ledger. Returns (result, where it came from)."""
    from publisher.wechat.connect import connect

    first, last, explicit = requested_days(since, until, now)
    wechat = connect(project, account, now)
    try:
        stats = open_stats(project, account, sandbox=wechat.sandbox is not None)
        say(f"pulling analytics for {account.label}, {first} to {last}, from {wechat.description}")
        puller = Puller(wechat.client, stats.connection, account.name, latest=latest_ready_day(now),
                        progress=progress)
        try:
            puller.run(first, last, explicit=explicit)
        finally:  # what was pulled before a failure is kept and exported, so the next run resumes after it
            _join_and_export(stats, account, puller.result)
        return puller.result, wechat.description
    finally:
        wechat.close()


def _join_and_export(stats: Stats, account: Account, result: PullResult) -> None:
    """Join the articles to the ledger's pushes, then commit the months that were pulled (and the article
    list) to the ledger branch."""
    from publisher.ledger import LedgerError
    from publisher.publish import push_records

    months = result.months | _unexported(stats, account)
    try:
        result.articles = join_ledger(stats.connection, account.name, push_records(stats.snapshot, account))
        if months:
            _remember_unexported(stats, account, months)  # until the commit below has landed
            files = export_files(stats.connection, account.name, months)
            span = f"{min(result.days)}..{max(result.days)}" if result.days else "months not recorded earlier"
            stats.ledger.update(f"stats {account.name}: {span} ({result.calls} calls)", lambda snapshot: files)
            with stats.connection:
                _remember_unexported(stats, account, set())
                remember_export(stats.connection, account.name, export_digest(stats.ledger.snapshot(), account.name))
    except LedgerError as exc:
        raise StatsError(f"the numbers were pulled but could not be recorded on {stats.where}: {exc}; the next "
                         "pull records them") from None
    finally:
        stats.connection.close()


def _unexported(stats: Stats, account: Account) -> set[str]:
    row = stats.connection.execute("SELECT value FROM meta WHERE account = ? AND key = 'unexported'",
                                   (account.name,)).fetchone()
    return set(filter(None, row[0].split(","))) if row else set()


def _remember_unexported(stats: Stats, account: Account, months: set[str]) -> None:
    with stats.connection:
        stats.connection.execute("INSERT OR REPLACE INTO meta (account, key, value) VALUES (?, 'unexported', ?)",
                                 (account.name, ",".join(sorted(months))))


def open_report_stats(project: Project, account: Account) -> Stats:
    """The real numbers, or the sandbox's when there are none: no credentials and no export on the branch."""
    from publisher.ledger import LedgerError
    from publisher.publish import open_ledger
    from publisher.stats.export import folder
    from publisher.wechat.connect import credentials_configured

    ledger = open_ledger(project)
    try:
        snapshot = ledger.snapshot()
    except LedgerError as exc:
        raise StatsError(str(exc)) from None
    if credentials_configured(account) or snapshot.list(folder(account.name)):
        return open_stats(project, account, sandbox=False, ledger=ledger, snapshot=snapshot)
    return open_stats(project, account, sandbox=True)


def write_report(project: Project, account: Account, period: str, day: date, out: Path):
    """(publisher.stats.report.Report, where the numbers came from)."""
    from publisher.publish import push_records
    from publisher.stats.report import build_report

    stats = open_report_stats(project, account)
    try:
        join_ledger(stats.connection, account.name, push_records(stats.snapshot, account))
        report = build_report(stats.connection, account.name, period, day, out,
                              planned=planned_pushes(project), account_label=account.name)
    finally:
        stats.connection.close()
    source = "the embedded sandbox's" if stats.sandbox else "WeChat's"
    return report, f"{source}, from {stats.where}"


def planned_pushes(project: Project) -> list:
    """The calendar's pushes of articles, with their titles, for the summary's "next week"."""
    from publisher.calendar import CalendarError, load_calendar
    from publisher.publish import article_titles
    from publisher.stats.report import PlannedPush

    try:
        calendar = load_calendar(project)
    except (CalendarError, OSError):
        return []
    titles = article_titles(project, calendar)
    return [PlannedPush(push.at, push.mode, [titles.get(key, key) for key in push.articles])
            for push in calendar.pushes if push.articles]
