"""The analytics database's git-friendly copy: JSON lines on the ledger branch, one file a month.

    stats/<account>/articles.jsonl     the articles the numbers belong to
    stats/<account>/2026-12.jsonl      every daily row of December 2026, one JSON object a line, its read
                                       sources folded in: {"table": "article_daily", …, "sources": {…}}

Lines are sorted and carry no timestamps of their own, so a re-pull that changes nothing changes no
file, and a day WeChat revised shows in `git log -p` as exactly the lines that moved. WeChat keeps its
numbers for a limited time; this copy keeps them for good, and any fresh checkout rebuilds the
SQLite database from it (`sync_database`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable

# table → the columns that identify a row, besides the account (the folder says which)
TABLES = {
    "articles": ("msgid",),
    "account_daily": ("ref_date",),
    "article_daily": ("ref_date", "msgid"),
    "pulled_days": ("ref_date", "endpoint"),
}
SOURCE_TABLES = {"account_daily": "account_sources", "article_daily": "article_sources"}  # folded into their days
NOT_EXPORTED = {"account", "pulled_at"}  # pulled_at would change every file on every run
INTEGER_COLUMNS = {"idx", "is_delay", "read_user", "share_user", "zaikan_user", "like_user", "comment_count",
                   "collection_user", "new_user", "cancel_user", "cumulate_user"}
ARTICLES_FILE = "articles.jsonl"


class ExportError(Exception):
    """A file of the export cannot be read back: names the file, the line and what is wrong."""


def folder(account: str) -> str:
    return f"stats/{account}"


def columns(connection: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f"PRAGMA table_info({table})") if row[1] not in NOT_EXPORTED]


# ---- database → files ----------------------------------------------------------------------------

def export_files(connection: sqlite3.Connection, account: str, months: Iterable[str]) -> dict[str, bytes]:
    """The export's files for `months` ("YYYY-MM") and the article list, as path → content."""
    files = {f"{folder(account)}/{ARTICLES_FILE}": _lines(connection, account, "articles", None)}
    for month in sorted(set(months)):
        body = b"".join(_lines(connection, account, table, month) for table in TABLES if table != "articles")
        files[f"{folder(account)}/{month}.jsonl"] = body
    return files


def _lines(connection: sqlite3.Connection, account: str, table: str, month: str | None) -> bytes:
    names = columns(connection, table)
    where, parameters = "account = ?", [account]
    if month is not None:
        where += " AND ref_date LIKE ?"
        parameters.append(f"{month}-%")
    sources = _sources(connection, SOURCE_TABLES[table], where, parameters) if table in SOURCE_TABLES else {}
    rows = connection.execute(f"SELECT {', '.join(names)} FROM {table} WHERE {where} "
                              f"ORDER BY {', '.join(TABLES[table])}", parameters)
    out = []
    for row in rows:
        values = {"table": table, **{name: value for name, value in zip(names, row, strict=True) if value is not None}}
        key = tuple(values[name] for name in TABLES[table])
        if key in sources:
            values["sources"] = sources[key]
        out.append(json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")
    return "".join(out).encode("utf-8")


def _sources(connection: sqlite3.Connection, table: str, where: str, parameters: list) -> dict[tuple, dict]:
    """(the day row's key) → {source: readers}."""
    keys = [name for name in columns(connection, table) if name not in ("source", "read_user")]
    found: dict[tuple, dict] = defaultdict(dict)
    for row in connection.execute(f"SELECT {', '.join(keys)}, source, read_user FROM {table} WHERE {where} "
                                  "ORDER BY source", parameters):
        found[tuple(row[:len(keys)])][row["source"]] = row["read_user"]
    return found


# ---- files → database ----------------------------------------------------------------------------

def export_digest(snapshot, account: str) -> str:
    """Identifies the export's current content (from blob ids: no file is read)."""
    entries = snapshot.entries()
    paths = snapshot.list(folder(account))
    return hashlib.sha256("".join(f"{path} {entries[path][1]}\n" for path in paths).encode()).hexdigest()


def sync_database(connection: sqlite3.Connection, account: str, snapshot, where: str) -> bool:
    """Reload the account's rows from the export when the database was loaded from another version of it.

    `where` names the branch for messages. Returns True when the rows were reloaded. Raises ExportError
    for a file that cannot be read back, leaving the database as it was."""
    digest = export_digest(snapshot, account)
    row = connection.execute("SELECT value FROM meta WHERE account = ? AND key = 'export'", (account,)).fetchone()
    if row and row[0] == digest:
        return False
    rows = defaultdict(list)
    for path in snapshot.list(folder(account)):
        if path.endswith(".jsonl"):
            for table, values in _parse_file(path, snapshot.read_bytes(path) or b"", where):
                rows[table].append(values)
    with connection:
        for table in [*TABLES, *SOURCE_TABLES.values()]:
            connection.execute(f"DELETE FROM {table} WHERE account = ?", (account,))
        for table, values in rows.items():
            _insert(connection, account, table, values)
        remember_export(connection, account, digest)
    return True


def remember_export(connection: sqlite3.Connection, account: str, digest: str) -> None:
    connection.execute("INSERT OR REPLACE INTO meta (account, key, value) VALUES (?, 'export', ?)", (account, digest))


def _insert(connection: sqlite3.Connection, account: str, table: str, rows: list[dict]) -> None:
    if table in SOURCE_TABLES:
        keys = TABLES[table]
        connection.executemany(
            f"INSERT OR REPLACE INTO {SOURCE_TABLES[table]} (account, {', '.join(keys)}, source, read_user) "
            f"VALUES ({', '.join('?' * (len(keys) + 3))})",
            ([account, *(row[key] for key in keys), source, readers]
             for row in rows for source, readers in (row.get("sources") or {}).items()))
    names = columns(connection, table)
    extra = ["pulled_at"] if table == "pulled_days" else []
    placeholders = ", ".join("?" * (len(names) + len(extra) + 1))
    connection.executemany(
        f"INSERT OR REPLACE INTO {table} (account, {', '.join(names + extra)}) VALUES ({placeholders})",
        ([account, *(row.get(name) for name in names), *(["from the ledger"] if extra else [])] for row in rows))


def _parse_file(path: str, data: bytes, where: str) -> Iterable[tuple[str, dict]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(f"{where}:{path}: expected UTF-8 JSON lines, found undecodable bytes at offset {exc.start}; "
                          f"fix or delete the file with a commit on the branch") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield _parse_line(line, f"{where}:{path} line {number}")


def _parse_line(line: str, at: str) -> tuple[str, dict]:
    try:
        values = json.loads(line)
    except ValueError as exc:
        raise ExportError(f"{at}: expected a JSON object, found invalid JSON ({exc.msg}); fix or delete the file "
                          f"with a commit on the branch, then pull again") from None
    if not isinstance(values, dict):
        raise ExportError(f"{at}: expected a JSON object, found {type(values).__name__}")
    table = values.pop("table", None)
    if table not in TABLES:
        raise ExportError(f"{at}: field 'table': expected one of {', '.join(TABLES)}, found {table!r}")
    for key in TABLES[table]:
        if not isinstance(values.get(key), str) or not values[key]:
            raise ExportError(f"{at}: field '{key}' of a {table} row: expected a string, found {values.get(key)!r}")
    for name, value in values.items():
        if name in INTEGER_COLUMNS and value is not None and not _whole(value):
            raise ExportError(f"{at}: field '{name}': expected a whole number, found {value!r}")
    sources = values.get("sources")
    if sources is not None and not (table in SOURCE_TABLES and isinstance(sources, dict)
                                    and all(isinstance(k, str) and _whole(v) for k, v in sources.items())):
        raise ExportError(f"{at}: field 'sources': expected {{source: whole number}} on a daily row, found {sources!r}")
    return table, values


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
