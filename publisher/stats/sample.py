"""A realistic made-up analytics database, for the report's benchmark, screenshot and demos.

Pushes of 1–3 articles on most days, 群发 at most once a day, the rest 发布. Each article's reads follow
a decay curve for `decay_days` days after publication (most on day 0 and 1, then a long tail from search
and recommendations); the first article of a push, 群发, the evening and weekdays do better. Account
totals and account sources are the sums of the article rows; followers follow the reads.
"""

from __future__ import annotations

import math
import random
import sqlite3
import string
from dataclasses import dataclass
from datetime import date, timedelta

from publisher.stats.store import SOURCES

HOURS = {8: 0.9, 12: 1.0, 18: 0.95, 20: 1.2, 21: 1.1, 22: 0.95}  # publishing hour → how well it does
WEEKDAYS = (1.0, 1.05, 1.05, 1.0, 0.95, 0.75, 0.8)  # Monday first
POSITION = (1.0, 0.45, 0.3)  # the first article of a push is the one people open
TYPES = {"mass": 1.0, "publish": 0.45}  # 群发 notifies the followers, 发布 does not
RATES = {"share_user": 0.06, "zaikan_user": 0.015, "like_user": 0.025, "comment_count": 0.004,
         "collection_user": 0.012}
# Where the reads of one article-day come from: on the day of a 群发, the message; later, search and friends.
FRESH_SOURCES = {"message": 50, "friends": 20, "moments": 12, "recommend": 7, "profile": 4, "search": 3, "other": 4}
LATER_SOURCES = {"message": 8, "friends": 25, "moments": 10, "recommend": 22, "profile": 5, "search": 25, "other": 5}

TOPICS = ["帆书 3.1", "AI 摘要", "知识库", "团队空间", "移动端", "离线模式", "权限管理", "模板中心", "数据看板",
          "插件市场", "会议纪要", "协同编辑", "版本历史", "搜索", "导入导出"]
PATTERNS = ["{t}上线了：三分钟看懂新功能", "用{t}做周报，只要五分钟", "{t}常见问题答疑", "为什么我们重做了{t}",
            "{t}的十个小技巧", "客户故事：{t}帮他们省下一半时间", "{t}背后的设计思考", "从零开始配置{t}",
            "{t}更新说明", "一张图看懂{t}", "{t}与团队协作的最佳实践", "年终盘点：{t}这一年"]


@dataclass
class _Article:
    msgid: str
    title: str
    day: date
    hour: int
    minute: int
    publish_type: str
    total_reads: float


def fill_sample(connection: sqlite3.Connection, *, account: str = "demo", start: date = date(2026, 1, 1),
                days: int = 365, articles: int = 500, decay_days: int = 60, seed: int = 1) -> None:
    """Writes `articles` articles published over `days` days from `start`, with their daily numbers."""
    rng = random.Random(seed)
    end = start + timedelta(days=days - 1)
    made = _articles(rng, start, days, articles)
    with connection:
        connection.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               [_article_row(rng, account, a) for a in made])
        daily, sources = _article_days(rng, account, made, end, decay_days)
        connection.executemany("INSERT INTO article_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", daily)
        connection.executemany("INSERT INTO article_sources VALUES (?, ?, ?, ?, ?)", sources)
        _account_days(connection, rng, account, start, end)


def _articles(rng: random.Random, start: date, days: int, count: int) -> list[_Article]:
    made: list[_Article] = []
    mass_days: set[date] = set()
    push = 0
    while len(made) < count:
        day = start + timedelta(days=rng.randrange(days))
        hour, minute = rng.choice(list(HOURS)), rng.choice((0, 0, 0, 15, 30))
        publish_type = "publish" if day in mass_days or rng.random() < 0.4 else "mass"
        if publish_type == "mass":
            mass_days.add(day)
        push += 1
        for idx in range(1, min(rng.choice((1, 1, 2, 2, 3)), count - len(made)) + 1):
            reads = (math.exp(rng.gauss(7.6, 0.55)) * TYPES[publish_type] * POSITION[idx - 1] * HOURS[hour]
                     * WEEKDAYS[day.weekday()])
            title = rng.choice(PATTERNS).format(t=rng.choice(TOPICS))
            made.append(_Article(f"{2247480000 + push}_{idx}", title, day, hour, minute, publish_type, reads))
    return sorted(made, key=lambda a: (a.day, a.hour, a.msgid))


def _article_row(rng: random.Random, account: str, article: _Article) -> tuple:
    msg_data_id, idx = article.msgid.split("_")
    clock = f"{article.hour:02d}:{article.minute:02d}"
    stamp = f"{article.day.isoformat()}T{clock}:00+08:00"
    token = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))
    return (account, article.msgid, msg_data_id, int(idx), article.title, article.day.isoformat(), stamp,
            article.publish_type, f"{article.day.isoformat()}-{clock.replace(':', '')}",
            f"{article.day.year}/a{msg_data_id[-4:]}-{idx}", f"https://mp.weixin.qq.com/s/{token}")


def _decay(decay_days: int) -> list[float]:
    """Share of an article's reads on each day after publication: a fast fall and a long flat tail."""
    weights = [math.exp(-k / 1.3) + 0.012 for k in range(decay_days)]
    total = sum(weights)
    return [w / total for w in weights]


def _article_days(rng: random.Random, account: str, made: list[_Article], end: date,
                  decay_days: int) -> tuple[list[tuple], list[tuple]]:
    curve = _decay(decay_days)
    daily, sources = [], []
    for article in made:
        for offset, share in enumerate(curve):
            day = article.day + timedelta(days=offset)
            reads = round(article.total_reads * share * rng.uniform(0.8, 1.2))
            if day > end or reads == 0:
                continue
            counts = [round(reads * rate * rng.uniform(0.6, 1.4)) for rate in RATES.values()]
            daily.append((account, article.msgid, day.isoformat(), reads, *counts))
            mix = FRESH_SOURCES if offset == 0 and article.publish_type == "mass" else LATER_SOURCES
            sources += [(account, article.msgid, day.isoformat(), key, n)
                        for key, n in _split(rng, reads, mix).items()]
    return daily, sources


def _split(rng: random.Random, reads: int, weights: dict[str, int]) -> dict[str, int]:
    """`reads` divided in proportion to `weights`: whole numbers adding up to `reads`, the remainder handed out
    at random by the same weights (a few reads must not all land in one source), zeros left out."""
    total = sum(weights.values())
    parts = {key: reads * w // total for key, w in weights.items()}
    for key in rng.choices(list(weights), list(weights.values()), k=reads - sum(parts.values())):
        parts[key] += 1
    return {key: n for key, n in parts.items() if n and key in SOURCES}


def _account_days(connection: sqlite3.Connection, rng: random.Random, account: str, start: date,
                  end: date) -> None:
    totals = connection.execute(
        "SELECT ref_date, SUM(read_user), SUM(share_user), SUM(zaikan_user), SUM(like_user), SUM(comment_count),"
        " SUM(collection_user) FROM article_daily WHERE account = ? AND ref_date BETWEEN ? AND ?"
        " GROUP BY ref_date", (account, start.isoformat(), end.isoformat())).fetchall()
    by_day = {row[0]: row[1:] for row in totals}
    followers = 18_000
    rows = []
    for offset in range((end - start).days + 1):
        day = (start + timedelta(days=offset)).isoformat()
        metrics = by_day.get(day, (0, 0, 0, 0, 0, 0))
        gained = round(metrics[0] * 0.012 * rng.uniform(0.6, 1.4)) + rng.randint(3, 15)
        lost = round(gained * rng.uniform(0.2, 0.6)) + rng.randint(0, 4)
        followers += gained - lost
        rows.append((account, day, *metrics, gained, lost, followers))
    connection.executemany("INSERT INTO account_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.execute(
        "INSERT INTO account_sources SELECT account, ref_date, source, SUM(read_user) FROM article_sources"
        " WHERE account = ? AND ref_date BETWEEN ? AND ? GROUP BY ref_date, source",
        (account, start.isoformat(), end.isoformat()))
