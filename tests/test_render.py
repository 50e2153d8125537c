"""Renderer behaviour that must hold for every article, beyond the golden files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import make_image, write

from publisher.content import load_article
from publisher.project import Project
from publisher.render import default_digest, render_article
from publisher.render.layout import load_theme

FORBIDDEN = [r"\sclass=", r"\sid=", r"<style", r"<script", r"!important", r"font-family", r"var\(--",
             r"data-line=", r"<ul", r"<ol", r"<li"]


def render(tmp_path: Path, body: str, front: str = "title: 测试"):
    path = write(tmp_path / "content/2026/a/index.md", f"---\n{front}\n---\n{body}")
    project = Project(root=tmp_path)
    return render_article(load_article(path, project), project)


@pytest.mark.parametrize("theme", ["default", "ink"])
def test_output_has_nothing_wechat_drops(tmp_path, theme):
    golden = Path(__file__).parent / "golden"
    body = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(golden.glob("*.md")))
    make_image(tmp_path / "content/2026/a/images/photo.png")
    html = render(tmp_path, body, f"title: 测试\ntheme: {theme}").html
    for pattern in FORBIDDEN:
        assert not re.search(pattern, html), pattern


def test_nested_lists_become_indented_rows_with_markers(tmp_path):
    html = render(tmp_path, "- a\n  - b\n    1. c\n").html
    rows = re.findall(r'<section style="([^"]*)"><span[^>]*>([^<]*)</span><section[^>]*>(\w)</section>', html)
    assert [(marker, text) for _, marker, text in rows] == [("•", "a"), ("◦", "b"), ("1.", "c")]
    indents = [re.search(r"margin-left:([\d.]+)em", style) for style, _, _ in rows]
    assert indents[0] is None and float(indents[1].group(1)) < float(indents[2].group(1))


def test_ordered_list_keeps_its_start_and_task_state(tmp_path):
    html = render(tmp_path, "7. seven\n8. eight\n\n- [x] done\n- [ ] todo\n").html
    assert ">7.</span>" in html and ">8.</span>" in html
    assert html.index("☑") < html.index("done") < html.index("☐") < html.index("todo")


def test_links_and_footnotes_share_one_numbering(tmp_path):
    rendered = render(tmp_path, "a[^n] [x](https://x.org) [y](https://x.org) [z](https://z.org)\n\n[^n]: note\n")
    assert [(n.number, n.kind) for n in rendered.references.notes] == [(1, "footnote"), (2, "link"), (3, "link")]
    assert rendered.html.count("[2]</sup>") == 2
    assert "注释与参考链接" in rendered.html and "https://z.org" in rendered.html


def test_code_keeps_indentation_and_lines(tmp_path):
    html = render(tmp_path, "```python\nif x:\n    y = 1\n```\n").html
    assert "<br>&nbsp;&nbsp;&nbsp;&nbsp;" in html
    assert "overflow-x:auto" in html


def test_image_gets_pixel_width_and_caption(tmp_path):
    make_image(tmp_path / "content/2026/a/pic.png", size=(320, 200))
    rendered = render(tmp_path, '![alt text](pic.png "the caption")\n')
    assert 'data-w="320"' in rendered.html and "max-width:100%" in rendered.html
    assert "<figcaption" in rendered.html and "the caption" in rendered.html
    assert [a.src for a in rendered.assets] == ["pic.png"]


def test_math_is_path_svg_in_current_colour(tmp_path):
    html = render(tmp_path, "$a^2+b^2=c^2$\n").html
    assert "<svg" in html and "currentColor" in html
    for dropped in ("<use", "<defs", "<symbol", " id="):
        assert dropped not in html


def test_bad_math_is_an_error_with_its_line(tmp_path):
    rendered = render(tmp_path, "text\n\n$$\n\\frac{\n$$\n")
    finding = next(f for f in rendered.findings if f.rule == "math/invalid")
    assert finding.line == 6 and finding.severity == "error"


def test_raw_html_removals_are_reported_with_lines(tmp_path):
    rendered = render(tmp_path, 'ok\n\n<p onclick="x()">hi</p>\n\n<img src="javascript:alert(1)">\n')
    messages = {(f.line, f.message.split(":")[0]) for f in rendered.findings if f.rule == "html/removed"}
    assert (6, "removed onclick= on <p>") in messages
    assert any(line == 8 and "javascript" in msg for line, msg in messages)
    assert "onclick" not in rendered.html and "javascript" not in rendered.html


def test_chinese_line_breaks_do_not_become_spaces(tmp_path):
    html = render(tmp_path, "第一行\n第二行\nand English\nwords\n").html
    assert "第一行第二行 and English words" in html


def test_text_is_never_rewritten(tmp_path):
    html = render(tmp_path, '"quotes" -- and ... (c)\n').html
    assert '"quotes" -- and ... (c)' in html


def test_digest_defaults_to_the_first_paragraph(tmp_path):
    rendered = render(tmp_path, "## 标题\n\n第一段。第二句。\n\n第二段。\n")
    assert rendered.digest == "第一段。第二句。"
    assert default_digest("句子。" * 50, 120).endswith("。") and len(default_digest("长" * 300, 120)) == 120


def test_theme_from_layouts_overrides_builtin(tmp_path):
    write(tmp_path / "layouts/themes/default/theme.css", "p { color: #123456; }")
    project = Project(root=tmp_path)
    assert "#123456" in load_theme("default", project.layouts_dir).css
    html = render(tmp_path, "para\n").html
    assert "color:#123456" in html


def test_formulas_are_cached_on_disk_across_processes(tmp_path):
    from publisher.render.math import render_math

    svg = render_math("x^2 + y^2", False, tmp_path)
    [cached] = list((tmp_path / "math").glob("*.svg"))
    assert cached.read_text(encoding="utf-8") == svg
    cached.write_text("<svg>from disk</svg>", encoding="utf-8")  # proves the next call reads the file
    assert render_math("x^2 + y^2", False, tmp_path) == "<svg>from disk</svg>"
