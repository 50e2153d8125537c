"""Property tests: any Markdown renders without crashing and its output passes our own linter;
any front matter or calendar text either loads or fails with a located message."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher import yamlstrict
from publisher.calendar import CalendarError, parse_calendar
from publisher.check import lint_structure
from publisher.content import ArticleError, load_article
from publisher.project import Project
from publisher.render import render_article

FRAGMENTS = [
    "# ", "## ", "### ", "- ", "* ", "1. ", "3) ", "  ", "    ", "> ", "> [!NOTE]\n> ", "> [!WARNING]\n", "```\n",
    "```python\n", "~~~\n", "$", "$$\n", "**", "*", "_", "~~", "`", "[", "](", ")", "](https://x.org)",
    "](https://mp.weixin.qq.com/s/x)", "](#a)", "![", "![a](missing.png)", "[^1]", "[^1]: ", "| a | b |\n|---|---|\n",
    "|", "---\n", "- [ ] ", "- [x] ", "<span>", "</span>", "<b>", "\\", "&amp;", "&", "<", ">", "\n", "\n\n",
    "\t", "中文", "English", "https://example.com", "x^2", "\\frac{1}{2}", "😀", "  \n",
]
markdown = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=markdown)
def test_any_markdown_renders_and_passes_the_linter(tmp_path_factory, body):
    root = tmp_path_factory.mktemp("md")
    path = root / "index.md"
    path.write_text("---\ntitle: 性质测试\n---\n" + body, encoding="utf-8")
    project = Project(root=root)
    rendered = render_article(load_article(path, project), project)
    assert "\x00" not in rendered.html
    errors = [f for f in lint_structure(rendered.annotated_html, "index.md") if f.severity == "error"]
    assert errors == [], (body, errors)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(list("ab:- \n\t'\"[]{}#&*!|>%@`,?8NOyes") + ["NO", "8:30", "é", "a: "]),
                    max_size=40).map("".join))
def test_any_yaml_loads_or_fails_located(text):
    try:
        yamlstrict.load(text, first_line=2)
    except yamlstrict.YamlError as exc:
        assert exc.line is None or 2 <= exc.line <= text.count("\n") + 3
        assert exc.message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front=st.lists(st.sampled_from(list("title:autho NO8:3\n\t'\"[]{}-") + ["title: ", "images:\n  "]),
                      max_size=40).map("".join))
def test_any_front_matter_loads_or_fails_located(tmp_path_factory, front):
    root = tmp_path_factory.mktemp("fm")
    path = root / "index.md"
    path.write_text(f"---\n{front}\n---\nbody\n", encoding="utf-8")
    try:
        article = load_article(path, Project(root=root))
    except ArticleError as exc:
        assert all(f.severity == "error" and f.line for f in exc.findings)
        return
    assert all(f.line is not None for f in article.findings), article.findings


calendar_lines = st.lists(st.sampled_from([
    "timezone: Asia/Shanghai", "timezone: Mars/Base", "pushes:", "  - at: \"2026-12-01 08:00\"", "  - at: 8:30",
    "    articles: [2026/a]", "    mode: mass", "    mode: NO", "    plan: 计划", "    unpublish: 2026/a",
    "rules:", "  min_per_week: 1", "  topics: {\"2026-12\": 年终}", "  - at: \"2026-12-01T08:00:00+08:00\"",
    "\tbad: tab", "pushes: 3", "  - 7", "    articles: []", "    owner: 小李", "  - at: \"tomorrow\"",
]), max_size=12).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(text=calendar_lines)
def test_any_calendar_loads_or_fails_located(text):
    try:
        calendar = parse_calendar(text, "calendar.yaml")
    except CalendarError as exc:
        assert exc.findings and all(f.line is not None and f.severity == "error" for f in exc.findings), exc.findings
        return
    assert all(p.at.tzinfo is not None for p in calendar.pushes)


def test_golden_inputs_pass_the_linter():
    golden = Path(__file__).parent / "golden"
    project = Project(root=golden)
    for path in golden.glob("*.md"):
        rendered = render_article(load_article(path, project), project)
        errors = [f for f in lint_structure(rendered.annotated_html, path.name) if f.severity == "error"]
        assert errors == [], (path.name, errors)
