"""`publisher check` over a generated repository of 1,000 Chinese articles, cold and warm.

    python bench/check_1000.py [--articles 1000] [--cold 3] [--warm 5] [--keep]

A temporary repository (tempfile) gets a pyproject.toml with [tool.publisher] and articles
content/2026/a0001/index.md … of 1–6 KB each (1–2.5 KB when they hold math): front matter (title of at most 32 characters, author,
`cover: cover.jpg` with a small Pillow JPEG beside it, `images:` credits), headings, paragraphs,
lists, code, a table, and one formula in one article of three (inline or display; unique per article, so the per-formula
SVG memo does not help across articles).

`publisher check --format json` runs as a subprocess, so start-up is included:
- cold: `.publisher-cache/` deleted before each run;
- warm: run again with nothing changed (every article must come back from the cache).

Targets: cold <= 20 s, warm <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    TOPICS,
    Series,
    article_body,
    jpeg_bytes,
    machine,
    print_table,
    publisher_command,
    secs,
    verdict,
)

COLD_TARGET = 20.0
WARM_TARGET = 2.0
PYPROJECT = """[project]
name = "bench-content"
version = "0.0.0"

[tool.publisher]
content = "content"
theme = "default"
timezone = "Asia/Shanghai"
default_author = "编辑部"
"""
AUTHORS = ["李明", "王芳", "张伟", "刘洋", "陈静", "编辑部"]


def front_matter(number: int, rng: random.Random) -> str:
    title = f"{rng.choice(TOPICS)}实践笔记（第 {number} 篇）"
    assert len(title) <= 32, title
    return ("---\n"
            f"title: {title}\n"
            f"author: {rng.choice(AUTHORS)}\n"
            "cover: cover.jpg\n"
            f"tags: [{rng.choice(TOPICS)}, 基准]\n"
            "images:\n"
            "  cover.jpg: {credit: 云帆科技设计组, license: 自有}\n"
            "---\n\n")


def generate(root: Path, count: int) -> int:
    """Write the repository; returns the total bytes of Markdown."""
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    cover = jpeg_bytes()
    total = 0
    for number in range(1, count + 1):
        rng = random.Random(number)
        folder = root / "content" / "2026" / f"a{number:04d}"
        folder.mkdir(parents=True)
        with_math = number % 3 == 0
        # a formula's SVG is 5-12 KB of HTML, so articles with math stay short enough to remain under
        # WeChat's 20,000-character limit (the corpus is meant to be clean, as a real one would be)
        size = rng.randint(1_000, 2_500) if with_math else rng.randint(1_000, 6_000)
        body = article_body(size, seed=number, counter=number, fresh_math=True,
                            code_blocks=rng.choice([0, 1, 1, 2]), table=True,
                            inline_math=1 if number % 6 == 3 else 0, display_math=1 if number % 6 == 0 else 0)
        text = front_matter(number, rng) + body
        (folder / "index.md").write_text(text, encoding="utf-8")
        (folder / "cover.jpg").write_bytes(cover)
        total += len(text.encode())
    return total


def run_check(root: Path, count: int, expect_cached: bool) -> tuple[float, dict]:
    command = [*publisher_command(), "check", "--format", "json"]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=root, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1) or b"Traceback" in result.stderr:
        sys.exit(f"publisher check exited {result.returncode}:\n{result.stderr.decode(errors='replace')[-2000:]}")
    payload = json.loads(result.stdout)
    files = payload["files"]
    cached = sum(f["cached"] for f in files)
    if len(files) != count:
        sys.exit(f"expected {count} files in the report, found {len(files)}")
    if expect_cached and cached != count:
        sys.exit(f"warm run: expected all {count} articles from the cache, found {cached}")
    if not expect_cached and cached:
        sys.exit(f"cold run: expected no cached articles, found {cached}")
    return elapsed, payload["summary"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--cold", type=int, default=3, help="cold runs (default 3)")
    parser.add_argument("--warm", type=int, default=5, help="warm runs (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repository and print its path")
    args = parser.parse_args()
    if min(args.articles, args.cold, args.warm) < 1:
        parser.error("--articles, --cold and --warm must be at least 1")
    print(f"check_1000.py — {machine()}")
    tmp = tempfile.mkdtemp(prefix="bench-check-")
    root = Path(tmp)
    try:
        t0 = time.perf_counter()
        markdown_bytes = generate(root, args.articles)
        print(f"generated {args.articles} articles, {markdown_bytes / 1e6:.2f} MB of Markdown, "
              f"in {time.perf_counter() - t0:.1f} s; command: {' '.join(publisher_command())} check --format json")
        cold, warm, summary = [], [], {}
        for _ in range(args.cold):
            shutil.rmtree(root / ".publisher-cache", ignore_errors=True)
            elapsed, summary = run_check(root, args.articles, expect_cached=False)
            cold.append(elapsed)
        for _ in range(args.warm):  # the last cold run left a complete cache
            elapsed, _ = run_check(root, args.articles, expect_cached=True)
            warm.append(elapsed)
        print(f"report summary: {json.dumps(summary, ensure_ascii=False)}")
        rows = []
        for series, target in ((Series("cold (cache deleted)", cold), COLD_TARGET),
                               (Series("warm (nothing changed)", warm), WARM_TARGET)):
            rows.append([series.name, str(len(series.times)), secs(series.median), secs(series.low),
                         secs(series.high), f"{series.median / target:.2f}", f"<= {target:g} s",
                         verdict(series.median, target)])
        rows.append(["cold per article", "", f"{sorted(cold)[len(cold) // 2] / args.articles * 1000:.1f} ms",
                     "", "", "", "", ""])
        print_table(f"publisher check --format json, {args.articles} articles (subprocess, start-up included)",
                    ["run", "runs", "median", "min", "max", "median / target", "target", "verdict"], rows)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
