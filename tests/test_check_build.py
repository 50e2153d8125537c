"""`publisher check`, `build` and `new` end to end, as a user runs them."""

from __future__ import annotations

import json
import os
import time

from conftest import make_image, run_cli, write


def test_clean_repository_passes(repo):
    result = run_cli("check", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s)" in result.stdout


def test_json_format_lists_findings_with_places(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 标题\nautor: 小王\ncover: cover.jpg\n"
          "images:\n  cover.jpg: {credit: 设计组, license: 自有}\n---\n正文\n")
    result = run_cli("check", "--format", "json", cwd=repo)
    assert result.returncode == 0  # a warning only
    report = json.loads(result.stdout)
    finding = report["files"][0]["findings"][0]
    assert finding == {**finding, "path": "content/2026/hello/index.md", "line": 3, "severity": "warning",
                       "rule": "front-matter/unknown-field", "field": "autor"}
    assert "did you mean 'author'?" in finding["message"]
    assert report["summary"] == {"files": 1, "errors": 0, "warnings": 1, "infos": 0}


def test_github_format_is_workflow_commands(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: " + "长" * 40 + "\ncover: cover.jpg\n---\n正文\n")
    result = run_cli("check", "--format", "github", cwd=repo)
    assert result.returncode == 1
    line = result.stdout.splitlines()[0]
    assert line.startswith("::error file=content/2026/hello/index.md,line=2,title=front-matter/title-too-long::")
    assert "%0A" not in line or "\n" not in line


def test_html_files_are_linted_with_the_structure_rules(repo):
    write(repo / "pasted.html", '<section><p style="font-size:16px;line-height:0">重叠<br>重叠</p></section>')
    result = run_cli("check", "pasted.html", "--format", "json", cwd=repo)
    findings = json.loads(result.stdout)["files"][0]["findings"]
    assert any(f["rule"] == "structure/line-height" for f in findings), findings


def test_cache_skips_unchanged_articles_and_notices_changed_images(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 标题\ncover: cover.jpg\n---\n![图](pic.png)\n")
    make_image(repo / "content/2026/hello/pic.png", size=(100, 100))
    first = json.loads(run_cli("check", "--format", "json", cwd=repo).stdout)
    second = json.loads(run_cli("check", "--format", "json", cwd=repo).stdout)
    assert not first["files"][0]["cached"] and second["files"][0]["cached"]
    assert first["files"][0]["findings"] == second["files"][0]["findings"]
    (repo / "content/2026/hello/pic.png").write_bytes(b"not an image")
    stamp = time.time() + 5
    os.utime(repo / "content/2026/hello/pic.png", (stamp, stamp))
    third = json.loads(run_cli("check", "--format", "json", cwd=repo).stdout)
    assert not third["files"][0]["cached"]
    assert any(f["rule"] == "image/unreadable" for f in third["files"][0]["findings"])


def test_build_writes_exact_html_preview_and_manifest(repo):
    write(repo / "content/2026/hello/index.md",
          "---\ntitle: 标题\ncover: cover.jpg\nimages:\n  cover.jpg: {credit: 设计组, license: 自有}\n"
          "  images/pic.png: {credit: 设计组, license: 自有}\n---\n第一段[链接](https://x.org)。\n\n![图](images/pic.png)\n")
    make_image(repo / "content/2026/hello/images/pic.png", size=(300, 200))
    result = run_cli("build", "--out", "out", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    out = repo / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["articles"][0]
    content = (out / "2026/hello/content.html").read_text(encoding="utf-8")
    assert entry["bytes"] == len(content.encode()) and entry["budget"] == 20000
    assert entry["characters"] == len("第一段链接[1]。图参考链接[1] 链接：https://x.org")
    assert entry["digest"] == "第一段链接[1]。" or entry["digest"].startswith("第一段")
    assert entry["images"][0] | {"src": "images/pic.png", "width": 300} == entry["images"][0]
    assert entry["cover"]["crops"]["2.35_1"] == "0_0_1_1"
    assert entry["references"][0]["url"] == "https://x.org"
    preview = (out / "2026/hello/preview.html").read_text(encoding="utf-8")
    assert content in preview and "375px" in preview
    assert (out / "2026/hello/images/pic.png").is_file() and (out / "2026/hello/cover.jpg").is_file()
    assert not list(out.rglob("*.tmp"))


def test_new_article_from_template_passes_check(repo):
    result = run_cli("new", "年终回顾: 我们这一年", "--slug", "year-review", cwd=repo)
    assert result.returncode == 0, result.stderr
    path = repo / "content" / time.strftime("%Y") / "year-review/index.md"
    text = path.read_text(encoding="utf-8")
    assert 'title: "年终回顾: 我们这一年"' in text and 'author: "编辑部"' in text
    make_image(path.parent / "cover.jpg")
    check = run_cli("check", str(path.relative_to(repo)), "--format", "json", cwd=repo)
    errors = [f for f in json.loads(check.stdout)["files"][0]["findings"] if f["severity"] == "error"]
    assert [(f["field"], f["message"]) for f in errors] == [("images.cover.jpg", "expected credit for 'cover.jpg', found none")]
    again = run_cli("new", "年终回顾", "--slug", "year-review", cwd=repo)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_help_lists_the_commands(repo):
    result = run_cli("--help", cwd=repo)
    assert result.returncode == 0
    for command in ("check", "build", "new", "themes"):
        assert command in result.stdout


def test_cached_findings_without_a_line_survive_a_second_run(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 没有封面\n---\n正文\n")
    first = run_cli("check", "--format", "json", cwd=repo)
    second = run_cli("check", "--format", "json", cwd=repo)
    assert second.returncode == 0 and "Traceback" not in second.stderr, second.stderr
    finding = json.loads(second.stdout)["files"][0]["findings"][0]
    assert finding["rule"] == "cover/missing" and finding["line"] is None
    assert json.loads(first.stdout)["files"][0]["findings"] == json.loads(second.stdout)["files"][0]["findings"]
