"""Joins WeChat's numbers to our articles: ledger push records → rows of the `articles` table.

A push record (publisher/publish.py) holds the `msg_data_id` WeChat returned for the 发布 or 群发, the
articles in order, their published URLs and the calendar time (`at`). WeChat names an article
`<msg_data_id>_<idx>` with idx 1-based, so the idx-th article of the record is that msgid. A 群发
recovered after a lost answer has no msg_data_id in its record: it is matched by title and day.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from publisher.stats.store import BEIJING, upsert

DONE = ("published", "sent")  # push statuses whose articles readers can see


def ledger_articles(records: dict[str, dict]) -> list[dict]:
    """One row of article metadata per article of every push the ledger shows published or sent."""
    rows = []
    for push_id, record in records.items():
        if record.get("status") not in DONE:
            continue
        when = record.get("at")  # the calendar's time: what the team chooses when it plans (best hours)
        day = _beijing_day(when)
        urls = record.get("urls") or []
        for idx, article in enumerate(record.get("articles") or [], start=1):
            if not isinstance(article, dict):
                continue
            rows.append({"msg_data_id": str(record["msg_data_id"]) if record.get("msg_data_id") else None,
                         "idx": idx, "title": article.get("title"), "article_key": article.get("key"),
                         "push_id": push_id, "published_at": when, "publish_date": day,
                         "publish_type": record.get("mode"),  # "publish" or "mass", as in the articles table
                         "url": urls[idx - 1] if idx <= len(urls) and urls[idx - 1] else None})
    return rows


def join_ledger(connection: sqlite3.Connection, account: str, records: dict[str, dict]) -> int:
    """Fill in the articles table from the ledger; returns how many articles were matched."""
    matched = 0
    with connection:
        for row in ledger_articles(records):
            msgid = _msgid(connection, account, row)
            if msgid is None:
                continue
            known = {key: value for key, value in row.items() if value is not None and key != "msg_data_id"}
            values = {"account": account, "msgid": msgid, "msg_data_id": msgid.rpartition("_")[0], **known}
            # WeChat's own publication day (ref_date) wins over the planned one
            upsert(connection, "articles", ("account", "msgid"), values, keep=("publish_date",))
            matched += 1
    return matched


def _msgid(connection: sqlite3.Connection, account: str, row: dict) -> str | None:
    if row["msg_data_id"]:
        return f"{row['msg_data_id']}_{row['idx']}"
    found = connection.execute(
        "SELECT msgid FROM articles WHERE account = ? AND title = ? AND publish_date = ? AND idx = ?",
        (account, row["title"], row["publish_date"], row["idx"])).fetchall()
    return found[0][0] if len(found) == 1 else None  # two articles of that title that day: leave them be


def _beijing_day(moment: str | None) -> str | None:
    if not moment:
        return None
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.date().isoformat()
    return parsed.astimezone(BEIJING).date().isoformat()
