"""A local emulator of the WeChat Official Account API, served over real HTTP.

The sandbox answers the same paths with the same JSON shapes and errcodes as api.weixin.qq.com for
everything the publisher uses (tokens, image uploads, drafts, 发布, 群发, quotas, and the 数据统计
reports at /datacube/, in sandbox_datacube.py), so the real client
runs against it unchanged: point its base URL at `RunningSandbox.base_url`. It keeps WeChat's traps:
the classic `token` endpoint rotates the token on every call, a draft disappears once published,
the mass-send quota is one a day, article HTML is sanitised, external images are filtered out.

State lives in one JSON file in `state_dir` (images beside it), so a sandbox restarted on the same
folder remembers its drafts, publications, tokens and quotas. Tests steer it through the admin API
under `/sandbox/admin/` (faults, call counts, clock, account settings); people look at what went
out at `/sandbox/`.

Layout: `SandboxAccount` and `State` (persistence), `sanitize_content` (WeChat's HTML filter), one
small function per endpoint registered in `ROUTES`, `Sandbox` (the dispatcher: faults, IP
whitelist, token, quota), then the admin API, the human pages and the server helpers.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import ipaddress
import json
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from functools import cached_property, partial
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from publisher.serving import StoppableServer, start_in_thread

# --- WeChat's numbers ---------------------------------------------------------------------------

TOKEN_TTL = 7200  # seconds an access_token lives
ROTATION_GRACE = 300  # a token rotated away stays valid this long ("新旧 token 5 分钟内均可用")
EARLY_RENEWAL = 300  # stable_token's normal mode hands out a new token in the last 5 minutes
UPLOADIMG_LIMIT = 1_000_000  # media/uploadimg: "1MB以下" (the assets stage aims below this too)
MATERIAL_LIMIT = 10 * 1024 * 1024  # add_material?type=image
THUMB_LIMIT = 64 * 1024  # add_material?type=thumb
CONTENT_BYTES = 1_000_000  # draft content "小于1M"
CONTENT_CHARS = 20_000  # draft content "必须少于2万字符" (text characters)
TITLE_CHARS, AUTHOR_CHARS, DIGEST_CHARS, SOURCE_URL_BYTES = 32, 16, 128, 1024
AUTO_DIGEST_CHARS = 54  # an empty digest of a single article becomes the first 54 characters
MAX_ARTICLES, MAX_PAGE = 8, 20
CLIENTMSGID_BYTES = 64
DEDUPE_WINDOW = 24 * 3600  # clientmsgid is remembered for 24 h
CHINA = timezone(timedelta(hours=8))  # Asia/Shanghai, no daylight saving
MP_HOST = "mp.weixin.qq.com"  # the only host <a href> may point to

DAILY_QUOTA = {  # per endpoint per day, from API_Call_Limits; the unpublished ones are generous guesses
    "token": 2000, "stable_token": 500_000,
    "media/uploadimg": 100_000, "material/add_material": 100_000, "material/batchget_material": 1000,
    "material/get_materialcount": 1000,
    "draft/add": 1000, "draft/get": 500, "draft/update": 1000, "draft/delete": 1000, "draft/count": 1000,
    "draft/batchget": 1000,
    "freepublish/submit": 100, "freepublish/get": 100, "freepublish/delete": 10, "freepublish/batchget": 100,
    "freepublish/getarticle": 100,
    "message/mass/sendall": 100, "message/mass/get": 1000, "message/mass/delete": 1000,
    "message/mass/preview": 100,
    "openapi/quota/get": 1000,
    **{f"datacube/{name}": 5000 for name in (  # unpublished; a year pulled day by day fits in one day
        "getarticletotaldetail", "getbizsummary", "getarticleread", "getarticleshare", "getarticlesummary",
        "getarticletotal", "getuserread", "getusershare", "getusersummary", "getusercumulate")},
}
MASS_SEND_QUOTA = {"subscription": 1, "service": 4}  # successful sends a day / a calendar month

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40013: "invalid appid",
    40033: "invalid charset. please check your request, if include \\uxxxx will create fail!",
    40059: "invalid msg id",
    40097: "invalid args",
    40114: "invalid index value",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41005: "media data missing",
    41039: "invalid content_source_url",
    42001: "access_token expired",
    43002: "require POST method",
    44003: "empty news data",
    45002: "content size out of limit",
    45003: "title size out of limit",
    45004: "description size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45028: "has no masssend quota",
    45065: "clientmsgid exist",
    45067: "clientmsgid size out of limit",
    45110: "author size out of limit",
    45166: "invalid content",
    47001: "data format error",
    48001: "api unauthorized",
    53600: "Article ID 无效",
    61500: "date format error",
    61501: "date range error",
    76021: "cgi_path not found",
}


@dataclass
class SandboxAccount:
    app_id: str = "wxsandbox0000000001"
    app_secret: str = "sandbox-secret-0000000000000000"
    type: str = "subscription"  # subscription (订阅号) | service (服务号)
    verified: bool = True
    ip_whitelist: list[str] | None = None  # None: no check; else 40164 for other client IPs (CIDR allowed)
    publish_delay: float = 0.0  # seconds a freepublish job stays "publishing" (status 1) before success

    @classmethod
    def from_dict(cls, values: dict) -> SandboxAccount:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown account fields: {', '.join(sorted(unknown))}")
        account = cls(**values)
        if account.type not in MASS_SEND_QUOTA:
            raise ValueError(f"type must be 'subscription' or 'service', not {account.type!r}")
        return account


class WeChatError(Exception):
    """An error answer: `{"errcode": N, "errmsg": "... rid: ..."}` plus any extra fields."""

    def __init__(self, errcode: int, errmsg: str | None = None, **extra: Any):
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")
        self.extra = extra

    def payload(self) -> dict:
        return error_payload(self.errcode, self.errmsg, **self.extra)


def error_payload(errcode: int, errmsg: str | None = None, **extra: Any) -> dict:
    message = errmsg or ERRMSG.get(errcode, "error")
    return {"errcode": errcode, "errmsg": f"{message} rid: {new_rid()}", **extra}


def new_rid() -> str:
    """WeChat's request id: 24 hex digits in three groups, e.g. `6641f0b1-3a1c2d4e-5f6a7b8c`."""
    return "-".join(secrets.token_hex(4) for _ in range(3))


def ok(**fields: Any) -> dict:
    return {"errcode": 0, "errmsg": "ok", **fields}


# --- The sanitiser -------------------------------------------------------------------------------


def sanitize_content(html: str, keep_image: Callable[[str], bool]) -> str:
    """Filter article HTML the way WeChat does on draft/add and draft/update.

    Removes `<script>` and `<style>` elements, `class`, `id` and `on*` attributes; unwraps `<a href>`
    pointing anywhere but mp.weixin.qq.com (the text stays); removes `<img>` whose src fails
    `keep_image` (WeChat: "外部图片url将被过滤"). HTML with nothing to remove comes back unchanged,
    byte for byte, so a client can compare what it sent with what draft/get returns.
    """
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    changed = False
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element is root:
            continue  # comments and processing instructions
        tag = element.tag.lower()
        if tag in ("script", "style"):
            element.drop_tree()
            changed = True
            continue
        for name in list(element.attrib):
            if name.lower() in ("class", "id") or name.lower().startswith("on"):
                del element.attrib[name]
                changed = True
        if tag == "img" and not keep_image(element.get("src", "")):
            element.drop_tree()
            changed = True
        elif tag == "a" and "href" in element.attrib and not _allowed_link(element):
            element.drop_tag()
            changed = True
    if not changed:
        return html
    inner = escape(root.text or "", quote=False)
    return inner + "".join(lxml.html.tostring(child, encoding="unicode") for child in root)


def _allowed_link(element) -> bool:
    if element.get("data-miniprogram-appid"):
        return True
    parts = urlsplit(element.get("href", "").strip())
    return parts.scheme in ("http", "https") and parts.hostname == MP_HOST


def text_of(html: str) -> str:
    """The text of an HTML fragment, as WeChat counts its 20,000 characters."""
    return lxml.html.fragment_fromstring(html, create_parent="div").text_content()


# --- Uploads -------------------------------------------------------------------------------------


def sniff_image(data: bytes) -> str | None:
    """The image type from the first bytes (never from the file name), as the URL's extension."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    return None


@dataclass
class Upload:
    name: str
    filename: str
    data: bytes


def parse_multipart(body: bytes, content_type: str) -> dict[str, Upload]:
    """multipart/form-data → {field name: Upload}, parsed by python-multipart (what Starlette uses)."""
    from python_multipart import parse_form
    from python_multipart.exceptions import FormParserError

    parts: dict[str, Upload] = {}

    def on_file(file) -> None:
        name = (file.field_name or b"").decode("utf-8", "replace")
        file.file_object.seek(0)
        parts[name] = Upload(name, (file.file_name or b"").decode("utf-8", "replace"), file.file_object.read())

    try:
        parse_form({"Content-Type": content_type.encode("latin-1")}, io.BytesIO(body), lambda field: None, on_file)
    except (FormParserError, ValueError):
        raise WeChatError(41005) from None
    return parts


# --- State ---------------------------------------------------------------------------------------


class State:
    """Everything the sandbox remembers: `state_dir/state.json` plus image files in `state_dir/images/`.

    Callers hold `lock` around a read-modify-`save()` sequence; `save()` writes a temporary file and
    moves it into place with os.replace, so a reader never sees half a file.
    """

    def __init__(self, state_dir: Path, account: SandboxAccount | None = None):
        self.dir = Path(state_dir)
        self.images_dir = self.dir / "images"
        self.images_dir.mkdir(parents=True, exist_ok=True)
        self.file = self.dir / "state.json"
        self.lock = threading.RLock()
        if self.file.exists():
            self.reload()
        else:
            self.data = self.empty(asdict(account or SandboxAccount()))
        if account is not None:
            self.data["account"] = asdict(account)
        self.initial_account = dict(self.data["account"])
        self.save()

    @staticmethod
    def empty(account: dict) -> dict:
        return {
            "version": 1,
            "account": account,
            "clock_offset": 0.0,  # moved by the admin API to test expiry and daily quotas
            "next_number": 1,
            "tokens": {},  # value → {kind, issued_at, expires_at, revoked_at}
            "current_token": {"classic": None, "stable": None},
            "images": {},  # file name → {url, size, uploaded_at, via}
            "materials": {},  # media_id → {media_id, type, name, file, url, update_time}
            "drafts": {},  # media_id → {media_id, news_item, create_time, update_time}
            "publish_jobs": {},  # publish_id → {publish_id, msg_data_id, media_id, ready_at, outcome, ...}
            "articles": {},  # article_id → published news: {article_id, kind, news_item, deleted, ...}
            "mass_sends": {},  # msg_id → {msg_id, msg_data_id, clientmsgid, time, article_id, ...}
            "previews": [],
            "quota": {},  # "YYYY-MM-DD" → {endpoint: calls}
        }

    def save(self) -> None:
        temporary = self.file.with_name(f".state-{os.getpid()}-{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, self.file)

    def reload(self) -> None:
        self.data = json.loads(self.file.read_text(encoding="utf-8"))

    def reset(self) -> None:
        for path in self.images_dir.iterdir():
            path.unlink()
        self.data = self.empty(dict(self.initial_account))
        self.save()

    # sections
    @property
    def account(self) -> SandboxAccount:
        return SandboxAccount(**self.data["account"])

    @property
    def drafts(self) -> dict:
        return self.data["drafts"]

    @property
    def materials(self) -> dict:
        return self.data["materials"]

    @property
    def images(self) -> dict:
        return self.data["images"]

    @property
    def jobs(self) -> dict:
        return self.data["publish_jobs"]

    @property
    def articles(self) -> dict:
        return self.data["articles"]

    @property
    def mass_sends(self) -> dict:
        return self.data["mass_sends"]

    def now(self) -> float:
        return time.time() + self.data["clock_offset"]

    def next_number(self) -> int:
        number = self.data["next_number"]
        self.data["next_number"] = number + 1
        return number

    # tokens
    def issue_token(self, kind: str, now: float, *, revoke_previous: bool) -> dict:
        tokens = self.data["tokens"]
        previous = self.data["current_token"].get(kind)
        if revoke_previous and previous in tokens:
            tokens[previous]["revoked_at"] = now
        value = secrets.token_urlsafe(96)
        tokens[value] = {"kind": kind, "issued_at": now, "expires_at": now + TOKEN_TTL, "revoked_at": None}
        self.data["current_token"][kind] = value
        for old in [v for v, t in tokens.items() if t["expires_at"] < now - 86400]:
            del tokens[old]
        return {"access_token": value, "expires_in": TOKEN_TTL}

    def current_token(self, kind: str) -> tuple[str, dict] | None:
        value = self.data["current_token"].get(kind)
        token = self.data["tokens"].get(value)
        return (value, token) if token else None

    def check_token(self, value: str | None, now: float) -> None:
        if not value:
            raise WeChatError(41001)
        token = self.data["tokens"].get(value)
        if token is None:
            raise WeChatError(40001)
        if token["revoked_at"] is not None and now > token["revoked_at"] + ROTATION_GRACE:
            raise WeChatError(40001)
        if now >= token["expires_at"]:
            raise WeChatError(42001)

    # quotas
    def count_quota(self, endpoint: str, now: float) -> None:
        """Count one call against the endpoint's daily quota; 45009 once it is used up."""
        day = self.data["quota"].setdefault(china_day(now), {})
        if day.get(endpoint, 0) >= DAILY_QUOTA.get(endpoint, 10_000):
            raise WeChatError(45009)
        day[endpoint] = day.get(endpoint, 0) + 1
        for old in [d for d in self.data["quota"] if d < china_day(now - 7 * 86400)]:
            del self.data["quota"][old]

    def quota_used(self, endpoint: str, now: float) -> int:
        return self.data["quota"].get(china_day(now), {}).get(endpoint, 0)

    # images
    def store_image(self, data: bytes, extension: str, url_base: str, via: str, now: float) -> dict:
        """Keep the bytes under their sha256 and remember where they are served."""
        name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
        path = self.images_dir / name
        if not path.exists():
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(data)
            os.replace(temporary, path)
        record = self.images.setdefault(name, {"url": f"{url_base}/mmbiz/{name}", "size": len(data),
                                               "uploaded_at": int(now), "via": []})
        if via not in record["via"]:
            record["via"].append(via)
        return {"name": name, **record}

    def is_known_image(self, src: str, base_url: str) -> bool:
        """True when src is an image uploaded to this sandbox (served at /mmbiz/<name> on its host)."""
        parts = urlsplit(src.strip())
        name = parts.path.removeprefix("/mmbiz/")
        if parts.scheme not in ("http", "https") or name == parts.path or name not in self.images:
            return False
        return parts.netloc in (urlsplit(base_url).netloc, urlsplit(self.images[name]["url"]).netloc)

    def public_view(self) -> dict:
        """The state for the admin API, token values left out."""
        view = {k: v for k, v in self.data.items() if k not in ("tokens", "current_token")}
        now = self.now()
        tokens = list(self.data["tokens"].values())
        view["tokens"] = {
            "issued": {kind: sum(1 for t in tokens if t["kind"] == kind) for kind in ("classic", "stable")},
            "valid": sum(1 for t in tokens if now < t["expires_at"] and (
                t["revoked_at"] is None or now <= t["revoked_at"] + ROTATION_GRACE)),
        }
        view["now"] = now
        return view


def china_day(moment: float) -> str:
    return datetime.fromtimestamp(moment, CHINA).strftime("%Y-%m-%d")


def new_media_id() -> str:
    return secrets.token_urlsafe(32)


# --- Faults and the call log (memory only) ------------------------------------------------------


@dataclass
class Fault:
    """What the next `count` calls of `endpoint` ("*" = any) suffer; see the admin API."""

    endpoint: str
    count: int = 1
    errcode: int | None = None
    errmsg: str | None = None
    http_status: int | None = None
    delay: float = 0.0
    drop: bool = False
    after: bool = False  # perform the call's effect first, then fail: a lost response
    publish_status: int | None = None  # freepublish/submit only: the job ends with this status (2, 3, 4)

    @classmethod
    def from_json(cls, spec: dict) -> Fault:
        known = {f.name for f in fields(cls)}
        if not isinstance(spec, dict) or set(spec) - known:
            raise ValueError(f"a fault takes {sorted(known)}")
        fault = cls(**spec)
        if not isinstance(fault.endpoint, str) or not fault.endpoint:
            raise ValueError("endpoint must name a /cgi-bin/ path such as 'draft/add'")
        if not isinstance(fault.count, int) or fault.count < 1:
            raise ValueError("count must be a positive integer")
        if not isinstance(fault.delay, int | float) or fault.delay < 0:
            raise ValueError("delay must be a number of seconds")
        if fault.errcode is not None and not isinstance(fault.errcode, int):
            raise ValueError("errcode must be an integer")
        if fault.http_status is not None and (not isinstance(fault.http_status, int)
                                              or not 100 <= fault.http_status <= 599):
            raise ValueError("http_status must be an HTTP status code")
        failures = [fault.errcode is not None, fault.http_status is not None, bool(fault.drop)]
        if sum(failures) > 1:
            raise ValueError("give one of errcode, http_status, drop")
        if not any(failures) and not fault.delay and fault.publish_status is None:
            raise ValueError("give errcode, http_status, drop, delay or publish_status")
        if fault.publish_status is not None and (fault.endpoint != "freepublish/submit"
                                                 or fault.publish_status not in (2, 3, 4)):
            raise ValueError("publish_status (2, 3 or 4) applies to freepublish/submit only")
        return fault

    @property
    def fails(self) -> bool:
        return self.errcode is not None or self.http_status is not None or self.drop


class Faults:
    def __init__(self):
        self.pending: list[Fault] = []
        self.lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self.lock:
            self.pending.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """The first fault waiting for this endpoint, used once."""
        with self.lock:
            for fault in self.pending:
                if fault.endpoint in (endpoint, "*"):
                    fault.count -= 1
                    if fault.count == 0:
                        self.pending.remove(fault)
                    return Fault(**{**asdict(fault), "count": 1})
        return None

    def clear(self) -> None:
        with self.lock:
            self.pending.clear()

    def listing(self) -> list[dict]:
        with self.lock:
            return [asdict(f) for f in self.pending]


class CallLog:
    def __init__(self):
        self.entries: list[dict] = []
        self.lock = threading.Lock()

    def record(self, endpoint: str, moment: float, errcode: int | None, http_status: int = 200,
               fault: str | None = None) -> None:
        with self.lock:
            self.entries.append({"endpoint": endpoint, "time": moment, "errcode": errcode,
                                 "http_status": http_status, "fault": fault})

    def summary(self) -> dict:
        with self.lock:
            counts: dict[str, int] = {}
            for entry in self.entries:
                counts[entry["endpoint"]] = counts.get(entry["endpoint"], 0) + 1
            return {"counts": counts, "total": len(self.entries), "calls": list(self.entries)}

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


# --- Endpoints -----------------------------------------------------------------------------------


class Call:
    """One API call as an endpoint function sees it."""

    def __init__(self, state: State, request: Request, raw: bytes, base_url: str, now: float,
                 fault: Fault | None):
        self.state = state
        self.account = state.account
        self.query = request.query_params
        self.headers = request.headers
        self.raw = raw
        self.base_url = base_url
        self.now = now
        self.fault = fault

    @cached_property
    def body(self) -> dict:
        try:
            body = json.loads(self.raw.decode("utf-8")) if self.raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WeChatError(47001, f"data format error hint: [{exc}]") from exc
        if not isinstance(body, dict):
            raise WeChatError(47001)
        return body

    def file(self, name: str) -> Upload:
        parts = parse_multipart(self.raw, self.headers.get("content-type", ""))
        if name not in parts or not parts[name].data:
            raise WeChatError(41005)
        return parts[name]

    def reject_unicode_escapes(self) -> None:
        """WeChat wants raw UTF-8: a `\\uXXXX` escape in the JSON (ensure_ascii=True) → 40033."""
        if re.search(rb"(?<!\\)(?:\\\\)*\\u[0-9a-fA-F]{4}", self.raw):
            raise WeChatError(40033)

    def require_verified(self) -> None:
        if not self.account.verified:
            raise WeChatError(48001)


@dataclass
class Endpoint:
    name: str
    handler: Callable[[Call], dict]
    methods: tuple[str, ...] = ("POST",)
    auth: bool = True  # needs ?access_token=
    read_only: bool = False  # changes nothing but its quota count: no state save (the next save writes it)


ROUTES: dict[str, Endpoint] = {}


def cgi(name: str, *, methods: tuple[str, ...] = ("POST",), auth: bool = True, read_only: bool = False):
    """Register an endpoint function under /cgi-bin/<name> (or /datacube/<report> for "datacube/<report>")."""

    def register(handler: Callable[[Call], dict]) -> Callable[[Call], dict]:
        ROUTES[name] = Endpoint(name, handler, methods, auth, read_only)
        return handler

    return register


# tokens


def _check_credentials(call: Call, grant_type: Any, appid: Any, secret: Any) -> None:
    if grant_type != "client_credential":
        raise WeChatError(40002)
    if appid != call.account.app_id:
        raise WeChatError(40013)
    if secret != call.account.app_secret:
        raise WeChatError(40125)


@cgi("token", methods=("GET", "POST"), auth=False)
def token(call: Call) -> dict:
    """Classic token: every call issues a new token and retires the previous one (the trap)."""
    q = call.query
    _check_credentials(call, q.get("grant_type"), q.get("appid"), q.get("secret"))
    return call.state.issue_token("classic", call.now, revoke_previous=True)


@cgi("stable_token", auth=False)
def stable_token(call: Call) -> dict:
    """Normal mode returns the current token until its last 5 minutes; force_refresh rotates it."""
    b = call.body
    _check_credentials(call, b.get("grant_type"), b.get("appid"), b.get("secret"))
    force = b.get("force_refresh") in (True, 1, "true")
    current = call.state.current_token("stable")
    if not force and current:
        value, record = current
        remaining = record["expires_at"] - call.now
        if record["revoked_at"] is None and remaining > EARLY_RENEWAL:
            return {"access_token": value, "expires_in": int(remaining)}
    return call.state.issue_token("stable", call.now, revoke_previous=force)


# images and material


@cgi("media/uploadimg")
def media_uploadimg(call: Call) -> dict:
    upload = call.file("media")
    kind = sniff_image(upload.data)
    if kind not in ("jpg", "png"):
        raise WeChatError(40005)
    if len(upload.data) >= UPLOADIMG_LIMIT:
        raise WeChatError(40009)
    image = call.state.store_image(upload.data, kind, call.base_url, "uploadimg", call.now)
    return ok(url=image["url"])


@cgi("material/add_material")
def material_add(call: Call) -> dict:
    media_type = call.query.get("type")
    if media_type not in ("image", "thumb"):
        raise WeChatError(40004, "invalid media type (the sandbox keeps images and thumbs only)")
    upload = call.file("media")
    kind = sniff_image(upload.data)
    allowed, limit = ({"bmp", "png", "jpg", "gif"}, MATERIAL_LIMIT) if media_type == "image" else ({"jpg"}, THUMB_LIMIT)
    if kind not in allowed:
        raise WeChatError(40005)
    if len(upload.data) > limit:
        raise WeChatError(40009)
    image = call.state.store_image(upload.data, kind, call.base_url, "material", call.now)
    media_id = new_media_id()
    call.state.materials[media_id] = {"media_id": media_id, "type": media_type,
                                      "name": upload.filename or image["name"], "file": image["name"],
                                      "url": image["url"], "update_time": int(call.now)}
    return ok(media_id=media_id, url=image["url"])


@cgi("material/batchget_material")
def material_batchget(call: Call) -> dict:
    offset, count = _page(call.body)
    items = [m for m in call.state.materials.values() if m["type"] == call.body.get("type")]
    items = sorted(reversed(items), key=lambda m: m["update_time"], reverse=True)  # newest first
    page = [{"media_id": m["media_id"], "name": m["name"], "url": m["url"], "update_time": m["update_time"]}
            for m in items[offset:offset + count]]
    return ok(total_count=len(items), item_count=len(page), item=page)


@cgi("material/get_materialcount", methods=("GET",))
def material_count(call: Call) -> dict:
    images = sum(1 for m in call.state.materials.values() if m["type"] == "image")
    return ok(voice_count=0, video_count=0, image_count=images, news_count=0)


# drafts


def _string(article: dict, key: str) -> str:
    value = article.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WeChatError(47001, f"data format error hint: [{key} must be a string]")
    return value


def _flag(article: dict, key: str) -> int:
    value = article.get(key, 0)
    if value not in (0, 1) or isinstance(value, bool):
        raise WeChatError(40097, f"invalid args hint: [{key} must be 0 or 1]")
    return value


def clean_article(call: Call, article: Any, *, single: bool) -> dict:
    """Validate one article of draft/add or draft/update as WeChat does, and sanitise its content."""
    if not isinstance(article, dict):
        raise WeChatError(47001)
    kind = article.get("article_type") or "news"
    if kind not in ("news", "newspic"):
        raise WeChatError(40097, "invalid args hint: [article_type]")
    title, author, digest = _string(article, "title"), _string(article, "author"), _string(article, "digest")
    content, source_url = _string(article, "content"), _string(article, "content_source_url")
    if not title.strip() or not content.strip():
        raise WeChatError(44003)
    if len(title) > TITLE_CHARS:
        raise WeChatError(45003)
    if len(author) > AUTHOR_CHARS:
        raise WeChatError(45110)
    if len(digest) > DIGEST_CHARS:
        raise WeChatError(45004)
    try:
        text = text_of(content)
        sanitized = sanitize_content(content, lambda src: call.state.is_known_image(src, call.base_url))
    except (lxml.etree.ParserError, ValueError) as exc:  # e.g. control characters lxml refuses
        raise WeChatError(45166) from exc
    if len(content.encode("utf-8")) >= CONTENT_BYTES or len(text) >= CONTENT_CHARS:
        raise WeChatError(45002)
    if len(source_url.encode("utf-8")) > SOURCE_URL_BYTES:
        raise WeChatError(41039)
    cleaned = {"article_type": kind, "title": title, "author": author, "digest": digest,
               "content": sanitized,
               "content_source_url": source_url,
               "need_open_comment": _flag(article, "need_open_comment"),
               "only_fans_can_comment": _flag(article, "only_fans_can_comment")}
    if kind == "news":
        thumb = _string(article, "thumb_media_id")
        if thumb not in call.state.materials:
            raise WeChatError(40007)
        cleaned["thumb_media_id"] = thumb
        for crop in ("pic_crop_235_1", "pic_crop_1_1"):
            cleaned[crop] = _string(article, crop)
        if not digest and single:
            cleaned["digest"] = " ".join(text.split())[:AUTO_DIGEST_CHARS]
    else:
        images = (article.get("image_info") or {}).get("image_list") or []
        if not 1 <= len(images) <= 20 or any(
                (i or {}).get("image_media_id") not in call.state.materials for i in images):
            raise WeChatError(40007)
        cleaned["image_info"] = {"image_list": [{"image_media_id": i["image_media_id"]} for i in images]}
        if "cover_info" in article:
            cleaned["cover_info"] = article["cover_info"]
    return cleaned


def _draft(call: Call, media_id: Any) -> dict:
    draft = call.state.drafts.get(media_id) if isinstance(media_id, str) else None
    if draft is None:
        raise WeChatError(40007)
    return draft


def _page(body: dict) -> tuple[int, int]:
    offset, count = body.get("offset", 0), body.get("count", MAX_PAGE)
    if not isinstance(offset, int) or offset < 0 or not isinstance(count, int) or not 1 <= count <= MAX_PAGE:
        raise WeChatError(40097, "invalid args hint: [offset/count: count must be 1-20]")
    return offset, count


def _thumb_url(call: Call, item: dict) -> str:
    material = call.state.materials.get(item.get("thumb_media_id", ""))
    return material["url"] if material else ""


def draft_items(call: Call, draft: dict, *, no_content: bool = False) -> list[dict]:
    items = []
    for index, item in enumerate(draft["news_item"], start=1):
        shown = {**item, "url": f"{call.base_url}/sandbox/draft/{draft['media_id']}/{index}",
                 "thumb_url": _thumb_url(call, item)}
        if no_content:
            shown.pop("content")
        items.append(shown)
    return items


@cgi("draft/add")
def draft_add(call: Call) -> dict:
    call.reject_unicode_escapes()
    articles = call.body.get("articles")
    if not isinstance(articles, list) or not articles:
        raise WeChatError(44003)
    if len(articles) > MAX_ARTICLES:
        raise WeChatError(45008)
    items = [clean_article(call, a, single=len(articles) == 1) for a in articles]
    media_id = new_media_id()
    now = int(call.now)
    call.state.drafts[media_id] = {"media_id": media_id, "news_item": items, "create_time": now, "update_time": now,
                                   "updated_at": call.now}  # precise, for sorting
    return ok(media_id=media_id)


@cgi("draft/get")
def draft_get(call: Call) -> dict:
    draft = _draft(call, call.body.get("media_id"))
    return ok(news_item=draft_items(call, draft), create_time=draft["create_time"],
              update_time=draft["update_time"])


@cgi("draft/update")
def draft_update(call: Call) -> dict:
    call.reject_unicode_escapes()
    draft = _draft(call, call.body.get("media_id"))
    index = call.body.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(draft["news_item"]):
        raise WeChatError(40114)
    article = clean_article(call, call.body.get("articles"), single=len(draft["news_item"]) == 1)
    draft["news_item"][index] = article
    draft["update_time"], draft["updated_at"] = int(call.now), call.now
    return ok()


@cgi("draft/delete")
def draft_delete(call: Call) -> dict:
    media_id = call.body.get("media_id")
    if isinstance(media_id, str):
        call.state.drafts.pop(media_id, None)  # deleting twice still answers 0, like WeChat
    return ok()


@cgi("draft/batchget")
def draft_batchget(call: Call) -> dict:
    offset, count = _page(call.body)
    drafts = sorted(call.state.drafts.values(), key=lambda d: d["updated_at"], reverse=True)
    no_content = bool(call.body.get("no_content"))
    page = [{"media_id": d["media_id"], "content": {"news_item": draft_items(call, d, no_content=no_content)},
             "update_time": d["update_time"]} for d in drafts[offset:offset + count]]
    return ok(total_count=len(drafts), item_count=len(page), item=page)


@cgi("draft/count", methods=("GET",))
def draft_count(call: Call) -> dict:
    return ok(total_count=len(call.state.drafts))


# 发布 (freepublish)


def article_url(call: Call, article_id: str, idx: int) -> str:
    return f"{call.base_url}/sandbox/s/{article_id}/{idx}"


def published_items(call: Call, article: dict, *, no_content: bool = False) -> list[dict]:
    items = []
    for idx, (item, deleted) in enumerate(zip(article["news_item"], article["deleted"], strict=True), start=1):
        shown = {**item, "url": article_url(call, article["article_id"], idx), "thumb_url": _thumb_url(call, item),
                 "is_deleted": deleted}
        if no_content:
            shown.pop("content")
        items.append(shown)
    return items


def _published(call: Call, article_id: Any) -> dict:
    """A finished 发布 article, or 53600."""
    article = call.state.articles.get(article_id) if isinstance(article_id, str) else None
    if article is None or article["kind"] != "freepublish" or call.now < article["ready_at"]:
        raise WeChatError(53600)
    return article


@cgi("freepublish/submit")
def freepublish_submit(call: Call) -> dict:
    """Start a 发布 job; the draft leaves the draft box (a second submit of it → 40007)."""
    call.require_verified()
    media_id = call.body.get("media_id")
    draft = _draft(call, media_id)
    number = call.state.next_number()
    publish_id, msg_data_id = str(2247483600 + number), 2247483600 + number
    outcome = call.fault.publish_status if call.fault and call.fault.publish_status else 0
    ready_at = call.now + call.account.publish_delay
    job = {"publish_id": publish_id, "msg_data_id": msg_data_id, "media_id": media_id,
           "title": draft["news_item"][0]["title"], "submitted_at": call.now, "ready_at": ready_at,
           "outcome": outcome, "article_id": None,
           "fail_idx": list(range(1, len(draft["news_item"]) + 1)) if outcome in (2, 4) else []}
    if outcome == 0:  # a job that fails leaves the draft where it was
        article_id = secrets.token_urlsafe(32)
        job["article_id"] = article_id
        call.state.articles[article_id] = {
            "article_id": article_id, "kind": "freepublish", "publish_id": publish_id,
            "news_item": draft["news_item"], "deleted": [False] * len(draft["news_item"]),
            "ready_at": ready_at, "update_time": int(ready_at)}
        del call.state.drafts[media_id]
    call.state.jobs[publish_id] = job
    return ok(publish_id=publish_id, msg_data_id=msg_data_id)


@cgi("freepublish/get")
def freepublish_get(call: Call) -> dict:
    call.require_verified()
    publish_id = str(call.body.get("publish_id", ""))
    job = call.state.jobs.get(publish_id)
    if job is None:
        raise WeChatError(40097, "invalid args hint: [publish_id]")
    if call.now < job["ready_at"]:
        return ok(publish_id=publish_id, publish_status=1, fail_idx=[])
    if job["outcome"]:
        return ok(publish_id=publish_id, publish_status=job["outcome"], fail_idx=job["fail_idx"])
    article = call.state.articles[job["article_id"]]
    detail = [{"idx": i, "article_url": article_url(call, article["article_id"], i)}
              for i in range(1, len(article["news_item"]) + 1)]
    return ok(publish_id=publish_id, publish_status=5 if all(article["deleted"]) else 0,
              article_id=article["article_id"], article_detail={"count": len(detail), "item": detail},
              fail_idx=[])


@cgi("freepublish/delete")
def freepublish_delete(call: Call) -> dict:
    call.require_verified()
    article = _published(call, call.body.get("article_id"))
    index = call.body.get("index", 0)
    if not isinstance(index, int) or not 0 <= index <= len(article["news_item"]):
        raise WeChatError(40114)
    for i in range(len(article["deleted"])):
        if index in (0, i + 1):
            article["deleted"][i] = True
    return ok()


@cgi("freepublish/batchget")
def freepublish_batchget(call: Call) -> dict:
    call.require_verified()
    offset, count = _page(call.body)
    articles = [a for a in call.state.articles.values()
                if a["kind"] == "freepublish" and call.now >= a["ready_at"] and not all(a["deleted"])]
    articles.sort(key=lambda a: a["ready_at"], reverse=True)
    no_content = bool(call.body.get("no_content"))
    page = [{"article_id": a["article_id"],
             "content": {"news_item": published_items(call, a, no_content=no_content)},
             "update_time": a["update_time"]} for a in articles[offset:offset + count]]
    return ok(total_count=len(articles), item_count=len(page), item=page)


@cgi("freepublish/getarticle")
def freepublish_getarticle(call: Call) -> dict:
    call.require_verified()
    article = _published(call, call.body.get("article_id"))
    return ok(news_item=published_items(call, article))


# 群发 (mass send)


def _mass_quota_left(call: Call) -> bool:
    """Verified 订阅号: 1 successful send a calendar day; 服务号: 4 a calendar month (China time)."""
    account = call.account
    length = 10 if account.type == "subscription" else 7  # "YYYY-MM-DD" or "YYYY-MM"
    period = china_day(call.now)[:length]
    used = sum(1 for send in call.state.mass_sends.values() if china_day(send["time"])[:length] == period)
    return used < MASS_SEND_QUOTA[account.type]


def _mpnews_draft(call: Call) -> dict:
    if call.body.get("msgtype") != "mpnews":
        raise WeChatError(40008, "invalid message type (the sandbox sends mpnews only)")
    return _draft(call, (call.body.get("mpnews") or {}).get("media_id"))


def _mass_send(call: Call, msg_id: Any) -> dict:
    send = call.state.mass_sends.get(str(msg_id))
    if send is None:
        raise WeChatError(40059)
    return send


@cgi("message/mass/sendall")
def mass_sendall(call: Call) -> dict:
    """Send a draft to all followers or a tag; the draft leaves the draft box."""
    call.require_verified()
    body = call.body
    clientmsgid = body.get("clientmsgid")
    if clientmsgid is not None:
        clientmsgid = str(clientmsgid)
        if len(clientmsgid.encode("utf-8")) > CLIENTMSGID_BYTES:
            raise WeChatError(45067)
        for send in call.state.mass_sends.values():
            if send["clientmsgid"] == clientmsgid and call.now - send["time"] < DEDUPE_WINDOW:
                raise WeChatError(45065, msg_id=send["msg_id"])
    draft = _mpnews_draft(call)
    audience = body.get("filter") or {}
    if not audience.get("is_to_all") and audience.get("tag_id") is None:
        raise WeChatError(40097, "invalid args hint: [filter needs is_to_all or tag_id]")
    if not _mass_quota_left(call):
        raise WeChatError(45028)
    number = call.state.next_number()
    msg_id, msg_data_id = 1000000000 + number, 2247483600 + number
    article_id = secrets.token_urlsafe(32)
    call.state.articles[article_id] = {
        "article_id": article_id, "kind": "masssend", "msg_id": msg_id, "news_item": draft["news_item"],
        "deleted": [False] * len(draft["news_item"]), "ready_at": call.now, "update_time": int(call.now)}
    call.state.mass_sends[str(msg_id)] = {
        "msg_id": msg_id, "msg_data_id": msg_data_id, "clientmsgid": clientmsgid, "time": call.now,
        "filter": {"is_to_all": bool(audience.get("is_to_all")), "tag_id": audience.get("tag_id")},
        "send_ignore_reprint": body.get("send_ignore_reprint", 0), "media_id": draft["media_id"],
        "title": draft["news_item"][0]["title"], "article_id": article_id}
    del call.state.drafts[draft["media_id"]]
    return {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id, "msg_data_id": msg_data_id}


@cgi("message/mass/get")
def mass_get(call: Call) -> dict:
    send = _mass_send(call, call.body.get("msg_id"))
    deleted = all(call.state.articles[send["article_id"]]["deleted"])
    return ok(msg_id=send["msg_id"], msg_status="DELETE" if deleted else "SEND_SUCCESS")


@cgi("message/mass/delete")
def mass_delete(call: Call) -> dict:
    send = _mass_send(call, call.body.get("msg_id"))
    article = call.state.articles[send["article_id"]]
    index = call.body.get("article_idx", 0)
    if not isinstance(index, int) or not 0 <= index <= len(article["deleted"]):
        raise WeChatError(40114)
    for i in range(len(article["deleted"])):
        if index in (0, i + 1):
            article["deleted"][i] = True
    return ok()


@cgi("message/mass/preview")
def mass_preview(call: Call) -> dict:
    """Send a draft to one person's phone; recorded in state["previews"]. The draft stays."""
    call.require_verified()
    draft = _mpnews_draft(call)
    towxname, touser = call.body.get("towxname"), call.body.get("touser")
    if not towxname and not touser:
        raise WeChatError(40097, "invalid args hint: [touser or towxname]")
    msg_id = 1000000000 + call.state.next_number()
    call.state.data["previews"].append({
        "msg_id": msg_id, "to": towxname or touser, "by": "towxname" if towxname else "touser",
        "media_id": draft["media_id"], "title": draft["news_item"][0]["title"], "time": call.now})
    return {"errcode": 0, "errmsg": "preview success", "msg_id": msg_id}


# quotas


@cgi("openapi/quota/get")
def quota_get(call: Call) -> dict:
    cgi_path = str(call.body.get("cgi_path", ""))
    endpoint = cgi_path[1:] if cgi_path.startswith("/datacube/") else cgi_path.removeprefix("/cgi-bin/")
    if endpoint not in ROUTES:
        raise WeChatError(76021)
    limit = DAILY_QUOTA.get(endpoint, 10_000)
    used = call.state.quota_used(endpoint, call.now)
    return ok(quota={"daily_limit": limit, "used": used, "remain": max(limit - used, 0)},
              rate_limit={"call_count": 0, "refresh_second": 60})


# --- The dispatcher ------------------------------------------------------------------------------


def _ip_allowed(ip: str, whitelist: list[str]) -> bool:
    for entry in whitelist:
        try:
            if ipaddress.ip_address(ip) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _json(payload: Any, status: int = 200) -> Response:
    """JSON the way api.weixin.qq.com sends it: raw UTF-8, not \\u escapes."""
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status,
                    media_type="application/json; encoding=utf-8")


TRANSPORT = "sandbox.transport"  # scope["extensions"] key our uvicorn protocol fills in


class _DropConnection(Response):
    """Closes the connection without any HTTP response: the client sees a connection error."""

    async def __call__(self, scope, receive, send) -> None:
        transport = scope.get("extensions", {}).get(TRANSPORT)
        if transport is not None:
            transport.abort()
            await asyncio.sleep(0)  # let uvicorn see the connection is gone before the app returns
            return
        # Under another server: start a response and break it off (the client sees a protocol error).
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("sandbox fault: connection dropped")


class Sandbox:
    """The emulator: routes each /cgi-bin/ and /datacube/ call through faults, whitelist, token and quota to
    its endpoint."""

    def __init__(self, state_dir: Path, account: SandboxAccount | None = None):
        self.state = State(state_dir, account)
        self.faults = Faults()
        self.calls = CallLog()

    async def cgi(self, request: Request) -> Response:
        name = request.path_params["endpoint"]
        if name.startswith("datacube/"):  # those live at /datacube/, beside /cgi-bin/
            return PlainTextResponse("404 Not Found", status_code=404)
        return await self._dispatch(request, name)

    async def datacube(self, request: Request) -> Response:
        return await self._dispatch(request, "datacube/" + request.path_params["endpoint"])

    async def _dispatch(self, request: Request, name: str) -> Response:
        endpoint = ROUTES.get(name)
        if endpoint is None:
            return PlainTextResponse("404 Not Found", status_code=404)
        fault = self.faults.take(name)
        if fault and not fault.after:
            await asyncio.sleep(fault.delay)
            if fault.fails:
                return self._fail(name, fault)
        raw = await request.body()
        base_url = str(request.base_url).rstrip("/")
        with self.state.lock:
            now = self.state.now()
            try:
                payload = self._answer(endpoint, request, raw, base_url, now, fault)
            except Exception:
                self.state.reload()  # a bug in an endpoint must not leave half a change behind
                raise
            if not endpoint.read_only:
                self.state.save()
        if fault and fault.after:
            await asyncio.sleep(fault.delay)
            if fault.fails:
                return self._fail(name, fault)
        self.calls.record(name, now, payload.get("errcode", 0), fault="delay" if fault and fault.delay else None)
        return _json(payload)

    def _answer(self, endpoint: Endpoint, request: Request, raw: bytes, base_url: str, now: float,
                fault: Fault | None) -> dict:
        try:
            if request.method not in endpoint.methods:
                raise WeChatError(43002)
            self._check_ip(request.client.host if request.client else "")
            if endpoint.auth:
                self.state.check_token(request.query_params.get("access_token"), now)
            self.state.count_quota(endpoint.name, now)
            return endpoint.handler(Call(self.state, request, raw, base_url, now, fault))
        except WeChatError as error:
            return error.payload()

    def _check_ip(self, ip: str) -> None:
        whitelist = self.state.account.ip_whitelist
        if whitelist is not None and not _ip_allowed(ip, whitelist):
            raise WeChatError(40164, f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist")

    def _fail(self, name: str, fault: Fault) -> Response:
        now = self.state.now()
        kind = "after-" if fault.after else ""
        if fault.drop:
            self.calls.record(name, now, None, http_status=0, fault=kind + "drop")
            return _DropConnection()
        if fault.http_status is not None:
            self.calls.record(name, now, None, http_status=fault.http_status, fault=kind + "http_status")
            return HTMLResponse(f"<html><body><h1>{fault.http_status}</h1>sandbox fault</body></html>",
                                status_code=fault.http_status)
        self.calls.record(name, now, fault.errcode, fault=kind + "errcode")
        return _json(error_payload(fault.errcode, fault.errmsg))

    # --- Admin API (no token; tests only) ---

    async def admin_faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"faults": self.faults.listing()})
        if request.method == "DELETE":
            self.faults.clear()
            return JSONResponse({"faults": []})
        try:
            self.faults.add(Fault.from_json(await request.json()))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"faults": self.faults.listing()})

    async def admin_calls(self, request: Request) -> Response:
        return JSONResponse(self.calls.summary())

    async def admin_calls_reset(self, request: Request) -> Response:
        self.calls.clear()
        return JSONResponse({"ok": True})

    async def admin_state(self, request: Request) -> Response:
        with self.state.lock:
            return JSONResponse(self.state.public_view())

    async def admin_reset(self, request: Request) -> Response:
        """Empty state, the account given at start, no faults, no calls."""
        with self.state.lock:
            self.state.reset()
        self.faults.clear()
        self.calls.clear()
        return JSONResponse({"ok": True})

    async def admin_account(self, request: Request) -> Response:
        with self.state.lock:
            if request.method == "POST":
                try:
                    changes = await request.json()
                    account = SandboxAccount.from_dict({**self.state.data["account"], **changes})
                except (ValueError, TypeError) as exc:
                    return JSONResponse({"error": str(exc)}, status_code=400)
                self.state.data["account"] = asdict(account)
                self.state.save()
            return JSONResponse(self.state.data["account"])

    async def admin_clock(self, request: Request) -> Response:
        """POST {"advance": seconds} or {"at": epoch seconds}: move the sandbox's clock forward (token expiry,
        daily quotas; the embedded sandbox follows a run's --now). The clock never goes back."""
        body = await request.json()
        advance = body.get("advance", 0) if isinstance(body, dict) else None
        if isinstance(body, dict) and isinstance(body.get("at"), int | float):
            advance = max(0.0, body["at"] - self.state.now())
        if not isinstance(advance, int | float) or advance < 0:
            return JSONResponse({"error": "advance must be a number of seconds ≥ 0"}, status_code=400)
        with self.state.lock:
            self.state.data["clock_offset"] += advance
            self.state.save()
            return JSONResponse({"now": self.state.now(), "offset": self.state.data["clock_offset"]})

    # --- Human pages ---

    async def image(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = self.state.images_dir / name
        if name not in self.state.images or not path.is_file():
            return PlainTextResponse("404 Not Found", status_code=404)
        return FileResponse(path)

    async def index_page(self, request: Request) -> Response:
        with self.state.lock:
            state = json.loads(json.dumps(self.state.data))
        now = self.state.now()
        rows = []
        for article in sorted(state["articles"].values(), key=lambda a: a["ready_at"], reverse=True):
            how = "群发" if article["kind"] == "masssend" else "发布"
            if now < article["ready_at"]:
                how += " (publishing…)"
            for idx, (item, deleted) in enumerate(zip(article["news_item"], article["deleted"], strict=True), 1):
                link = f'<a href="/sandbox/s/{escape(article["article_id"])}/{idx}">{escape(item["title"])}</a>'
                rows.append(f"<li>{how} · {_when(article['ready_at'])} · {link}{' (deleted)' if deleted else ''}</li>")
        drafts = []
        for draft in sorted(state["drafts"].values(), key=lambda d: d["updated_at"], reverse=True):
            for idx, item in enumerate(draft["news_item"], 1):
                drafts.append(f'<li>{_when(draft["update_time"])} · <a href="/sandbox/draft/'
                              f'{escape(draft["media_id"])}/{idx}">{escape(item["title"])}</a></li>')
        previews = [f"<li>{_when(p['time'])} · {escape(p['title'])} → {escape(str(p['to']))}</li>"
                    for p in state["previews"]]
        account = state["account"]
        body = (f"<h1>WeChat sandbox</h1><p>{escape(account['app_id'])} · {escape(account['type'])}"
                f"{' · verified' if account['verified'] else ' · unverified'}</p>"
                f"<h2>What went out</h2><ul>{''.join(rows) or '<li>nothing yet</li>'}</ul>"
                f"<h2>Drafts</h2><ul>{''.join(drafts) or '<li>none</li>'}</ul>"
                f"<h2>Previews</h2><ul>{''.join(previews) or '<li>none</li>'}</ul>")
        return HTMLResponse(_html_page("WeChat sandbox", body, width=720))

    async def article_page(self, request: Request) -> Response:
        article = self.state.articles.get(request.path_params["article_id"])
        idx = request.path_params["idx"]
        if article is None or not 1 <= idx <= len(article["news_item"]):
            return HTMLResponse(_html_page("Not found", "<p>该内容不存在</p>"), status_code=404)
        if article["deleted"][idx - 1]:
            return HTMLResponse(_html_page("Deleted", "<p>该内容已被发布者删除</p>"))
        return HTMLResponse(_article_html(article["news_item"][idx - 1], article["ready_at"]))

    async def draft_page(self, request: Request) -> Response:
        draft = self.state.drafts.get(request.path_params["media_id"])
        idx = request.path_params["idx"]
        if draft is None or not 1 <= idx <= len(draft["news_item"]):
            return HTMLResponse(_html_page("Not found", "<p>链接已过期</p>"), status_code=404)
        return HTMLResponse(_article_html(draft["news_item"][idx - 1], draft["update_time"], draft=True))


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, CHINA).strftime("%Y-%m-%d %H:%M")


def _html_page(title: str, body: str, width: int = 375) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>body{{margin:0;background:#ededed;font-family:-apple-system,'PingFang SC',sans-serif}}"
            f"main{{max-width:{width}px;margin:0 auto;background:#fff;padding:20px 16px;box-sizing:border-box;"
            "min-height:100vh} img{max-width:100%;height:auto} h1{font-size:22px;line-height:1.4}"
            ".meta{color:#888;font-size:14px}</style></head>"
            f"<body><main>{body}</main></body></html>")


def _article_html(item: dict, moment: float, *, draft: bool = False) -> str:
    """The article as a reader's phone shows it: title, author and date, then the sanitised content."""
    content = re.sub(r'(src=["\'])https?://[^/"\']+/mmbiz/', r"\1/mmbiz/", item["content"])  # any port
    meta = " · ".join(x for x in (item.get("author", ""), _when(moment)) if x)
    banner = '<p class="meta">草稿预览 (draft preview)</p>' if draft else ""
    return _html_page(item["title"], f'{banner}<h1>{escape(item["title"])}</h1><p class="meta">{escape(meta)}</p>'
                 f"<section>{content}</section>")


def create_app(state_dir: Path, account: SandboxAccount | None = None) -> Starlette:
    """The sandbox as a Starlette app; `state_dir` holds its state (created if missing)."""
    from publisher.wechat import sandbox_datacube as datacube  # registers the /datacube/ endpoints

    sandbox = Sandbox(state_dir, account)
    admin = "/sandbox/admin"
    routes = [
        Route("/cgi-bin/{endpoint:path}", sandbox.cgi, methods=["GET", "POST"]),
        Route("/datacube/{endpoint}", sandbox.datacube, methods=["GET", "POST"]),
        Route("/mmbiz/{name}", sandbox.image),
        Route(f"{admin}/faults", sandbox.admin_faults, methods=["GET", "POST", "DELETE"]),
        Route(f"{admin}/calls", sandbox.admin_calls),
        Route(f"{admin}/calls/reset", sandbox.admin_calls_reset, methods=["POST"]),
        Route(f"{admin}/state", sandbox.admin_state),
        Route(f"{admin}/reset", sandbox.admin_reset, methods=["POST"]),
        Route(f"{admin}/account", sandbox.admin_account, methods=["GET", "POST"]),
        Route(f"{admin}/clock", sandbox.admin_clock, methods=["POST"]),
        Route(f"{admin}/datacube", partial(datacube.admin_settings, sandbox.state), methods=["GET", "POST"]),
        Route(f"{admin}/seed", partial(datacube.admin_seed, sandbox.state), methods=["POST"]),
        Route("/sandbox/", sandbox.index_page),
        Route("/sandbox/s/{article_id}/{idx:int}", sandbox.article_page),
        Route("/sandbox/draft/{media_id}/{idx:int}", sandbox.draft_page),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app


# --- Running it ----------------------------------------------------------------------------------


class SandboxAdmin:
    """The admin API over HTTP, for tests: `admin.fault("draft/add", errcode=-1, count=2)`."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/") + "/sandbox/admin/"
        self.timeout = timeout
        # never through a proxy from the environment: the sandbox is local
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _request(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ValueError(f"sandbox admin {path}: {exc.read().decode('utf-8', 'replace')}") from exc

    def fault(self, endpoint: str, **spec: Any) -> list[dict]:
        """Queue a fault; spec: errcode/errmsg, http_status, delay, drop, after, count, publish_status."""
        return self._request("POST", "faults", {"endpoint": endpoint, **spec})["faults"]

    def faults(self) -> list[dict]:
        return self._request("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._request("DELETE", "faults")

    def calls(self) -> dict:
        """{"counts": {endpoint: n}, "total": n, "calls": [{endpoint, time, errcode, http_status, fault}]}."""
        return self._request("GET", "calls")

    def reset_calls(self) -> None:
        self._request("POST", "calls/reset", {})

    def state(self) -> dict:
        return self._request("GET", "state")

    def reset(self) -> None:
        self._request("POST", "reset", {})

    def account(self) -> dict:
        return self._request("GET", "account")

    def set_account(self, **fields: Any) -> dict:
        return self._request("POST", "account", fields)

    def advance_clock(self, seconds: float) -> dict:
        return self._request("POST", "clock", {"advance": seconds})

    def clock_at_least(self, epoch: float) -> dict:
        return self._request("POST", "clock", {"at": epoch})

    def datacube(self, **settings: Any) -> dict:
        """The datacube settings; given delayed_days and/or current_api, change them first."""
        return self._request("POST", "datacube", settings) if settings else self._request("GET", "datacube")

    def seed(self, **spec: Any) -> list[dict]:
        """Published pushes written into the state: count/start/end/seed, or pushes=[...]."""
        return self._request("POST", "seed", spec)


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol that hands the connection's transport to the app, so a fault can drop it."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        app = self.app

        async def with_transport(scope, receive, send):
            scope.setdefault("extensions", {})[TRANSPORT] = transport
            await app(scope, receive, send)

        self.app = with_transport


def _config(app: Starlette, host: str, port: int, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, http=_Protocol, lifespan="off",
                          timeout_graceful_shutdown=1, **options)


@dataclass
class RunningSandbox(StoppableServer):
    """A sandbox serving in a background thread; a context manager, or call `stop()`."""

    base_url: str
    state_dir: Path
    admin: SandboxAdmin
    app: Starlette
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)


def start_sandbox(state_dir: Path, account: SandboxAccount | None = None, *, host: str = "127.0.0.1",
                  port: int = 0) -> RunningSandbox:
    """Serve the sandbox with uvicorn in a background thread; returns once it accepts connections."""
    app = create_app(state_dir, account)
    server = uvicorn.Server(_config(app, host, port, log_config=None, log_level="warning", access_log=False))
    thread, bound = start_in_thread(server, "wechat-sandbox", "the WeChat sandbox", host, port)
    base_url = f"http://{host}:{bound}"
    return RunningSandbox(base_url, Path(state_dir), SandboxAdmin(base_url), app, server, thread)


def serve(state_dir: Path, host: str, port: int, account: SandboxAccount | None = None) -> None:
    """Serve in the foreground until interrupted (for `publisher sandbox`)."""
    app = create_app(state_dir, account)
    uvicorn.Server(_config(app, host, port, log_level="info")).run()
