"""The anchor sample (../shared/anchors/sample.md): everything doocs/md and wenyan render, and what they miss."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import SHARED, run_cli

FIXTURE = Path(__file__).parent / "fixtures/anchor-sample"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("anchor")
    shutil.copytree(FIXTURE, root / "sample")
    result = run_cli("build", "sample/index.md", "--out", "out", "--format", "json", cwd=root)
    assert "Traceback" not in result.stderr
    entry = json.loads(result.stdout)["articles"][0]
    html = (root / "out" / entry["content"]).read_text(encoding="utf-8")
    return {"result": result, "entry": entry, "html": html}


def test_fixture_is_the_shared_sample():
    if not (SHARED / "anchors/sample.md").exists():
        pytest.skip("../shared is not beside the repository")
    assert (FIXTURE / "index.md").read_text() == (SHARED / "anchors/sample.md").read_text()


@pytest.mark.parametrize("construct, pattern", [
    ("heading 1 and 2", r"<h1[^>]*>一级标题 Heading 1</h1>.*<h2"),
    ("bold, italic, strikethrough, inline code", r"<strong[^>]*>加粗</strong>.*<em[^>]*>斜体</em>.*line-through[^>]*>删除线<.*<code[^>]*>行内代码</code>"),
    ("external link to a numbered reference", r"Python 官网<sup[^>]*>\[1\]</sup>"),
    ("mp.weixin.qq.com link kept", r'<a href="https://mp.weixin.qq.com/s/RNKDCK2KoyeuMeEs6GUrow"'),
    ("bare URL as text", r"裸链接：https://example.com/raw"),
    ("footnote numbered with the links", r"标准脚注<sup[^>]*>\[2\]</sup>.*\[2\]</span> 脚注内容"),
    ("three-level nested list as rows", r">◦</span>.*>嵌套 B<.*>1\.</span>.*>三级有序 1<"),
    ("task state", r"☐</span>.*待办事项.*☑</span>.*已完成事项"),
    ("block quote with two paragraphs", r"<blockquote[^>]*><p[^>]*>引用块：第一行</p><p[^>]*>引用块：第二段</p></blockquote>"),
    ("GitHub alert as a callout", r">说明</p><p[^>]*>GFM 警告块"),
    ("code with kept indentation", r"<pre[^>]*><code[^>]*>.*<br>&nbsp;&nbsp;&nbsp;&nbsp;"),
    ("table with alignment", r"<table.*text-align:center.*text-align:right"),
    ("inline and display math as SVG", r"行内公式 <span[^>]*><svg.*块级公式.*<section[^>]*><svg"),
    ("local image with caption", r'<img(?=[^>]*src="\./images/local\.png")(?=[^>]*data-w="640")[^>]*>.*本地图片说明'),
    ("horizontal rule", r"<hr"),
    ("references list", r"注释与参考链接"),
])
def test_sample_renders_every_construct(built, construct, pattern):
    assert re.search(pattern, built["html"], re.S), construct


def test_sample_mermaid_diagram_becomes_an_image(built):
    from publisher.browser import chromium_path
    from publisher.render.diagram import find_mermaid_js

    if not chromium_path() or not find_mermaid_js(Path.cwd()):
        pytest.skip("Chromium or mermaid.js is not installed (bash scripts/setup.sh installs both)")
    assert re.search(r'<img(?=[^>]*src="diagrams/[0-9a-f]{64}\.png")[^>]*>', built["html"])
    assert "graph LR" not in built["html"]


def test_sample_remote_image_is_an_error_not_silence(built):
    assert built["result"].returncode == 1
    rules = [f["rule"] for f in built["entry"]["findings"]
             if f["severity"] == "error" and not f["rule"].startswith("compliance/")]  # the shared sample credits no image
    assert rules == ["image/remote"]


def test_sample_is_smaller_than_the_other_renderers(built):
    if not (SHARED / "anchors").exists():
        pytest.skip("../shared is not beside the repository")
    others = [len((SHARED / "anchors" / name).read_bytes())
              for name in ("doocs-md-0.1.4.copy-cite.html", "wenyan-core-3.0.10.default.html")]
    assert len(built["html"].encode()) <= 0.7 * min(others)
