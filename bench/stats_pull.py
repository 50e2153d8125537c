"""Analytics end to end against the sandbox: a year of daily data for 500 articles, pulled over HTTP,
exported as the ledger's JSON lines, then the year's report made from what was pulled.

    python bench/stats_pull.py [--runs 3] [--articles 500]

The sandbox is seeded (`/sandbox/admin/seed`) with `--articles` articles published between 2025-11-01
and 2026-10-31 and its clock set to 2026-11-01 10:00 Beijing time. Each run pulls 2025-11-01..2026-10-31
into a fresh SQLite file with `Puller` and the real `WeChatClient` (the calls are counted by the client),
then `export_files` writes the twelve monthly files, then `build_report(..., "year", ...)` runs on the
pulled data. No target for the pull (the issue asks for the calls and the time); the year report's
target is 5 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from _common import Series, machine, print_table, secs, verdict

FIRST, LAST = date(2025, 11, 1), date(2026, 10, 31)
PULLED_AT = datetime(2026, 11, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))
REPORT_TARGET = 5.0


def pull_once(sandbox, root: Path, run: int) -> tuple[float, float, float, dict, dict]:
    from publisher.stats.export import export_files
    from publisher.stats.pull import Puller, latest_ready_day
    from publisher.stats.report import build_report
    from publisher.stats.store import open_store
    from publisher.wechat.client import WeChatClient
    from publisher.wechat.sandbox import SandboxAccount

    account = SandboxAccount()
    client = WeChatClient(account.app_id, account.app_secret, api_base=sandbox.base_url)
    connection = open_store(root / f"run-{run}.sqlite")
    t0 = time.perf_counter()
    Puller(client, connection, "bench", latest=latest_ready_day(PULLED_AT)).run(FIRST, LAST, explicit=True)
    pulled = time.perf_counter() - t0
    t0 = time.perf_counter()
    months = {f"{FIRST.year + (FIRST.month - 1 + n) // 12}-{(FIRST.month - 1 + n) % 12 + 1:02d}" for n in range(12)}
    files = export_files(connection, "bench", months)
    exported = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = build_report(connection, "bench", "year", date(2026, 6, 1), root / "reports")
    reported = time.perf_counter() - t0
    rows = {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("articles", "article_daily", "article_sources", "account_daily")}
    facts = {"calls": dict(client.calls), "rows": rows, "export_bytes": sum(len(v) for v in files.values()),
             "reads": report.figures["totals"]["reads"]}
    connection.close()
    return pulled, exported, reported, facts, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--articles", type=int, default=500)
    args = parser.parse_args()
    from publisher.wechat.sandbox import SandboxAccount, start_sandbox

    print(f"stats_pull.py — {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-stats-pull-") as tmp:
        root = Path(tmp)
        sandbox = start_sandbox(root / "sandbox", SandboxAccount())
        try:
            sandbox.admin.seed(count=args.articles, start=FIRST.isoformat(), end=LAST.isoformat(), seed=1)
            sandbox.admin.clock_at_least(PULLED_AT.timestamp())
            results = [pull_once(sandbox, root, run) for run in range(args.runs)]
        finally:
            sandbox.stop()
    facts = results[-1][3]
    calls = {name.removeprefix("datacube/"): n for name, n in facts["calls"].items() if name.startswith("datacube/")}
    listed = ", ".join(f"{name} {n}" for name, n in sorted(calls.items()))
    print(f"calls per pull: {sum(calls.values()):,} datacube + {facts['calls'].get('cgi-bin/stable_token', 0)} "
          f"token ({listed})")
    print(f"stored: {', '.join(f'{table} {n:,}' for table, n in facts['rows'].items())}; "
          f"export {facts['export_bytes'] / 1e6:.1f} MB in 13 files; year reads {facts['reads']:,}")
    series = [Series("pull a year (HTTP + SQLite)", [r[0] for r in results]),
              Series("export 12 months (JSON lines)", [r[1] for r in results]),
              Series("year report from the pulled data", [r[2] for r in results])]
    rows = [[s.name, str(len(s.times)), secs(s.median), secs(s.low), secs(s.high),
             f"{REPORT_TARGET:.0f} s" if "report" in s.name else "—",
             verdict(s.median, REPORT_TARGET) if "report" in s.name else ""] for s in series]
    print_table(f"analytics, {args.articles} articles over a year (medians)",
                ["series", "runs", "median", "min", "max", "target", "verdict"], rows)


if __name__ == "__main__":
    main()
