"""The WeChat client against a small fake WeChat HTTP server on 127.0.0.1, scripted per test.

Nothing of ours or wechatpy's is monkeypatched: the client is pointed at the fake server's URL, and the
server records every request it gets.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import traceback
import urllib.parse
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from publisher.wechat.client import WeChatClient
from publisher.wechat.errors import (
    AlreadySent,
    BadRequest,
    InvalidCredentials,
    IPNotWhitelisted,
    NeedsHuman,
    QuotaExceeded,
    TransientError,
    Unauthorized,
    WeChatError,
)

APP_ID = "wx1234567890abcdef"
SECRET = "SECRET-5e9d0c7b2a41f8e3d6c5b4a39281706f"
RID = "6566e7f1-1a2b3c4d-5e6f7a8b"


# ---- the fake WeChat -------------------------------------------------------------------------------------


@dataclass
class Status:
    """Answer with an HTTP status and a raw body."""

    code: int
    body: str = ""


@dataclass
class Sleep:
    """Wait (longer than the client's timeout), then answer."""

    seconds: float
    then: dict


class Drop:
    """Close the connection without answering."""


@dataclass
class Req:
    method: str
    path: str
    query: dict
    body: bytes
    headers: dict

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def endpoint(self) -> str:
        return self.path.removeprefix("/cgi-bin/")


class FakeWeChat:
    def __init__(self):
        self.requests: list[Req] = []
        self.script: dict[str, deque] = defaultdict(deque)
        self.token = "TOKEN-first-9c1e2f3a4b5c6d7e8f90"
        self.token_expires_in = 7200
        self.issued: set[str] = set()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the client hung up on a slow answer: expected in timeout tests

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def add(self, endpoint: str, *actions) -> None:
        """Script the next answers for an endpoint ("draft/add", "stable_token")."""
        self.script["/cgi-bin/" + endpoint].extend(actions)

    def to(self, endpoint: str) -> list[Req]:
        return [r for r in self.requests if r.path == "/cgi-bin/" + endpoint]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(h.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        with self.lock:
            self.requests.append(Req(method, parts.path, query, body, dict(h.headers)))
            script = self.script[parts.path]
            action = script.popleft() if script else None
        if action is None:
            action = self._default(parts.path, query)
        if isinstance(action, Sleep):
            time.sleep(action.seconds)
            action = action.then
        if isinstance(action, Drop):
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(action, Status):
            data, code, ctype = action.body.encode("utf-8"), action.code, "text/html"
        else:
            data, code, ctype = json.dumps(action, ensure_ascii=False).encode("utf-8"), 200, "application/json"
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _default(self, path: str, query: dict):
        if path == "/cgi-bin/stable_token":
            self.issued.add(self.token)
            return {"access_token": self.token, "expires_in": self.token_expires_in}
        if path == "/cgi-bin/token":
            return Status(500, "the classic token endpoint must never be called")
        if query.get("access_token") != self.token:
            return {"errcode": 40001, "errmsg": f"invalid credential, access_token is invalid or not latest rid: {RID}"}
        return {
            "/cgi-bin/draft/add": {"media_id": "DRAFT_MEDIA_1"},
            "/cgi-bin/media/uploadimg": {"url": "http://mmbiz.qpic.cn/mmbiz_png/abc/0"},
            "/cgi-bin/material/add_material": {"media_id": "IMG_MEDIA_1", "url": "http://mmbiz.qpic.cn/x/0"},
            "/cgi-bin/freepublish/submit": {"errcode": 0, "errmsg": "ok", "publish_id": 2247483655,
                                            "msg_data_id": 2247483656},
            "/cgi-bin/message/mass/sendall": {"errcode": 0, "errmsg": "send job submission success",
                                              "msg_id": 1000000001, "msg_data_id": 2247483657},
        }.get(path, {"errcode": 0, "errmsg": "ok"})


@pytest.fixture
def fake():
    server = FakeWeChat()
    yield server
    server.close()


class Recorder:
    def __init__(self):
        self.sleeps: list[float] = []
        self.lines: list[str] = []


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def make(fake, rec):
    def make_client(**kw) -> WeChatClient:
        kw.setdefault("api_base", fake.url)
        kw.setdefault("timeout", 2.0)
        return WeChatClient(APP_ID, SECRET, sleep=rec.sleeps.append, log=rec.lines.append, **kw)

    return make_client


def err(code: int, msg: str, **extra) -> dict:
    return {"errcode": code, "errmsg": f"{msg} rid: {RID}", **extra}


# ---- token ----------------------------------------------------------------------------------------------


def test_stable_token_in_normal_mode_cached_across_calls(fake, make):
    client = make()
    assert client.draft_add([{"title": "t", "content": "<p>x</p>", "thumb_media_id": "m"}]) == "DRAFT_MEDIA_1"
    client.draft_get("DRAFT_MEDIA_1")
    client.draft_batchget()

    tokens = fake.to("stable_token")
    assert len(tokens) == 1
    assert tokens[0].method == "POST"
    assert tokens[0].json == {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET,
                              "force_refresh": False}
    assert not fake.to("token")
    assert [r.query["access_token"] for r in fake.requests if "draft" in r.path] == [fake.token] * 3
    assert client.calls == {"cgi-bin/stable_token": 1, "draft/add": 1, "draft/get": 1, "draft/batchget": 1}


def test_token_within_five_minutes_of_expiry_is_fetched_again(fake, make):
    fake.token_expires_in = 299  # stable_token rotates 5 minutes early: don't keep using this one
    client = make()
    client.draft_get("m")
    client.draft_get("m")
    assert len(fake.to("stable_token")) == 2
    assert all(r.json["force_refresh"] is False for r in fake.to("stable_token"))


def test_token_is_refreshed_once_on_40001_then_succeeds(fake, make):
    client = make()
    client.draft_get("m")
    fake.token = "TOKEN-second-0a9b8c7d6e5f4a3b2c1d"  # someone rotated it
    assert client.draft_add([{"title": "t"}]) == "DRAFT_MEDIA_1"

    adds = fake.to("draft/add")
    assert [r.query["access_token"] for r in adds] == ["TOKEN-first-9c1e2f3a4b5c6d7e8f90", fake.token]
    assert len(fake.to("stable_token")) == 2
    assert all(r.json["force_refresh"] is False for r in fake.to("stable_token"))
    assert not fake.to("token")


@pytest.mark.parametrize("code", [40001, 40014, 42001])
def test_second_token_error_raises_after_one_refresh(fake, make, rec, code):
    fake.add("draft/add", err(code, "invalid credential"), err(code, "invalid credential"), {"media_id": "no"})
    client = make()
    with pytest.raises(InvalidCredentials) as info:
        client.draft_add([{"title": "t"}])
    assert len(fake.to("draft/add")) == 2
    assert len(fake.to("stable_token")) == 2
    assert not fake.to("token")
    assert rec.sleeps == []
    message = str(info.value)
    assert "stable_token" in message and "force_refresh" in message and RID in message


# ---- retries --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [err(-1, "system error"), err(45011, "api minute-quota reach limit mustslower"), Status(502, "Bad Gateway"),
     Drop()],
    ids=["errcode-1", "errcode45011", "http502", "dropped"],
)
def test_transient_failure_is_retried_with_backoff(fake, make, rec, failure):
    fake.add("draft/get", failure)
    client = make(backoff=0.5)
    assert client.draft_get("m") == {"errcode": 0, "errmsg": "ok"}
    assert len(fake.to("draft/get")) == 2
    assert client.calls["draft/get"] == 2
    assert rec.sleeps == [0.5]


def test_timeout_is_retried(fake, make, rec):
    fake.add("draft/get", Sleep(1.0, {"errcode": 0, "errmsg": "late"}))
    client = make(timeout=0.25)
    assert client.draft_get("m") == {"errcode": 0, "errmsg": "ok"}
    assert client.calls["draft/get"] == 2
    assert rec.sleeps == [1.0]
    assert any("draft/get attempt 1/4" in line and "timeout" in line for line in rec.lines)


def test_token_request_is_retried_too(fake, make, rec):
    fake.add("stable_token", err(-1, "system error"), Status(503))
    client = make()
    client.draft_get("m")
    assert client.calls["cgi-bin/stable_token"] == 3
    assert rec.sleeps == [1.0, 2.0]


@pytest.mark.parametrize("failure", [err(-1, "system error"), Status(503, "busy")], ids=["errcode-1", "http503"])
def test_retries_are_bounded(fake, make, rec, failure):
    fake.add("draft/get", *[failure] * 10)
    client = make(max_attempts=4)
    with pytest.raises(TransientError) as info:
        client.draft_get("m")
    assert info.value.attempts == 4
    assert client.calls["draft/get"] == 4
    assert rec.sleeps == [1.0, 2.0, 4.0]
    message = str(info.value)
    assert "draft/get" in message and "4 attempts" in message
    assert ("errcode -1" in message) or ("HTTP 503" in message)


def test_freepublish_submit_is_not_repeated_after_an_unanswered_request(fake, make, rec):
    client = make(timeout=0.25)
    client.draft_get("m")
    fake.add("freepublish/submit", Sleep(1.0, {"errcode": 0, "publish_id": 1}))
    with pytest.raises(TransientError) as info:
        client.freepublish_submit("DRAFT")
    assert client.calls["freepublish/submit"] == 1
    assert info.value.attempts == 1
    assert "not retried" in str(info.value) and "freepublish_batchget" in str(info.value)

    fake.add("freepublish/submit", err(-1, "system error"))  # an answer: nothing was done, safe to retry
    assert client.freepublish_submit("DRAFT") == {"publish_id": "2247483655", "msg_data_id": "2247483656"}
    assert client.calls["freepublish/submit"] == 3


def test_unreachable_relay_gives_up_with_attempt_count(make, rec):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make(api_base=f"http://127.0.0.1:{port}", max_attempts=3)
    with pytest.raises(TransientError) as info:
        client.draft_get("m")
    assert info.value.attempts == 3
    assert info.value.endpoint == "cgi-bin/stable_token"
    assert "3 attempts" in str(info.value) and "connection" in str(info.value)


# ---- typed errors ---------------------------------------------------------------------------------------


def test_40164_shows_the_ip_and_both_fixes(fake, make):
    fake.add("stable_token", err(40164, "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist"))
    client = make()
    with pytest.raises(IPNotWhitelisted) as info:
        client.draft_add([{"title": "t"}])
    e = info.value
    assert (e.errcode, e.ip, e.rid, e.endpoint) == (40164, "203.0.113.7", RID, "cgi-bin/stable_token")
    message = str(e)
    assert "203.0.113.7" in message
    assert "self-hosted runner" in message and "fixed IP" in message
    assert "WECHAT_API_BASE" in message and "relay" in message
    assert f"rid: {RID}" in message
    assert client.calls["cgi-bin/stable_token"] == 1  # not retried
    assert not fake.to("draft/add")


@pytest.mark.parametrize("verified", [False, True])
def test_48001_says_what_the_account_may_do(fake, make, verified):
    fake.add("freepublish/submit", err(48001, "api unauthorized"))
    client = make(verified=verified)
    with pytest.raises(Unauthorized) as info:
        client.freepublish_submit("DRAFT")
    message = str(info.value)
    assert "freepublish/submit" in message and RID in message
    if verified:
        assert "verified" in message and "认证" in message
    else:
        assert "July 2025" in message and "only create drafts" in message
        assert "群发" in message and "verified account" in message
    assert client.calls["freepublish/submit"] == 1


def test_45009_daily_quota(fake, make, rec):
    fake.add("draft/add", err(45009, "reach max api daily quota limit"))
    client = make()
    with pytest.raises(QuotaExceeded) as info:
        client.draft_add([{"title": "t"}])
    message = str(info.value)
    assert "draft/add" in message and "midnight Beijing time" in message
    assert "clear_quota" in message and "10 times a month" in message and RID in message
    assert rec.sleeps == [] and client.calls["draft/add"] == 1


@pytest.mark.parametrize("account_type, expect", [("subscription", "once a day"),
                                                  ("service", "4 times a calendar month")])
def test_45028_no_mass_send_quota(fake, make, account_type, expect):
    fake.add("message/mass/sendall", err(45028, "has no masssend quota"))
    client = make(account_type=account_type)
    with pytest.raises(QuotaExceeded) as info:
        client.mass_sendall("DRAFT", "push-2026-01-01-abc")
    message = str(info.value)
    assert expect in message and "resets" in message and "Do not retry" in message and RID in message
    assert info.value.resets_at.utcoffset().total_seconds() == 8 * 3600


def test_45065_is_already_sent_with_msg_id(fake, make):
    fake.add("message/mass/sendall", err(45065, "clientmsgid exist", msg_id=1000000042))
    client = make()
    with pytest.raises(AlreadySent) as info:
        client.mass_sendall("DRAFT", "push-abc")
    e = info.value
    assert e.msg_id == "1000000042" and e.clientmsgid == "push-abc"
    assert "1000000042" in str(e) and "already sent" in str(e) and RID in str(e)


@pytest.mark.parametrize("code, words", [
    (53503, "publish check"), (53504, "published from the web"), (53505, "保存"), (89503, "admin must confirm"),
])
def test_needs_human(fake, make, code, words):
    fake.add("freepublish/submit", err(code, "something"))
    client = make()
    with pytest.raises(NeedsHuman) as info:
        client.freepublish_submit("DRAFT")
    message = str(info.value)
    assert words in message and RID in message
    assert code == 89503 or "mp.weixin.qq.com" in message


@pytest.mark.parametrize("code, words", [(40125, "AppSecret"), (40013, "AppID"), (40243, "frozen")])
def test_invalid_credentials(fake, make, code, words):
    fake.add("stable_token", err(code, "invalid"))
    with pytest.raises(InvalidCredentials) as info:
        make().draft_get("m")
    assert words in str(info.value) and RID in str(info.value)


@pytest.mark.parametrize("code, words", [
    (40005, "jpg/png"), (40009, "1 MB"), (45003, "32"), (45004, "128"), (45166, "HTML"), (40007, "media_id"),
    (40033, "UTF-8"), (40114, "0-based"),
])
def test_bad_request_hints(fake, make, code, words):
    fake.add("draft/add", err(code, "bad"))
    with pytest.raises(BadRequest) as info:
        make().draft_add([{"title": "t"}])
    e = info.value
    assert (e.errcode, e.endpoint, e.rid) == (code, "draft/add", RID)
    assert words in str(e) and f"rid: {RID}" in str(e)


def test_unknown_errcode_and_not_json(fake, make):
    fake.add("draft/get", {"errcode": 99999, "errmsg": "something new"})
    client = make()
    with pytest.raises(BadRequest) as info:
        client.draft_get("m")
    assert "99999" in str(info.value) and "rid:" not in str(info.value)

    fake.add("draft/get", Status(404, "<html>not found</html>"))
    with pytest.raises(WeChatError) as info:
        client.draft_get("m")
    assert info.value.http_status == 404 and "WECHAT_API_BASE" in str(info.value)
    assert client.calls["draft/get"] == 2  # neither retried


# ---- request bodies -------------------------------------------------------------------------------------


def test_json_is_raw_utf8(fake, make):
    client = make()
    client.draft_add([{"title": "年终回顾：我们这一年", "author": "编辑部", "content": "<p>你好，世界</p>"}])
    (req,) = fake.to("draft/add")
    assert "年终回顾：我们这一年".encode() in req.body and "你好，世界".encode() in req.body
    assert b"\\u" not in req.body
    assert req.headers["Content-Type"].startswith("application/json")
    assert req.json["articles"][0]["author"] == "编辑部"


def test_payloads_and_results(fake, make):
    client = make()
    assert client.upload_image(b"\x89PNG fake", "a.png") == "http://mmbiz.qpic.cn/mmbiz_png/abc/0"
    (up,) = fake.to("media/uploadimg")
    assert b'name="media"; filename="a.png"' in up.body and b"\x89PNG fake" in up.body
    assert client.add_image_material(b"jpeg", "c.jpg") == {"media_id": "IMG_MEDIA_1", "url": "http://mmbiz.qpic.cn/x/0"}
    assert fake.to("material/add_material")[0].query["type"] == "image"
    client.batchget_image_materials(20, 10)
    assert fake.to("material/batchget_material")[0].json == {"type": "image", "offset": 20, "count": 10}

    article = {"article_type": "news", "title": "t", "pic_crop_235_1": "0.1_0_1_0.5", "thumb_media_id": "m"}
    client.draft_add([article])
    assert fake.to("draft/add")[0].json == {"articles": [article]}  # nothing dropped
    client.draft_update("D", 0, article)
    assert fake.to("draft/update")[0].json == {"media_id": "D", "index": 0, "articles": article}
    client.draft_delete("D")
    assert fake.to("draft/delete")[0].json == {"media_id": "D"}
    client.draft_batchget(0, 5, no_content=False)
    assert fake.to("draft/batchget")[0].json == {"offset": 0, "count": 5, "no_content": 0}

    assert client.freepublish_submit("D") == {"publish_id": "2247483655", "msg_data_id": "2247483656"}
    client.freepublish_get("2247483655")
    assert fake.to("freepublish/get")[0].json == {"publish_id": "2247483655"}
    client.freepublish_delete("ART", 1)
    assert fake.to("freepublish/delete")[0].json == {"article_id": "ART", "index": 1}
    client.freepublish_batchget()
    assert fake.to("freepublish/batchget")[0].json == {"offset": 0, "count": 20, "no_content": 1}

    assert client.mass_sendall("D", "cid-1", is_to_all=False, tag_id=7) == {"msg_id": "1000000001",
                                                                             "msg_data_id": "2247483657"}
    assert fake.to("message/mass/sendall")[0].json == {
        "filter": {"is_to_all": False, "tag_id": 7}, "mpnews": {"media_id": "D"}, "msgtype": "mpnews",
        "send_ignore_reprint": 0, "clientmsgid": "cid-1"}
    client.mass_get("1000000001")
    assert fake.to("message/mass/get")[0].json == {"msg_id": 1000000001}
    client.mass_delete("1000000001", 2)
    assert fake.to("message/mass/delete")[0].json == {"msg_id": 1000000001, "article_idx": 2}
    client.mass_preview("D", towxname="editor-wx")
    assert fake.to("message/mass/preview")[0].json == {"msgtype": "mpnews", "mpnews": {"media_id": "D"},
                                                        "towxname": "editor-wx"}
    client.quota_get("draft/add")
    client.quota_get("/cgi-bin/freepublish/submit")
    assert [r.json for r in fake.to("openapi/quota/get")] == [{"cgi_path": "/cgi-bin/draft/add"},
                                                             {"cgi_path": "/cgi-bin/freepublish/submit"}]
    assert all(r.method == "POST" for r in fake.requests)

    with pytest.raises(ValueError):
        client.mass_preview("D")
    with pytest.raises(ValueError):
        client.mass_sendall("D", "x" * 65)
    with pytest.raises(ValueError):
        client.mass_sendall("D", "cid", is_to_all=False)


def test_calls_counts_every_http_request(fake, make):
    fake.add("draft/add", err(-1, "busy"), err(-1, "busy"))
    fake.add("draft/get", err(40001, "invalid credential"))
    client = make()
    client.draft_add([{"title": "t"}])
    client.draft_get("m")
    client.draft_get("m")
    assert client.calls == {"cgi-bin/stable_token": 2, "draft/add": 3, "draft/get": 3}
    assert len(fake.requests) == sum(client.calls.values())


def test_log_lines(fake, make, rec):
    fake.add("draft/add", err(-1, "busy"))
    make().draft_add([{"title": "t"}])
    assert len(rec.lines) == 3
    assert rec.lines[0].startswith("wechat POST cgi-bin/stable_token attempt 1/4 errcode=0 ")
    assert rec.lines[1].startswith("wechat POST draft/add attempt 1/4 errcode=-1 ")
    assert rec.lines[2].startswith("wechat POST draft/add attempt 2/4 errcode=0 ")
    assert all(line.endswith(" ms") for line in rec.lines)


# ---- secrets --------------------------------------------------------------------------------------------


def test_secrets_never_leak(fake, make, rec, caplog):
    caplog.set_level(logging.DEBUG)
    echo = f"access_token={fake.token}&appsecret={SECRET}"
    errors: list[BaseException] = []
    clients: list[WeChatClient] = []

    def run(action, **kw):
        client = make(**kw)
        clients.append(client)
        with pytest.raises(WeChatError) as info:
            action(client)
        errors.append(info.value)

    fake.add("stable_token", err(40164, f"invalid ip 203.0.113.7, not in whitelist {echo}"))
    run(lambda c: c.draft_get("m"))
    fake.add("stable_token", err(40125, f"invalid appsecret {SECRET} {echo}"))
    run(lambda c: c.draft_get("m"))
    fake.add("stable_token", err(89503, "need admin confirm"))
    run(lambda c: c.draft_get("m"))
    fake.add("stable_token", *[Status(502, f"bad gateway {echo}")] * 4)
    run(lambda c: c.draft_get("m"))
    fake.add("draft/add", err(40001, f"invalid credential {echo}"), err(40001, f"invalid credential {echo}"))
    run(lambda c: c.draft_add([{"title": "t"}]))
    for code in (-1, 45011):
        fake.add("draft/add", *[err(code, f"busy {echo}")] * 4)
        run(lambda c: c.draft_add([{"title": "t"}]))
    fake.add("draft/get", *[Status(500, echo)] * 4)
    run(lambda c: c.draft_get("m"))
    fake.add("draft/get", *[Drop()] * 4)
    run(lambda c: c.draft_get("m"))
    fake.add("draft/get", Status(403, echo))
    run(lambda c: c.draft_get("m"))
    for code in (45009, 45028, 45065, 48001, 53503, 53504, 53505, 45166, 40007, 12345):
        fake.add("message/mass/sendall", err(code, f"no {echo}", msg_id=1))
        run(lambda c: c.mass_sendall("D", "cid"), verified=False)
    fake.add("freepublish/submit", Sleep(1.0, {"errcode": 0}))
    run(lambda c: c.freepublish_submit("D"), timeout=0.25)
    fake.add("draft/get", *[Sleep(1.0, {"errcode": 0})] * 2)
    run(lambda c: c.draft_get("m"), timeout=0.25, max_attempts=2)
    fake.token = "TOKEN-rotated-1f2e3d4c5b6a7988"  # a second token value, to be scrubbed as well
    fake.add("draft/add", err(40014, f"bad {echo}"), err(40014, f"bad {echo}"))
    run(lambda c: c.draft_add([{"title": "t"}]))

    # a cached token in the URL of a request that fails to connect
    survivor = make()
    survivor.draft_get("m")
    clients.append(survivor)
    fake.close()
    with pytest.raises(TransientError) as info:
        survivor.draft_get("m")
    errors.append(info.value)

    secrets = {SECRET, *fake.issued}
    assert len(fake.issued) == 2 and len(errors) == 24
    texts = list(rec.lines) + [r.getMessage() for r in caplog.records] + [repr(c) for c in clients]
    for e in errors:
        assert e.__cause__ is None and e.__context__ is None
        texts += [str(e), repr(e), "".join(traceback.format_exception(e))]
        # with every local of our frames shown, as `rich` or `pytest --showlocals` would
        frames = traceback.TracebackException.from_exception(e, capture_locals=True).stack
        texts += [repr(f.locals) for f in frames if "publisher" in f.filename]
        assert any("publisher/wechat/client.py" in f.filename for f in frames)
    assert any("urllib3" in r.name for r in caplog.records)  # its request lines were captured, redacted
    leaks = [(s, t) for t in texts for s in secrets if s in t]
    assert not leaks, [t[max(0, t.find(s) - 300):t.find(s) + 60] for s, t in leaks[:3]]
    assert any("access_token=***" in t for t in texts)
