"""Crash injection for the exactly-once tests.

`PUBLISHER_CRASH_AT=<point>` kills the process (exit 137, like SIGKILL) the first time it reaches that
point; `<point>:<n>` the n-th time. Points sit between the steps of publishing and inside the ledger's
write (after the commit is built, before the branch moves). Without the variable this does nothing.
"""

from __future__ import annotations

import os
from collections import Counter

_reached: Counter = Counter()


def checkpoint(point: str) -> None:
    target = os.environ.get("PUBLISHER_CRASH_AT")
    if not target:
        return
    name, _, nth = target.partition(":")
    if name != point:
        return
    _reached[point] += 1
    if _reached[point] == int(nth or 1):
        os._exit(137)
