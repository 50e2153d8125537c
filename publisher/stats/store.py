"""The local analytics database: SQLite, rebuilt from the ledger's export whenever it is missing.

One row per (account, thing, day); a re-pulled day replaces its rows, so pulling twice never double-counts.
Metrics a source did not give are NULL (the legacy endpoints have no 在看, the current ones no read counts).
Read sources are stored under the stable keys of SOURCES, whatever code the endpoint used.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta, timezone
from pathlib import Path

SCHEMA_VERSION = 1
BEIJING = timezone(timedelta(hours=8))  # WeChat's days (ref_date) are Beijing days

# Where readers came from, as the reports name them.
SOURCES = {
    "message": "公众号消息",
    "friends": "聊天会话",
    "moments": "朋友圈",
    "profile": "公众号主页",
    "recommend": "推荐",
    "search": "搜一搜",
    "other": "其他",
}

ARTICLE_METRICS = ("read_user", "share_user", "zaikan_user", "like_user", "comment_count", "collection_user")
ACCOUNT_METRICS = (*ARTICLE_METRICS, "new_user", "cancel_user", "cumulate_user")

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (      -- one row per published article (msgid = "<msg_data_id>_<idx>")
    account       TEXT NOT NULL,
    msgid         TEXT NOT NULL,
    msg_data_id   TEXT NOT NULL,
    idx           INTEGER NOT NULL,         -- 1-based position in its push
    title         TEXT,
    publish_date  TEXT,                     -- YYYY-MM-DD, Beijing time (WeChat's ref_date)
    published_at  TEXT,                     -- ISO 8601 with offset, from the ledger; NULL when unknown
    publish_type  TEXT,                     -- 'mass' (群发, notified) | 'publish' (发布) | NULL
    push_id       TEXT,                     -- the calendar push, from the ledger; NULL for outside articles
    article_key   TEXT,                     -- e.g. 2026/year-review; NULL for outside articles
    url           TEXT,
    PRIMARY KEY (account, msgid)
);
CREATE TABLE IF NOT EXISTS article_daily ( -- what one article got on one day (not cumulative)
    account TEXT NOT NULL, msgid TEXT NOT NULL, ref_date TEXT NOT NULL,
    read_user INTEGER, share_user INTEGER, zaikan_user INTEGER, like_user INTEGER,
    comment_count INTEGER, collection_user INTEGER,
    PRIMARY KEY (account, msgid, ref_date)
);
CREATE TABLE IF NOT EXISTS article_sources (
    account TEXT NOT NULL, msgid TEXT NOT NULL, ref_date TEXT NOT NULL, source TEXT NOT NULL,
    read_user INTEGER NOT NULL,
    PRIMARY KEY (account, msgid, ref_date, source)
);
CREATE TABLE IF NOT EXISTS account_daily ( -- the whole account on one day
    account TEXT NOT NULL, ref_date TEXT NOT NULL,
    read_user INTEGER, share_user INTEGER, zaikan_user INTEGER, like_user INTEGER,
    comment_count INTEGER, collection_user INTEGER,
    new_user INTEGER, cancel_user INTEGER, cumulate_user INTEGER,
    PRIMARY KEY (account, ref_date)
);
CREATE TABLE IF NOT EXISTS account_sources (
    account TEXT NOT NULL, ref_date TEXT NOT NULL, source TEXT NOT NULL, read_user INTEGER NOT NULL,
    PRIMARY KEY (account, ref_date, source)
);
CREATE TABLE IF NOT EXISTS pulled_days (   -- which endpoint answered for which day, and whether late data may follow
    account TEXT NOT NULL, endpoint TEXT NOT NULL, ref_date TEXT NOT NULL,
    is_delay INTEGER NOT NULL, pulled_at TEXT NOT NULL,
    PRIMARY KEY (account, endpoint, ref_date)
);
CREATE TABLE IF NOT EXISTS meta (          -- e.g. which ledger export the rows were loaded from
    account TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (account, key)
);
CREATE INDEX IF NOT EXISTS article_daily_by_date ON article_daily (account, ref_date);
CREATE INDEX IF NOT EXISTS article_sources_by_date ON article_sources (account, ref_date);
"""


def open_store(path: Path | str) -> sqlite3.Connection:
    """The database at `path` (":memory:" for a throwaway one), created with the schema when new."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path))
    connection.row_factory = sqlite3.Row
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION):
        connection.close()
        raise ValueError(f"{path}: analytics database of schema {version}, this publisher reads {SCHEMA_VERSION}; "
                         f"delete the file, `publisher stats pull` rebuilds it from the ledger's export")
    connection.executescript(SCHEMA)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return connection


def upsert(connection: sqlite3.Connection, table: str, keys: tuple[str, ...], values: dict,
           keep: tuple[str, ...] = ()) -> None:
    """Insert the row, or update its other columns where a row with the same `keys` exists; the columns in
    `keep` are only filled in where they are still NULL."""
    updates = ", ".join(f"{name} = COALESCE({name}, excluded.{name})" if name in keep else f"{name} = excluded.{name}"
                        for name in values if name not in keys) or f"{keys[0]} = {keys[0]}"
    connection.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))}) "
                       f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}", tuple(values.values()))
