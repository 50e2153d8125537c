"""Compliance rules: sensitive words, confidential data, image provenance — true positives and traps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import make_image, run_cli, write

from publisher.content import load_article
from publisher.lint import confidential, copyright, sensitive
from publisher.project import Project

SETTINGS = """
[tool.publisher]
timezone = "Asia/Shanghai"

[tool.publisher.compliance]
wordlists = [{path = "words", category = "广告法", severity = "error"}]
allow = ["国家级非物质文化遗产"]
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write(tmp_path / "pyproject.toml", SETTINGS)
    write(tmp_path / "words/ads.txt", "# 极限词\n全网第一\n国家级\nbad word\n")
    return tmp_path


def project_for(root: Path, compliance: dict | None = None) -> Project:
    raw = {"compliance": compliance} if compliance is not None else {
        "compliance": {"wordlists": [{"path": "words", "category": "广告法", "severity": "error"}],
                       "allow": ["国家级非物质文化遗产"]}}
    return Project(root=root, raw=raw)


def findings_for(module, root: Path, body: str, front: str = "title: 标题", compliance: dict | None = None,
                 slug: str = "a"):
    path = write(root / f"content/2026/{slug}/index.md", f"---\n{front}\n---\n\n{body}")
    project = project_for(root, compliance)
    article = load_article(path, project)
    return module.check(article, None, project)


def words(findings):
    return [(f.line, f.column, f.severity) for f in findings]


# ---- sensitive words -----------------------------------------------------------------------------

def test_word_in_body_title_and_digest_is_found_with_line_and_column(site):
    found = findings_for(sensitive, site, "第一段。\n\n我们是全网第一的团队。\n",
                         front="title: 国家级团队\ndigest: 全网第一")
    assert [(f.field, f.line, f.column) for f in found] == [("title", 2, 8), ("digest", 3, 9), (None, 8, 4)]
    body = found[-1]
    assert body.rule == "compliance/sensitive-word" and body.severity == "error"
    assert "全网第一" in body.message and "广告法" in body.message and "我们是全网第一的团队" in body.snippet


def test_full_width_case_and_inserted_characters_are_matched(site):
    found = findings_for(sensitive, site, "一句 全 网\u200b第*一 话。\n\nＢＡＤ　ＷＯＲＤ here.\n")
    assert words(found) == [(5, 4, "error"), (7, 1, "error")]
    assert "written as" in found[0].message


def test_word_split_by_a_soft_line_break_is_matched_but_not_across_paragraphs_or_clauses(site):
    found = findings_for(sensitive, site, "我们是全网\n第一。\n\n覆盖全网\n\n第一步。覆盖全网，第一步。\n")
    assert words(found) == [(5, 4, "error")]


@pytest.mark.parametrize("body", [
    "```\n全网第一\n```\n",
    "~~~text\n国家级\n~~~\n",
    "用 `全网第一` 作为测试输入。\n",
    "见 https://example.com/全网第一 页面。\n",
    "[链接](https://example.com/国家级) 与 <https://example.com/全网第一>\n",
    "国家级非物质文化遗产\n",
    "class assignment with abadwordy text\n",
])
def test_traps_are_not_matched(site, body):
    assert findings_for(sensitive, site, body) == []


def test_image_alt_text_and_caption_are_scanned_but_not_the_file_name(site):
    make_image(site / "content/2026/a/全网第一.png")
    found = findings_for(sensitive, site, '![国家级风景](全网第一.png "全网第一的风景")\n')
    assert [(f.line, f.column) for f in found] == [(5, 3), (5, 20)]


def test_inline_marker_accepts_one_occurrence_as_info_with_the_reason(site):
    body = ('<!-- publisher: allow 全网第一 reason="引用用户原话" -->\n用户说：“全网第一”。\n\n'
            "又一次全网第一。\n")
    found = findings_for(sensitive, site, body)
    assert words(found) == [(6, 6, "info"), (8, 4, "error")]
    assert "引用用户原话" in found[0].message


def test_marker_on_the_same_line(site):
    found = findings_for(sensitive, site, '国家级 <!-- publisher: allow 国家级 reason="机构名称" -->\n')
    assert words(found) == [(5, 1, "info")]


def test_demo_list_is_used_when_nothing_is_configured(tmp_path):
    found = findings_for(sensitive, tmp_path, "这是测试敏感词。\n", compliance={})
    assert words(found) == [(5, 3, "warning")]


def test_word_list_behind_an_environment_variable(tmp_path, monkeypatch):
    private = write(tmp_path / "private/lists/secret.txt", "内部代号\n")
    monkeypatch.setenv("PRIVATE_WORDS", str(private.parent.parent))
    compliance = {"wordlists": [{"path": "$PRIVATE_WORDS/lists", "category": "内部", "severity": "warning"}]}
    found = findings_for(sensitive, tmp_path / "repo", "提到内部代号了。\n", compliance=compliance)
    assert words(found) == [(5, 3, "warning")] and "内部" in found[0].message
    monkeypatch.delenv("PRIVATE_WORDS")
    found = findings_for(sensitive, tmp_path / "repo", "提到内部代号了。\n", compliance=compliance)
    assert [f.rule for f in found] == ["compliance/wordlist"] and "PRIVATE_WORDS" in found[0].message


def test_automaton_is_cached_per_word_list_content():
    lists = [sensitive.WordList(("甲乙",), "k1", "c", "error")]
    assert sensitive.matcher_for(lists, []) is sensitive.matcher_for(list(lists), [])
    assert sensitive.matcher_for(lists, []) is not sensitive.matcher_for([sensitive.WordList(("丙",), "k2", "c", "error")], [])


def test_github_annotation_on_the_line_of_the_word(site):
    write(site / "content/2026/a/index.md", "---\ntitle: 标题\n---\n\n正文。\n\n我们是全网第一。\n")
    result = run_cli("check", "--format", "github", cwd=site)
    assert "Traceback" not in result.stderr
    assert any(line.startswith("::error file=content/2026/a/index.md,line=7,")
               and "compliance/sensitive-word" in line for line in result.stdout.splitlines()), result.stdout


# ---- confidential data ---------------------------------------------------------------------------

def id_number(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, confidential._WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def test_id_number_with_checksum_is_an_error_and_masked(tmp_path):
    good = id_number("11010519491231002")
    bad = good[:-1] + ("3" if good[-1] != "3" else "4")
    found = findings_for(confidential, tmp_path, f"身份证：{good}\n\n错号：{bad}\n")
    assert [(f.line, f.column, f.severity) for f in found] == [(5, 5, "error")]
    assert good not in found[0].message and good not in (found[0].snippet or "")
    assert "ID card" in found[0].message and found[0].rule == "compliance/confidential"


def test_mobile_number_but_not_inside_a_longer_number(tmp_path):
    found = findings_for(confidential, tmp_path, "电话 13812345678。\n\n订单 991381234567812 与 3.13812345678\n")
    assert [(f.line, f.column) for f in found] == [(5, 4)]
    assert "13812345678" not in found[0].message


def test_internal_urls_and_revenue_figures_are_warnings(tmp_path):
    body = ("见 http://wiki.corp/page 和 http://192.168.1.5/x，公开的 https://example.com 没事。\n\n"
            "`curl http://localhost:8000` 是示例。\n\n今年营收 1.2 亿，利润达到 3000 万元。\n")
    found = findings_for(confidential, tmp_path, body)
    assert [(f.line, f.severity) for f in found] == [(5, "warning")] * 2 + [(9, "warning")] * 2
    assert "3000" not in found[3].message


def test_defaults_off_and_a_custom_pattern(tmp_path):
    compliance = {"confidential_defaults": False,
                  "confidential": [{"name": "工单号", "pattern": r"TICKET-\d{6}", "severity": "warning"}]}
    found = findings_for(confidential, tmp_path, "电话 13812345678，工单 TICKET-123456。\n", compliance=compliance)
    assert [(f.column, f.severity) for f in found] == [(19, "warning")] and "工单号" in found[0].message
    assert "TICKET-123456" not in found[0].message


# ---- image provenance ----------------------------------------------------------------------------

PROVENANCE_FRONT = "title: 标题\ncover: cover.jpg"


def test_missing_provenance_for_a_body_image_and_the_cover(tmp_path):
    make_image(tmp_path / "content/2026/a/cover.jpg")
    make_image(tmp_path / "content/2026/a/photo.png")
    found = findings_for(copyright, tmp_path, "正文。\n\n![图](photo.png)\n", front=PROVENANCE_FRONT)
    assert [(f.rule, f.line, f.severity) for f in found] == [
        ("compliance/image-provenance", 3, "error"), ("compliance/image-provenance", 8, "error")]
    assert "cover.jpg" in found[0].message and "photo.png" in found[1].message


def test_front_matter_entry_and_sidecar_file_are_accepted(tmp_path):
    make_image(tmp_path / "content/2026/a/cover.jpg")
    make_image(tmp_path / "content/2026/a/photo.png")
    write(tmp_path / "content/2026/a/photo.png.credit.yaml", "credit: 摄影师\nlicense: CC BY 4.0\n")
    front = PROVENANCE_FRONT + "\nimages:\n  cover.jpg: {credit: 编辑部, license: 自有}"
    body = "正文。\n\n![图](photo.png)\n\n```\n![不是图片](missing.png)\n```\n"
    assert findings_for(copyright, tmp_path, body, front=front) == []


def test_incomplete_sidecar_is_an_error(tmp_path):
    make_image(tmp_path / "content/2026/a/photo.png")
    write(tmp_path / "content/2026/a/photo.png.credit.yaml", "credit: 摄影师\n")
    found = findings_for(copyright, tmp_path, "![图](photo.png)\n")
    assert [f.line for f in found] == [5] and "license" in found[0].message


def test_same_image_with_conflicting_provenance_in_two_articles(tmp_path):
    make_image(tmp_path / "content/2026/a/photo.png")
    (tmp_path / "content/2026/b").mkdir(parents=True)
    shutil.copy(tmp_path / "content/2026/a/photo.png", tmp_path / "content/2026/b/pic.png")  # same bytes
    findings_for(copyright, tmp_path, "![图](photo.png)\n",
                 front="title: A\nimages:\n  photo.png: {credit: 张三, license: CC BY 4.0}")
    found = findings_for(copyright, tmp_path, "![图](pic.png)\n",
                         front="title: B\nimages:\n  pic.png: {credit: 李四, license: 自有}", slug="b")
    assert [(f.rule, f.severity, f.line) for f in found] == [("compliance/image-provenance-conflict", "warning", 7)]
    assert "张三" in found[0].message and "content/2026/a/index.md" in found[0].message
    # the same credit is no conflict
    found = findings_for(copyright, tmp_path, "![图](pic.png)\n",
                         front="title: B\nimages:\n  pic.png: {credit: 张三, license: CC BY 4.0}", slug="b")
    assert found == []
