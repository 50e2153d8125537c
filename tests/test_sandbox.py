"""The WeChat sandbox, over real HTTP on 127.0.0.1, as the publisher's client will use it."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from publisher.wechat.sandbox import SandboxAccount, sanitize_content, start_sandbox

APP_ID, SECRET = SandboxAccount.app_id, SandboxAccount.app_secret
RID = re.compile(r" rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$")


def image_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


class Api:
    """A bare WeChat client: what the publisher's client does, without its retries."""

    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url + "/cgi-bin/", trust_env=False, timeout=5)
        self.token = ""

    def stable_token(self, force: bool = False, **overrides) -> dict:
        body = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET, "force_refresh": force}
        return self.http.post("stable_token", json={**body, **overrides}).json()

    def login(self) -> Api:
        self.token = self.stable_token()["access_token"]
        return self

    def post(self, path: str, body: dict | None = None, **kwargs) -> dict:
        params = {"access_token": self.token, **kwargs.pop("params", {})}
        content = json.dumps(body or {}, ensure_ascii=False).encode()
        return self.http.post(path, params=params, content=content, **kwargs).json()

    def get(self, path: str, **params) -> dict:
        return self.http.get(path, params={"access_token": self.token, **params}).json()

    def upload(self, path: str, data: bytes, filename: str = "image.png", **params) -> dict:
        response = self.http.post(path, params={"access_token": self.token, **params},
                                  files={"media": (filename, data, "application/octet-stream")})
        return response.json()

    def cover(self) -> str:
        return self.upload("material/add_material", image_bytes("JPEG"), "cover.jpg", type="image")["media_id"]

    def draft(self, title: str = "标题", content: str = "<p>正文</p>", count: int = 1, **fields) -> str:
        thumb = self.cover()
        articles = [{"title": title, "content": content, "thumb_media_id": thumb, **fields} for _ in range(count)]
        result = self.post("draft/add", {"articles": articles})
        assert result["errcode"] == 0, result
        return result["media_id"]


@pytest.fixture
def sandbox(tmp_path: Path):
    with start_sandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture
def api(sandbox):
    client = Api(sandbox.base_url).login()
    yield client
    client.http.close()


def sendall(api: Api, media_id: str, clientmsgid: str | None = None) -> dict:
    body = {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": media_id},
            "send_ignore_reprint": 0}
    if clientmsgid is not None:
        body["clientmsgid"] = clientmsgid
    return api.post("message/mass/sendall", body)


# --- tokens ---


def test_stable_token_normal_mode_returns_the_same_token_and_force_refresh_rotates(sandbox, api):
    first, again = api.stable_token(), api.stable_token()
    assert first["access_token"] == again["access_token"] and 7000 < again["expires_in"] <= 7200
    assert "errcode" not in first
    forced = api.stable_token(force=True)["access_token"]
    assert forced != first["access_token"]
    assert api.stable_token()["access_token"] == forced
    api.token = first["access_token"]
    assert api.get("draft/count")["errcode"] == 0  # a rotated token lives 5 more minutes
    sandbox.admin.advance_clock(301)
    assert api.get("draft/count")["errcode"] == 40001
    api.token = forced
    assert api.get("draft/count")["errcode"] == 0


def test_classic_token_rotates_on_every_call_and_leaves_stable_tokens_alone(sandbox, api):
    query = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    old = api.http.get("token", params=query).json()
    new = api.http.get("token", params=query).json()
    assert old["access_token"] != new["access_token"] and new["expires_in"] == 7200
    stable = api.token
    sandbox.admin.advance_clock(301)
    api.token = old["access_token"]
    assert api.get("draft/count")["errcode"] == 40001
    api.token = new["access_token"]
    assert api.get("draft/count")["errcode"] == 0
    api.token = stable
    assert api.get("draft/count")["errcode"] == 0


def test_bad_credentials_and_bad_tokens(sandbox, api):
    wrong_secret = api.stable_token(secret="nope")
    assert wrong_secret["errcode"] == 40125 and RID.search(wrong_secret["errmsg"])
    assert api.stable_token(appid="wx0")["errcode"] == 40013
    assert api.http.get("stable_token").json()["errcode"] == 43002
    assert api.http.get("draft/count").json()["errcode"] == 41001
    api.token, good = "made-up", api.token
    assert api.get("draft/count")["errcode"] == 40001
    api.token = good
    sandbox.admin.advance_clock(7201)
    expired = api.get("draft/count")
    assert expired["errcode"] == 42001 and RID.search(expired["errmsg"])


# --- images and material ---


def test_uploadimg_takes_jpeg_and_png_under_1_mb_sniffed_from_the_bytes(api):
    png = image_bytes("PNG")
    result = api.upload("media/uploadimg", png, "a.png")
    assert result["errcode"] == 0 and result["url"].endswith(".png")
    served = httpx.get(result["url"], trust_env=False)
    assert served.status_code == 200 and served.content == png
    assert api.upload("media/uploadimg", image_bytes("JPEG"), "photo.gif")["url"].endswith(".jpg")
    assert api.upload("media/uploadimg", b"RIFF\0\0\0\0WEBPVP8 ", "fake.png")["errcode"] == 40005
    assert api.upload("media/uploadimg", image_bytes("GIF"), "anim.gif")["errcode"] == 40005
    too_big = b"\x89PNG\r\n\x1a\n" + bytes(1_000_000)
    assert api.upload("media/uploadimg", too_big, "big.png")["errcode"] == 40009
    assert api.post("media/uploadimg")["errcode"] == 41005


def test_add_material_and_batchget_list_the_uploaded_names(api):
    first = api.upload("material/add_material", image_bytes("JPEG"), "cover.jpg", type="image")
    second = api.upload("material/add_material", image_bytes("GIF"), "moving.gif", type="image")
    assert first["errcode"] == 0 and second["url"].endswith(".gif")
    assert api.upload("material/add_material", b"RIFF\0\0\0\0WEBP", "x.webp", type="image")["errcode"] == 40005
    listing = api.post("material/batchget_material", {"type": "image", "offset": 0, "count": 20})
    assert listing["total_count"] == 2 and listing["item_count"] == 2
    assert {i["name"] for i in listing["item"]} == {"cover.jpg", "moving.gif"}
    assert {i["media_id"] for i in listing["item"]} == {first["media_id"], second["media_id"]}
    assert {"url", "update_time"} <= set(listing["item"][0])
    one = api.post("material/batchget_material", {"type": "image", "offset": 1, "count": 1})
    assert one["total_count"] == 2 and one["item_count"] == 1
    assert api.post("material/batchget_material", {"type": "image", "offset": 0, "count": 21})["errcode"] == 40097
    assert api.get("material/get_materialcount")["image_count"] == 2


# --- drafts ---


def test_draft_add_sanitises_content_like_wechat(sandbox, api):
    uploaded = api.upload("media/uploadimg", image_bytes("PNG"), "body.png")["url"]
    content = (
        '<style>p{color:red}</style><script>alert(1)</script>'
        '<section class="box" id="top" style="margin:0" onclick="x()">'
        '<p>See <a href="https://example.com/page">the example</a> and '
        '<a href="https://mp.weixin.qq.com/s/abc">an old post</a>.</p>'
        f'<img src="https://example.com/cat.png"><img src="{uploaded}" style="width:100%"></section>'
    )
    media_id = api.draft(content=content)
    item = api.post("draft/get", {"media_id": media_id})["news_item"][0]
    kept = item["content"]
    for gone in ("<style", "<script", "alert", "class=", "id=", "onclick", "example.com"):
        assert gone not in kept, gone
    assert "the example" in kept and 'href="https://mp.weixin.qq.com/s/abc"' in kept
    assert f'src="{uploaded}"' in kept and 'style="margin:0"' in kept
    preview = httpx.get(item["url"], trust_env=False)
    assert preview.status_code == 200 and "标题" in preview.text and "the example" in preview.text
    assert item["thumb_url"].startswith(sandbox.base_url + "/mmbiz/")


def test_clean_content_comes_back_byte_for_byte(api):
    content = '<section style="padding:0 8px"><p>代码&nbsp;&nbsp;缩进<br/>第二行</p><svg viewBox="0 0 2 2"></svg></section>'
    media_id = api.draft(content=content)
    assert api.post("draft/get", {"media_id": media_id})["news_item"][0]["content"] == content


def test_sanitize_content_links():
    keep_none = lambda src: False  # noqa: E731
    assert sanitize_content('<a href="#note">1</a>', keep_none) == "1"
    assert sanitize_content('<a href="javascript:go()">go</a>', keep_none) == "go"
    mini = '<a data-miniprogram-appid="wx1" href="">小程序</a>'
    assert sanitize_content(mini, keep_none) == mini
    assert sanitize_content('a<img src="/local.png">b', keep_none) == "ab"


@pytest.mark.parametrize("field, value, errcode", [
    ("title", "字" * 33, 45003),
    ("title", "", 44003),
    ("author", "作" * 17, 45110),
    ("digest", "摘" * 129, 45004),
    ("content", "", 44003),
    ("content", "<p>" + "字" * 20_000 + "</p>", 45002),
    ("thumb_media_id", "not-a-material", 40007),
    ("content_source_url", "https://example.com/" + "a" * 1010, 41039),
    ("need_open_comment", 2, 40097),
])
def test_draft_add_limits(api, field, value, errcode):
    article = {"title": "标题", "content": "<p>正文</p>", "thumb_media_id": api.cover(), field: value}
    result = api.post("draft/add", {"articles": [article]})
    assert result["errcode"] == errcode and RID.search(result["errmsg"])


def test_draft_add_rejects_bad_article_lists_and_unicode_escapes(api):
    thumb = api.cover()
    assert api.post("draft/add", {"articles": []})["errcode"] == 44003
    nine = [{"title": "t", "content": "<p>c</p>", "thumb_media_id": thumb}] * 9
    assert api.post("draft/add", {"articles": nine})["errcode"] == 45008
    body = json.dumps({"articles": [{"title": "中文", "content": "<p>c</p>", "thumb_media_id": thumb}]})
    escaped = api.http.post("draft/add", params={"access_token": api.token}, content=body.encode()).json()
    assert escaped["errcode"] == 40033  # json.dumps(ensure_ascii=True) sends \\uXXXX
    assert api.http.get("draft/add", params={"access_token": api.token}).json()["errcode"] == 43002


def test_draft_get_update_batchget_count_delete(api):
    single = api.draft(content="<p>一段很长的正文，用来生成默认摘要。</p>")
    double = api.draft(title="两篇", count=2, digest="自己的摘要")
    assert api.post("draft/get", {"media_id": single})["news_item"][0]["digest"] == "一段很长的正文，用来生成默认摘要。"
    got = api.post("draft/get", {"media_id": double})
    assert len(got["news_item"]) == 2 and got["news_item"][1]["digest"] == "自己的摘要"
    assert api.post("draft/get", {"media_id": "unknown"})["errcode"] == 40007

    article = {**got["news_item"][1], "title": "改过的第二篇", "content": "<p>新正文</p>"}
    assert api.post("draft/update", {"media_id": double, "index": 1, "articles": article})["errcode"] == 0
    assert api.post("draft/update", {"media_id": double, "index": 2, "articles": article})["errcode"] == 40114
    titles = [i["title"] for i in api.post("draft/get", {"media_id": double})["news_item"]]
    assert titles == ["两篇", "改过的第二篇"]

    page = api.post("draft/batchget", {"offset": 0, "count": 20, "no_content": 1})
    assert page["total_count"] == 2 and page["item_count"] == 2
    assert page["item"][0]["media_id"] == double  # newest first
    assert "content" not in page["item"][0]["content"]["news_item"][0]
    assert api.post("draft/batchget", {"offset": 0, "count": 0})["errcode"] == 40097
    assert api.get("draft/count")["total_count"] == 2

    assert api.post("draft/delete", {"media_id": single})["errcode"] == 0
    assert api.post("draft/delete", {"media_id": single})["errcode"] == 0  # twice is fine, like WeChat
    assert api.get("draft/count")["total_count"] == 1
    assert api.post("draft/get", {"media_id": single})["errcode"] == 40007


# --- 发布 ---


def test_freepublish_lifecycle(sandbox, api):
    sandbox.admin.set_account(publish_delay=0.2)
    uploaded = api.upload("media/uploadimg", image_bytes("PNG"), "body.png")["url"]
    media_id = api.draft(title="发布测试", count=2, content=f'<p>正文</p><img src="{uploaded}">')
    submitted = api.post("freepublish/submit", {"media_id": media_id})
    assert submitted["errcode"] == 0 and isinstance(submitted["publish_id"], str)
    publish_id = submitted["publish_id"]
    assert api.post("freepublish/get", {"publish_id": publish_id})["publish_status"] == 1
    assert api.post("draft/get", {"media_id": media_id})["errcode"] == 40007  # left the draft box
    assert api.post("freepublish/submit", {"media_id": media_id})["errcode"] == 40007

    deadline = time.monotonic() + 3
    while (status := api.post("freepublish/get", {"publish_id": publish_id}))["publish_status"] == 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status["publish_status"] == 0 and status["fail_idx"] == []
    article_id = status["article_id"]
    assert [i["idx"] for i in status["article_detail"]["item"]] == [1, 2]
    page = httpx.get(status["article_detail"]["item"][0]["article_url"], trust_env=False)
    assert page.status_code == 200 and "发布测试" in page.text and "/mmbiz/" in page.text and "375px" in page.text

    listed = api.post("freepublish/batchget", {"offset": 0, "count": 20, "no_content": 0})
    assert listed["total_count"] == 1 and listed["item"][0]["article_id"] == article_id
    article = api.post("freepublish/getarticle", {"article_id": article_id})
    assert [i["is_deleted"] for i in article["news_item"]] == [False, False]
    assert api.post("freepublish/getarticle", {"article_id": "nope"})["errcode"] == 53600

    assert api.post("freepublish/delete", {"article_id": article_id, "index": 2})["errcode"] == 0
    article = api.post("freepublish/getarticle", {"article_id": article_id})
    assert [i["is_deleted"] for i in article["news_item"]] == [False, True]
    assert api.post("freepublish/delete", {"article_id": article_id, "index": 0})["errcode"] == 0
    assert api.post("freepublish/get", {"publish_id": publish_id})["publish_status"] == 5
    assert api.post("freepublish/batchget", {"offset": 0, "count": 20})["total_count"] == 0


def test_a_failed_publish_job_keeps_the_draft(sandbox, api):
    media_id = api.draft()
    sandbox.admin.fault("freepublish/submit", publish_status=3)
    publish_id = api.post("freepublish/submit", {"media_id": media_id})["publish_id"]
    assert api.post("freepublish/get", {"publish_id": publish_id})["publish_status"] == 3
    assert api.post("draft/get", {"media_id": media_id})["errcode"] == 0


def test_unverified_account_cannot_publish_send_or_preview(sandbox, api):
    sandbox.admin.set_account(verified=False)
    media_id = api.draft()  # drafts still work
    assert api.post("freepublish/submit", {"media_id": media_id})["errcode"] == 48001
    assert sendall(api, media_id)["errcode"] == 48001
    preview = {"towxname": "editor", "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
    assert api.post("message/mass/preview", preview)["errcode"] == 48001


# --- 群发 ---


def test_subscription_account_sends_once_a_day(sandbox, api):
    first_draft, second_draft = api.draft(title="第一"), api.draft(title="第二")
    sent = sendall(api, first_draft)
    assert sent["errcode"] == 0 and sent["msg_id"] and sent["msg_data_id"]
    assert api.post("draft/get", {"media_id": first_draft})["errcode"] == 40007
    assert api.post("message/mass/get", {"msg_id": sent["msg_id"]})["msg_status"] == "SEND_SUCCESS"
    refused = sendall(api, second_draft)
    assert refused["errcode"] == 45028 and refused["errmsg"].startswith("has no masssend quota")
    assert api.post("draft/get", {"media_id": second_draft})["errcode"] == 0
    sandbox.admin.advance_clock(24 * 3600)
    assert sendall(api.login(), second_draft)["errcode"] == 0


def test_service_account_sends_four_a_month(sandbox, api):
    sandbox.admin.set_account(type="service")
    results = [sendall(api, api.draft(title=f"第{n}篇"))["errcode"] for n in range(5)]
    assert results == [0, 0, 0, 0, 45028]


def test_clientmsgid_dedupes_within_24_hours(sandbox, api):
    sent = sendall(api, api.draft(), clientmsgid="repo@abc123:hello")
    again = sendall(api, api.draft(), clientmsgid="repo@abc123:hello")
    assert again["errcode"] == 45065 and again["msg_id"] == sent["msg_id"]
    assert sendall(api, api.draft(), clientmsgid="x" * 65)["errcode"] == 45067


def test_mass_delete_and_preview(sandbox, api):
    media_id = api.draft(count=2)
    preview = {"towxname": "editor-wx", "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
    assert api.post("message/mass/preview", preview)["errcode"] == 0
    assert sandbox.admin.state()["previews"][0]["to"] == "editor-wx"
    sent = sendall(api, media_id)  # a preview leaves the draft in place
    assert api.post("message/mass/delete", {"msg_id": sent["msg_id"], "article_idx": 1})["errcode"] == 0
    assert api.post("message/mass/get", {"msg_id": sent["msg_id"]})["msg_status"] == "SEND_SUCCESS"
    assert api.post("message/mass/delete", {"msg_id": sent["msg_id"], "article_idx": 0})["errcode"] == 0
    assert api.post("message/mass/get", {"msg_id": sent["msg_id"]})["msg_status"] == "DELETE"
    assert api.post("message/mass/get", {"msg_id": 1})["errcode"] == 40059


# --- whitelist, quota ---


def test_ip_whitelist(sandbox, api):
    sandbox.admin.set_account(ip_whitelist=["10.1.2.3"])
    refused = api.stable_token()
    assert refused["errcode"] == 40164
    assert refused["errmsg"].startswith("invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist rid: ")
    assert api.get("draft/count")["errcode"] == 40164
    sandbox.admin.set_account(ip_whitelist=["10.1.2.3", "127.0.0.0/8"])
    assert api.get("draft/count")["errcode"] == 0


def test_quota_get_counts_calls_per_endpoint_and_enforces_the_daily_limit(sandbox, api):
    api.get("draft/count")
    api.get("draft/count")
    quota = api.post("openapi/quota/get", {"cgi_path": "/cgi-bin/draft/count"})["quota"]
    assert quota == {"daily_limit": 1000, "used": 2, "remain": 998}
    assert api.post("openapi/quota/get", {"cgi_path": "/cgi-bin/nothing"})["errcode"] == 76021
    sandbox.admin.set_account(publish_delay=0)
    api.post("freepublish/submit", {"media_id": api.draft()})
    results = [api.post("freepublish/delete", {"article_id": "x"})["errcode"] for _ in range(11)]
    assert results == [53600] * 10 + [45009]


# --- faults ---


def test_errcode_fault_fails_the_next_calls(sandbox, api):
    sandbox.admin.fault("draft/count", errcode=-1, count=2)
    results = [api.get("draft/count") for _ in range(3)]
    assert [r["errcode"] for r in results] == [-1, -1, 0]
    assert results[0]["errmsg"].startswith("system error rid: ")
    assert sandbox.admin.faults() == []


def test_http_status_and_delay_faults(sandbox, api):
    sandbox.admin.fault("draft/count", http_status=502)
    response = api.http.get("draft/count", params={"access_token": api.token})
    assert response.status_code == 502
    sandbox.admin.fault("draft/count", delay=0.3)
    started = time.monotonic()
    assert api.get("draft/count")["errcode"] == 0
    assert time.monotonic() - started >= 0.3
    sandbox.admin.fault("draft/count", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        api.http.get("draft/count", params={"access_token": api.token}, timeout=0.1)


def test_drop_fault_closes_the_connection_without_a_response(sandbox, api):
    sandbox.admin.fault("draft/count", drop=True)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        api.get("draft/count")
    assert api.get("draft/count")["errcode"] == 0


def test_after_faults_perform_the_effect_then_lose_the_response(sandbox, api):
    thumb = api.cover()
    sandbox.admin.fault("draft/add", after=True, errcode=-1)
    lost = api.post("draft/add", {"articles": [{"title": "t", "content": "<p>c</p>", "thumb_media_id": thumb}]})
    assert lost["errcode"] == -1
    assert api.get("draft/count")["total_count"] == 1  # the draft was made all the same

    media_id = api.draft()
    sandbox.admin.fault("freepublish/submit", after=True, drop=True)
    with pytest.raises(httpx.TransportError):
        api.post("freepublish/submit", {"media_id": media_id})
    assert api.post("freepublish/batchget", {"offset": 0, "count": 20})["total_count"] == 1
    assert api.post("freepublish/submit", {"media_id": media_id})["errcode"] == 40007  # no double post

    sandbox.admin.fault("message/mass/sendall", after=True, http_status=504)
    clientmsgid = "repo@abc:after"
    body = {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": api.draft()},
            "clientmsgid": clientmsgid}
    response = api.http.post("message/mass/sendall", params={"access_token": api.token},
                             content=json.dumps(body).encode())
    assert response.status_code == 504
    retried = sendall(api, api.draft(), clientmsgid=clientmsgid)
    assert retried["errcode"] == 45065 and str(retried["msg_id"]) in sandbox.admin.state()["mass_sends"]


def test_bad_fault_specs_and_account_settings_are_refused(sandbox):
    with pytest.raises(ValueError, match="one of"):
        sandbox.admin.fault("draft/add", errcode=-1, drop=True)
    with pytest.raises(ValueError):
        sandbox.admin.fault("draft/add", bogus=1)
    with pytest.raises(ValueError, match="delay"):
        sandbox.admin.fault("draft/add", delay="soon")
    with pytest.raises(ValueError, match="type"):
        sandbox.admin.set_account(type="personal")


def test_wildcard_fault_and_unknown_endpoints(sandbox, api):
    sandbox.admin.fault("*", errcode=45009, count=2)
    assert api.get("draft/count")["errcode"] == 45009
    assert api.get("material/get_materialcount")["errcode"] == 45009
    assert api.get("draft/count")["errcode"] == 0
    assert api.http.post("no/such/api", params={"access_token": api.token}).status_code == 404


# --- admin, persistence, pages ---


def test_calls_counter_and_reset(sandbox, api):
    sandbox.admin.reset_calls()
    api.get("draft/count")
    api.get("draft/count")
    api.post("draft/get", {"media_id": "x"})
    calls = sandbox.admin.calls()
    assert calls["counts"] == {"draft/count": 2, "draft/get": 1} and calls["total"] == 3
    assert [c["errcode"] for c in calls["calls"]] == [0, 0, 40007]
    sandbox.admin.reset_calls()
    assert sandbox.admin.calls()["total"] == 0


def test_state_hides_token_values_and_reset_empties_it(sandbox, api):
    api.stable_token(force=True)
    api.draft()
    state = sandbox.admin.state()
    assert state["tokens"]["issued"]["stable"] == 2 and api.token not in json.dumps(state)
    assert len(state["drafts"]) == 1 and len(state["images"]) == 1
    sandbox.admin.set_account(type="service")
    sandbox.admin.reset()
    state = sandbox.admin.state()
    assert state["drafts"] == {} and state["images"] == {} and state["account"]["type"] == "subscription"
    assert api.get("draft/count")["errcode"] == 40001


def test_state_survives_a_restart_on_the_same_folder(tmp_path):
    folder = tmp_path / "state"
    with start_sandbox(folder) as first:
        api = Api(first.base_url).login()
        image_url = api.upload("media/uploadimg", image_bytes("PNG"), "a.png")["url"]
        draft = api.draft(content=f'<p>x</p><img src="{image_url}">')
        publish_id = api.post("freepublish/submit", {"media_id": api.draft()})["publish_id"]
        assert sendall(api, api.draft(), clientmsgid="once")["errcode"] == 0
        token = api.token
        api.http.close()
    with start_sandbox(folder) as second:
        api = Api(second.base_url)
        api.token = token  # still valid
        assert api.post("draft/get", {"media_id": draft})["news_item"][0]["content"].endswith(f'<img src="{image_url}">')
        assert api.post("freepublish/get", {"publish_id": publish_id})["publish_status"] == 0
        assert sendall(api, draft, clientmsgid="once")["errcode"] == 45065
        assert sendall(api, draft)["errcode"] == 45028  # today's send was used before the restart
        assert api.login().token == token
        new_port_image = image_url.replace(first.base_url, second.base_url)
        assert httpx.get(new_port_image, trust_env=False).status_code == 200
        assert second.admin.calls()["total"] == 5  # the call log is per run
        api.http.close()


def test_index_page_lists_what_went_out(sandbox, api):
    api.post("freepublish/submit", {"media_id": api.draft(title="已发布的文章")})
    api.draft(title="还在草稿箱")
    page = httpx.get(sandbox.base_url + "/sandbox/", trust_env=False)
    assert page.status_code == 200 and "已发布的文章" in page.text and "还在草稿箱" in page.text
