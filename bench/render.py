"""Render time of a ~10 KB Chinese article with code blocks, a table and formulas, in-process.

    python bench/render.py [--runs 30] [--profile]

One warm-up render first (imports, parser, theme, CSS inliner, Pygments lexers). Every timed run
renders a different text (a counter in the prose and in the code), so no cache of ours can return
an earlier result. Math SVGs are memoised per formula by design, so two series are measured:

- "same formulas": only the prose and code change; the formulas hit the memo after the warm-up;
- "fresh formulas": the counter is also added to every formula, so each one is typeset anew.

Only `render_article` is timed; writing and loading the file happen outside the timer (the load
time is reported separately, for context). Target: median <= 25 ms.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import Series, article_body, machine, ms, print_table, verdict

TARGET = 0.025  # seconds
SIZE = 10_000  # bytes of Markdown body
FORMULAS = 8  # 6 inline, 2 display
FRONT_MATTER = "---\ntitle: 渲染基准：十千字节的中文文章\nauthor: 基准测试\ndigest: 用于测量渲染时间\n---\n\n"


def body(counter: int, fresh_math: bool) -> str:
    return article_body(SIZE, seed=2026, counter=counter, fresh_math=fresh_math,
                        code_blocks=3, table=True, inline_math=6, display_math=2)


def measure(runs: int, fresh_math: bool, start: int) -> tuple[Series, Series, int]:
    from publisher.content import load_article
    from publisher.project import Project
    from publisher.render import render_article

    render_times, load_times, size = [], [], 0
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        root = Path(tmp)
        project = Project(root=root)
        path = root / "content" / "bench" / "index.md"
        path.parent.mkdir(parents=True)
        for i in range(runs + 1):  # the first is the warm-up
            text = FRONT_MATTER + body(start + i, fresh_math)
            path.write_text(text, encoding="utf-8")
            t0 = time.perf_counter()
            article = load_article(path, project)
            t1 = time.perf_counter()
            rendered = render_article(article, project)
            t2 = time.perf_counter()
            errors = [f for f in rendered.findings if f.severity == "error"]
            if errors:
                raise SystemExit(f"the benchmark article does not render cleanly: {errors[0]}")
            if rendered.html.count("<svg") != FORMULAS:
                raise SystemExit(f"expected {FORMULAS} formula SVGs, found {rendered.html.count('<svg')}")
            if i:
                load_times.append(t1 - t0)
                render_times.append(t2 - t1)
            size = len(text.encode())
    label = "fresh formulas every run" if fresh_math else "same formulas (SVG memo hit)"
    return Series(label, render_times), Series("load_article (context)", load_times), size


# (file name ending, function name) → label, for the --profile breakdown
PROFILE_PARTS = [
    (("publisher/render/__init__.py", "render_article"), "render_article (all)"),
    (("publisher/render/markdown.py", "render_body"), "  render_body (parse + walk, incl. math and code)"),
    (("markdown_it/main.py", "parse"), "    markdown-it parse"),
    (("publisher/render/math.py", "render_math"), "    math: render_math (all, memo misses only)"),
    (("ziamath/zmath.py", "fromlatex"), "      ziamath Math.fromlatex (parse + layout)"),
    (("ziamath/zmath.py", "svg"), "      ziamath Math.svg (serialise)"),
    (("publisher/render/math.py", "_compact"), "      ours: math._compact (round, tighten)"),
    (("publisher/render/code.py", "highlight"), "    code highlighting (Pygments)"),
    (("publisher/render/layout.py", "compose"), "  layout.compose (template + css-inline)"),
    (("publisher/render/layout.py", "strip_build_attributes"), "  strip_build_attributes"),
]


def profile(runs: int, fresh_math: bool) -> None:
    """cProfile over `runs` renders: cumulative time of the main parts, per render and as a share."""
    import cProfile
    import pstats

    from publisher.content import load_article
    from publisher.project import Project
    from publisher.render import render_article

    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        root = Path(tmp)
        project = Project(root=root)
        path = root / "content" / "bench" / "index.md"
        path.parent.mkdir(parents=True)
        for i in range(runs + 1):
            path.write_text(FRONT_MATTER + body(200_000 + i, fresh_math), encoding="utf-8")
            article = load_article(path, project)
            if i:
                profiler.enable()
            render_article(article, project)
            profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    total = next(ct for (file, _, name), (_, _, _, ct, _) in stats.items()
                 if file.endswith(PROFILE_PARTS[0][0][0]) and name == "render_article")
    rows = []
    for (suffix, function), label in PROFILE_PARTS:
        cumulative = sum(ct for (file, _, name), (_, _, _, ct, _) in stats.items()
                         if file.replace("\\", "/").endswith(suffix) and name == function)
        if cumulative:
            rows.append([label, ms(cumulative / runs), f"{cumulative / total:.0%}"])
    kind = "fresh formulas" if fresh_math else "same formulas"
    print_table(f"cProfile, {runs} renders, {kind} (times inflated by the profiler; shares are what counts)",
                ["part", "per render", "share of render_article"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed renders per series (default 30)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile both series with cProfile and show where the time goes")
    args = parser.parse_args()
    print(f"render.py — {machine()}")
    same, load, size = measure(args.runs, fresh_math=False, start=1)
    # start far from the first series' counters, so no formula of this series was seen before
    fresh, _, _ = measure(args.runs, fresh_math=True, start=100_000)
    rows = []
    for series in (same, fresh):
        rows.append([series.name, str(len(series.times)), ms(series.median), ms(series.low), ms(series.high),
                     f"{series.median / TARGET:.2f}", verdict(series.median, TARGET)])
    rows.append([load.name, str(len(load.times)), ms(load.median), ms(load.low), ms(load.high), "", ""])
    rows.append(["cost of one fresh formula ((fresh - same) / 8)", "", ms((fresh.median - same.median) / FORMULAS),
                 "", "", "", ""])
    print_table(f"render_article, {size:,}-byte article (3 code blocks, a table, 6 inline + 2 display formulas)",
                ["series", "runs", "median", "min", "max", "median / 25 ms", "target <= 25 ms"], rows)
    if args.profile:
        profile(args.runs, fresh_math=False)
        profile(args.runs, fresh_math=True)


if __name__ == "__main__":
    main()
