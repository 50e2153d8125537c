"""The analytics report: figures computed from a small hand-written month, and the HTML and Markdown made of them."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from publisher.stats.report import (
    PERIODS,
    PlannedPush,
    build_report,
    collect_figures,
    percent_change,
    period_bounds,
    period_label,
)
from publisher.stats.store import open_store

BEIJING = timezone(timedelta(hours=8))
SCRIPT_TITLE = "年终盘点 <script>alert(1)</script>"

# msgid, title, publish_date, published_at, type, url
ARTICLES = [
    ("100_1", SCRIPT_TITLE, "2026-12-01", "2026-12-01T20:00:00+08:00", "mass", "https://mp.weixin.qq.com/s/a1"),
    ("100_2", "第二篇 <b>加粗</b> & 更多", "2026-12-01", "2026-12-01T20:00:00+08:00", "mass", None),
    ("100_3", "第三篇", "2026-12-01", "2026-12-01T20:00:00+08:00", "mass", None),
    ("200_1", "发布的文章", "2026-12-03", "2026-12-03T12:00:00+08:00", "publish", None),
    ("300_1", "没有发布时间的文章", "2026-12-05", None, None, None),
    ("050_1", "十一月的文章", "2026-11-20", "2026-11-20T08:00:00+08:00", "publish", None),
    ("010_1", "十月的旧文", "2026-10-15", "2026-10-15T21:00:00+08:00", "mass", None),
]
# msgid, ref_date, read_user, share_user, zaikan_user (likes, comments, favourites not given: NULL)
ARTICLE_DAYS = [
    ("100_1", "2026-12-01", 100, 9, 2), ("100_1", "2026-12-02", 50, 1, 0),
    ("100_2", "2026-12-01", 40, 2, 1), ("100_2", "2026-12-02", 10, 0, 0),
    ("100_3", "2026-12-01", 5, 0, 0),
    ("200_1", "2026-12-03", 100, 5, None), ("200_1", "2026-12-10", 30, 1, None),  # the 10th: past its first 7 days
    ("300_1", "2026-12-05", 10, 1, None),
    ("050_1", "2026-11-20", 80, 6, 1), ("050_1", "2026-11-21", 20, 1, 0),
    ("050_1", "2026-12-02", 30, 2, 0), ("050_1", "2026-12-10", 25, 1, 1),
    ("010_1", "2026-11-05", 5, 0, 0), ("010_1", "2026-12-15", 40, 3, 1),
]
# ref_date, read, share, zaikan, like, comment, collection, new, cancel, cumulate
ACCOUNT_DAYS = [
    ("2026-11-05", 20, 2, 0, 1, 0, 0, 5, 1, 984),
    ("2026-11-20", 200, 16, 4, 8, 2, 4, 20, 5, 999),
    ("2026-11-21", 80, 2, 1, 1, 0, 0, 5, 4, 1000),
    ("2026-12-01", 140, 12, 3, 6, 1, 2, 30, 5, 1025),
    ("2026-12-02", 90, 8, 1, 4, 2, 1, 10, 15, 1020),
    ("2026-12-03", 100, 5, None, 2, 0, 1, 6, 1, 1025),
    ("2026-12-05", 10, 1, None, 0, 0, 0, 2, 2, 1025),
    ("2026-12-10", 50, 4, 2, 3, 1, 0, 4, 0, 1029),
    ("2026-12-15", 40, 2, 1, 1, 0, 0, 3, 2, 1030),
]
ACCOUNT_SOURCES = [("2026-12-01", "message", 200), ("2026-12-02", "friends", 120), ("2026-12-03", "search", 60),
                   ("2026-12-10", "recommend", 50), ("2026-11-20", "message", 300)]
DECEMBER = date(2026, 12, 10)


def fill(connection, account: str = "acme", *, with_account_rows: bool = True) -> None:
    with connection:
        connection.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, 1, ?, ?, ?, ?, NULL, NULL, ?)",
            [(account, msgid, msgid.split("_")[0], title, day, at, kind, url)
             for msgid, title, day, at, kind, url in ARTICLES])
        connection.executemany(
            "INSERT INTO article_daily VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
            [(account, *row) for row in ARTICLE_DAYS])
        if with_account_rows:
            connection.executemany("INSERT INTO account_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   [(account, *row) for row in ACCOUNT_DAYS])
            connection.executemany("INSERT INTO account_sources VALUES (?, ?, ?, ?)",
                                   [(account, *row) for row in ACCOUNT_SOURCES])
        connection.executemany("INSERT INTO article_sources VALUES (?, ?, ?, ?, ?)", [
            (account, "100_1", "2026-12-01", "message", 80), (account, "100_1", "2026-12-01", "moments", 20),
            (account, "200_1", "2026-12-03", "search", 100), (account, "050_1", "2026-12-02", "weird", 5)])


@pytest.fixture
def store():
    connection = open_store(":memory:")
    fill(connection)
    # another account's rows must never leak into acme's report
    fill(connection, "other")
    connection.execute("UPDATE account_daily SET read_user = read_user * 100 WHERE account = 'other'")
    yield connection
    connection.close()


@pytest.fixture
def report(store, tmp_path: Path):
    planned = [
        PlannedPush(datetime(2026, 12, 20, 20, 0, tzinfo=BEIJING), "mass", ["本月还要发的"]),
        PlannedPush(datetime(2027, 1, 5, 20, 0, tzinfo=BEIJING), "mass", ["新年第一篇", "新年<第二篇>"]),
        PlannedPush(datetime(2027, 1, 31, 12, 0, tzinfo=BEIJING), "publish", ["一月底的文章"]),
        PlannedPush(datetime(2027, 2, 1, 8, 0, tzinfo=BEIJING), "draft", ["二月的草稿"]),
    ]
    return build_report(store, "acme", "month", DECEMBER, tmp_path, planned=planned, account_label="艾克姆科技",
                        generated_at=datetime(2026, 12, 31, 9, 30, tzinfo=BEIJING))


# ---- periods -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("period", "day", "start", "end", "label"), [
    ("week", date(2026, 12, 10), date(2026, 12, 7), date(2026, 12, 13), "2026-W50"),
    ("week", date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 4), "2026-W01"),     # the week starts in 2025
    ("week", date(2027, 1, 2), date(2026, 12, 28), date(2027, 1, 3), "2026-W53"),     # ISO week of the old year
    ("week", date(2027, 1, 4), date(2027, 1, 4), date(2027, 1, 10), "2027-W01"),
    ("month", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
    ("month", date(2028, 2, 10), date(2028, 2, 1), date(2028, 2, 29), "2028-02"),    # leap year
    ("quarter", date(2026, 11, 15), date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
    ("quarter", date(2027, 1, 1), date(2027, 1, 1), date(2027, 3, 31), "2027-Q1"),
    ("year", date(2026, 7, 4), date(2026, 1, 1), date(2026, 12, 31), "2026"),
])
def test_period_bounds_and_labels(period, day, start, end, label):
    assert period in PERIODS
    assert period_bounds(period, day) == (start, end)
    assert period_label(period, day) == label


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="unknown period 'day'"):
        period_bounds("day", date(2026, 12, 1))


def test_previous_period_crosses_the_year(store):
    assert collect_figures(store, "acme", "quarter", date(2027, 2, 1))["previous"] == {
        "label": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31"}
    assert collect_figures(store, "acme", "week", date(2026, 1, 1))["previous"]["label"] == "2025-W52"


def test_percent_change_guards_zero_and_unknown():
    assert percent_change(430, 300) == 43.3
    assert percent_change(10, -20) == 150.0  # against the size of a negative net change
    assert percent_change(5, 0) is None
    assert percent_change(None, 3) is None
    assert percent_change(3, None) is None


# ---- figures -------------------------------------------------------------------------------------------

def test_totals_come_from_the_account_rows(report):
    totals = report.figures["totals"]
    assert totals == {"reads": 430, "shares": 32, "zaikan": 7, "likes": 16, "comments": 4, "favourites": 4,
                      "followers_gained": 55, "followers_lost": 25, "followers_net": 30, "followers_end": 1030,
                      "articles_published": 5}
    assert report.figures["previous_totals"] == {
        "reads": 300, "shares": 20, "zaikan": 5, "likes": 10, "comments": 2, "favourites": 4,
        "followers_gained": 30, "followers_lost": 10, "followers_net": 20, "followers_end": 1000,
        "articles_published": 1}


def test_changes_against_the_previous_month(report):
    assert report.figures["changes"] == {
        "reads": 43.3, "shares": 60.0, "zaikan": 40.0, "likes": 60.0, "comments": 100.0, "favourites": 0.0,
        "followers_gained": 83.3, "followers_lost": 150.0, "followers_net": 50.0, "followers_end": 3.0,
        "articles_published": 400.0}


def test_without_account_rows_the_article_rows_are_summed(tmp_path):
    connection = open_store(":memory:")
    fill(connection, with_account_rows=False)
    figures = collect_figures(connection, "acme", "month", DECEMBER)
    assert figures["totals"]["reads"] == 100 + 50 + 40 + 10 + 5 + 100 + 30 + 10 + 30 + 25 + 40
    assert figures["totals"]["shares"] == 9 + 1 + 2 + 5 + 1 + 1 + 2 + 1 + 3
    assert figures["totals"]["likes"] is None  # no row gave it: unknown, not 0
    assert figures["totals"]["followers_net"] is None and figures["totals"]["followers_end"] is None
    assert figures["sources_from"] == "articles"
    assert [(s["source"], s["label"], s["reads"]) for s in figures["sources"]] == [
        ("search", "搜一搜", 100), ("message", "公众号消息", 80), ("moments", "朋友圈", 20), ("weird", "weird", 5)]
    html = build_report(connection, "acme", "month", DECEMBER, tmp_path).html_path.read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot(") == 7 and 'id="chart-followers"' not in html
    assert "暂无数据" in html  # the followers chart's place


def test_a_day_missing_from_the_account_rows_uses_its_articles(store):
    store.execute("DELETE FROM account_daily WHERE account = 'acme' AND ref_date = '2026-12-10'")
    figures = collect_figures(store, "acme", "month", DECEMBER)
    assert figures["totals"]["reads"] == 430 - 50 + (30 + 25)
    assert figures["totals"]["followers_gained"] == 55 - 4


def test_ranking_of_the_articles_published_in_the_month(report):
    ranked = [(a["msgid"], a["reads"], a["reads_first_days"], a["shares"]) for a in report.figures["articles"]]
    assert ranked == [("100_1", 150, 150, 10), ("200_1", 130, 100, 6), ("100_2", 50, 50, 2), ("300_1", 10, 10, 1),
                      ("100_3", 5, 5, 0)]
    assert all(a["first_days_complete"] for a in report.figures["articles"])


def test_first_seven_days_not_yet_pulled_are_marked(store, tmp_path):
    store.execute("INSERT INTO articles VALUES ('acme', '400_1', '400', 1, '新文章', '2026-12-14', NULL, 'publish',"
                  " NULL, NULL, NULL)")
    store.execute("INSERT INTO article_daily (account, msgid, ref_date, read_user) VALUES"
                  " ('acme', '400_1', '2026-12-14', 70)")
    report = build_report(store, "acme", "month", DECEMBER, tmp_path)
    fresh = next(a for a in report.figures["articles"] if a["msgid"] == "400_1")
    assert (fresh["reads_first_days"], fresh["first_days_complete"]) == (70, False)  # data ends on the 15th
    assert '<td class="n">70*</td>' in report.html_path.read_text(encoding="utf-8")


def test_ranking_of_everything_read_and_the_biggest_riser(report):
    ranking = [(r["msgid"], r["reads"], r["previous_reads"], r["published_in_period"])
               for r in report.figures["read_ranking"]]
    assert ranking == [("100_1", 150, None, True), ("200_1", 130, None, True), ("050_1", 55, 100, False),
                       ("100_2", 50, None, True), ("010_1", 40, 5, False), ("300_1", 10, None, True),
                       ("100_3", 5, None, True)]
    riser = report.figures["biggest_riser"]
    assert (riser["msgid"], riser["increase"]) == ("010_1", 35)  # 050_1 fell from 100 to 55


def test_reads_by_source(report):
    assert report.figures["sources_from"] == "account"
    assert [(s["label"], s["reads"], s["percent"]) for s in report.figures["sources"]] == [
        ("公众号消息", 200, 46.5), ("聊天会话", 120, 27.9), ("搜一搜", 60, 14.0), ("推荐", 50, 11.6)]


def test_mass_against_publish(report):
    types = report.figures["publish_types"]
    assert types["mass"] == {"count": 3, "mean_first_days": 68.3, "median_first_days": 50, "label": "群发"}
    assert types["publish"] == {"count": 1, "mean_first_days": 100, "median_first_days": 100, "label": "发布"}


def test_best_hour_and_weekday_need_enough_articles(report):
    figures = report.figures
    # 12:00 on a Thursday did better (100), but with one article; 20:00 on Tuesday had three
    assert [(h["hour"], h["count"], h["mean_first_days"]) for h in figures["publish_hours"]] == [
        (12, 1, 100), (20, 3, 68.3)]
    assert [(w["label"], w["count"]) for w in figures["publish_weekdays"]] == [("周二", 3), ("周四", 1)]
    assert (figures["best_hour"]["hour"], figures["best_weekday"]["label"]) == (20, "周二")


def test_best_hour_with_only_small_samples_takes_the_highest_mean(store):
    figures = collect_figures(store, "acme", "month", date(2026, 11, 1))
    assert (figures["best_hour"]["hour"], figures["best_hour"]["count"]) == (8, 1)
    assert figures["best_weekday"]["label"] == "周五"


def test_daily_series(report):
    daily = report.figures["daily"]
    assert len(daily) == 31
    assert daily[0] == {"date": "2026-12-01", "reads": 140, "shares": 12, "followers_gained": 30,
                        "followers_lost": 5, "followers_net": 25}
    assert daily[3] == {"date": "2026-12-04", "reads": None, "shares": None, "followers_gained": None,
                        "followers_lost": None, "followers_net": None}


def test_figures_json_is_written_beside_the_report(report):
    written = json.loads(report.html_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert written == report.figures
    assert written["account_label"] == "艾克姆科技"
    assert written["generated_at"] == "2026-12-31T09:30:00+08:00"


# ---- HTML ----------------------------------------------------------------------------------------------

def page_without_plotly(html: str) -> str:
    from plotly.offline import get_plotlyjs

    return html.replace(get_plotlyjs(), "")


def test_html_file_name_title_and_footer(report):
    assert report.html_path.name == "report-acme-month-2026-12.html"
    html = report.html_path.read_text(encoding="utf-8")
    assert "<title>艾克姆科技 · 月报 · 2026 年 12 月</title>" in html
    assert "生成于 2026-12-31 09:30 (UTC+08:00)" in html
    assert "430" in html and "↑ 43.3%" in html  # the reads card and its change


def test_html_escapes_titles(report):
    html = report.html_path.read_text(encoding="utf-8")
    assert "年终盘点 &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "第二篇 &lt;b&gt;加粗&lt;/b&gt; &amp; 更多" in html
    assert '<a href="https://mp.weixin.qq.com/s/a1">' in html


def test_html_works_offline_with_plotly_once(report):
    from plotly.offline import get_plotlyjs

    html = report.html_path.read_text(encoding="utf-8")
    assert html.count(get_plotlyjs()) == 1
    assert html.count("Plotly.newPlot(") == 8  # every chart has data in this month
    own = page_without_plotly(html)
    assert not re.search(r"<script[^>]*\bsrc=", own)
    assert not re.search(r"<link\b", own) and "@import" not in own and "url(" not in own
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(https?://[^"'\s>]+)""", own)
    assert external == ["https://mp.weixin.qq.com/s/a1"]  # only the article's own link


def test_html_table_lists_the_months_articles_in_order(report):
    html = report.html_path.read_text(encoding="utf-8")
    table = html[html.index("<tbody>"):html.index("</tbody>")]
    titles = re.findall(r"<td>(?:<a [^>]+>)?([^<]+)", table)
    titles = [t for t in titles if t not in ("群发", "发布", "—")]
    assert titles == ["年终盘点 &lt;script&gt;alert(1)&lt;/script&gt;", "第二篇 &lt;b&gt;加粗&lt;/b&gt; &amp; 更多", "第三篇",
                      "发布的文章", "没有发布时间的文章"]
    assert "十一月的文章" not in table


def test_empty_period_says_so(store, tmp_path):
    # rows of zeros, as WeChat gives for days when nothing happened, are no data either
    store.execute("INSERT INTO account_daily VALUES ('acme', '2027-03-02', 0, 0, 0, 0, 0, 0, 0, 0, 1030)")
    report = build_report(store, "acme", "month", date(2027, 3, 1), tmp_path)
    assert report.figures["has_data"] is False
    assert report.figures["totals"]["reads"] == 0 and report.figures["articles"] == []
    html = report.html_path.read_text(encoding="utf-8")
    assert "本期无数据" in html
    assert "Plotly.newPlot" not in html and "plotly.js" not in html
    summary = report.markdown_path.read_text(encoding="utf-8")
    assert "本期无数据" in summary and "## 下月计划" in summary and "## 数据变化" not in summary


def test_unknown_account_is_an_empty_report(store, tmp_path):
    report = build_report(store, "nobody", "week", DECEMBER, tmp_path)
    assert report.figures["has_data"] is False
    assert report.html_path.name == "report-nobody-week-2026-W50.html"


# ---- Markdown ------------------------------------------------------------------------------------------

def test_markdown_lists_the_published_articles(report):
    text = report.markdown_path.read_text(encoding="utf-8")
    assert report.markdown_path.name == "report-acme-month-2026-12.md"
    assert text.startswith("# 艾克姆科技 月报 · 2026 年 12 月\n")
    published = text.split("## 本月已发布（5 篇）\n\n")[1].split("\n\n")[0].splitlines()
    assert published == [
        "- 12-01（周二） 群发《年终盘点 &lt;script&gt;alert(1)&lt;/script&gt;》阅读 150",
        "- 12-01（周二） 群发《第二篇 &lt;b&gt;加粗&lt;/b&gt; & 更多》阅读 50",
        "- 12-01（周二） 群发《第三篇》阅读 5",
        "- 12-03（周四） 发布《发布的文章》阅读 130",
        "- 12-05（周六） 《没有发布时间的文章》阅读 10",
    ]


def test_markdown_plans_the_next_month_only(report):
    text = report.markdown_path.read_text(encoding="utf-8")
    plan = text.split("## 下月计划\n\n")[1].split("\n\n")[0].splitlines()
    assert plan == ["- 01-05（周二）20:00 群发：《新年第一篇》、《新年&lt;第二篇&gt;》",
                    "- 01-31（周日）12:00 发布：《一月底的文章》"]


def test_markdown_weekly_plan_is_the_following_seven_days(store, tmp_path):
    planned = [PlannedPush(datetime(2026, 12, 13, 20, 0, tzinfo=BEIJING), "mass", ["本周日"]),
               PlannedPush(datetime(2026, 12, 20, 21, 0, tzinfo=BEIJING), "publish", ["下周日"]),
               PlannedPush(datetime(2026, 12, 21, 8, 0, tzinfo=BEIJING), "mass", ["下下周一"])]
    text = build_report(store, "acme", "week", DECEMBER, tmp_path, planned=planned).markdown_path.read_text(
        encoding="utf-8")
    assert "## 下周计划\n\n- 12-20（周日）21:00 发布：《下周日》\n\n" in text
    assert "本周日" not in text and "下下周一" not in text


def test_markdown_best_articles_and_changes(report):
    text = report.markdown_path.read_text(encoding="utf-8")
    best = text.split("## 表现最好的文章\n\n")[1].split("\n\n")[0].splitlines()
    assert best[:2] == ["1. 《年终盘点 &lt;script&gt;alert(1)&lt;/script&gt;》：本月阅读 150，首 7 日阅读 150，分享 10",
                        "2. 《发布的文章》：本月阅读 130，首 7 日阅读 100，分享 6"]
    assert "- 阅读人数 430，上月 300（↑ 43.3%）" in text
    assert "- 收藏 4，上月 4（持平）" in text
    assert "- 关注：新增 55，取消 25，净增 +30（上月 +20），期末累计 1,030（↑ 3.0%）" in text
    assert "- 旧文回暖：《十月的旧文》本月阅读 40，上月 5（多 35）" in text
    assert text.rstrip().endswith("完整报表（图表和全部文章）：report-acme-month-2026-12.html")


def test_markdown_numbers_have_thousands_separators(tmp_path):
    connection = open_store(":memory:")
    connection.execute("INSERT INTO account_daily (account, ref_date, read_user, share_user) "
                       "VALUES ('big', '2026-12-01', 1234567, 8900)")
    text = build_report(connection, "big", "month", DECEMBER, tmp_path).markdown_path.read_text(encoding="utf-8")
    assert "- 阅读人数 1,234,567，上月 —（—）" in text
    assert "- 分享 8,900" in text


# ---- in a browser --------------------------------------------------------------------------------------

@pytest.mark.browser
def test_charts_draw_offline_and_show_titles_as_written(report):
    from publisher.browser import BrowserUnavailable, browser

    requested, errors = [], []
    try:
        with browser() as instance:
            page = instance.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(report.html_path.as_uri())
            page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length >= 8")
            ticks = page.locator("#chart-ranking .ytick text").all_text_contents()
    except BrowserUnavailable as missing:
        pytest.skip(str(missing))
    assert errors == []
    assert [url for url in requested if not url.startswith("file://")] == []
    assert "1. 年终盘点 <script>alert(1)</…" in ticks  # shortened, and shown as written
    assert "4. 第二篇 <b>加粗</b> & 更多" in ticks  # not drawn in bold
