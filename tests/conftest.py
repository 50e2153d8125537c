from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def make_image(path: Path, size=(900, 383), fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (20, 120, 90)).save(path, format=fmt)
    return path


ARTICLE = """\
---
title: 测试文章
author: 小王
cover: cover.jpg
images:
  cover.jpg: {credit: 测试, license: 自有}
---

第一段正文。
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A content repository with settings and one clean article."""
    write(tmp_path / "pyproject.toml", """
        [tool.publisher]
        default_author = "编辑部"
        timezone = "Asia/Shanghai"
    """)
    write(tmp_path / "content/2026/hello/index.md", ARTICLE)
    make_image(tmp_path / "content/2026/hello/cover.jpg")
    return tmp_path


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m publisher` as a user would, in a separate process."""
    # this checkout's package, whatever another checkout installed in editable mode
    python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONPATH": python_path,
                "GITHUB_ACTIONS": "", **(env or {})}  # a CI that is GitHub Actions must not switch approval on
    return subprocess.run([sys.executable, "-m", "publisher", *args], cwd=cwd, capture_output=True, text=True,
                          env=full_env, timeout=120)
