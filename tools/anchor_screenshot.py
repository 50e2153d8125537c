"""Build the anchor sample (tests/fixtures/anchor-sample = ../shared/anchors/sample.md) and take its
390 px screenshot for the README: `python tools/anchor_screenshot.py [--dark]`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from publisher.browser import screenshot

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copytree(REPO / "tests/fixtures/anchor-sample", root / "sample")
        subprocess.run([sys.executable, "-m", "publisher", "build", "sample/index.md", "--out", "out"], cwd=root,
                       check=False, capture_output=True)
        target = REPO / "docs/images/sample-390px.png"
        screenshot(root / "out/sample/preview.html", target, width=390)
        print(f"wrote {target.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
