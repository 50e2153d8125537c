"""Start-up: wall time of `publisher --help` as a subprocess, against `python -c pass` as the floor.

    python bench/startup.py [--runs 15]

`publisher` is the console script pip installed beside this interpreter. A wrapper that a shell
would find first (a pyenv shim, a bash script) adds its own start-up; it is measured too, for
context, when there is one. The floor is
the same interpreter running `-c pass`, so it includes everything the interpreter does at start-up
(site-packages .pth hooks too). One untimed run of each first fills the OS file cache.
Target: median <= 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from _common import Series, machine, ms, print_table, publisher_command, timed_run, verdict

TARGET = 0.3  # seconds


def _pyenv_shim() -> str | None:
    """What a shell finds as `publisher` under pyenv (pyenv puts the real bin folder first for us)."""
    root = os.environ.get("PYENV_ROOT")
    shim = Path(root, "shims", "publisher") if root else None
    return str(shim) if shim and shim.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    args = parser.parse_args()
    print(f"startup.py — {machine()}")
    publisher = publisher_command()
    commands = [("python -c pass (floor)", [sys.executable, "-c", "pass"]),
                ("publisher --help", [*publisher, "--help"])]
    for label, wrapper in (("via PATH", shutil.which("publisher")), ("via pyenv shim", _pyenv_shim())):
        if wrapper and Path(wrapper).resolve() != Path(publisher[0]).resolve():
            commands.append((f"publisher --help {label} (context)", [wrapper, "--help"]))
            break
    # interleave the commands run by run, so slow spells of the noisy machine hit all of them alike
    for _, command in commands:
        timed_run(command)
    times: dict[str, list[float]] = {name: [] for name, _ in commands}
    for _ in range(args.runs):
        for name, command in commands:
            times[name].append(timed_run(command))
    results = [Series(name, values) for name, values in times.items()]
    floor = results[0].median
    rows = []
    for result in results:
        is_target = result.name.startswith("publisher --help")
        rows.append([result.name, str(len(result.times)), ms(result.median), ms(result.low), ms(result.high),
                     f"{result.median / floor:.2f}", f"{(result.median - floor) * 1000:+.1f} ms",
                     verdict(result.median, TARGET) if is_target else ""])
    print("commands: " + "; ".join(f"{name}: {' '.join(command)}" for name, command in commands))
    print_table("start-up wall time (subprocess)",
                ["command", "runs", "median", "min", "max", "× floor", "over floor", "target <= 300 ms"], rows)


if __name__ == "__main__":
    main()
