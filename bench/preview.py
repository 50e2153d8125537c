"""`publisher serve` over a generated repository of 1,000 articles: live reload latency and start-up.

    python bench/preview.py [--articles 1000] [--runs 20] [--starts 5] [--keep]

A temporary repository gets a pyproject.toml, a calendar.yaml and 1,000 articles like check_1000.py's
(1–6 KB, a cover beside each), plus the measured article: ~10 KB of Chinese Markdown with code, a
table and formulas (bench/render.py's). `publisher serve` runs as a subprocess (the real command), and
this script is its client, over HTTP:

- start-up: from starting the process to the first answer of `/status`, of the index `/` (1,001
  rows) and of the measured article's page, each from a fresh start; once first with no cache at all
  (the index answers at once, showing unchecked articles as such, and the server checks every article
  in the background and saves check's cache and the index's summaries), then with those caches;
- live reload: the measured article's page is open (its render is cached) and an event stream is
  connected; each run saves the article with new text (a counter), then times
  save → the `{"kind": "article"}` event on /events (target median <= 150 ms), and
  save → the page served with the new text, fetched as soon as the event arrives (target <= 250 ms).
  Runs start only after the background check of all articles has finished, and are 0.4 s apart so
  that each save is a batch of its own.

Target for start-up to the first response: <= 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import check_1000
from _common import Series, article_body, machine, ms, print_table, publisher_command, secs, verdict

EVENT_TARGET = 0.150
PAGE_TARGET = 0.250
START_TARGET = 1.5
KEY = "2026/measured"
CALENDAR = """timezone: Asia/Shanghai
pushes:
  - at: "2026-12-01 08:00"
    mode: publish
    articles: [2026/measured, 2026/a0001]
  - at: "2026-12-08 08:00"
    plan: 计划中的推送
rules:
  min_per_week: 1
"""
FRONT = "---\ntitle: 预览基准：十千字节的中文文章\nauthor: 基准测试\ncover: cover.jpg\nimages:\n  " \
        "cover.jpg: {credit: 云帆科技设计组, license: 自有}\n---\n\n"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy: it is local


def measured_text(counter: int) -> str:
    body = article_body(10_000, seed=2026, counter=counter, code_blocks=3, table=True, inline_math=6, display_math=2)
    return FRONT + f"基准标记 marker-{counter}。\n\n" + body


def generate(root: Path, count: int) -> None:
    check_1000.generate(root, count)
    (root / "calendar.yaml").write_text(CALENDAR, encoding="utf-8")
    folder = root / "content" / KEY
    folder.mkdir(parents=True)
    (folder / "index.md").write_text(measured_text(0), encoding="utf-8")
    shutil.copyfile(root / "content/2026/a0001/cover.jpg", folder / "cover.jpg")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    """`publisher serve` in a subprocess on a free port."""

    def __init__(self, root: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.perf_counter()
        self.process = subprocess.Popen([*publisher_command(), "serve", "--port", str(self.port)], cwd=root,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def first_answer(self, path: str, deadline: float = 60) -> float:
        """Seconds from the process start to the first 200 for `path` (polling every 5 ms)."""
        limit = time.perf_counter() + deadline
        while time.perf_counter() < limit:
            if self.process.poll() is not None:
                sys.exit(f"publisher serve exited {self.process.returncode}:\n"
                         f"{self.process.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                status, _ = get(self.url + path, timeout=30)
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.005)
        sys.exit(f"no answer from {self.url}{path} within {deadline:g} s")

    def status(self) -> dict:
        return json.loads(get(self.url + "/status")[1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Events:
    """The /events stream read in a thread; each article event is stamped with perf_counter on arrival."""

    def __init__(self, url: str):
        self.arrived: list[tuple[float, dict]] = []
        self.ready = threading.Event()
        self.response = _OPENER.open(url + "/events", timeout=600)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.response:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("event: hello"):
                self.ready.set()
            elif line.startswith("data: ") and '"kind"' in line:
                self.arrived.append((time.perf_counter(), json.loads(line[6:])))

    def wait_for(self, key: str, after: int, timeout: float = 10) -> float:
        limit = time.perf_counter() + timeout
        while time.perf_counter() < limit:
            for moment, event in self.arrived[after:]:
                if event.get("kind") == "article" and event.get("key") == key:
                    return moment
            time.sleep(0.0005)
        sys.exit(f"no event for {key} within {timeout:g} s")


def wait_until_checked(server: Server, timeout: float = 600) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        status = server.status()
        if not status["warming"] and status["unchecked"] == 0:
            return time.perf_counter() - start
        time.sleep(0.1)
    sys.exit("the background check of all articles did not finish")


PATHS = ("/status", "/", f"/a/{KEY}")


def measure_starts(root: Path, starts: int) -> tuple[float, float, float, dict[str, list[float]]]:
    """(first start without a check cache: seconds to the index; seconds for the article page asked for
    while the background check runs; seconds until every article was checked; {path: seconds to its
    first answer, one fresh server start per sample} for the later starts)."""
    shutil.rmtree(root / ".publisher-cache", ignore_errors=True)
    server = Server(root)
    try:
        cold = server.first_answer("/")
        time.sleep(1.0)  # the background check is under way
        asked = time.perf_counter()
        if get(server.url + f"/a/{KEY}")[0] != 200:
            sys.exit("the article page did not answer during the background check")
        during = time.perf_counter() - asked
        checked = wait_until_checked(server) + cold
    finally:
        server.stop()  # it saves the summaries; the check cache was saved when the check finished
    later: dict[str, list[float]] = {path: [] for path in PATHS}
    for _ in range(starts):
        for path in PATHS:
            server = Server(root)
            try:
                later[path].append(server.first_answer(path))
            finally:
                server.stop()
    return cold, during, checked, later


def measure_reloads(root: Path, runs: int) -> tuple[list[float], list[float], int]:
    server = Server(root)
    try:
        server.first_answer("/status")
        wait_until_checked(server)
        events = Events(server.url)
        if not events.ready.wait(10):
            sys.exit("the event stream did not say hello")
        get(server.url + f"/a/{KEY}")  # the page is open: its render is cached
        path = root / "content" / KEY / "index.md"
        to_event, to_page, size = [], [], 0
        for counter in range(1, runs + 2):  # the first is a warm-up
            text = measured_text(counter)
            size = len(text.encode())
            seen = len(events.arrived)
            time.sleep(0.4)
            saved = time.perf_counter()
            path.write_text(text, encoding="utf-8")
            arrived = events.wait_for(KEY, seen)
            status, page = get(server.url + f"/a/{KEY}")
            served = time.perf_counter()
            if status != 200 or f"marker-{counter}".encode() not in page:
                sys.exit(f"run {counter}: the page did not have the new text (status {status})")
            if counter > 1:
                to_event.append(arrived - saved)
                to_page.append(served - saved)
        return to_event, to_page, size
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20, help="timed saves (default 20)")
    parser.add_argument("--starts", type=int, default=5, help="server starts per page measured (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repository and print its path")
    args = parser.parse_args()
    if min(args.articles, args.runs, args.starts) < 1:
        parser.error("--articles, --runs and --starts must be at least 1")
    print(f"preview.py — {machine()}")
    root = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    try:
        t0 = time.perf_counter()
        generate(root, args.articles)
        print(f"generated {args.articles} articles + the measured one in {time.perf_counter() - t0:.1f} s; "
              f"command: {' '.join(publisher_command())} serve")
        cold, during, checked, later = measure_starts(root, args.starts)
        to_event, to_page, size = measure_reloads(root, args.runs)
        rows = []
        for series, target in ((Series("save → SSE event", to_event), EVENT_TARGET),
                               (Series("save → re-rendered page served", to_page), PAGE_TARGET)):
            rows.append([series.name, str(len(series.times)), ms(series.median), ms(series.low), ms(series.high),
                         f"<= {target * 1000:g} ms", verdict(series.median, target)])
        print_table(f"live reload, {size:,}-byte article, {args.articles + 1} articles in the repository "
                    "(server in a subprocess, client over HTTP)",
                    ["from saving to", "runs", "median", "min", "max", "target", "verdict"], rows)
        rows = []
        for path, times in later.items():
            series = Series(path, times)
            rows.append([path, str(len(times)), secs(series.median), secs(series.low), secs(series.high),
                         f"<= {START_TARGET:g} s", verdict(series.median, START_TARGET)])
        print_table("start-up: `publisher serve` process start → first HTTP 200 of one page (a fresh start for "
                    "each sample; the check cache and the index's summaries saved by an earlier run)",
                    ["first response of", "starts", "median", "min", "max", "target", "verdict"], rows)
        print(f"first start ever (no cache): the index answered after {secs(cold)} (articles not checked yet "
              f"show as 'checking…'); every article was checked in the background after {secs(checked)}; "
              f"the article's page asked for meanwhile took {ms(during)}")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
