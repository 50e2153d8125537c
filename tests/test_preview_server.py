"""`publisher serve`, in process: every route through Starlette's TestClient, the watcher's events, and
a real server in a thread for the event stream end to end."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import warnings
from datetime import datetime
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import make_image, write

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what this project installs
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from publisher.content import load_article
from publisher.preview import create_app, start_server
from publisher.preview.app import is_loopback, push_url
from publisher.preview.live import classify
from publisher.project import load_project
from publisher.render import render_article

LOCAL = "http://127.0.0.1"  # the preview answers only to requests naming this machine
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=ZONE)

CALENDAR = """\
timezone: Asia/Shanghai
pushes:
  - at: "2026-12-01 08:00"
    mode: publish
    articles: [2026/launch, 2026/tips]
  - at: "2026-12-03 20:30"
    plan: 发布会回顾
    owner: 小李
  - at: "2026-12-16 09:00"
    mode: draft
    articles: [2026/review]
rules:
  min_per_week: 1
  topics: {"2026-12": 年终回顾}
"""

LAUNCH = """\
---
title: 帆书 3.0 正式发布
author: 林晓
digest: 离线同步、毫秒级搜索、全新编辑器。
cover: cover.jpg
cover_focus: left
images:
  cover.jpg: {credit: 设计组, license: 自有}
  images/editor.png: {credit: 截图, license: 自有}
---

今天，我们正式发布**帆书 3.0**。

## 新的编辑器

![新编辑器](images/editor.png "新编辑器")

- 第一项
- 第二项

```python
print("你好")
```
"""

TIPS = """\
---
title: 小技巧第 12 期
author: 小帆
cover: cover.jpg
images:
  cover.jpg: {credit: 设计组, license: 自有}
---

斜杠命令的五种用法。
"""

REVIEW = """\
---
title: 年终回顾：帆书的 2026
cover: cover.jpg
images:
  cover.jpg: {credit: 设计组, license: 自有}
---

这一年，我们做了很多事。
"""


def make_preview_site(root: Path) -> Path:
    write(root / "pyproject.toml", '[tool.publisher]\ntimezone = "Asia/Shanghai"\ndefault_author = "编辑部"\n')
    write(root / "calendar.yaml", CALENDAR)
    for slug, text, size in (("launch", LAUNCH, (1200, 400)), ("tips", TIPS, (900, 383)), ("review", REVIEW, (900, 383))):
        folder = root / "content/2026" / slug
        write(folder / "index.md", text)
        make_image(folder / "cover.jpg", size=size)
    make_image(root / "content/2026/launch/images/editor.png", size=(640, 360))
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_preview_site(tmp_path / "site")


@pytest.fixture
def client(site: Path):
    app = create_app(site, watch=False, warm=False, clock=lambda: NOW)
    with TestClient(app, base_url=LOCAL) as test_client:
        yield test_client


def exact(site: Path, key: str) -> str:
    project = load_project(site)
    return render_article(load_article(project.content_dir / key / "index.md", project), project).html


def push_href(site: Path, when: str) -> str:
    """The push view's address of the push at `when` (local time), whatever its id looks like."""
    return push_url(push_id(site, when))


def push_id(site: Path, when: str) -> str:
    from publisher.calendar import load_calendar

    calendar = load_calendar(load_project(site))
    return next(p.id for p in calendar.pushes if p.at.strftime("%Y-%m-%d %H:%M") == when)


def embedded_html(page: str) -> str:
    match = re.search(r'<script type="application/json" id="pv-exact-html">(.*?)</script>', page, re.S)
    assert match, "the article page embeds the exact HTML for the copy button"
    return json.loads(match.group(1))


# ---- the article view ------------------------------------------------------------------------------

def test_article_page_shows_the_article_in_a_phone_frame_with_everything_beside_it(client, site):
    response = client.get("/a/2026/launch")
    assert response.status_code == 200
    page = response.text
    assert "<title>帆书 3.0 正式发布 · 公众号预览</title>" in page
    assert 'class="pv-phone"' in page and "--phone: 375px" in page
    content = re.search(r'<div id="pv-content" class="pv-rm-content">(.*?)</div>\s*</article>', page, re.S).group(1)
    assert "今天，我们正式发布" in content and 'data-line="' in content  # annotated: findings can point here
    assert 'src="/file/content/2026/launch/images/editor.png"' in content  # images served by us
    assert "离线同步、毫秒级搜索、全新编辑器。" in page  # the digest
    characters = render_article(load_article(site / "content/2026/launch/index.md", load_project(site)),
                                load_project(site)).characters
    assert f"<strong>{characters:,}</strong> / 20,000 characters" in page
    # the feed's two crops of a 3:1 cover focused left: 2.35:1 from the left edge, 1:1 from the left edge
    assert page.count('src="/file/content/2026/launch/cover.jpg"') == 2
    assert "object-position: 0.00% 50%" in page
    assert "2026-12-01" not in page or "12-01 08:00" in page  # the push it is in
    assert f'href="{push_href(site, "2026-12-01 08:00")}"' in page


def test_copy_and_download_are_exactly_render_article_html(client, site):
    expected = exact(site, "2026/launch")
    assert embedded_html(client.get("/a/2026/launch").text) == expected
    assert embedded_html(client.get("/a/2026/launch?dark=1&width=390").text) == expected
    download = client.get("/html/2026/launch")
    assert download.status_code == 200
    assert download.content == expected.encode("utf-8")
    assert download.headers["content-type"] == "text/html; charset=utf-8"
    assert download.headers["content-disposition"].startswith('attachment; filename="launch.html"')


def test_width_and_dark_mode_switch_the_frame(client):
    light = client.get("/a/2026/launch").text
    dark = client.get("/a/2026/launch?dark=1&width=390").text
    assert 'class="pv-phone dark"' in dark and "--phone: 390px" in dark
    assert 'class="pv-phone"' in light and "#191919" not in light.split('id="pv-content"')[1].split("</article>")[0]
    dark_content = dark.split('id="pv-content"')[1].split("</article>")[0]
    assert "background-color:#191919" in dark_content  # WeChat's dark page colour behind the article
    assert "color:#333333" not in dark_content  # the theme's dark text was lightened
    assert 'data-line="' in dark_content  # findings still find their place in dark mode
    assert "--phone: 375px" in client.get("/a/2026/launch?width=1000").text  # only the two phone widths


def test_findings_are_listed_with_lines_and_point_into_the_article(client, site):
    write(site / "content/2026/tips/index.md", TIPS.replace("斜杠命令的五种用法。", "斜杠命令。\n\n![缺的图](missing.png)\n"))
    response = client.get("/a/2026/tips")
    assert response.status_code == 200  # the article renders; the missing image is a finding
    finding = re.search(r'<li class="pv-finding error" tabindex="0" role="button" data-finding-line="(\d+)"'
                        r'.*?</li>', response.text, re.S)
    assert finding, response.text
    line = int(finding.group(1))
    assert line == 11
    assert "image/missing" in finding.group(0) and "content/2026/tips/index.md:11" in finding.group(0)
    assert "expected an image file at" in unescape(finding.group(0))
    panel = re.search(r'<div class="pv-panel error" role="alert" id="pv-error">(.*?)</div>', response.text, re.S)
    assert "content/2026/tips/index.md:11" in panel.group(1) and "1 个错误 error(s)" in panel.group(1)


def test_front_matter_findings_point_at_the_header(client, site):
    write(site / "content/2026/tips/index.md", TIPS.replace("title: 小技巧第 12 期", "title: " + "长" * 40))
    page = client.get("/a/2026/tips").text
    assert re.search(r'data-finding-line="2" data-target="title">', page)
    assert 'data-target="title"' in page.split('id="pv-phone"')[1]


def test_broken_front_matter_shows_file_line_and_message_then_recovers(client, site):
    path = site / "content/2026/tips/index.md"
    path.write_text("---\ntitle: [不完整\nauthor: 小帆\n---\n正文\n", encoding="utf-8")
    broken = client.get("/a/2026/tips")
    assert broken.status_code == 422
    panel = re.search(r'<div class="pv-panel error" role="alert" id="pv-error">(.*?)</div>', broken.text, re.S).group(1)
    assert "content/2026/tips/index.md:2" in panel or "content/2026/tips/index.md:3" in panel
    assert "front-matter/yaml" in panel
    assert "pv-exact-html" not in broken.text
    assert client.get("/html/2026/tips").status_code == 422
    path.write_text(TIPS, encoding="utf-8")  # the next good save
    again = client.get("/a/2026/tips")
    assert again.status_code == 200 and "斜杠命令的五种用法" in again.text


def test_missing_articles_and_bad_keys_are_404(client):
    for url in ("/a/2026/nothing", "/a/", "/a/2026", "/a/../pyproject.toml", "/a/%2e%2e/pyproject.toml",
                "/a/2026/%2e%2e/2026/launch", "/a/.git", "/html/2026/nothing", "/a/2026/launch/images"):
        response = client.get(url)
        assert response.status_code == 404, url
    page = client.get("/a/2026/nothing")
    assert "404" in page.text and "content/2026/nothing/index.md" in page.text


def test_everything_is_escaped(client, site):
    write(site / "content/2026/tips/index.md", TIPS.replace("title: 小技巧第 12 期", 'title: "<script>alert(1)</script>"')
          .replace("斜杠命令的五种用法。", "正文<script>alert(2)</script><img src=x onerror=alert(3)>"))
    page = client.get("/a/2026/tips").text
    assert "<script>alert" not in page and "onerror" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    index = client.get("/").text
    assert "<script>alert" not in index and "&lt;script&gt;alert(1)" in index


def test_renders_are_cached_until_something_the_article_uses_changes(client, site):
    preview = client.app.state.preview
    client.get("/a/2026/launch")
    first = preview.site.article("2026/launch")
    assert preview.site.article("2026/launch") is first  # nothing changed: no render
    image = site / "content/2026/launch/images/editor.png"
    make_image(image, size=(700, 360))
    stamp = time.time() + 5
    os.utime(image, (stamp, stamp))
    second = preview.site.article("2026/launch")
    assert second is not first  # an image changed
    theme = site / "layouts/themes/default/theme.css"
    write(theme, (Path(__file__).resolve().parents[1] / "publisher/layouts/themes/default/theme.css")
          .read_text(encoding="utf-8") + "\np { color: #123456; }\n")
    write(site / "layouts/themes/default/theme.toml", 'label = "测试"\n')
    page = client.get("/a/2026/launch").text
    assert preview.site.article("2026/launch") is not second  # a layout changed
    assert "#123456" in page


# ---- files -----------------------------------------------------------------------------------------

def test_images_inside_the_repository_are_served(client, site):
    response = client.get("/file/content/2026/launch/images/editor.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == (site / "content/2026/launch/images/editor.png").read_bytes()


def test_files_outside_the_repository_hidden_or_not_images_are_404(client, site, tmp_path):
    make_image(tmp_path / "outside.png", size=(10, 10))
    (site / "content/2026/launch/escape.png").symlink_to(tmp_path / "outside.png")
    (site / "content/2026/launch/folder").symlink_to(tmp_path, target_is_directory=True)
    write(site / ".git/config", "[core]\n")
    make_image(site / ".hidden/secret.png", size=(10, 10))
    for url in ("/file/../outside.png", "/file/%2e%2e/outside.png", "/file/content/%2e%2e/%2e%2e/outside.png",
                "/file/content/2026/launch/..%2f..%2f..%2f..%2foutside.png", "/file//etc/passwd",
                "/file/%2fetc%2fpasswd", "/file/content/2026/launch/escape.png",
                "/file/content/2026/launch/folder/outside.png", "/file/pyproject.toml", "/file/.git/config",
                "/file/.hidden/secret.png", "/file/content/2026/launch/index.md", "/file/content/2026/launch/nope.png",
                "/diagram/..%2f..%2fpyproject.toml", "/diagram/nothing.png", "/static/../app.py",
                "/static/%2e%2e/app.py"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"tool.publisher" not in response.content and b"<svg" not in response.content


def test_only_requests_naming_this_machine_are_answered(client, site):
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"):
        assert client.get("/", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""):
        response = client.get("/a/2026/launch", headers={"host": host})
        assert response.status_code == 400, host
        assert "帆书" not in response.text
    lan = create_app(site, watch=False, warm=False, host="0.0.0.0")  # served to the network on purpose
    assert TestClient(lan, base_url="http://192.168.1.5:8000").get("/").status_code == 200


def test_pages_forbid_scripts_from_elsewhere(client):
    headers = client.get("/a/2026/launch").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "object-src 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in client.get("/file/content/2026/launch/cover.jpg").headers


def test_static_files_are_served(client):
    assert "pv-phone" in client.get("/static/preview.css").text
    assert "EventSource" in client.get("/static/preview.js").text


# ---- the push view ---------------------------------------------------------------------------------

def test_push_view_shows_the_feed_cards_linking_to_the_articles(client, site):
    response = client.get(push_href(site, "2026-12-01 08:00"))
    assert response.status_code == 200
    page = response.text
    head = re.search(r'<a class="pv-feed-head" href="/a/2026/launch">(.*?)</a>', page, re.S).group(1)
    assert "帆书 3.0 正式发布" in head and 'src="/file/content/2026/launch/cover.jpg"' in head
    row = re.search(r'<a class="pv-feed-row" href="/a/2026/tips">(.*?)</a>', page, re.S).group(1)
    assert "小技巧第 12 期" in row and 'src="/file/content/2026/tips/cover.jpg"' in row
    assert "待发 scheduled" in page and "发布 (publish)" in page


def test_plan_push_and_missing_push(client, site):
    plan = client.get(push_href(site, "2026-12-03 20:30"))
    assert plan.status_code == 200 and "发布会回顾" in plan.text and "小李" in plan.text
    assert client.get("/push/no-such-push").status_code == 404


# ---- the calendar ----------------------------------------------------------------------------------

def test_calendar_grid_shows_each_push_on_its_day_with_its_status(client, site, monkeypatch):
    launch = push_id(site, "2026-12-01 08:00")
    preview_site = client.app.state.preview.site
    monkeypatch.setattr(preview_site, "records", lambda account: {launch: {"status": "published"}})
    monkeypatch.setattr(preview_site, "clock", lambda: datetime(2026, 12, 5, 12, 0, tzinfo=ZONE))
    page = client.get("/calendar?month=2026-12").text
    cell = re.search(r'<td class="" data-date="2026-12-01">(.*?)</td>', page, re.S).group(1)
    assert f'href="{push_url(launch)}"' in cell
    assert 'class="pv-chip published"' in cell and "08:00" in cell and "帆书 3.0 正式发布" in cell
    plan = re.search(r'data-date="2026-12-03">(.*?)</td>', page, re.S).group(1)
    assert 'class="pv-chip planned"' in plan
    later = re.search(r'data-date="2026-12-16">(.*?)</td>', page, re.S).group(1)
    assert 'class="pv-chip scheduled"' in later
    assert 'class=" pv-today" data-date="2026-12-05"' in page
    assert "年终回顾" in page  # the month's topic
    # the rules of `publisher check`: the week of 12-07 has no push, and no article is on the topic
    assert "calendar/weekly-minimum" in page and "week of 2026-12-07" in page
    assert "calendar/topic" not in page  # 2026/review's title has the topic
    assert page.count("<tr>") >= 5  # weeks × days


def test_calendar_months_and_missed_status(client, monkeypatch):
    site = client.app.state.preview.site
    monkeypatch.setattr(site, "clock", lambda: datetime(2026, 12, 2, 9, 0, tzinfo=ZONE))
    page = client.get("/calendar?month=2026-12").text
    assert re.search(r'data-date="2026-12-01">.*?class="pv-chip missed"', page, re.S)  # not in the ledger, > 6 h late
    november = client.get("/calendar?month=2026-11").text
    assert "pv-chip" not in november.split("<tbody>")[1].split("2026-11-30")[0]
    assert client.get("/calendar?month=nonsense").status_code == 200  # falls back to this month


def test_broken_calendar_shows_file_line_and_message(client, site):
    launch = push_href(site, "2026-12-01 08:00")
    write(site / "calendar.yaml", CALENDAR.replace('at: "2026-12-16 09:00"', "at: 2026-12-16 09:00:00:00"))
    response = client.get("/calendar")
    assert response.status_code == 422
    assert "calendar.yaml:" in response.text and "calendar/time" in response.text
    assert client.get(launch).status_code == 422


# ---- the index -------------------------------------------------------------------------------------

def test_index_lists_every_article_with_status_and_next_push(client, site):
    write(site / "content/2026/tips/index.md", TIPS.replace("斜杠命令的五种用法。", "![缺的图](missing.png)"))
    page = client.get("/").text
    assert 'id="pv-filter"' in page
    rows = re.findall(r'<tr data-search="([^"]*)">(.*?)</tr>', page, re.S)
    assert len(rows) == 3
    by_key = {re.search(r'href="/a/([^"]+)"', row).group(1): (search, row) for search, row in rows}
    assert set(by_key) == {"2026/launch", "2026/tips", "2026/review"}
    search, launch = by_key["2026/launch"]
    assert "帆书 3.0 正式发布" in launch and "林晓" in launch and "✓ clean" in launch
    assert "2026-12-01 Tue 08:00" in launch and "launch" in search and "林晓" in search
    assert "1 error" in by_key["2026/tips"][1]
    assert "编辑部" in by_key["2026/review"][1]  # the default author


def test_index_marks_unreadable_articles(client, site):
    write(site / "content/2026/tips/index.md", "---\ntitle: [坏\n---\n")
    page = client.get("/").text
    assert "无法读取 unreadable" in page


# ---- the sandbox -----------------------------------------------------------------------------------

def sandbox_state(site: Path) -> Path:
    folder = site / ".publisher-cache/sandbox/main"
    make_image(folder / "images/abc123.png", size=(40, 40), fmt="PNG")
    state = {
        "account": {"type": "subscription"}, "drafts": {"d1": {}},
        "images": {"abc123.png": {"url": "http://127.0.0.1:9/mmbiz/abc123.png"}},
        "articles": {"A1": {"article_id": "A1", "kind": "freepublish", "ready_at": 1796083200,
                            "deleted": [False, True],
                            "news_item": [{"title": "发出去的文章", "author": "林晓",
                                           "content": '<p style="color:#333">正文段落<script>alert(1)</script></p>'
                                                      '<img src="http://127.0.0.1:9/mmbiz/abc123.png">'
                                                      '<img src="http://evil.example/x.png">'},
                                          {"title": "第二篇", "author": "", "content": "<p>二</p>"}]}},
    }
    write(folder / "state.json", json.dumps(state, ensure_ascii=False))
    return folder


def test_sandbox_view_shows_what_was_published_as_sanitised(client, site):
    assert "nothing published to the sandbox yet" in client.get("/sandbox").text
    sandbox_state(site)
    page = client.get("/sandbox").text
    assert "发出去的文章" in page and "第二篇" in page and "1 draft(s)" in page and "deleted" in page
    content = re.search(r'<div id="pv-content" class="pv-rm-content">(.*?)</div>', page, re.S).group(1)
    assert "正文段落" in content and "<script" not in content and "alert" not in content
    assert 'src="/sandbox/image/main/abc123.png"' in content and "evil.example" not in content
    second = client.get("/sandbox?account=main&article=A1&idx=2").text
    assert "<p>二</p>" in second
    image = client.get("/sandbox/image/main/abc123.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    for url in ("/sandbox/image/main/other.png", "/sandbox/image/main/..%2fstate.json", "/sandbox/image/nobody/x.png"):
        assert client.get(url).status_code == 404, url
    assert client.get("/sandbox?account=nobody").status_code == 404


# ---- live reload -----------------------------------------------------------------------------------

def test_changes_are_classified_into_events(client, site):
    from watchfiles import Change

    s = client.app.state.preview.site
    s.article("2026/launch")
    content = site / "content/2026"

    def events(*paths):
        return classify(s, {(Change.modified, str(p)) for p in paths})[0]

    assert events(content / "launch/index.md") == [{"kind": "article", "key": "2026/launch"}]
    assert events(content / "launch/images/editor.png") == [{"kind": "article", "key": "2026/launch"}]
    assert events(site / "calendar.yaml") == [{"kind": "calendar"}]
    assert events(site / "layouts/themes/default/theme.css") == [{"kind": "layout"}]
    assert events(site / "content/stray.txt") == [{"kind": "article", "key": None}]
    assert events(site / ".publisher-cache/sandbox/main/state.json") == [{"kind": "sandbox", "account": "main"}]
    assert events(site / "README.md") == []
    write(site / "pyproject.toml", '[tool.publisher]\ntimezone = "Asia/Shanghai"\ndefault_author = "新作者"\n')
    assert events(site / "pyproject.toml") == [{"kind": "layout"}]
    assert s.project.default_author == "新作者"
    _, keys = classify(s, {(Change.modified, str(content / "launch/index.md"))})
    assert keys == ["2026/launch"]  # rendered ahead: someone is looking at it
    import shutil

    shutil.rmtree(content / "launch")  # an open page of a removed article hears about it (and shows 404)
    assert {"kind": "article", "key": "2026/launch"} in events(content / "launch")


def test_event_stream_says_hello_and_forwards_events(site):
    app = create_app(site, watch=False, warm=False)
    with TestClient(app, base_url=LOCAL) as test_client:
        preview = app.state.preview

        def later():
            deadline = time.monotonic() + 5
            while preview.broadcaster.clients == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            test_client.portal.call(preview.broadcaster.publish, {"kind": "article", "key": "2026/launch"})
            test_client.portal.call(preview.broadcaster.close)

        threading.Thread(target=later, daemon=True).start()
        response = test_client.get("/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "retry: 1000" in response.text
    assert f'event: hello\ndata: {{"boot": "{preview.boot}"}}' in response.text
    assert 'data: {"kind": "article", "key": "2026/launch"}' in response.text


def test_status_route(client):
    status = client.get("/status").json()
    assert status["articles"] == 3 and status["clients"] == 0


def test_saving_an_article_sends_an_event_and_the_page_has_the_new_text(site):
    """A real server in a thread with its file watcher: save → event on /events → page re-rendered."""
    with start_server(site, clock=lambda: NOW) as server:
        received: list[dict] = []
        ready = threading.Event()

        def listen():
            with httpx.stream("GET", server.url + "/events", timeout=30) as response:
                for line in response.iter_lines():
                    if line.startswith("event: hello"):
                        ready.set()
                    elif line.startswith("data: ") and "kind" in line:
                        received.append(json.loads(line[6:]))

        threading.Thread(target=listen, daemon=True).start()
        assert ready.wait(10)
        assert httpx.get(server.url + "/a/2026/tips").status_code == 200
        path = site / "content/2026/tips/index.md"
        path.write_text(TIPS + "\n刚刚写下的一句话。\n", encoding="utf-8")
        deadline = time.monotonic() + 10
        while {"kind": "article", "key": "2026/tips"} not in received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert {"kind": "article", "key": "2026/tips"} in received
        assert "刚刚写下的一句话" in httpx.get(server.url + "/a/2026/tips").text
        path.write_text("---\ntitle: [坏\n---\n", encoding="utf-8")
        deadline = time.monotonic() + 10
        while httpx.get(server.url + "/a/2026/tips").status_code != 422 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(server.url + "/a/2026/tips").status_code == 422
        write(site / "calendar.yaml", CALENDAR + "\n")
        deadline = time.monotonic() + 10
        while {"kind": "calendar"} not in received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert {"kind": "calendar"} in received
        started = time.monotonic()
    assert time.monotonic() - started < 5  # an open event stream does not hold the shutdown up


# ---- the command -----------------------------------------------------------------------------------

def test_loopback_hosts():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


def test_serve_warns_when_listening_beyond_this_machine(site, monkeypatch):
    from publisher.preview import app as app_module

    class Dummy:
        started = True

        def run(self):
            pass

    monkeypatch.setattr(app_module, "_server", lambda *args, **kwargs: Dummy())
    said: list[str] = []
    app_module.serve(site, "0.0.0.0", 8000, say=said.append)
    assert said[0].startswith("warning: serving on 0.0.0.0")
    said.clear()
    app_module.serve(site, "127.0.0.1", 8000, say=said.append)
    assert not any("warning" in line for line in said) and "http://127.0.0.1:8000/" in said[0]


def test_serve_is_a_command():
    from conftest import run_cli

    result = run_cli("serve", "--help", cwd=Path(__file__).parent)
    assert result.returncode == 0 and "--port" in result.stdout and "--open" in result.stdout
