"""`publisher publish` against the HTTP sandbox: WeChat calls of a first publish and of a re-run, and the
time of a run with nothing due over a calendar of 1,000 past pushes.

    python bench/publish.py [--runs 5] [--calendar-runs 5] [--pushes 1000] [--profile]

Every run is `publisher publish --now … --format json` as a subprocess (start-up included), in a
temporary git repository, with WECHAT_APP_ID / WECHAT_APP_SECRET / WECHAT_API_BASE pointing at a
sandbox this script starts (`publisher.wechat.sandbox.start_sandbox`), which counts the calls it
receives per endpoint. The ledger is the real `publisher-ledger` branch of that repository.

1. first publish: a fresh site per run (git repository, new sandbox) with one `publish` push of 2
   articles (~3 KB of Chinese text each), 2 body images each (4 distinct JPEGs) and 2 distinct
   covers. Target calls: 1 token + 4 uploadimg + 2 add_material + 1 draft/add + 1 freepublish/submit
   + freepublish/get polls. The wall time of the run is reported (no target).
2. re-run: the same site and sandbox 25 minutes later, nothing due. Target: nothing uploaded or sent
   (0 uploadimg, add_material, draft/add, submit, sendall); a token call would be acceptable.
3. nothing due over 1,000 past pushes (2024-2026, modes draft/publish/mass, 1-2 of 50 articles
   each), `--now` two days after the last one, with
   - the ledger recording every push as published (written with `Ledger.update` in one commit);
   - the ledger empty, so every push is missed (reported as skipped, not sent).
   The two cases run on two copies of the same site, interleaved run by run. Target: <= 2 s each.
   Context rows: the calendar parse and the ledger read timed in this process, without a profiler.

The approval check (`--require-approval`, on by default under GitHub Actions) stays off: the
generated sites have no pull requests, and GITHUB_ACTIONS is removed from the subprocesses' environment.

One untimed round of each scenario comes first. `--profile` adds a cProfile of the 1,000-push runs
(`python -m cProfile -m publisher publish …`, 3 runs per case), to see what dominates. The
subprocesses get PYTHONPATH set to this checkout (and this process puts it first on sys.path), so
the code measured is this repository's `publisher/` even when the pip-installed (editable) package
points at another checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from _common import (
    REPO,
    TOPICS,
    Series,
    article_body,
    jpeg_bytes,
    machine,
    ms,
    print_table,
    publisher_command,
    secs,
    verdict,
)

# this checkout's package in this process too (the sandbox, the ledger writer, the profile), whatever
# checkout a pip editable install points at
sys.path.insert(0, str(REPO))

CALENDAR_TARGET = 2.0  # seconds
PYPROJECT = '[tool.publisher]\ntimezone = "Asia/Shanghai"\ndefault_author = "编辑部"\n'
CREDIT = "{credit: 云帆科技设计组, license: 自有}"
TOKEN = "stable_token"  # the sandbox counts cgi-bin/stable_token under this name
# endpoint → calls expected in a first publish of the 2-article push (None: any number, the polls)
FIRST_TARGET = {TOKEN: 1, "media/uploadimg": 4, "material/add_material": 2, "draft/add": 1,
                "freepublish/submit": 1, "freepublish/get": None}
NOTHING_SENT = ["media/uploadimg", "material/add_material", "draft/add", "freepublish/submit",
                "message/mass/sendall"]
MODES = ["publish", "mass", "draft"]


# ---- running publisher ---------------------------------------------------------------------------

def publisher_env(sandbox) -> dict[str, str]:
    """This checkout first on the path, the sandbox's credentials, and the approval check off even under
    GitHub Actions (GITHUB_ACTIONS=true turns it on; these sites have no pull requests to approve)."""
    python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    outside = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    return {**outside, "PYTHONPATH": python_path, "NO_COLOR": "1",
            "WECHAT_APP_ID": "wxsandbox0000000001", "WECHAT_APP_SECRET": "sandbox-secret-0000000000000000",
            "WECHAT_API_BASE": sandbox.base_url}


def publish(site: Path, sandbox, now: str) -> tuple[float, dict]:
    """One `publisher publish --now <now> --format json`: (wall time, the JSON report)."""
    command = [*publisher_command(), "publish", "--now", now, "--format", "json"]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=site, capture_output=True, env=publisher_env(sandbox))
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or b"Traceback" in result.stderr:
        sys.exit(f"{' '.join(command)} in {site} exited {result.returncode}:\n"
                 f"{result.stdout.decode(errors='replace')[-1500:]}\n{result.stderr.decode(errors='replace')[-2000:]}")
    return elapsed, json.loads(result.stdout)


def measured_package(site: Path, sandbox) -> str:
    """Where the subprocesses import `publisher` from (must be this checkout)."""
    command = [sys.executable, "-c", "import publisher; print(publisher.__file__)"]
    out = subprocess.run(command, cwd=site, capture_output=True, text=True, env=publisher_env(sandbox),
                         check=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(REPO):
        sys.exit(f"the subprocess imports publisher from {out}, not from {REPO}")
    return out


def git_commit_all(root: Path, message: str) -> None:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", message], cwd=root, check=True)


def start(state_dir: Path):
    from publisher.wechat.sandbox import start_sandbox

    return start_sandbox(state_dir)


# ---- scenario 1 and 2: first publish, then a re-run -----------------------------------------------

def article_text(title: str, number: int, figures: list[str]) -> str:
    credits = "".join(f"  {name}: {CREDIT}\n" for name in ["cover.jpg", *figures])
    body = article_body(3_000, seed=number, counter=number, code_blocks=1, inline_math=0, display_math=0)
    first, rest = body.split("\n\n", 1)
    middle = rest.index("\n\n## ", len(rest) // 2) if "\n\n## " in rest[len(rest) // 2:] else len(rest)
    image = [f'![图{i + 1}]({name} "图{i + 1}")' for i, name in enumerate(figures)]
    return ("---\n"
            f"title: {title}\n"
            "author: 编辑部\n"
            "cover: cover.jpg\n"
            f"tags: [{TOPICS[number % len(TOPICS)]}, 基准]\n"
            f"images:\n{credits}"
            "---\n\n"
            f"{first}\n\n{image[0]}\n\n{rest[:middle]}\n\n{image[1]}\n\n{rest[middle:].lstrip()}")


def make_push_site(root: Path, seed: int) -> None:
    """Two articles, each with a distinct cover and two distinct body images; one publish push of both."""
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "calendar.yaml").write_text(
        "timezone: Asia/Shanghai\npushes:\n"
        '  - at: "2026-12-01 08:00"\n    mode: publish\n    articles: [2026/bench-one, 2026/bench-two]\n',
        encoding="utf-8")
    articles = (("bench-one", "发布基准：第一篇文章"), ("bench-two", "发布基准：第二篇文章"))
    for index, (slug, title) in enumerate(articles):
        folder = root / "content" / "2026" / slug
        folder.mkdir(parents=True)
        figures = ["figure-1.jpg", "figure-2.jpg"]
        (folder / "index.md").write_text(article_text(title, seed * 10 + index, figures), encoding="utf-8")
        (folder / "cover.jpg").write_bytes(jpeg_bytes(seed=1000 * seed + 10 * index))
        for number, name in enumerate(figures, start=1):
            (folder / name).write_bytes(jpeg_bytes(640, 360, seed=1000 * seed + 10 * index + number))
    git_commit_all(root, "site")


def first_and_rerun(seed: int) -> dict:
    """A fresh site and sandbox: the first publish, then a re-run with nothing due."""
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        make_push_site(site, seed)
        sandbox = start(Path(tmp) / "sandbox")
        try:
            package = measured_package(site, sandbox)
            sandbox.admin.reset_calls()
            first_time, first = publish(site, sandbox, "2026-12-01 08:05")
            first_counts = sandbox.admin.calls()["counts"]
            results = [p["result"] for p in first["pushes"]]
            if results != ["published"]:
                sys.exit(f"first publish: expected ['published'], found {results}: {first['pushes']}")
            sandbox.admin.reset_calls()
            rerun_time, rerun = publish(site, sandbox, "2026-12-01 08:30")
            rerun_counts = sandbox.admin.calls()["counts"]
            if rerun["pushes"]:
                sys.exit(f"re-run: expected nothing due, found {rerun['pushes']}")
        finally:
            sandbox.stop()
    return {"first_time": first_time, "first_counts": first_counts, "rerun_time": rerun_time,
            "rerun_counts": rerun_counts, "package": package}


# ---- scenario 3: 1,000 past pushes, nothing due ------------------------------------------------------

def make_calendar_site(root: Path, pushes: int, articles: int = 50) -> tuple[list[str], str]:
    """50 short articles and `pushes` pushes at distinct times of 2024-2026; returns (article keys, --now)."""
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    cover = jpeg_bytes()
    keys = []
    for number in range(1, articles + 1):
        key = f"{2024 + number % 3}/article-{number:02d}"
        folder = root / "content" / key
        folder.mkdir(parents=True)
        rng = random.Random(number)
        body = article_body(1_500, seed=number, counter=number, table=False, inline_math=0, display_math=0)
        (folder / "index.md").write_text(
            f"---\ntitle: {rng.choice(TOPICS)}（第 {number} 篇）\nauthor: 编辑部\ncover: cover.jpg\n"
            f"images:\n  cover.jpg: {CREDIT}\n---\n\n{body}", encoding="utf-8")
        (folder / "cover.jpg").write_bytes(cover)
        keys.append(key)
    rng = random.Random(2024)
    first_day = datetime(2024, 1, 1)
    hours = [8, 8.5, 12, 12.5, 20, 20.5]  # distinct slots, so every push id (time + first article) is unique
    slots = sorted(rng.sample(range((datetime(2027, 1, 1) - first_day).days * len(hours)), pushes))
    lines = ["timezone: Asia/Shanghai", "pushes:"]
    last = first_day
    for slot in slots:
        at = first_day + timedelta(days=slot // len(hours), hours=hours[slot % len(hours)])
        chosen = rng.sample(keys, rng.choice([1, 2]))
        lines += [f'  - at: "{at:%Y-%m-%d %H:%M}"', f"    mode: {rng.choice(MODES)}",
                  f"    articles: [{', '.join(chosen)}]"]
        last = max(last, at)
    (root / "calendar.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    git_commit_all(root, "site with a calendar of past pushes")
    return keys, f"{last + timedelta(days=2):%Y-%m-%d %H:%M}"


def write_ledger(root: Path) -> tuple[int, float]:
    """Every push of the calendar recorded as published, in one `Ledger.update`: (records, seconds)."""
    from publisher.calendar import load_calendar
    from publisher.ledger import Ledger
    from publisher.project import load_project

    project = load_project(root)
    calendar = load_calendar(project)
    records = {}
    for push in calendar.pushes:
        records[f"accounts/main/pushes/{push.id}.json"] = {
            "push_id": push.id, "status": "published", "mode": push.mode, "at": push.at.isoformat(),
            "account": "main", "articles": [{"key": key} for key in push.articles], "events": []}
    start_time = time.perf_counter()
    Ledger(root).update(f"bench: {len(records)} pushes already published", lambda snapshot: records)
    return len(records), time.perf_counter() - start_time


def in_process_parts(site: Path, runs: int = 10) -> dict[str, Series]:
    """Context for the 1,000-push runs, in this process without a profiler: the calendar parse and the
    ledger read (a new Ledger each time, so nothing is cached), median of `runs`."""
    from publisher.calendar import load_calendar
    from publisher.ledger import Ledger
    from publisher.project import load_project
    from publisher.publish import push_records

    project = load_project(site)
    account = project.account(None)
    calendar_times, ledger_times = [], []
    for _ in range(runs):
        start_time = time.perf_counter()
        count = len(load_calendar(project).pushes)
        calendar_times.append(time.perf_counter() - start_time)
        start_time = time.perf_counter()
        push_records(Ledger(site).snapshot(), account)
        ledger_times.append(time.perf_counter() - start_time)
    return {"calendar": Series(f"load_calendar (calendar.yaml → {count:,} pushes)", calendar_times),
            "ledger": Series("ledger read (Ledger(...).snapshot() + push_records)", ledger_times)}


def check_calendar_report(report: dict, case: str, pushes: int) -> None:
    results = [p["result"] for p in report["pushes"]]
    if case == "published" and results:
        sys.exit(f"ledger full: expected nothing reported, found {len(results)} pushes ({results[:3]} …)")
    if case == "missed" and (len(results) != pushes or set(results) != {"skipped"}
                             or not all("missed" in p["detail"] for p in report["pushes"])):
        sys.exit(f"ledger empty: expected {pushes} missed pushes reported as skipped, found {len(results)}: "
                 f"{sorted(set(results))}")


def calendar_runs(pushes: int, runs: int, profile: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-publish-calendar-") as tmp:
        full = Path(tmp) / "ledger-full"
        full.mkdir()
        t0 = time.perf_counter()
        _, now = make_calendar_site(full, pushes)
        empty = Path(tmp) / "ledger-empty"
        shutil.copytree(full, empty)
        records, ledger_time = write_ledger(full)
        parts = in_process_parts(full)
        generated = time.perf_counter() - t0
        calendar_bytes = (full / "calendar.yaml").stat().st_size
        sandbox = start(Path(tmp) / "sandbox")
        try:
            sites = {"published": full, "missed": empty}
            for case, site in sites.items():  # untimed: fills the OS file cache
                check_calendar_report(publish(site, sandbox, now)[1], case, pushes)
            times: dict[str, list[float]] = {case: [] for case in sites}
            sandbox.admin.reset_calls()
            for _ in range(runs):
                for case, site in sites.items():
                    elapsed, report = publish(site, sandbox, now)
                    check_calendar_report(report, case, pushes)
                    times[case].append(elapsed)
            calls = sandbox.admin.calls()["counts"]
            profiles = {case: profile_runs(site, sandbox, now) for case, site in sites.items() if profile}
        finally:
            sandbox.stop()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=full, capture_output=True, text=True,
                                check=True).stdout
    return {"times": times, "calls": calls, "now": now, "records": records, "ledger_time": ledger_time,
            "generated": generated, "calendar_bytes": calendar_bytes, "profiles": profiles, "parts": parts,
            "untouched": not status.strip()}


INDENT = "&nbsp;&nbsp;"
PARTS = [  # (label, file, function): cumulative time of that function; indented rows are inside the one above
    ("`publisher.cli.main`, all", "publisher/cli.py", "main"),
    ("load_calendar", "publisher/calendar.py", "load_calendar"),
    (f"{INDENT}yamlstrict.load (PyYAML `compose`, pure Python)", "publisher/yamlstrict.py", "load"),
    (f"{INDENT}calendar._push, every entry (its line numbers, time, id)", "publisher/calendar.py", "_push"),
    ("open_run (WeChat client + ledger)", "publisher/publish.py", "__enter__"),
    (f"{INDENT}wechat.connect (imports wechatpy, requests)", "publisher/wechat/connect.py", "connect"),
    (f"{INDENT}repository_identity (GitPython, git rev-list)", "publisher/publish.py", "repository_identity"),
    ("Reconciler.run", "publisher/publish.py", "run"),
    (f"{INDENT}ledger snapshot (git ls-tree + cat-file of the records)", "publisher/ledger.py", "snapshot"),
    (f"{INDENT}push_records (JSON parse of the records)", "publisher/publish.py", "push_records"),
    (f"{INDENT}plan (push_status of every push)", "publisher/publish.py", "plan"),
    ("JSON report (`json.dumps`)", "json/__init__.py", "dumps"),
]


def profile_runs(site: Path, sandbox, now: str, runs: int = 3) -> dict[str, float]:
    """`python -m cProfile -m publisher publish …` in a fresh interpreter, `runs` times: seconds per part
    of PARTS (cumulative, summed over the runs), all imports, and the whole profile."""
    stats = None
    with tempfile.TemporaryDirectory(prefix="bench-publish-profile-") as tmp:
        for number in range(runs):
            out = Path(tmp) / f"run-{number}.prof"
            command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "publisher", "publish",
                       "--now", now, "--format", "json"]
            subprocess.run(command, cwd=site, capture_output=True, env=publisher_env(sandbox), check=True)
            if stats is None:
                stats = pstats.Stats(str(out))
            else:
                stats.add(str(out))
    table = stats.stats  # {(file, line, function): (cc, nc, tottime, cumtime, callers)}
    found = {"total": stats.total_tt}
    for label, file, function in PARTS:
        found[label] = sum(value[3] for (name, _, func), value in table.items()
                           if func == function and name.replace(os.sep, "/").endswith(file))
    found["all imports (inside the rows above, and before main)"] = max(
        (value[3] for (_, _, func), value in table.items() if func == "_find_and_load"), default=0.0)
    return found


# ---- output --------------------------------------------------------------------------------------

def count_series(rounds: list[dict], key: str, endpoint: str) -> Series:
    return Series(endpoint, [float(r[key].get(endpoint, 0)) for r in rounds])


def count_cell(series: Series) -> str:
    low, high = int(series.low), int(series.high)
    return f"{series.median:g}" + ("" if low == high else f" ({low}–{high})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5,
                        help="fresh sites for the first publish and the re-run (default 5)")
    parser.add_argument("--calendar-runs", type=int, default=5, help="runs of each calendar case (default 5)")
    parser.add_argument("--pushes", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="also cProfile the 1,000-push runs")
    args = parser.parse_args()
    if min(args.runs, args.calendar_runs, args.pushes) < 1:
        parser.error("--runs, --calendar-runs and --pushes must be at least 1")
    print(f"publish.py — {machine()}")
    print(f"command: {' '.join(publisher_command())} publish --now … --format json (PYTHONPATH={REPO})")
    import publisher

    warm = first_and_rerun(seed=0)  # untimed
    print(f"package measured: {warm['package']} (subprocesses), {publisher.__file__} (this process)")
    rounds = [first_and_rerun(seed=run) for run in range(1, args.runs + 1)]
    seen = {e for r in rounds for e in (*r["first_counts"], *r["rerun_counts"])}
    order = list(FIRST_TARGET)
    endpoints = sorted(seen | set(FIRST_TARGET) | set(NOTHING_SENT),
                       key=lambda e: (order.index(e) if e in order else len(order), e))
    rows = []
    for endpoint in endpoints:
        first = count_series(rounds, "first_counts", endpoint)
        rerun = count_series(rounds, "rerun_counts", endpoint)
        expected = FIRST_TARGET.get(endpoint, 0)
        first_ok = (first.low >= 1 if expected is None else first.low == first.high == expected)
        if endpoint == TOKEN:
            rerun_target, rerun_ok = "0 or 1 (acceptable if made)", rerun.high <= 1
        else:
            rerun_target, rerun_ok = "0", rerun.high == 0
        rows.append([endpoint, count_cell(first), "polls (>= 1)" if expected is None else str(expected),
                     "met" if first_ok else "NOT MET", count_cell(rerun), rerun_target,
                     "met" if rerun_ok else "NOT MET"])
    totals = [Series("total", [float(sum(r[key].values())) for r in rounds])
              for key in ("first_counts", "rerun_counts")]
    rows.append(["total", count_cell(totals[0]), "9 + polls", "", count_cell(totals[1]), "", ""])
    print_table(f"WeChat calls per endpoint, counted by the sandbox: median of {args.runs} fresh sites "
                "(min–max when they differ)",
                ["endpoint", "first publish", "target", "verdict", "re-run, nothing due", "target",
                 "verdict"], rows)
    walls = [Series("first publish (2 articles, 4 images, 2 covers)", [r["first_time"] for r in rounds]),
             Series("re-run, nothing due", [r["rerun_time"] for r in rounds])]
    print_table("Wall time of `publisher publish` (subprocess, start-up included)",
                ["run", "runs", "median", "min", "max"],
                [[s.name, str(len(s.times)), secs(s.median), secs(s.low), secs(s.high)] for s in walls])

    result = calendar_runs(args.pushes, args.calendar_runs, args.profile)
    print(f"generated {args.pushes} pushes ({result['calendar_bytes']:,} bytes of calendar.yaml) over 50 "
          f"articles and wrote {result['records']} ledger records in one Ledger.update "
          f"({result['ledger_time']:.2f} s); "
          f"{result['generated']:.1f} s in all; --now {result['now']}; "
          f"sandbox calls during the timed runs: {json.dumps(result['calls']) or '{}'}; "
          f"site working tree untouched: {result['untouched']}")
    rows = []
    for case, label in (("published", f"ledger records all {args.pushes} as published"),
                        ("missed", f"ledger empty: all {args.pushes} missed, reported as skipped")):
        series = Series(label, result["times"][case])
        rows.append([series.name, str(len(series.times)), secs(series.median), secs(series.low),
                     secs(series.high), f"{series.median / CALENDAR_TARGET:.2f}", f"<= {CALENDAR_TARGET:g} s",
                     verdict(series.median, CALENDAR_TARGET)])
    for series in result["parts"].values():
        rows.append([f"{series.name}, in-process (context)", str(len(series.times)), ms(series.median),
                     ms(series.low), ms(series.high), "", "", ""])
    print_table(f"`publisher publish`, nothing due, calendar of {args.pushes} past pushes "
                "(subprocess, start-up included)",
                ["ledger", "runs", "median", "min", "max", "median / target", "target", "verdict"], rows)
    if result["profiles"]:
        cases = list(result["profiles"])
        totals = {case: result["profiles"][case].pop("total") for case in cases}
        rows = [[label] + [f"{result['profiles'][case][label] / totals[case] * 100:.0f} %" for case in cases]
                for label in result["profiles"][cases[0]]]
        print_table("cProfile of the 1,000-push runs (`python -m cProfile -m publisher publish …`, "
                    "3 runs each; shares of the profiled time)",
                    ["part", *[f"ledger {case} ({totals[case]:.2f} s profiled)" for case in cases]], rows)


if __name__ == "__main__":
    main()
