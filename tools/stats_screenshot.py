"""The analytics report's screenshot for the user guide (docs/images/stats-report-month.png).

    python tools/stats_screenshot.py [--month 2026-11] [--keep DIR]

Builds the made-up sample database of publisher/stats/sample.py (a year of an account publishing 500
articles), renders that month's report and photographs the whole page at 1200 px with Debian's headless
Chromium (publisher.browser; never `playwright install`), once every chart has been drawn.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's publisher
sys.path.insert(0, str(REPO / "tools"))
TARGET = REPO / "docs" / "images" / "stats-report-month.png"
WIDTH = 1200


def render(month: date, out_dir: Path) -> Path:
    from publisher.stats.report import build_report, period_bounds
    from publisher.stats.sample import fill_sample
    from publisher.stats.store import open_store

    connection = open_store(":memory:")
    fill_sample(connection, account="fanshu")
    # made on the 2nd at 09:00, the morning after the month's last numbers came in
    generated = datetime.combine(period_bounds("month", month)[1] + timedelta(days=2), time(9),
                                 timezone(timedelta(hours=8)))
    report = build_report(connection, "fanshu", "month", month, out_dir, account_label="帆书 FanShu",
                          generated_at=generated)
    return report.html_path


def photograph(page_path: Path, target: Path) -> Path:
    from docs_screenshots import shrink

    from publisher.browser import browser

    with browser() as instance:
        page = instance.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
        page.goto(page_path.resolve().as_uri())
        page.wait_for_load_state("load")
        # every chart <div> holds an <svg class="main-svg"> once plotly has drawn it
        page.wait_for_function("[...document.querySelectorAll('.plotly-graph-div')]"
                               ".every(div => div.querySelector('.main-svg'))")
        page.evaluate("document.fonts.ready")
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)
    return shrink(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-11", help="YYYY-MM of the sample year 2026")
    parser.add_argument("--keep", type=Path, help="write the report into this folder and keep it")
    args = parser.parse_args()
    month = date.fromisoformat(f"{args.month}-01")
    with tempfile.TemporaryDirectory(prefix="stats-screenshot-") as folder:
        html_path = render(month, args.keep or Path(folder))
        photograph(html_path, TARGET)
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
