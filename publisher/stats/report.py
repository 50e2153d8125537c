"""Reports on one account's numbers for a week, month, quarter or year.

`build_report` writes three files into a folder: an HTML page with KPI cards, plotly charts and the table of
the period's articles (one self-contained file, plotly.js embedded once, so it opens offline and prints);
the Markdown summary that goes into the weekly work report (周报); and `report-….json`, the key numbers the
other two are made of (also what `--format json` prints and what the tests check).

Sums are done by SQLite (GROUP BY); Python only loops over days and over the period's articles.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from publisher.stats.store import SOURCES

PERIODS = ("week", "month", "quarter", "year")
PERIOD_WORDS = {  # (this, previous, next, name of the report)
    "week": ("本周", "上周", "下周", "周报"),
    "month": ("本月", "上月", "下月", "月报"),
    "quarter": ("本季度", "上季度", "下季度", "季报"),
    "year": ("本年度", "上年度", "下年度", "年报"),
}
# figures key → the column of article_daily / account_daily it sums
METRICS = {"reads": "read_user", "shares": "share_user", "zaikan": "zaikan_user", "likes": "like_user",
           "comments": "comment_count", "favourites": "collection_user"}
FOLLOWERS = {"followers_gained": "new_user", "followers_lost": "cancel_user"}
LABELS = {"reads": "阅读人数", "shares": "分享", "zaikan": "在看", "likes": "点赞", "comments": "留言",
          "favourites": "收藏", "articles_published": "发文数", "followers_gained": "新增关注",
          "followers_lost": "取消关注", "followers_net": "净增关注", "followers_end": "累计关注"}
KPI_CARDS = ("reads", "shares", "zaikan", "likes", "comments",
             "favourites", "articles_published", "followers_gained", "followers_net", "followers_end")
TYPE_LABELS = {"mass": "群发", "publish": "发布"}
MODE_LABELS = {**TYPE_LABELS, "draft": "草稿"}
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
FIRST_DAYS = 7  # an article's early reads are counted over its first week, the day of publication included
RANKED_IN_CHART = 15
MIN_SAMPLE = 3  # one lucky article must not make its hour or weekday "the best" when others have several

TEMPLATES = Path(__file__).with_name("templates")
FONT_STACK = ('-apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
              '"Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif')
COLOURS = {"reads": "#2563eb", "shares": "#0d9488", "old": "#94a3b8", "gained": "#16a34a", "lost": "#dc2626",
           "net": "#0f172a", "mean": "#2563eb", "median": "#93c5fd", "best": "#f59e0b", "few": "#bfdbfe"}
SOURCE_COLOURS = ("#2563eb", "#0d9488", "#f59e0b", "#8b5cf6", "#ec4899", "#64748b", "#84cc16", "#06b6d4")


@dataclass
class PlannedPush:
    at: datetime
    mode: str  # "mass" | "publish" | "draft"
    titles: list[str] = field(default_factory=list)


@dataclass
class Report:
    html_path: Path
    markdown_path: Path
    figures: dict


# ---- periods -------------------------------------------------------------------------------------------

def period_bounds(period: str, day: date) -> tuple[date, date]:
    """First and last day of the period holding `day`: the Monday–Sunday week, or the calendar month,
    quarter or year."""
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}.get(period)
    if months is None:
        raise ValueError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return start, _months_later(start, months) - timedelta(days=1)


def _months_later(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_label(period: str, day: date) -> str:
    """2026-W49 (ISO week), 2026-12, 2026-Q4 or 2026: used in file names."""
    start, _ = period_bounds(period, day)
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def period_title(period: str, day: date) -> str:
    """The period as the report's title names it: 2026 年第 49 周（12 月 1 日—12 月 7 日）, 2026 年 12 月 …"""
    start, end = period_bounds(period, day)
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year} 年第 {week} 周（{start.month} 月 {start.day} 日—{end.month} 月 {end.day} 日）"
    if period == "month":
        return f"{start.year} 年 {start.month} 月"
    if period == "quarter":
        return f"{start.year} 年第 {'一二三四'[(start.month - 1) // 3]} 季度"
    return f"{start.year} 年"


def _adjacent(period: str, start: date, end: date, step: int) -> tuple[date, date]:
    """The period before (step -1) or after (step 1) the one from `start` to `end`."""
    return period_bounds(period, start - timedelta(days=1) if step < 0 else end + timedelta(days=1))


# ---- the figures ---------------------------------------------------------------------------------------

def collect_figures(connection: sqlite3.Connection, account: str, period: str, day: date) -> dict:
    """Every number the report shows, as plain JSON-ready data (dates as ISO strings)."""
    start, end = period_bounds(period, day)
    previous_start, previous_end = _adjacent(period, start, end, -1)
    last_data_date = _last_data_date(connection, account)
    days = _days(connection, account, start, end)
    articles = _published_articles(connection, account, start, end, last_data_date)
    ranking = _read_ranking(connection, account, start, end, previous_start)
    totals = _totals(days, len(articles))
    previous_totals = _totals(_days(connection, account, previous_start, previous_end),
                              _count_published(connection, account, previous_start, previous_end))
    sources_from, sources = _sources(connection, account, start, end)
    hours, weekdays = _timing(articles)
    return {
        "account": account,
        "period": period,
        "label": period_label(period, day),
        "title": period_title(period, day),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "previous": {"label": period_label(period, previous_start), "start": previous_start.isoformat(),
                     "end": previous_end.isoformat()},
        "has_data": bool(articles or ranking or any(_active(d) for d in days)),
        "last_data_date": last_data_date,
        "totals": totals,
        "previous_totals": previous_totals,
        "changes": {key: percent_change(totals[key], previous_totals[key]) for key in totals},
        "articles": articles,
        "read_ranking": ranking,
        "biggest_riser": _biggest_riser(ranking),
        "sources_from": sources_from,
        "sources": sources,
        "publish_types": {kind: _stats([a for a in articles if a["publish_type"] == kind]) | {"label": label}
                          for kind, label in TYPE_LABELS.items()},
        "publish_hours": hours,
        "publish_weekdays": weekdays,
        "best_hour": _best(hours),
        "best_weekday": _best(weekdays),
        "daily": [{key: d[key] for key in ("date", "reads", "shares", "followers_gained", "followers_lost",
                                           "followers_net")} for d in days],
    }


def _rows(connection: sqlite3.Connection, sql: str, params: dict) -> list[sqlite3.Row]:
    cursor = connection.cursor()
    cursor.row_factory = sqlite3.Row  # whatever the caller's connection uses
    return cursor.execute(sql, params).fetchall()


def _sums(columns: dict[str, str], prefix: str = "", when: str = "") -> str:
    """`SUM(col) AS key, …` for the SELECT list, each restricted by `when` when given."""
    if when:
        return ", ".join(f"SUM(CASE WHEN {when} THEN {prefix}{col} END) AS {key}" for key, col in columns.items())
    return ", ".join(f"SUM({prefix}{col}) AS {key}" for key, col in columns.items())


def _days(connection: sqlite3.Connection, account: str, start: date, end: date) -> list[dict]:
    """One entry a day: the account's own totals, or the sum of its articles' rows for a metric the account
    rows lack (days not pulled, or an endpoint that did not give it); followers only from the account rows."""
    params = {"account": account, "start": start.isoformat(), "end": end.isoformat()}
    own = {row["ref_date"]: row for row in _rows(
        connection, f"SELECT ref_date, {', '.join(f'{c} AS {k}' for k, c in (METRICS | FOLLOWERS).items())},"
                    " cumulate_user AS followers_total FROM account_daily"
                    " WHERE account = :account AND ref_date BETWEEN :start AND :end", params)}
    summed = {row["ref_date"]: row for row in _rows(
        connection, f"SELECT ref_date, {_sums(METRICS)} FROM article_daily"
                    " WHERE account = :account AND ref_date BETWEEN :start AND :end GROUP BY ref_date", params)}
    days = []
    for offset in range((end - start).days + 1):
        ref_date = (start + timedelta(days=offset)).isoformat()
        mine, theirs = own.get(ref_date), summed.get(ref_date)
        entry: dict = {"date": ref_date}
        for key in METRICS:
            entry[key] = _first_known(mine[key] if mine else None, theirs[key] if theirs else None)
        for key in (*FOLLOWERS, "followers_total"):
            entry[key] = mine[key] if mine else None
        entry["followers_net"] = _difference(entry["followers_gained"], entry["followers_lost"])
        days.append(entry)
    return days


def _active(day: dict) -> bool:
    """Whether anything happened that day: rows of zeros (an account with nothing published) are no data."""
    return any(day[key] for key in (*METRICS, *FOLLOWERS))


def _totals(days: list[dict], articles_published: int) -> dict:
    totals = {key: _sum(d[key] for d in days) for key in (*METRICS, *FOLLOWERS)}
    totals["followers_net"] = _difference(totals["followers_gained"], totals["followers_lost"])
    known_totals = [d["followers_total"] for d in days if d["followers_total"] is not None]
    totals["followers_end"] = known_totals[-1] if known_totals else None
    totals["articles_published"] = articles_published
    return totals


def _count_published(connection: sqlite3.Connection, account: str, start: date, end: date) -> int:
    return connection.execute("SELECT COUNT(*) FROM articles WHERE account = ? AND publish_date BETWEEN ? AND ?",
                              (account, start.isoformat(), end.isoformat())).fetchone()[0]


def _last_data_date(connection: sqlite3.Connection, account: str) -> str | None:
    return connection.execute("SELECT MAX(ref_date) FROM article_daily WHERE account = ?", (account,)).fetchone()[0]


def _published_articles(connection: sqlite3.Connection, account: str, start: date, end: date,
                        last_data_date: str | None) -> list[dict]:
    """The articles published in the period, best read first: their numbers within the period, and their reads
    in their first FIRST_DAYS days (which may run past the period's end, and past the data pulled so far)."""
    in_period = _sums(METRICS, "d.", "d.ref_date BETWEEN :start AND :end")
    first_days = (f"SUM(CASE WHEN d.ref_date BETWEEN a.publish_date AND date(a.publish_date, '+{FIRST_DAYS - 1} days')"
                  " THEN d.read_user END) AS reads_first_days")
    rows = _rows(connection, f"""
        SELECT a.msgid, a.title, a.url, a.publish_date, a.published_at, a.publish_type, {in_period}, {first_days},
               date(a.publish_date, '+{FIRST_DAYS - 1} days') <= :last_data_date AS first_days_complete
        FROM articles a LEFT JOIN article_daily d ON d.account = a.account AND d.msgid = a.msgid
        WHERE a.account = :account AND a.publish_date BETWEEN :start AND :end
        GROUP BY a.msgid
        ORDER BY reads IS NULL, reads DESC, a.publish_date, a.msgid""",
                 {"account": account, "start": start.isoformat(), "end": end.isoformat(),
                  "last_data_date": last_data_date})
    return [dict(row) | {"rank": rank, "first_days_complete": bool(row["first_days_complete"])}
            for rank, row in enumerate(rows, 1)]


def _read_ranking(connection: sqlite3.Connection, account: str, start: date, end: date,
                  previous_start: date) -> list[dict]:
    """Every article read in the period, whenever published, best read first, with its reads in the
    previous period."""
    rows = _rows(connection, """
        SELECT d.msgid, a.title, a.url, a.publish_date,
               SUM(CASE WHEN d.ref_date >= :start THEN d.read_user END) AS reads,
               SUM(CASE WHEN d.ref_date < :start THEN d.read_user END) AS previous_reads
        FROM article_daily d LEFT JOIN articles a ON a.account = d.account AND a.msgid = d.msgid
        WHERE d.account = :account AND d.ref_date BETWEEN :previous_start AND :end
        GROUP BY d.msgid
        HAVING reads > 0
        ORDER BY reads DESC, d.msgid""",
                 {"account": account, "start": start.isoformat(), "end": end.isoformat(),
                  "previous_start": previous_start.isoformat()})
    return [dict(row) | {"rank": rank, "published_in_period": (row["publish_date"] or "") >= start.isoformat()}
            for rank, row in enumerate(rows, 1)]


def _biggest_riser(ranking: list[dict]) -> dict | None:
    """The older article whose reads grew most over the previous period (new ones always "grow")."""
    older = [dict(entry, increase=entry["reads"] - (entry["previous_reads"] or 0))
             for entry in ranking if not entry["published_in_period"]]
    best = max(older, key=lambda entry: entry["increase"], default=None)
    return best if best and best["increase"] > 0 else None


def _sources(connection: sqlite3.Connection, account: str, start: date, end: date) -> tuple[str | None, list]:
    """Reads by source, from the account's own rows or else from the articles' ("account" / "articles")."""
    params = {"account": account, "start": start.isoformat(), "end": end.isoformat()}
    for table, origin in (("account_sources", "account"), ("article_sources", "articles")):
        rows = _rows(connection, f"SELECT source, SUM(read_user) AS reads FROM {table}"
                                 " WHERE account = :account AND ref_date BETWEEN :start AND :end"
                                 " GROUP BY source HAVING reads > 0 ORDER BY reads DESC, source", params)
        if rows:
            total = sum(row["reads"] for row in rows)
            return origin, [{"source": row["source"], "label": SOURCES.get(row["source"], row["source"]),
                             "reads": row["reads"], "percent": round(100 * row["reads"] / total, 1)}
                            for row in rows]
    return None, []


def _timing(articles: list[dict]) -> tuple[list[dict], list[dict]]:
    """First-days statistics by publishing hour and by weekday (ISO, Monday = 1), in the offset each article
    was published with; articles without a publishing time are left out."""
    timed = [(datetime.fromisoformat(a["published_at"]), a) for a in articles if a["published_at"]]
    hours = _group_stats([(moment.hour, a) for moment, a in timed])
    weekdays = _group_stats([(moment.isoweekday(), a) for moment, a in timed])
    return ([{"hour": hour, **stats} for hour, stats in hours.items()],
            [{"weekday": weekday, "label": WEEKDAY_LABELS[weekday - 1], **stats} for weekday, stats in weekdays.items()])


def _group_stats(keyed: list[tuple[int, dict]]) -> dict[int, dict]:
    """Articles grouped by a key (hour, weekday), in key order, with their first-days statistics."""
    groups: dict[int, list[dict]] = {}
    for key, article in keyed:
        groups.setdefault(key, []).append(article)
    return {key: _stats(groups[key]) for key in sorted(groups)}


def _stats(articles: list[dict]) -> dict:
    """How many articles, and the mean and median of their first-days reads (over those with a number)."""
    reads = [a["reads_first_days"] for a in articles if a["reads_first_days"] is not None]
    return {"count": len(articles),
            "mean_first_days": round(statistics.fmean(reads), 1) if reads else None,
            "median_first_days": round(statistics.median(reads), 1) if reads else None}


def _best(groups: list[dict]) -> dict | None:
    """The group with the highest mean among those of at least MIN_SAMPLE articles (among all when none has
    that many); on a tie, the one with more articles."""
    measured = [g for g in groups if g["mean_first_days"] is not None]
    sure = [g for g in measured if g["count"] >= MIN_SAMPLE] or measured
    return max(sure, key=lambda g: (g["mean_first_days"], g["count"]), default=None)


def _first_known(*values):
    return next((v for v in values if v is not None), None)


def _sum(values) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _difference(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a - b


def percent_change(current: float | None, previous: float | None) -> float | None:
    """Change in percent, rounded to 0.1; None when either is unknown or the previous one is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return round(100 * (current - previous) / abs(previous), 1)


# ---- building the files --------------------------------------------------------------------------------

def build_report(connection: sqlite3.Connection, account: str, period: str, day: date, out_dir: Path, *,
                 planned: list[PlannedPush] = (), account_label: str = "",
                 generated_at: datetime | None = None) -> Report:
    """Writes report-<account>-<period>-<label>.html, .md and .json (the figures) into `out_dir`."""
    figures = collect_figures(connection, account, period, day)
    figures["account_label"] = account_label or account
    moment = generated_at or datetime.now().astimezone()
    figures["generated_at"] = moment.isoformat(timespec="seconds")
    next_start, next_end = _adjacent(period, *period_bounds(period, day), 1)
    upcoming = sorted((p for p in planned if next_start <= p.at.date() <= next_end), key=lambda p: p.at)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report-{_file_safe(account)}-{period}-{figures['label']}"
    html_path, markdown_path = out_dir / f"{stem}.html", out_dir / f"{stem}.md"
    context = {"f": figures, "words": PERIOD_WORDS[period], "generated": _moment_text(moment),
               "html_name": html_path.name, "published": _in_publishing_order(figures["articles"])}
    html_path.write_text(_render_html(figures, context), encoding="utf-8")
    markdown_path.write_text(_templates().get_template("report.md").render(
        context, upcoming=[_planned_view(p) for p in upcoming]), encoding="utf-8")
    (out_dir / f"{stem}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    return Report(html_path=html_path, markdown_path=markdown_path, figures=figures)


def _render_html(figures: dict, context: dict) -> str:
    charts = _chart_views(figures) if figures["has_data"] else []
    drawn = any(chart["html"] for chart in charts)
    return _templates().get_template("report.html").render(
        context, kpis=_kpis(figures), charts=charts, plotly_js=Markup(_plotly_js()) if drawn else "")


def _in_publishing_order(articles: list[dict]) -> list[dict]:
    return sorted(articles, key=lambda a: (a["published_at"] or a["publish_date"], a["msgid"]))


def _kpis(figures: dict) -> list[dict]:
    return [{"key": key, "label": LABELS[key], "value": figures["totals"][key],
             "previous": figures["previous_totals"][key], "change": figures["changes"][key]} for key in KPI_CARDS]


def _planned_view(push: PlannedPush) -> dict:
    return {"when": f"{push.at:%m-%d}（{WEEKDAY_LABELS[push.at.weekday()]}）{push.at:%H:%M}",
            "mode": MODE_LABELS.get(push.mode, push.mode), "titles": push.titles}


def _moment_text(moment: datetime) -> str:
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M}" + (f" (UTC{offset[:3]}:{offset[3:]})" if offset else "")


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "account"


# ---- charts --------------------------------------------------------------------------------------------
# Each chart function returns the figure as plotly data and layout (None when there is nothing to draw);
# _figure_html turns it into a <div> and the Plotly.newPlot call, the library itself being in the page once.

def _chart_views(figures: dict) -> list[dict]:
    """The page's charts in order: title, HTML (None: nothing to draw) and whether it takes the full width."""
    weekly = figures["period"] in ("quarter", "year")
    by = "（按周）" if weekly else "（按日）"
    charts = [
        ("reads", f"阅读人数{by}", _series_chart(figures, "reads", weekly), True),
        ("ranking", f"阅读排行（前 {RANKED_IN_CHART} 篇，含往期文章）", _ranking_chart(figures), True),
        ("sources", "阅读来源", _sources_chart(figures), False),
        ("shares", f"分享{by}", _series_chart(figures, "shares", weekly), False),
        ("followers", f"关注变化{by}", _followers_chart(figures, weekly), False),
        ("types", f"群发与发布：首 {FIRST_DAYS} 日阅读", _types_chart(figures), False),
        ("hours", f"发布时段：首 {FIRST_DAYS} 日平均阅读", _group_chart(figures["publish_hours"], "hour"), False),
        ("weekdays", f"发布星期：首 {FIRST_DAYS} 日平均阅读", _group_chart(figures["publish_weekdays"], "weekday"),
         False),
    ]
    return [{"key": key, "title": title, "wide": wide, "html": _figure_html(key, spec) if spec else None}
            for key, title, spec, wide in charts]


def _figure_html(key: str, spec: dict) -> Markup:
    import plotly.graph_objects as go  # only when drawing: importing plotly costs the CLI a fifth of a second

    figure = go.Figure(data=spec["data"])
    figure.update_layout(template="none", font={"family": FONT_STACK, "size": 12, "color": "#334155"},
                         margin={"l": 56, "r": 16, "t": 12, "b": 36}, paper_bgcolor="white", plot_bgcolor="white",
                         showlegend=False, separators=".,", hoverlabel={"font": {"family": FONT_STACK}},
                         legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
                         xaxis={"showgrid": False, "linecolor": "#cbd5e1", "automargin": True},
                         yaxis={"gridcolor": "#e2e8f0", "zerolinecolor": "#cbd5e1", "tickformat": ",",
                                "automargin": True})
    figure.update_layout(spec.get("layout", {}))
    return Markup(figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{key}",
                                 default_height=f"{spec.get('height', 300)}px",
                                 config={"displayModeBar": False, "responsive": True}))


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _buckets(daily: list[dict], keys: tuple[str, ...], weekly: bool) -> list[dict]:
    """The daily series, or its sums by week (Monday to Sunday; the first week starts with the period)."""
    if not weekly:
        return daily
    first = date.fromisoformat(daily[0]["date"])
    weeks: dict[str, list[dict]] = {}
    for day in daily:
        moment = date.fromisoformat(day["date"])
        weeks.setdefault(max(first, moment - timedelta(days=moment.weekday())).isoformat(), []).append(day)
    return [{"date": start, **{key: _sum(d[key] for d in days) for key in keys}} for start, days in weeks.items()]


def _date_axis(weekly: bool) -> dict:
    return {"type": "date", "tickformat": "%-m月%-d日", "hoverformat": "%Y-%m-%d" + (" 起一周" if weekly else "")}


def _series_chart(figures: dict, key: str, weekly: bool) -> dict | None:
    points = _buckets(figures["daily"], (key,), weekly)
    if not any(point[key] for point in points):
        return None
    return {"data": [{"type": "bar", "x": [p["date"] for p in points], "y": [p[key] for p in points],
                      "marker": {"color": COLOURS[key]}, "name": LABELS[key],
                      "hovertemplate": f"%{{x}}<br>{LABELS[key]} %{{y:,}}<extra></extra>"}],
            "layout": {"xaxis": _date_axis(weekly), "bargap": 0.25}, "height": 300}


def _followers_chart(figures: dict, weekly: bool) -> dict | None:
    points = _buckets(figures["daily"], ("followers_gained", "followers_lost", "followers_net"), weekly)
    if not any(point["followers_gained"] or point["followers_lost"] for point in points):
        return None
    x = [p["date"] for p in points]

    def bars(key: str, colour: str, sign: int) -> dict:
        return {"type": "bar", "x": x, "y": [None if p[key] is None else sign * p[key] for p in points],
                "name": LABELS[key], "marker": {"color": colour},
                "hovertemplate": f"{LABELS[key]} %{{y:,}}<extra></extra>"}

    net = {"type": "scatter", "mode": "lines+markers", "x": x, "y": [p["followers_net"] for p in points],
           "name": LABELS["followers_net"], "line": {"color": COLOURS["net"], "width": 2}, "marker": {"size": 4},
           "hovertemplate": f"{LABELS['followers_net']} %{{y:,}}<extra></extra>"}
    return {"data": [bars("followers_gained", COLOURS["gained"], 1), bars("followers_lost", COLOURS["lost"], -1), net],
            "layout": {"barmode": "relative", "showlegend": True, "hovermode": "x unified",
                       "xaxis": _date_axis(weekly), "margin": {"t": 36}}, "height": 300}


def _ranking_chart(figures: dict) -> dict | None:
    ranked = figures["read_ranking"][:RANKED_IN_CHART]
    if not ranked:
        return None
    labels = [f"{entry['rank']}. {_shorten(entry['title'])}" for entry in ranked]
    traces = []
    for new, name, colour in ((True, "本期发布", COLOURS["reads"]), (False, "往期文章", COLOURS["old"])):
        chosen = [(label, entry) for label, entry in zip(labels, ranked, strict=True)
                  if entry["published_in_period"] == new]
        if chosen:
            traces.append({"type": "bar", "orientation": "h", "name": name, "marker": {"color": colour},
                           "y": [label for label, _ in chosen], "x": [entry["reads"] for _, entry in chosen],
                           "customdata": [[_chart_text(entry["title"])] for _, entry in chosen],
                           "text": [number(entry["reads"]) for _, entry in chosen], "textposition": "outside",
                           "cliponaxis": False,
                           "hovertemplate": "%{customdata[0]}<br>阅读人数 %{x:,}<extra></extra>"})
    return {"data": traces,
            "layout": {"showlegend": True, "barmode": "overlay", "margin": {"t": 36, "r": 48},
                       "legend": {"x": 1, "xanchor": "right"},
                       "yaxis": {"categoryorder": "array", "categoryarray": labels, "autorange": "reversed",
                                 "gridcolor": "rgba(0,0,0,0)", "tickformat": ""},
                       "xaxis": {"showgrid": True, "gridcolor": "#e2e8f0", "tickformat": ","}},
            "height": 70 + 26 * len(ranked)}


def _sources_chart(figures: dict) -> dict | None:
    sources = figures["sources"]
    if not sources:
        return None
    return {"data": [{"type": "pie", "hole": 0.55, "sort": False, "direction": "clockwise",
                      "labels": [s["label"] for s in sources], "values": [s["reads"] for s in sources],
                      "marker": {"colors": SOURCE_COLOURS[:len(sources)]}, "texttemplate": "%{percent:.1%}",
                      "textposition": "inside", "insidetextorientation": "horizontal",
                      "hovertemplate": "%{label}<br>阅读人数 %{value:,}（%{percent}）<extra></extra>"}],
            "layout": {"showlegend": True, "legend": {"orientation": "v", "x": 1.0, "y": 0.5, "yanchor": "middle"},
                       "uniformtext": {"minsize": 10, "mode": "hide"}, "margin": {"t": 12, "b": 12}},
            "height": 300}


def _types_chart(figures: dict) -> dict | None:
    kinds = [(kind, stats) for kind, stats in figures["publish_types"].items() if stats["count"]]
    if not any(stats["mean_first_days"] is not None for _, stats in kinds):
        return None
    x = [f"{stats['label']}（{stats['count']} 篇）" for _, stats in kinds]
    traces = [{"type": "bar", "name": name, "x": x, "y": [stats[key] for _, stats in kinds],
               "marker": {"color": COLOURS[colour]}, "texttemplate": "%{y:,.0f}", "textposition": "outside",
               "cliponaxis": False, "hovertemplate": f"{name} %{{y:,.1f}}<extra></extra>"}
              for name, key, colour in (("平均", "mean_first_days", "mean"), ("中位数", "median_first_days", "median"))]
    return {"data": traces, "layout": {"barmode": "group", "showlegend": True, "margin": {"t": 36}}, "height": 300}


def _group_chart(groups: list[dict], key: str) -> dict | None:
    """Mean first-days reads by publishing hour or weekday, the best one highlighted, sample sizes on the bars."""
    measured = [g for g in groups if g["mean_first_days"] is not None]
    if not measured:
        return None
    best = _best(measured)
    x = [f"{g['hour']:02d}:00" if key == "hour" else g["label"] for g in measured]
    return {"data": [{"type": "bar", "x": x, "y": [g["mean_first_days"] for g in measured],
                      "marker": {"color": [_group_colour(g, best) for g in measured]},
                      "text": [f"{g['count']} 篇" for g in measured], "textposition": "outside", "cliponaxis": False,
                      "customdata": [[g["count"], g["median_first_days"]] for g in measured],
                      "hovertemplate": "%{x}：%{customdata[0]} 篇<br>平均 %{y:,.1f}，中位数 %{customdata[1]:,.1f}"
                                       "<extra></extra>"}],
            "layout": {"xaxis": {"type": "category"}, "margin": {"t": 24}}, "height": 300}


def _group_colour(group: dict, best: dict | None) -> str:
    if group is best:
        return COLOURS["best"]
    return COLOURS["reads"] if group["count"] >= MIN_SAMPLE else COLOURS["few"]


def _chart_text(text: str | None) -> str:
    """Plotly reads a small HTML subset in labels and decodes entities: escaping shows titles as written."""
    return html.escape(text or "（无标题）")


def _shorten(title: str | None, limit: int = 24) -> str:
    text = title or "（无标题）"
    return _chart_text(text if len(text) <= limit else text[:limit - 1] + "…")


# ---- formatting, shared by both templates --------------------------------------------------------------

def number(value) -> str:
    """12,345 / 1,234.5; an unknown number as —."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def signed(value) -> str:
    return "—" if value is None else ("+" if value > 0 else "") + number(value)


def change(value: float | None) -> str:
    """↑ 12.5% / ↓ 3.0% / 持平; — when there is nothing to compare with."""
    if value is None:
        return "—"
    if value == 0:
        return "持平"
    return f"{'↑' if value > 0 else '↓'} {abs(value):.1f}%"


def markdown_text(text: str | None) -> str:
    """A title made safe for Markdown: its markup characters backslash-escaped, < and > as entities."""
    if not text:
        return "（无标题）"
    escaped = re.sub(r"([\\`*_\[\]#|~])", r"\\\1", text)
    return escaped.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def day_label(value: str | None) -> str:
    """2026-12-03 → 12-03（周四）."""
    if not value:
        return "—"
    return f"{value[5:10]}（{WEEKDAY_LABELS[date.fromisoformat(value[:10]).weekday()]}）"


def short_date(value: str | None) -> str:
    """2026-12-03T20:00:00+08:00 → 12-03 20:00; 2026-12-03 → 12-03."""
    if not value:
        return "—"
    if "T" in value:
        return f"{datetime.fromisoformat(value):%m-%d %H:%M}"
    return value[5:10]


@cache
def _templates() -> Environment:
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), trim_blocks=True, lstrip_blocks=True,
                              autoescape=select_autoescape(enabled_extensions=("html",), default=False),
                              keep_trailing_newline=True)
    environment.filters.update(number=number, signed=signed, change=change, md=markdown_text,
                               short_date=short_date, day_label=day_label)
    environment.globals.update(labels=LABELS, type_labels=TYPE_LABELS, first_days=FIRST_DAYS, min_sample=MIN_SAMPLE)
    return environment
