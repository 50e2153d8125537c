"""The analytics report: `build_report` for a year of a busy account, in-process.

    python bench/stats_report.py [--runs 5] [--articles 500]

The database is the made-up sample of publisher/stats/sample.py in a temporary SQLite file: 500 articles
published over 2026, each with a daily row for the 60 days after publication (a decay curve), read
sources for every article-day, and the account's daily totals, sources and followers. Timed:

- year: `build_report(..., "year", ...)`, all three files written (HTML with plotly.js embedded, Markdown,
  figures .json). Target: median <= 5 s.
- month: the same for December, for comparison (no target).

The first run of each pays for importing plotly; it is counted, as the CLI pays it too.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import Series, machine, print_table, secs, verdict

YEAR_TARGET = 5.0


def time_reports(connection: sqlite3.Connection, period: str, runs: int, out_dir: Path) -> list[float]:
    from publisher.stats.report import build_report

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        build_report(connection, "bench", period, date(2026, 12, 15), out_dir, account_label="基准测试")
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--articles", type=int, default=500)
    args = parser.parse_args()
    from publisher.stats.sample import fill_sample
    from publisher.stats.store import open_store

    print(f"stats_report.py — {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp:
        root = Path(tmp)
        connection = open_store(root / "stats.sqlite")
        t0 = time.perf_counter()
        fill_sample(connection, account="bench", articles=args.articles)
        filled = time.perf_counter() - t0
        counts = {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                  for table in ("article_daily", "article_sources", "account_daily")}
        year = Series(f"year report, {args.articles} articles", time_reports(connection, "year", args.runs, root))
        month = Series("month report (December)", time_reports(connection, "month", args.runs, root))
        html_bytes = next(root.glob("report-bench-year-*.html")).stat().st_size
        connection.close()

    print(f"database: {counts['article_daily']:,} article-days, {counts['article_sources']:,} article sources, "
          f"{counts['account_daily']} account days, filled in {secs(filled)}; year HTML {html_bytes / 1e6:.1f} MB")
    rows = [[year.name, str(len(year.times)), secs(year.median), secs(year.low), secs(year.high),
             f"{YEAR_TARGET:.0f} s", verdict(year.median, YEAR_TARGET)],
            [month.name, str(len(month.times)), secs(month.median), secs(month.low), secs(month.high), "—", ""]]
    print_table("analytics report (medians)", ["series", "runs", "median", "min", "max", "target", "verdict"], rows)


if __name__ == "__main__":
    main()
