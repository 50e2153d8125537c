"""Sensitive-word matching: build an automaton of 50,000 words, then scan 1,000 articles, in-process.

    python bench/sensitive.py [--runs 5] [--words 50000] [--articles 1000]

The word list is generated (random 2–6 character CJK strings, plus a few Latin words); the articles
are the usual generated ~3 KB Chinese articles (`_common.article_body`), every tenth with a listed
word slipped in. Timed separately:

- build: normalising every word and building the Aho-Corasick automaton (`sensitive.Matcher`);
  the cache is bypassed, so each run really builds. Target: median <= 1 s.
- scan: `sensitive.check` on 1,000 loaded articles with the automaton already built (the cache
  hit every real run after the first article sees), front matter + body. Target: median <= 2 s.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from _common import Series, article_body, machine, ms, print_table, secs, verdict

BUILD_TARGET = 1.0
SCAN_TARGET = 2.0


def generate_words(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < count:
        if rng.random() < 0.05:
            words.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9))))
        else:
            words.add("".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 6))))
    return sorted(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--articles", type=int, default=1_000)
    args = parser.parse_args()
    from publisher.content import load_article
    from publisher.lint import sensitive
    from publisher.project import Project

    print(f"sensitive.py — {machine()}")
    words = generate_words(args.words)
    with tempfile.TemporaryDirectory(prefix="bench-sensitive-") as tmp:
        root = Path(tmp)
        (root / "words").mkdir()
        (root / "words" / "generated.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
        project = Project(root=root, raw={"compliance": {
            "wordlists": [{"path": "words", "category": "生成", "severity": "error"}]}})

        lists, problems = sensitive.load_lists(project)
        assert not problems, problems
        build_times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            sensitive.Matcher(lists, [])
            build_times.append(time.perf_counter() - t0)

        rng = random.Random(11)
        articles, total_bytes = [], 0
        for i in range(args.articles):
            body = article_body(3_000, seed=i, counter=i, code_blocks=1, inline_math=0, display_math=0)
            if i % 10 == 0:
                body += f"\n结尾提到{rng.choice(words)}。\n"
            path = root / "content" / f"a{i:04d}" / "index.md"
            path.parent.mkdir(parents=True)
            path.write_text(f"---\ntitle: 第 {i} 篇\ndigest: 摘要 {i}\n---\n\n{body}", encoding="utf-8")
            total_bytes += len(body.encode())
            articles.append(load_article(path, project))

        sensitive.check(articles[0], None, project)  # builds and caches the automaton (warm-up)
        scan_times, hits = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            hits = sum(len(sensitive.check(article, None, project)) for article in articles)
            scan_times.append(time.perf_counter() - t0)

    build = Series(f"build automaton, {len(words):,} words", build_times)
    scan = Series(f"scan {len(articles):,} articles ({total_bytes / 1e6:.1f} MB), {hits} hits", scan_times)
    rows = [[s.name, str(len(s.times)), secs(s.median), secs(s.low), secs(s.high), f"{target:.0f} s",
             verdict(s.median, target)] for s, target in ((build, BUILD_TARGET), (scan, SCAN_TARGET))]
    rows.append(["scan, per article", "", ms(scan.median / len(articles)), "", "", "", ""])
    print_table("sensitive words (medians)", ["series", "runs", "median", "min", "max", "target", "verdict"], rows)


if __name__ == "__main__":
    main()
