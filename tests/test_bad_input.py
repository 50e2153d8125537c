"""Bad input gets a located message and exit 1 or 2, never a traceback: one test per case."""

from __future__ import annotations

import json

from conftest import make_image, run_cli, write


def assert_clean_failure(result, code: int, *needles: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    for needle in needles:
        assert needle in output, f"{needle!r} not in:\n{output}"


def test_broken_yaml_is_located(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 标题\nauthor: [unclosed\n---\n正文\n")
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 1, "content/2026/hello/index.md", "invalid YAML")


def test_yaml_11_traps_are_located(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: NO\nauthor: 8:30\n---\n正文\n")
    result = run_cli("check", "--format", "json", cwd=repo)
    assert_clean_failure(result, 1)
    findings = json.loads(result.stdout)["files"][0]["findings"]
    assert findings[0]["line"] == 2 and findings[0]["field"] == "title" and "quote it" in findings[0]["message"]


def test_tab_indentation_is_located(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 标题\nimages:\n\tcover.jpg: x\n---\n正文\n")
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 1, "tab character", "4")


def test_duplicate_key_is_located(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 一\ntitle: 二\n---\n正文\n")
    result = run_cli("check", "--format", "json", cwd=repo)
    assert_clean_failure(result, 1, "duplicate key 'title' (first set on line 2)")
    assert json.loads(result.stdout)["files"][0]["findings"][0]["line"] == 3


def test_missing_image(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 标题\ncover: cover.jpg\n---\n\n![图](images/none.png)\n")
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 1, "expected an image file at 'content/2026/hello/images/none.png', found none")


def test_image_path_outside_the_repository(repo):
    make_image(repo.parent / "secret.png")
    write(repo / "content/2026/hello/index.md",
          "---\ntitle: 标题\ncover: cover.jpg\n---\n\n![图](../../../../secret.png)\n")
    result = run_cli("check", "--format", "json", cwd=repo)
    assert_clean_failure(result, 1, "leads outside it")
    finding = next(f for f in json.loads(result.stdout)["files"][0]["findings"] if f["rule"] == "image/outside-repository")
    assert finding["line"] == 6


def test_title_too_long(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: " + "长" * 33 + "\ncover: cover.jpg\n---\n正文\n")
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 1, "expected at most 32 characters", "found 33", "2", "title")


def test_unknown_theme_in_front_matter(repo):
    write(repo / "content/2026/hello/index.md", "---\ntitle: 标题\ncover: cover.jpg\ntheme: defualt\n---\n正文\n")
    result = run_cli("check", "--format", "json", cwd=repo)
    assert_clean_failure(result, 1, "did you mean 'default'?")
    finding = next(f for f in json.loads(result.stdout)["files"][0]["findings"] if f["rule"] == "theme/unknown")
    assert finding["line"] == 4 and finding["field"] == "theme"


def test_unknown_theme_in_settings_is_a_config_error(repo):
    write(repo / "pyproject.toml", '[tool.publisher]\ntheme = "inc"\n')
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 2, "pyproject.toml:2", "expected one of the themes", "did you mean 'ink'?")


def test_unknown_setting_exits_2(repo):
    write(repo / "pyproject.toml", '[tool.publisher]\ncontnet = "content"\n')
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 2, "pyproject.toml:2", "did you mean 'content'?")


def test_invalid_toml_exits_2(repo):
    write(repo / "pyproject.toml", '[tool.publisher]\ntheme = \n')
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 2, "invalid TOML")


def test_missing_path_argument_exits_2(repo):
    result = run_cli("check", "content/2026/nope", cwd=repo)
    assert_clean_failure(result, 2, "no such file or folder")


def test_not_utf8(repo):
    (repo / "content/2026/hello/index.md").write_bytes(b"---\ntitle: \xff\xfe\n---\n")
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 1, "expected UTF-8 text")


def test_bad_calendar_time(repo):
    write(repo / "calendar.yaml", 'timezone: Asia/Shanghai\npushes:\n  - at: 8:30\n    articles: [2026/hello]\n')
    result = run_cli("check", cwd=repo)
    assert_clean_failure(result, 1, "calendar.yaml", "base-60", "3")


def test_build_with_broken_article_still_writes_the_others(repo):
    write(repo / "content/2026/broken/index.md", "---\ntitle: [\n---\n")
    result = run_cli("build", "--out", "out", cwd=repo)
    assert_clean_failure(result, 1)
    manifest = json.loads((repo / "out/manifest.json").read_text(encoding="utf-8"))
    assert [a["key"] for a in manifest["articles"]] == ["2026/hello"]
