"""Copywriting: true positives for each kind, protected regions byte for byte, `publisher fix` idempotent."""

from __future__ import annotations

import json
import re

import pytest
from conftest import run_cli, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.content import load_article
from publisher.fix import fix_text
from publisher.lint import copywriting
from publisher.lint.copywriting import fix_line
from publisher.project import load_project


@pytest.mark.parametrize("line, expected", [
    ("这是一个test句子", "这是一个 test 句子"),  # spacing between Chinese and Latin text
    ("版本2026年发布", "版本 2026 年发布"),  # and numbers
    ("今天天气很好,我们出去玩", "今天天气很好，我们出去玩"),  # full-width punctuation in Chinese sentences
    ("太好了!!!", "太好了！"),  # repeated punctuation
    ("真的吗？？", "真的吗？"),
    ("真的吗??", "真的吗？"),
    ("结束了。。", "结束了。"),
])
def test_each_kind_is_corrected(line, expected):
    assert fix_line(line) == expected
    assert fix_line(expected) == expected


@pytest.mark.parametrize("line", [
    "这是一个测试[^1]。",  # footnote reference: markup, no space before it
    "参见[官方文档](https://example.com)说明",  # link brackets
    "见[链接][ref]这里",
    "中文![图](a.png)中文",
    "数据来源[1]",
])
def test_markdown_brackets_are_not_prose(line):
    assert fix_line(line) == line


def test_link_text_is_still_corrected():
    assert fix_line("我们用[Git仓库](https://git-scm.com)管理") == "我们用[Git 仓库](https://git-scm.com)管理"


def test_check_command_reports_copywriting(repo):
    write(repo / "content/2026/mixed/index.md", "---\ntitle: 标题\n---\n\n用Python写代码[^1]。\n\n[^1]: 注释\n")
    result = run_cli("check", "content/2026/mixed", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    findings = [f for file in json.loads(result.stdout)["files"] for f in file["findings"]
                if f["rule"] == "compliance/copywriting"]
    assert [(f["line"], f["severity"]) for f in findings] == [(5, "warning")]
    assert "expected '用 Python 写代码" in findings[0]["message"]


def test_english_prose_is_left_alone():
    assert fix_line("Hello, world! Is it?? Fine.") == "Hello, world! Is it?? Fine."


ARTICLE = """\
---
title: 中文abc标题,好!!!
author: 小王
---

这是一个test句子,很好!!!

```python
x = "中文abc,好!!!"
```

行内`code中文abc,好!!`和[链接abc](https://example.com/中文abc?q=1,2)好吗？？

见https://example.com/路径abc，以及<https://example.com/中文x>。

<div>
中文abc,好!!!
</div>

    缩进代码中文abc,好!!!

![图片abc](pic中文abc.png)

[ref]: https://example.com/中文abc,好
"""

PROTECTED = [
    "title: 中文abc标题,好!!!",
    '```python\nx = "中文abc,好!!!"\n```',
    "`code中文abc,好!!`",
    "(https://example.com/中文abc?q=1,2)",
    "https://example.com/路径abc",
    "<https://example.com/中文x>",
    "<div>\n中文abc,好!!!\n</div>",
    "    缩进代码中文abc,好!!!",
    "(pic中文abc.png)",
    "[ref]: https://example.com/中文abc,好",
]


def test_check_reports_prose_only_with_line_column_and_suggestion(repo):
    path = write(repo / "content/2026/mixed/index.md", ARTICLE)
    project = load_project(repo)
    found = copywriting.check(load_article(path, project), None, project)
    assert {f.rule for f in found} == {"compliance/copywriting"}
    assert {f.severity for f in found} == {"warning"}
    assert [f.line for f in found] == [6, 12, 22]  # never the front matter, code, HTML or the definition
    first = found[0]
    assert first.column == 5 and first.snippet == "这是一个 test 句子，很好！"
    assert "test 句子" in first.message


def test_fix_keeps_protected_regions_byte_for_byte(repo):
    path = write(repo / "content/2026/mixed/index.md", ARTICLE)
    before = path.read_bytes()
    result = run_cli("fix", "content/2026/mixed/index.md", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "content/2026/mixed/index.md" in result.stdout
    after = path.read_bytes()
    assert after != before
    for region in PROTECTED:
        assert before.count(region.encode()) == 1 and after.count(region.encode()) == 1, region
    assert after.split(b"---\n", 2)[1] == before.split(b"---\n", 2)[1]  # the front matter
    assert "这是一个 test 句子，很好！".encode() in after
    assert "好吗？".encode() in after and "？？".encode() not in after


def test_fix_is_idempotent_and_check_mode_exit_codes(repo):
    path = write(repo / "content/2026/mixed/index.md", ARTICLE)
    original = path.read_bytes()
    result = run_cli("fix", "--check", cwd=repo)
    assert result.returncode == 1 and "would change content/2026/mixed/index.md" in result.stdout
    assert path.read_bytes() == original  # --check writes nothing
    assert run_cli("fix", cwd=repo).returncode == 0
    fixed = path.read_bytes()
    second = run_cli("fix", cwd=repo)
    assert second.returncode == 0 and "nothing to change" in second.stdout
    assert path.read_bytes() == fixed
    assert run_cli("fix", "--check", cwd=repo).returncode == 0
    assert not list(path.parent.glob("*.tmp"))


def test_fix_keeps_crlf_line_endings(tmp_path):
    text = "---\r\ntitle: 标题abc\r\n---\r\n\r\n中文abc\r\n"
    assert fix_text(text) == "---\r\ntitle: 标题abc\r\n---\r\n\r\n中文 abc\r\n"


def test_fix_of_a_missing_path_is_a_usage_error(repo):
    assert run_cli("fix", "nope.md", cwd=repo).returncode == 2


# ---- property: generated mixtures of Chinese, English, punctuation and code --------------------------

_words = st.sampled_from(["中文", "测试", "你好", "abc", "Python", "2026", "GitHub", "的", "API", "数据库", "v2"])
_punct = st.sampled_from([",", "，", "!", "！！", "?", "？？", "。", "。。", ":", " ", ""])
_prose = st.lists(st.one_of(_words, _punct), min_size=1, max_size=12).map("".join)
_code = st.lists(st.one_of(_words, _punct), min_size=1, max_size=6).map(lambda parts: "".join(parts).replace("`", ""))


@st.composite
def documents(draw):
    blocks, protected = [], []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["prose", "inline", "link", "fence"]))
        if kind == "prose":
            blocks.append(draw(_prose))
        elif kind == "inline":
            span = f"`{draw(_code)}`"
            protected.append(span)
            blocks.append(draw(_prose) + span + draw(_prose))
        elif kind == "link":
            dest = f"(https://example.com/{draw(_code).replace(' ', '').replace(')', '')})"
            protected.append(dest)
            blocks.append(draw(_prose) + f"[{draw(_prose)}]" + dest)
        else:
            fence = f"```\n{draw(_code)}\n{draw(_prose)}\n```"
            protected.append(fence)
            blocks.append(fence)
    front = f"---\ntitle: {draw(_prose)!r}\n---\n\n"
    return front + "\n\n".join(blocks) + "\n", protected, front


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_fix_is_idempotent_and_never_touches_code_urls_or_front_matter(doc):
    text, protected, front = doc
    once = fix_text(text)
    assert fix_text(once) == once
    assert once.startswith(front)
    for region in protected:
        assert once.count(region) >= text.count(region), region
    assert re.sub(r"\s", "", once).count("`") == re.sub(r"\s", "", text).count("`")
