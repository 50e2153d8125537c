"""WeChat's article-structure spec: the static linter and the layout (browser) mode.

The fixtures and cases.json come from WeChat's spec repository, in shared/wechat/structure-spec beside
this repository. Each bad case names the API keys it must trigger; good cases must pass without errors.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from publisher.findings import Finding
from publisher.lint.layout import LayoutLinter, browser_available, lint_html_in_browser
from publisher.lint.structure import STATIC_RULES, lint_html

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "wechat" / "structure-spec"
CASES = json.loads((SPEC / "cases.json").read_text(encoding="utf-8")) if (SPEC / "cases.json").exists() else []
needs_spec = pytest.mark.skipif(not CASES, reason=f"WeChat structure-spec fixtures not found in {SPEC}")
needs_browser = pytest.mark.skipif(
    "not browser_available()", reason="Playwright or /usr/bin/chromium missing or not starting (layout mode)"
)


def cases(kind: str, *, layout: bool | None = None) -> list:
    selected = [
        c for c in CASES
        if c["kind"] == kind and not c.get("skip") and (layout is None or c.get("requireLayout") is layout)
    ]
    return [pytest.param(c, id=c["id"]) for c in selected] or [pytest.param(None, id="no-cases")]


def fixture_html(case: dict) -> str:
    return (SPEC / case["file"]).read_text(encoding="utf-8")


def rules(findings: list[Finding], severity: str | None = None) -> set[str]:
    return {f.rule for f in findings if severity is None or f.severity == severity}


def keys(html: str) -> set[str]:
    return {f.rule.removeprefix("structure/") for f in lint_html(html, "t.html")}


def errors(html: str) -> set[str]:
    return {f.rule.removeprefix("structure/") for f in lint_html(html, "t.html") if f.severity == "error"}


# ---------------------------------------------------------------------------------------------------
# The spec's fixtures


@needs_spec
@pytest.mark.parametrize("case", cases("bad", layout=False))
def test_bad_fixture_static(case):
    if case is None:
        pytest.skip("no such cases")
    found = rules(lint_html(fixture_html(case), case["file"]))
    for key in case["expectInvalidKeys"]:
        assert f"structure/{key}" in found, f"{case['id']}: {case['desc']}"


@needs_spec
@pytest.mark.parametrize("case", cases("good"))
def test_good_fixture_static_has_no_errors(case):
    if case is None:
        pytest.skip("no such cases")
    findings = lint_html(fixture_html(case), case["file"])
    assert [f for f in findings if f.severity == "error"] == []


@needs_spec
@pytest.mark.browser
@needs_browser
@pytest.mark.parametrize("case", cases("bad", layout=True))
def test_bad_fixture_layout(case):
    if case is None:
        pytest.skip("no such cases")
    found = rules(lint_html_in_browser(fixture_html(case), case["file"]))
    for key in case["expectInvalidKeys"]:
        assert f"structure/{key}" in found, f"{case['id']}: {case['desc']}"


@needs_spec
@pytest.mark.browser
@needs_browser
@pytest.mark.parametrize("case", cases("good"))
def test_good_fixture_layout_has_no_errors(case):
    if case is None:
        pytest.skip("no such cases")
    findings = lint_html_in_browser(fixture_html(case), case["file"])
    assert [f for f in findings if f.severity == "error"] == []


@needs_spec
def test_static_lint_is_fast():
    small = (SPEC / "fixtures/bad/JAk9Sa9c7cCu9sX5pNIcZg.html").read_text(encoding="utf-8")  # ~10 KB
    large = (SPEC / "fixtures/bad/xKpKjTmXCHUqrTWkQ6h6yA.html").read_text(encoding="utf-8")  # ~1.8 MB
    lint_html(small, "warm.html")
    start = time.perf_counter()
    for _ in range(10):
        lint_html(small, "small.html")
    assert (time.perf_counter() - start) / 10 < 0.05  # ~2 ms here; loose for slow CI machines
    start = time.perf_counter()
    lint_html(large, "large.html")
    assert time.perf_counter() - start < 3.0  # ~0.4 s here


# ---------------------------------------------------------------------------------------------------
# Finding fields and inputs


def test_finding_fields_and_line_offset():
    html = "<section>\n  <p>ok</p>\n  <span style=\"text-align: start\">x</span>\n</section>"
    [finding] = [f for f in lint_html(html, "posts/a.md", line_offset=10) if f.rule == "structure/text-align"]
    assert finding.path == "posts/a.md"
    assert finding.line == 13
    assert finding.severity == "error"
    assert "text-align" in finding.message and "left" in finding.message
    assert finding.snippet.startswith('<span style="text-align: start">')
    assert len(finding.snippet) <= 120


def test_snippet_is_shortened():
    html = f'<section style="text-align: end">{"很长的文字" * 100}</section>'
    [finding] = lint_html(html, "a.html")
    assert len(finding.snippet) <= 120 and finding.snippet.endswith("…")


def test_full_document_and_empty_input():
    doc = "<!DOCTYPE html><html><head><title>t</title></head><body><p style='caret-color: transparent'>x</p></body></html>"
    assert keys(doc) == {"caret-color"}
    assert lint_html("", "a.html") == []
    assert lint_html("   \n", "a.html") == []
    assert lint_html("just text", "a.html") == []


def test_rules_are_registered_by_name():
    names = [name for name, _ in STATIC_RULES]
    assert len(names) == len(set(names))
    assert {"opacity", "caret-color", "line-height", "width", "height", "text-align", "animate-begin", "pre",
            "nestNodes", "font-family", "darkmode-low-contrast", "important"} <= set(names)


# ---------------------------------------------------------------------------------------------------
# 1.1 opacity, 1.2 caret-color


def test_opacity_zero_image():
    assert "opacity" in errors('<section><img data-w="1080" style="width:100%;opacity: 0;"></section>')


def test_opacity_zero_container_of_text():
    assert "opacity" in errors('<section style="opacity:0"><p>看不见的文字</p></section>')


def test_opacity_near_misses():
    assert "opacity" not in keys('<img style="opacity: 0.5" data-w="300">')
    assert "opacity" not in keys('<section style="opacity:0;height:0"><p>&nbsp;</p></section>')
    assert "opacity" not in keys('<svg><rect opacity="0" style="opacity:0"></rect></svg>')


def test_caret_color_transparent():
    assert "caret-color" in errors('<p style="caret-color: rgba(0, 0, 0, 0)">x</p>')
    assert "caret-color" in errors('<p style="caret-color: transparent">x</p>')
    assert "caret-color" not in keys('<p style="caret-color: rgb(154, 154, 154)">x</p>')


# ---------------------------------------------------------------------------------------------------
# 1.3 line-height

LONG = "这是一段很长的正文内容，在手机屏幕上一定会折成好几行文字，" * 4


def test_line_height_zero_with_br():
    html = '<div style="line-height: 0;padding: 10px;">这是第一行文字<br>这是第二行文字<br>这是第三行文字</div>'
    [finding] = [f for f in lint_html(html, "a.html") if f.rule == "structure/line-height"]
    assert finding.severity == "error"
    assert "line-height 0px is below font-size 17px" in finding.message


def test_line_height_inherited_zero_reports_the_declaring_element():
    html = f'<section style="line-height: 0">\n<p style="font-size: 16px"><span leaf="">{LONG}</span></p></section>'
    [finding] = [f for f in lint_html(html, "a.html") if f.rule == "structure/line-height"]
    assert finding.line == 1 and finding.snippet.startswith('<section style="line-height: 0">')
    assert "font-size 16px" in finding.message


def test_line_height_unitless_is_resolved_against_the_inheriting_font_size():
    html = f'<section style="line-height: 0.8"><p style="font-size: 20px">{LONG}</p></section>'
    assert "line-height" in errors(html)


def test_line_height_length_is_inherited_as_computed():
    # 1em at 10px is 10px, inherited unchanged by the 20px text
    html = f'<section style="font-size: 10px; line-height: 1em"><p style="font-size: 20px">{LONG}</p></section>'
    assert "line-height" in errors(html)
    html = f'<section style="font-size: 40px; line-height: 50%"><p style="font-size: 24px">{LONG}</p></section>'
    assert "line-height" in errors(html)


def test_line_height_near_misses():
    assert "line-height" not in keys(f'<p style="line-height: 1.5">{LONG}</p>')
    assert "line-height" not in keys('<h2 style="font-size: 20px; line-height: 20px">单行标题</h2>')
    assert "line-height" not in keys('<section style="line-height: 0;"><span leaf="">单行文字</span></section>')
    assert "line-height" not in keys(
        '<section style="line-height: 0;"><img src="a.png" style="width: 100%; vertical-align: top;"></section>')
    # a child that sets its own adequate line-height is not overlapped
    assert "line-height" not in keys(f'<section style="line-height: 0"><p style="line-height: 1.75">{LONG}</p></section>')


# ---------------------------------------------------------------------------------------------------
# 1.4 width


def test_fixed_width_wider_than_the_column():
    html = '<section style="border: 1px solid red; width: 586.438px;"><span>固定宽度的段落</span></section>'
    [finding] = [f for f in lint_html(html, "a.html") if f.rule == "structure/width"]
    assert "586.438px" in finding.message and "343px" in finding.message


def test_fixed_width_nearly_full_and_not_centred():
    assert "width" in errors('<section style="width: 330px"><p>文字</p></section>')
    assert "width" not in keys('<section style="width: 330px; margin: 0 auto"><p>文字</p></section>')


def test_width_near_misses():
    assert "width" not in keys('<section style="width: 100%"><p>文字</p></section>')
    assert "width" not in keys('<table style="width:100%"><tr><td style="width: 50%">a</td><td>b</td></tr></table>')
    assert "width" not in keys('<p style="text-align: center"><img data-w="1125" style="width: 558px;"></p>')
    assert "width" not in keys('<section style="width: 45px"><img data-w="100" style="width: 100%"></section>')
    assert "width" not in keys('<section data-ignore-width style="width: 800px;"><span leaf="">豁免</span></section>')
    assert "width" not in keys('<section data-ignore-width><section style="width: 800px;">豁免的子节点</section></section>')


def test_margin_pushes_content_out():
    assert "width" in errors('<section style="margin-left: 294pt;"><span leaf="">超出屏幕右侧边界</span></section>')
    assert "width" not in keys('<section style="margin-left: 16px;"><span leaf="">正常缩进</span></section>')


def test_table_columns_wider_than_the_column():
    html = ('<table><thead><tr><th style="width: 200px;">列1</th><th style="width: 400px;" data-colwidth="400">列2</th>'
            "</tr></thead><tbody><tr><td>a</td><td>b</td></tr></tbody></table>")
    assert "width" in errors(html)


# ---------------------------------------------------------------------------------------------------
# 1.5 height


def test_height_zero_with_text():
    assert "height" in errors("<div style='height: 0;'>Invisible Element</div>")


def test_height_zero_with_text_in_nested_blocks():
    html = ('<section><section style="height: 0px;"><section><p><span leaf="">这是一段文字内容</span></p>'
            "</section></section></section>")
    assert "height-nodisplay" in errors(html)


def test_fixed_height_clips_text():
    html = f'<section style="height: 1px; overflow: hidden;"><section><p><span leaf="">{LONG}</span></p></section></section>'
    assert "height-nodisplay" in errors(html)


def test_height_near_misses():
    assert not {"height", "height-nodisplay"} & keys('<section style="height: 0"><img data-w="300" data-ratio="1"></section>')
    assert not {"height", "height-nodisplay"} & keys(
        '<section data-role="absolute-layout" data-mode="svg"><section style="height: 0">点击展开</section></section>')
    assert not {"height", "height-nodisplay"} & keys(f'<section style="height: 40px; overflow-y: auto"><p>{LONG}</p></section>')
    assert not {"height", "height-nodisplay"} & keys('<section style="height: 100px"><p>短文字</p></section>')
    assert not {"height", "height-nodisplay"} & keys('<span style="height: 0">行内元素不受 height 影响</span>')
    assert not {"height", "height-nodisplay"} & keys('<svg><g style="height:0"><text>svg text</text></g></svg>')


# ---------------------------------------------------------------------------------------------------
# 1.6 - 1.8


def test_text_align_start_end():
    assert "text-align" in errors('<section style="text-align: center;"><span style="text-align: start;">文字</span></section>')
    assert "text-align" in errors('<p style="text-align: end">文字</p>')
    assert "text-align" not in keys('<p style="text-align: left">文字</p>')


def test_animate_begin_touchstart_only():
    svg = ('<svg viewBox="0 0 200 200"><circle cx="100" cy="100" r="40"><animate attributeName="fill" '
           'values="#3498db; #e74c3c" dur="1s" begin="{}"></animate></circle></svg>')
    assert "animate-begin" in errors(svg.format("touchstart"))
    assert "animate-begin" in errors(svg.format("c1.touchstart+0.5s"))
    assert "animate-begin" not in keys(svg.format("touchstart; click"))
    assert "animate-begin" not in keys(svg.format("click"))


def test_pre_with_prose():
    html = '<pre style="line-height: 1.75em;"><span leaf=""><span textstyle="">这是一段普通的正文内容，不应该使用 pre 标签包裹。</span></span></pre>'
    assert "pre" in errors(html)


def test_pre_near_misses():
    assert "pre" not in keys("<pre><code>def f(x):\n    return x + 1\n</code></pre>")
    assert "pre" not in keys('<pre class="language-python">print("hi")</pre>')
    assert "pre" not in keys("<pre>if (a &lt; b) { x = y[i]; }</pre>")
    assert "pre" not in keys('<pre style="white-space: pre-wrap">这是一段普通的正文内容，会自动换行。</pre>')


# ---------------------------------------------------------------------------------------------------
# 2 structure


def nested(tag: str, levels: int, style: str = "") -> str:
    attr = f' style="{style}"' if style else ""
    return f"<{tag}{attr}>" * levels + "内容" + f"</{tag}>" * levels


def test_nesting_over_the_limit():
    assert "nestNodes" in errors(nested("section", 11))
    assert "nestNodes" in errors("<section>" + nested("span", 16, "color:red") + "</section>")


def test_nesting_near_misses():
    assert "nestNodes" not in keys(nested("section", 10))
    # 7 levels, then a level with two children, then 5 more: no single-child chain is longer than 10
    broken = "<section>" * 7 + nested("section", 5) + "<p>旁注</p>" + "</section>" * 7
    assert "nestNodes" not in keys(broken)
    # different tags don't chain
    assert "nestNodes" not in keys(nested("section", 6).replace("内容", nested("span", 6)))


def test_span_leaf_with_block():
    assert "leaf-block" in errors("<p><span leaf><section> 块级元素 </section></span></p>")
    assert "leaf-block" not in keys("<p><span leaf><strong>行内</strong><img src='a.png'></span></p>")


def test_section_nodeleaf_content():
    assert "nodeleaf" in errors("<section nodeleaf><section> 不允许 </section></section>")
    assert "nodeleaf" not in keys('<section nodeleaf=""><img data-w="640"></section>')
    assert "nodeleaf" not in keys('<section nodeleaf=""><mp-common-profile data-id="x"></mp-common-profile></section>')


# ---------------------------------------------------------------------------------------------------
# 3 fonts, 4 dark mode


def test_font_family_is_a_warning():
    findings = lint_html("<section style=\"font-family: 'Segoe UI', Roboto, sans-serif\">文字</section>", "a.html")
    assert [(f.rule, f.severity) for f in findings] == [("structure/font-family", "warning")]


def test_font_family_allowed():
    default = ('font-family: "mp-quote", PingFang SC, system-ui, -apple-system, BlinkMacSystemFont, Helvetica Neue, '
               "Hiragino Sans GB, Microsoft YaHei UI, Microsoft YaHei, Arial, sans-serif")
    assert "font-family" not in keys(f"<section style='{default}'>文字</section>")
    assert "font-family" not in keys('<pre><code style="font-family: Menlo, Consolas, monospace">x = 1</code></pre>')
    assert "font-family" not in keys('<p style="font-family: inherit">文字</p>')


def test_important_is_a_warning():
    findings = lint_html('<img style="max-width: 100% !important" data-w="300">', "a.html")
    assert [(f.rule, f.severity) for f in findings] == [("structure/important", "warning")]
    assert "max-width" in findings[0].message


def test_dark_mode_low_contrast():
    html = '<div style="background-color: rgb(194, 43, 76); color: rgb(73, 68, 41);">文本与背景对比度较低</div>'
    [finding] = [f for f in lint_html(html, "a.html") if f.rule == "structure/darkmode-low-contrast"]
    assert finding.severity == "warning" and "1.75:1" in finding.message


def test_dark_mode_low_contrast_on_gradient():
    html = ('<section style="background: linear-gradient(to right,#4dbb6c,#b8ee84);"><section style="color: #ffffff;">'
            '<span leaf="">时逢夏至，万物丰盈</span></section></section>')
    assert {"darkmode-low-contrast", "darkmode-text-bg-gradient"} <= keys(html)


def test_dark_mode_near_misses():
    assert "darkmode-low-contrast" not in keys('<div style="background-color: #fff; color: #333">清晰</div>')
    assert "darkmode-low-contrast" not in keys('<p style="color: rgb(255, 215, 213)">没有设置背景色，由算法处理</p>')
    assert "darkmode-low-contrast" not in keys(
        '<div data-ignore-dm="low-contrast" style="background-color: rgb(194, 43, 76); color: rgb(73, 68, 41);">已确认</div>')
    assert "darkmode-text-bg-gradient" not in keys(
        '<div data-ignore-dm="text-bg-gradient" style="background-image: linear-gradient(#fff, #c22b4c)">已确认</div>')
    assert "darkmode-text-bg-gradient" not in keys(
        '<div style="background-image: linear-gradient(rgb(248, 245, 247), rgb(194, 43, 76));"><br></div>')


# ---------------------------------------------------------------------------------------------------
# Layout mode on small inputs (one browser for all)


@pytest.fixture(scope="module")
def layout():
    if not browser_available():
        pytest.skip("Playwright or /usr/bin/chromium missing or not starting (layout mode)")
    with LayoutLinter() as linter:
        yield lambda html: {f.rule.removeprefix("structure/"): f for f in linter.lint(html, "t.html")}


@pytest.mark.browser
def test_layout_height_zero_and_line_numbers(layout):
    found = layout("<p>ok</p>\n<p style='height: 0px; margin: 18px 0'>他是在1950年3月，在重庆西南军政大学高级研究班。</p>")
    assert found["height"].line == 2 and found["height"].severity == "error"
    assert "data-lint-id" not in found["height"].snippet


@pytest.mark.browser
def test_layout_overflowing_table(layout):
    html = ('<table style="table-layout: fixed; width: 577px"><tr><td width="246">调入名单</td><td width="246">调出名单</td>'
            "</tr></table>")
    assert "width" in layout(html)
    assert "width" not in layout('<table style="width: 100%"><tr><td>a</td><td>b</td></tr></table>')


@pytest.mark.browser
def test_layout_line_overlap(layout):
    assert "line-height" in layout(f'<section style="line-height: 0"><p style="font-size: 16px">{LONG}</p></section>')
    assert "line-height" not in layout('<section style="line-height: 0"><span leaf="">单行文字</span></section>')
    assert "line-height" not in layout(f'<p style="line-height: 1.5">{LONG}</p>')


@pytest.mark.browser
def test_layout_fixed_width_centring(layout):
    assert "width" in layout('<section style="display: flex"><section style="width: 566px">固定宽度</section></section>')
    assert "width" not in layout('<p style="text-align: center"><img data-w="1125" style="width: 558px"></p>')


@pytest.mark.browser
def test_layout_low_contrast(layout):
    found = layout('<div style="background-color: rgb(194, 43, 76); color: rgb(73, 68, 41);">对比度低</div>')
    assert found["darkmode-low-contrast"].severity == "warning"
    assert "darkmode-low-contrast" not in layout('<div style="background-color: #fff; color: #333">清晰</div>')
