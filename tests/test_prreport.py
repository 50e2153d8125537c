"""`publisher pr-report` on a real two-commit git history, and the dark-mode recolouring it photographs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli, write
from PIL import Image, ImageStat

from publisher.darkmode import DARK_BACKGROUND, DARK_TEXT, dark_html, lightness, parse_colour, recolour_style

ARTICLE = """\
---
title: {title}
author: 小王
cover: cover.jpg
images:
  cover.jpg: {{credit: 测试, license: 自有}}
---

{body}
"""

BASE_CALENDAR = """\
timezone: Asia/Shanghai
pushes:
  - at: "2026-12-01 08:00"
    mode: publish
    articles: [2026/alpha]
"""

HEAD_CALENDAR = BASE_CALENDAR + """\
  - at: "2026-12-03 20:30"
    mode: mass
    articles: [2026/beta]
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "Writer", "GIT_AUTHOR_EMAIL": "w@example.com",
                               "GIT_COMMITTER_NAME": "Writer", "GIT_COMMITTER_EMAIL": "w@example.com"}).stdout.strip()


def article(title: str, body: str) -> str:
    return ARTICLE.format(title=title, body=body)


@pytest.fixture
def pr_repo(tmp_path: Path) -> Path:
    """Base: two articles and a calendar. Head: `beta` rewritten (with a too-long title) and scheduled."""
    root = tmp_path / "site"
    write(root / "pyproject.toml", '[tool.publisher]\ntimezone = "Asia/Shanghai"\ndefault_author = "编辑部"\n')
    for slug, shade in (("alpha", 40), ("beta", 160)):
        write(root / f"content/2026/{slug}/index.md", article(f"文章{slug}", f"{slug} 的第一段。"))
        Image.new("RGB", (900, 383), (shade, 120, 90)).save(root / f"content/2026/{slug}/cover.jpg")
    write(root / "calendar.yaml", BASE_CALENDAR)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "switch", "-q", "-c", "pr")
    long_title = "这是一个非常非常长的标题，" * 4  # more than WeChat's 32 characters
    body = "\n\n".join(["## 小节", "正文" * 200, "> 引用的一段话", "```python\nprint('hi')\n```"])
    write(root / "content/2026/beta/index.md", article(long_title, body))
    write(root / "calendar.yaml", HEAD_CALENDAR)
    git(root, "commit", "-q", "-am", "head: beta rewritten and scheduled")
    return root


def summary_of(root: Path, *args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, str]:
    result = run_cli("pr-report", "--base", "main", "--out", "out", "--summary", "summary.md", *args, cwd=root, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, (root / "summary.md").read_text(encoding="utf-8")


def test_report_lists_exactly_the_changed_article_with_budget_pushes_and_findings(pr_repo):
    result, summary = summary_of(pr_repo)
    assert "Traceback" not in result.stderr
    assert "`2026/beta`" in summary and "2026/alpha" not in summary  # only what the PR changed
    row = next(line for line in summary.splitlines() if line.startswith("| `2026/beta`"))
    characters = int(row.split("|")[3].split(" of ")[0].replace(",", ""))
    assert 400 < characters < 20000 and "of 20,000" in row and f"({characters / 20000:.1%})" in row
    assert row.split("|")[4].strip() == "1"  # one error: the title
    # the push it belongs to, local time in the calendar's zone and UTC (8 hours earlier)
    assert "local time (Asia/Shanghai)" in summary
    push_rows = [line for line in summary.splitlines() if "2026-12-03 20:30" in line]
    assert push_rows and all("2026-12-03 12:30 UTC" in line for line in push_rows)
    assert any("群发 mass" in line and "`2026/beta`" in line for line in push_rows)
    # calendar.yaml changed: the added push is listed, the unchanged one is not
    changes = summary.split("### Calendar changes")[1].split("###")[0]
    assert "| added |" in changes and "2026-12-01 08:00" not in changes
    findings = summary.split("### Findings")[1]
    assert "`content/2026/beta/index.md:2`" in findings and "error" in findings
    assert (pr_repo / "out/summary.md").read_text(encoding="utf-8") == summary
    assert (pr_repo / "out/2026/beta/content.html").is_file() and (pr_repo / "out/manifest.json").is_file()
    assert not (pr_repo / "out/2026/alpha").exists()


def test_summary_goes_to_the_github_step_summary_and_appends(pr_repo, tmp_path):
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("earlier step\n", encoding="utf-8")
    result = run_cli("pr-report", "--base", "main", "--out", "out", cwd=pr_repo,
                     env={"GITHUB_STEP_SUMMARY": str(step_summary)})
    assert result.returncode == 0, result.stderr
    text = step_summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "`2026/beta`" in text
    assert "job summary" in result.stderr


def test_head_other_than_the_checkout_is_built_from_its_own_tree(pr_repo):
    git(pr_repo, "switch", "-q", "main")  # the working tree is the base now
    _, summary = summary_of(pr_repo, "--head", "pr")
    assert "`2026/beta`" in summary and "这是一个非常非常长的标题" in summary
    assert len(git(pr_repo, "worktree", "list").splitlines()) == 1  # the temporary worktree is gone


def test_no_changed_article_and_usage_errors(pr_repo):
    _, summary = summary_of(pr_repo, "--head", "main")
    assert "No article changed." in summary
    bad = run_cli("pr-report", "--base", "no-such-branch", "--out", "out", cwd=pr_repo)
    assert bad.returncode == 2 and "no-such-branch" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli("pr-report", cwd=pr_repo)
    assert missing.returncode == 2 and "--base" in missing.stderr


def test_a_calendar_only_change_lists_the_push_and_no_article(pr_repo):
    git(pr_repo, "switch", "-q", "main")
    git(pr_repo, "switch", "-q", "-c", "calendar-only")
    write(pr_repo / "calendar.yaml", BASE_CALENDAR.replace("08:00", "09:15"))
    git(pr_repo, "commit", "-q", "-am", "alpha moves to 09:15")
    _, summary = summary_of(pr_repo)
    assert "No article changed." in summary
    changes = summary.split("### Calendar changes")[1]
    assert "| changed |" in changes and "| added |" not in changes  # the push keeps its id when moved
    assert "2026-12-01 09:15 | 2026-12-01 01:15 UTC" in changes


def _chromium_ready() -> str | None:
    from publisher.browser import chromium_path

    if chromium_path() is None:
        return "Chromium is not installed (bash scripts/setup.sh installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (bash scripts/setup.sh --test)"
    return None


@pytest.mark.browser
def test_light_and_dark_phone_screenshots(pr_repo):
    reason = _chromium_ready()
    if reason:
        pytest.skip(reason)
    _, summary = summary_of(pr_repo)
    light, dark = pr_repo / "out/screenshots/2026/beta-light.png", pr_repo / "out/screenshots/2026/beta-dark.png"
    assert light.is_file() and dark.is_file()
    assert "out/screenshots/2026/beta-light.png" in summary and "Screenshots skipped" not in summary
    with Image.open(light) as a, Image.open(dark) as b:
        assert a.width == b.width == 390 and a.height > 800
        light_mean, dark_mean = ImageStat.Stat(a.convert("L")).mean[0], ImageStat.Stat(b.convert("L")).mean[0]
    assert dark_mean < light_mean - 80, (light_mean, dark_mean)
    assert (pr_repo / "out/2026/beta/preview-dark.html").is_file()


def test_screenshots_are_skipped_with_a_note_without_chromium(pr_repo, tmp_path):
    # a PATH without Chromium: the report is still written, with the reason
    python_dir = Path(sys.executable).parent
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git",):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    result, summary = summary_of(pr_repo, env={"PATH": f"{bin_dir}{os.pathsep}{python_dir}"})
    assert "Screenshots skipped: Chromium is not installed" in summary
    assert not (pr_repo / "out/screenshots").exists()
    assert "`2026/beta`" in summary


# ---- dark mode ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("colour", "role", "expected"), [
    ("#ffffff", "background", "#191919"),  # white page → WeChat's dark page
    ("#000000", "text", "#d1d1d1"),  # black text → 80 % white on the dark page
    ("#333333", "text", "#b0b0b0"),
    ("#ff0000", "text", "#ff0000"),  # pure red: lightness 50 %, already fine on both
    ("#282c34", "background", "#282c34"),  # a dark background stays
    ("#eeeeee", "text", "#eeeeee"),  # light text stays
    ("rgba(0, 0, 0, 0.3)", "text", "rgba(209,209,209,0.3)"),  # alpha kept
    ("white", "background", "#191919"),
])
def test_dark_colours(colour, role, expected):
    assert recolour_style(f"{'color' if role == 'text' else 'background-color'}:{colour}").split(":", 1)[1] == expected


def test_hue_is_kept_and_lightness_inverted():
    import colorsys

    for colour, prop in (("#c7254e", "color"), ("#0f8a5f", "color"), ("#f0f8f2", "background-color"),
                         ("hsl(210, 60%, 92%)", "background")):
        before = parse_colour(colour)
        after = parse_colour(recolour_style(f"{prop}:{colour}").split(":", 1)[1])
        hue_before = colorsys.rgb_to_hls(*(c / 255 for c in before[:3]))[0]
        hue_after = colorsys.rgb_to_hls(*(c / 255 for c in after[:3]))[0]
        assert abs(hue_before - hue_after) < 0.02, (colour, after)
        if prop == "color":
            assert lightness(after[:3]) >= 0.5 > lightness(before[:3])
        else:
            assert lightness(after[:3]) < 0.5 < lightness(before[:3])


def test_shorthands_borders_urls_and_images():
    style = ("background:url(data:image/png;base64,AAAA) no-repeat #fafafa;border-left:4px solid #0f8a5f;"
             "font-size:15px;color:currentColor")
    result = recolour_style(style)
    assert "url(data:image/png;base64,AAAA)" in result and "#fafafa" not in result
    assert "font-size:15px" in result and "color:currentColor" in result and "#0f8a5f" not in result
    html = dark_html('<p style="color:#333">文字<img src="a.png" style="background:#fff;border:1px solid #000"></p>')
    assert html.startswith(f'<section style="background-color:{DARK_BACKGROUND};color:{DARK_TEXT}">')
    assert 'style="color:#b0b0b0"' in html
    assert 'style="background:#fff;border:1px solid #000"' in html  # images are left alone


def test_a_whole_page_gets_the_dark_page_background():
    page = ("<!doctype html><html><head><style>body{background:#ededed;color:#111}"
            ".frame{border:10px solid #1f1f1f}</style></head><body><p style='background-color:#f6f8fa'>x</p>"
            "</body></html>")
    html = dark_html(page)
    assert html.lower().startswith("<!doctype html>")
    assert f"html,body{{background:{DARK_BACKGROUND} !important;color:{DARK_TEXT}}}" in html
    assert "#ededed" not in html and "#111" not in html and "border:10px solid #1f1f1f" in html
    assert "#f6f8fa" not in html
    assert dark_html(page) == html  # deterministic
