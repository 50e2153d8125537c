"""Run every benchmark in bench/ one after another (never in parallel: the machine has 2 cores).

    python bench/run_all.py              # all of them
    python bench/run_all.py render size  # only these

Each script prints its own table; this prints them in order and stops at the first that fails.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ORDER = ["startup", "render", "size", "stats_report", "publish", "check_1000"]  # quick ones first


def scripts() -> list[str]:
    found = sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.name.startswith("_") and p.stem != "run_all")
    return [name for name in ORDER if name in found] + [name for name in found if name not in ORDER]


def main() -> int:
    available = scripts()
    chosen = sys.argv[1:] or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(available)}", file=sys.stderr)
        return 2
    for name in chosen:
        print(f"\n=== python bench/{name}.py", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(BENCH_DIR / f"{name}.py")])
        print(f"=== {name} finished in {time.perf_counter() - start:.0f} s (exit {result.returncode})", flush=True)
        if result.returncode:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
