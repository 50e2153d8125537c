"""Typed errors for the WeChat Official Account API, each with a message a person can act on.

Every error is built from WeChat's errcode and errmsg only (never from a request object), and its
text is scrubbed: no access token and no AppSecret may appear in `str()`, `repr()` or a traceback.
The `rid` WeChat appends to errmsg (`... rid: 6789abcd-...`) is kept and always shown: it can be
looked up with `cgi-bin/openapi/rid/get` for 7 days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

_RID_RE = re.compile(r"\s*,?\s*\brid:\s*([0-9A-Za-z][0-9A-Za-z_-]*)")
_TOKEN_RE = re.compile(r"(access_token|secret)([\"']?\s*[=:]\s*[\"']?)[^&\s\"',;]+", re.IGNORECASE)
_IP_RE = re.compile(r"invalid ip\s+([0-9A-Fa-f.:]+)")
_IPV6_RE = re.compile(r"ipv6\s+([0-9A-Fa-f.:]+)")
_MSG_ID_RE = re.compile(r"msg_?id\D{0,3}(\d+)", re.IGNORECASE)

RETRYABLE_ERRCODES = frozenset({-1, 45011})
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


def parse_rid(errmsg: str | None) -> str | None:
    """The request id WeChat appends to errmsg (`... rid: 64f1c2a0-1b2c3d4e-5f6a7b8c`), or None."""
    m = _RID_RE.search(errmsg or "")
    return m.group(1) if m else None


def scrub(text: str | None, secrets: Iterable[str | None] = ()) -> str:
    """`text` with `access_token=…`/`secret=…` values and every given secret value replaced by `***`."""
    if not text:
        return ""
    out = _TOKEN_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", str(text))
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(value) >= 4:  # never blank out single letters of a message
            out = out.replace(value, "***")
    return out


def _strip_rid(errmsg: str) -> str:
    return _RID_RE.sub("", errmsg).strip().rstrip(",;").strip()


def next_beijing_midnight(now: dt.datetime | None = None) -> dt.datetime:
    now = (now or dt.datetime.now(dt.UTC)).astimezone(BEIJING)
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=BEIJING)


def next_beijing_month(now: dt.datetime | None = None) -> dt.datetime:
    now = (now or dt.datetime.now(dt.UTC)).astimezone(BEIJING)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return dt.datetime(year, month, 1, tzinfo=BEIJING)


def _until(when: dt.datetime, now: dt.datetime | None = None) -> str:
    seconds = max(0, int((when - (now or dt.datetime.now(dt.UTC))).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min"


class WeChatError(Exception):
    """A call to the WeChat API failed. `errcode`/`errmsg` are WeChat's (errmsg scrubbed of secrets)."""

    hint = "Look the errcode up in WeChat's global return code list (全局返回码) and fix the request."

    def __init__(
        self,
        errcode: int | None,
        errmsg: str | None,
        *,
        endpoint: str | None = None,
        hint: str | None = None,
        http_status: int | None = None,
    ):
        self.errcode = errcode
        self.errmsg = errmsg or ""
        self.rid = parse_rid(self.errmsg)
        self.endpoint = endpoint
        self.http_status = http_status
        if hint is not None:
            self.hint = hint
        super().__init__(errcode, self.errmsg)

    # the text WeChat sent, without its rid (shown separately)
    @property
    def reason(self) -> str:
        return _strip_rid(self.errmsg)

    def headline(self) -> str:
        where = self.endpoint or "WeChat API call"
        if self.errcode is None:
            status = f"HTTP {self.http_status}" if self.http_status else "no errcode"
            return f"{where} failed ({status}{': ' + self.reason if self.reason else ''})"
        return f"{where} failed: errcode {self.errcode}{' ' + repr(self.reason) if self.reason else ''}"

    def __str__(self) -> str:
        text = f"{self.headline()}. {self.hint}"
        if self.rid:
            text += f" [rid: {self.rid}; look it up within 7 days with cgi-bin/openapi/rid/get]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(errcode={self.errcode!r}, endpoint={self.endpoint!r}, "
            f"rid={self.rid!r}, errmsg={self.reason!r})"
        )

    def __reduce__(self):  # picklable with keyword-only arguments
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls, state):
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("errcode"), state.get("errmsg"))
    err.__dict__.update(state)
    return err


class IPNotWhitelisted(WeChatError):
    """40164: the caller's IP is not on the account's IP whitelist."""

    def __init__(self, errcode, errmsg, **kw):
        super().__init__(errcode, errmsg, **kw)
        m = _IP_RE.search(self.errmsg)
        self.ip = m.group(1).rstrip(",") if m else None
        m6 = _IPV6_RE.search(self.errmsg)
        self.ipv6 = m6.group(1).rstrip(",") if m6 else None
        seen = f"from IP {self.ip}" if self.ip else "from an IP it did not name"
        self.hint = (
            f"WeChat refused the call {seen}: it is not on this account's IP whitelist (IP白名单). "
            "Two supported fixes: (1) run publishing on a self-hosted runner with a fixed IP and put that IP "
            "on the whitelist (an admin adds it in mp.weixin.qq.com developer settings and scans a QR code; "
            "it takes effect after a few minutes); or (2) set WECHAT_API_BASE to a fixed-IP relay whose IP "
            "is on the whitelist. GitHub-hosted runners have no fixed IP, and an HTTP(S)_PROXY changes the "
            "IP WeChat sees."
        )


class Unauthorized(WeChatError):
    """48001: the account may not call this API (account type, verification, or a withdrawn permission)."""

    def __init__(self, errcode, errmsg, *, account_type: str = "subscription", verified: bool = True, **kw):
        super().__init__(errcode, errmsg, **kw)
        self.account_type = account_type
        self.verified = verified
        kind = "订阅号 (subscription account)" if account_type == "subscription" else "服务号 (service account)"
        if verified:
            allowed = (
                f"It is configured as a verified {kind}, which may create drafts, publish (发布) and mass-send "
                "(群发). Check on mp.weixin.qq.com that the verification (认证) has not expired and that this "
                "API is listed under 接口权限; if the account is not really verified, set verified = false "
                "and publish in draft mode."
            )
        else:
            allowed = (
                f"It is configured as an unverified {kind}: since July 2025 personal and unverified accounts "
                "can only create drafts through the API (draft mode); a person must press 发表 in "
                "mp.weixin.qq.com. 发布 (freepublish) and 群发 (mass send, preview) need a verified account."
            )
        if (self.endpoint or "").startswith("datacube/"):
            allowed = ("WeChat opens 数据统计 (analytics, datacube) to verified (认证) accounts only: check on "
                       "mp.weixin.qq.com that the account is verified and that 数据统计 is listed under 接口权限.")
        self.hint = f"This account is not allowed to call {self.endpoint or 'this API'}. {allowed}"


class QuotaExceeded(WeChatError):
    """45009: the API's daily quota is used up. 45028: no 群发 (mass-send) quota left."""

    def __init__(self, errcode, errmsg, *, account_type: str = "subscription", now: dt.datetime | None = None,
                 **kw):
        super().__init__(errcode, errmsg, **kw)
        self.account_type = account_type
        if errcode == 45028:
            if account_type == "service":
                self.resets_at = next_beijing_month(now)
                self.hint = (
                    "No 群发 (mass-send) quota left: a 服务号 can reach each follower at most 4 times a calendar "
                    "month (web and API sends together). The quota resets at the start of next month, Beijing "
                    f"time ({self.resets_at:%Y-%m-%d %H:%M} UTC+8, in {_until(self.resets_at, now)}). "
                    "Do not retry; publish with 发布 (no notification) or send next month."
                )
            else:
                self.resets_at = next_beijing_midnight(now)
                self.hint = (
                    "No 群发 (mass-send) quota left: a verified 订阅号 may mass-send once a day (web and API "
                    "together). It resets at midnight Beijing time "
                    f"({self.resets_at:%Y-%m-%d %H:%M} UTC+8, in {_until(self.resets_at, now)}). "
                    "Do not retry today; publish with 发布 (no notification) or send tomorrow."
                )
        else:
            self.resets_at = next_beijing_midnight(now)
            self.hint = (
                f"The daily API quota for {self.endpoint or 'this API'} is used up. It resets at midnight "
                f"Beijing time ({self.resets_at:%Y-%m-%d %H:%M} UTC+8, in {_until(self.resets_at, now)}). "
                "An admin can reset it now with cgi-bin/clear_quota, but only 10 times a month; check usage "
                "with cgi-bin/openapi/quota/get."
            )


class AlreadySent(WeChatError):
    """45065: a 群发 with this clientmsgid was already sent in the last 24 h. Treat as success."""

    def __init__(self, errcode, errmsg, *, msg_id: str | None = None, clientmsgid: str | None = None, **kw):
        super().__init__(errcode, errmsg, **kw)
        if msg_id is None:
            m = _MSG_ID_RE.search(self.reason)
            msg_id = m.group(1) if m else None
        self.msg_id = None if msg_id is None else str(msg_id)
        self.clientmsgid = clientmsgid
        cid = f" {clientmsgid!r}" if clientmsgid else ""
        existing = f"; the existing send is msg_id {self.msg_id}" if self.msg_id else ""
        self.hint = (
            f"This 群发 was already sent: clientmsgid{cid} was used within the last 24 hours{existing}. "
            "Treat it as sent and record that msg_id; do not send again."
        )


_NEEDS_HUMAN_HINTS = {
    53503: "The draft failed WeChat's publish check (该草稿未通过发布检查). Open it in the 草稿箱 on "
    "mp.weixin.qq.com, fix what the editor flags, and publish it there by hand.",
    53504: "WeChat requires this draft to be published from the web (需前往公众平台官网使用草稿): open the "
    "草稿箱 on mp.weixin.qq.com and press 发表 there.",
    53505: "WeChat wants the draft saved by hand first (请手动保存成功后再发表): open it in the "
    "mp.weixin.qq.com editor, press 保存, then publish. Saving there re-sanitises the HTML; check the preview.",
    89503: "An admin must confirm this call (此次调用需要管理员确认): the account admin gets a confirmation "
    "request in WeChat; approve it, then run again.",
    89506: "An admin refused calls from this IP; WeChat blocks it for 24 hours. Ask the admin to allow it, "
    "then retry after 24 h.",
    89507: "An admin refused calls from this IP; WeChat blocks it for 1 hour. Ask the admin to allow it, "
    "then retry after 1 h.",
}


class NeedsHuman(WeChatError):
    """53503/53504/53505/89503 (and 89506/89507): a person must act on mp.weixin.qq.com or in WeChat."""

    def __init__(self, errcode, errmsg, **kw):
        super().__init__(errcode, errmsg, **kw)
        self.hint = _NEEDS_HUMAN_HINTS.get(errcode, "A person must act on mp.weixin.qq.com.")


_CREDENTIAL_HINTS = {
    40013: "WeChat does not know this AppID (invalid appid). Check WECHAT_APP_ID against the AppID shown "
    "in the account's developer settings on mp.weixin.qq.com.",
    40125: "WeChat rejected the AppSecret (invalid appsecret). Check WECHAT_APP_SECRET; if it was reset or "
    "lost, an admin generates a new one in mp.weixin.qq.com and updates the CI secret.",
    40243: "The AppSecret is frozen. An admin must unfreeze or reset it on mp.weixin.qq.com, then update "
    "WECHAT_APP_SECRET.",
    40001: "WeChat rejected the credentials (40001). On cgi-bin/stable_token this means the AppSecret is "
    "wrong or belongs to another account; check WECHAT_APP_ID and WECHAT_APP_SECRET.",
}

_TOKEN_REJECTED_HINT = (
    "WeChat rejected the access token even after a fresh one was fetched from cgi-bin/stable_token. Something "
    "else is rotating the token (a tool calling cgi-bin/token or stable_token with force_refresh=true), or the "
    "AppSecret was just reset. Make every tool use stable_token in normal mode, then run again."
)


class InvalidCredentials(WeChatError):
    """40013/40125/40243 (and an access token that stays invalid after one refresh): fix the credentials."""

    def __init__(self, errcode, errmsg, **kw):
        super().__init__(errcode, errmsg, **kw)
        if errcode in TOKEN_ERRCODES and self.endpoint != "cgi-bin/stable_token":
            self.hint = _TOKEN_REJECTED_HINT
        else:
            self.hint = _CREDENTIAL_HINTS.get(errcode, "Check WECHAT_APP_ID and WECHAT_APP_SECRET.")


class TransientError(WeChatError):
    """WeChat (or the relay) kept failing with a temporary error until the attempts ran out."""

    def __init__(self, errcode, errmsg, *, attempts: int, failure: str, retried: bool = True, **kw):
        super().__init__(errcode, errmsg, **kw)
        self.attempts = attempts
        self.failure = failure
        if retried:
            self.hint = (
                f"Gave up after {attempts} attempt{'s' if attempts != 1 else ''}; the last one failed with "
                f"{failure}. WeChat or the relay at WECHAT_API_BASE is busy or unreachable: run again later."
            )
        else:
            self.hint = (
                f"The request failed with {failure} after {attempts} attempt{'s' if attempts != 1 else ''} and "
                "was not retried automatically, because it may have reached WeChat and it cannot be safely "
                "repeated. Check the current state (e.g. freepublish_batchget) before submitting again."
            )

    def headline(self) -> str:
        return f"{self.endpoint or 'WeChat API call'} failed"


_BAD_REQUEST_HINTS = {
    40002: "invalid grant_type.",
    40003: "invalid openid: the user must follow this account (touser).",
    40004: "invalid media type.",
    40005: "invalid file type: uploadimg takes jpg/png only (no webp/gif); transcode the image.",
    40006: "invalid file size.",
    40007: "invalid media_id: expired, temporary (a cover needs a permanent id), or from another account; "
    "upload it again.",
    40008: "invalid message type.",
    40009: "image too big: uploadimg takes < 1 MB, image material < 10 MB; downsize it.",
    40033: "the request contains \\uXXXX escapes; send raw UTF-8 JSON.",
    40059: "invalid msg_id.",
    40114: "invalid index for draft/update (it is 0-based).",
    41004: "the AppSecret is missing.",
    41039: "invalid content_source_url (阅读原文 link).",
    43002: "this API needs POST.",
    43004: "the recipient must follow the account.",
    44003: "empty news data: the draft has no articles or an article has no content.",
    45001: "media file too big.",
    45003: "title too long (the API limit is 32 characters).",
    45004: "digest (description) too long (128 characters; keep it at most 120).",
    45066: "the same clientmsgid was retried too fast; wait a minute.",
    45067: "clientmsgid too long (at most 64 bytes).",
    45166: "invalid content: WeChat rejected the article HTML; inspect the content.",
    48004: "this API is banned for the account (接口被封禁); see the notice on mp.weixin.qq.com.",
    48005: "the material is used by an auto-reply or menu and cannot be deleted.",
    50004: "this account may not use the token interface.",
    50007: "the account is frozen.",
    53404: "the account's product-card (带货) ability is restricted; remove product_info.",
    53405: "invalid product_info; remove or fix the product card.",
    53406: "product cards (带货) are not enabled; remove product_info.",
    53600: "invalid article_id.",
    61500: "date format error: datacube dates are YYYY-MM-DD.",
    61501: "date range error: end_date must be yesterday or earlier and within the report's maximum span.",
    88000: "the account has no comment (留言) privilege; set need_open_comment to 0.",
    88001: "msg_data_id does not exist.",
    88002: "the article is restricted for safety reasons.",
}


class BadRequest(WeChatError):
    """Any other errcode: the request itself is wrong, or the account is in a state the API can't change."""

    def __init__(self, errcode, errmsg, **kw):
        super().__init__(errcode, errmsg, **kw)
        if "hint" not in self.__dict__:
            known = _BAD_REQUEST_HINTS.get(errcode)
            self.hint = f"Fix the request: {known}" if known else WeChatError.hint


_BY_CODE: dict[int, type[WeChatError]] = {
    40164: IPNotWhitelisted,
    48001: Unauthorized,
    45009: QuotaExceeded,
    45028: QuotaExceeded,
    45065: AlreadySent,
    40013: InvalidCredentials,
    40125: InvalidCredentials,
    40243: InvalidCredentials,
    **{code: NeedsHuman for code in _NEEDS_HUMAN_HINTS},
}


def error_for(
    errcode: int,
    errmsg: str | None,
    *,
    endpoint: str | None = None,
    account_type: str = "subscription",
    verified: bool = True,
    response: dict | None = None,
    clientmsgid: str | None = None,
) -> WeChatError:
    """The typed error for a WeChat errcode. `errmsg` must already be scrubbed."""
    cls = _BY_CODE.get(errcode, BadRequest)
    if errcode in TOKEN_ERRCODES:
        cls = InvalidCredentials
    if cls is Unauthorized:
        return Unauthorized(errcode, errmsg, endpoint=endpoint, account_type=account_type, verified=verified)
    if cls is QuotaExceeded:
        return QuotaExceeded(errcode, errmsg, endpoint=endpoint, account_type=account_type)
    if cls is AlreadySent:
        msg_id = (response or {}).get("msg_id")
        return AlreadySent(errcode, errmsg, endpoint=endpoint, msg_id=msg_id, clientmsgid=clientmsgid)
    return cls(errcode, errmsg, endpoint=endpoint)


__all__ = [
    "AlreadySent",
    "BadRequest",
    "IPNotWhitelisted",
    "InvalidCredentials",
    "NeedsHuman",
    "QuotaExceeded",
    "TransientError",
    "Unauthorized",
    "WeChatError",
    "error_for",
    "parse_rid",
    "scrub",
]
