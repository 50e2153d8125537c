"""The WeChat Official Account API client the publisher uses.

Built on wechatpy 1.8.18's `WeChatClient` (a small subclass points it at `api_base` and gets tokens from
`cgi-bin/stable_token`); the endpoints wechatpy lacks or trims (draft, freepublish, full mass-send payloads)
are called through its `_request` with the full JSON body.

What this layer adds:
- tokens only from `POST {api_base}/cgi-bin/stable_token` in normal mode (`force_refresh: false`), cached in
  memory until 5 minutes before they expire; never the classic `cgi-bin/token`, which rotates the token for
  every other process;
- bounded retries with exponential backoff on errcode -1/45011, HTTP 5xx, timeouts and connection errors;
  one token refresh (stable_token again, normal mode) on 40001/40014/42001; wechatpy's auto-retry is off;
- typed errors (`publisher.wechat.errors`) with actionable messages, built from errcode/errmsg only and
  raised with no chained exception, so neither the AppSecret nor a token (which wechatpy's exceptions carry
  in the request URL) can reach a message, repr, log line or traceback;
- raw UTF-8 JSON bodies (WeChat rejects `\\uXXXX` escapes with 40033);
- `calls`: a Counter of HTTP requests per endpoint, retries included.

Endpoint names (the keys of `calls`, the `endpoint` of errors, log lines) are paths under `cgi-bin/`
(`"draft/add"`, `"media/uploadimg"`, `"message/mass/sendall"`), except the token: `"cgi-bin/stable_token"`,
and analytics, which live beside cgi-bin: `"datacube/getbizsummary"`.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
import urllib3.exceptions
from wechatpy import WeChatClient as _WechatpyClient
from wechatpy.exceptions import WeChatClientException

from .errors import (
    RETRYABLE_ERRCODES,
    TOKEN_ERRCODES,
    InvalidCredentials,
    TransientError,
    WeChatError,
    error_for,
    scrub,
)

__all__ = ["STABLE_TOKEN", "TOKEN_MARGIN", "WeChatClient"]

STABLE_TOKEN = "cgi-bin/stable_token"
TOKEN_MARGIN = 300  # seconds: refresh this long before the token expires (stable_token rotates 5 min early)
_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
# freepublish has no idempotency key: after an answer we never saw, a second submit could publish twice
# No idempotency key: a repeat after a lost response could publish twice or leave an orphan draft.
# The reconciler looks WeChat's state up instead (freepublish/batchget, draft/batchget).
_NOT_REPEATABLE = frozenset({"freepublish/submit", "draft/add"})

_logger = logging.getLogger(__name__)


class _RedactTokens(logging.Filter):
    """Removes `access_token=…` from urllib3's debug lines (they carry the request URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        if "access_token" in message or "secret" in message:
            record.msg, record.args = scrub(message), None
        return True


_REDACTOR = _RedactTokens()


def _install_redaction() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


class _Wx(_WechatpyClient):
    """wechatpy's client pointed at `api_base`, with stable_token (normal mode) and no auto-retry."""

    def __init__(self, appid: str, secret: str, api_base: str, timeout: float):
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = f"{api_base}/cgi-bin/"
        self._stable_token_url = f"{api_base}/{STABLE_TOKEN}"

    def __repr__(self) -> str:
        return f"<wechatpy client appid={self.appid!r} base={self.API_BASE_URL!r}>"

    def fetch_access_token(self) -> dict:
        """One `POST cgi-bin/stable_token` in normal mode; stores the token. Raises WeChatClientException."""
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                "force_refresh": False}
        res = self._http.post(self._stable_token_url, data=json.dumps(body).encode("utf-8"),
                              headers=_JSON_HEADERS, timeout=self.timeout)
        try:
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, None, client=self, request=exc.request,
                                        response=exc.response) from None
        result = self._handle_result(res)  # raises WeChatClientException on a nonzero errcode
        if not isinstance(result, dict) or not result.get("access_token"):
            raise WeChatClientException(None, "the stable_token response has no access_token", client=self,
                                        response=res)
        expires_in = int(result.get("expires_in") or 7200)
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = time.time() + expires_in
        return {"expires_in": expires_in}

    def token_is_fresh(self) -> bool:
        return bool(self.session.get(self.access_token_key)) and bool(self.expires_at) and (
            self.expires_at - time.time() > TOKEN_MARGIN)

    @property
    def access_token(self) -> str:  # wechatpy's own wrappers read this; ours pass the token explicitly
        if not self.token_is_fresh():
            self.fetch_access_token()
        return self.session.get(self.access_token_key)

    def current_token(self) -> str | None:
        return self.session.get(self.access_token_key)

    def forget_token(self) -> None:
        self.session.delete(self.access_token_key)
        self.expires_at = None


@dataclass
class _Outcome:
    """What one HTTP request produced, with every text already scrubbed."""

    result: dict | None = None
    errcode: int | None = None
    errmsg: str = ""
    http_status: int | None = None
    failure: str = ""  # for a person: "errcode -1 'system error'", "HTTP 502", "a timeout after 15 s"
    retryable: bool = False
    maybe_delivered: bool = True  # False only when the request certainly never reached the server
    msg_id: str | None = None  # 45065 names the send that already went out

    @property
    def ok(self) -> bool:
        return self.result is not None


class WeChatClient:
    """The publisher's WeChat API client. See the module docstring for what it guarantees."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        api_base: str = "https://api.weixin.qq.com",
        timeout: float = 15.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], object] = time.sleep,
        account_type: str = "subscription",
        verified: bool = True,
        log: Callable[[str], object] | None = None,
    ):
        if account_type not in ("subscription", "service"):
            raise ValueError(f"account_type must be 'subscription' or 'service', not {account_type!r}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not app_id or not app_secret:
            raise ValueError("app_id and app_secret are required (WECHAT_APP_ID, WECHAT_APP_SECRET)")
        self.app_id = app_id
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.account_type = account_type
        self.verified = verified
        self.calls: collections.Counter[str] = collections.Counter()
        self._secret = app_secret
        self._sleep = sleep
        self._log = log
        self._tokens: set[str] = set()  # every token seen, so that echoes of them can be scrubbed
        self._wx = _Wx(app_id, app_secret, self.api_base, timeout)
        _install_redaction()

    def __repr__(self) -> str:
        return (f"WeChatClient(app_id={self.app_id!r}, api_base={self.api_base!r}, "
                f"account_type={self.account_type!r}, verified={self.verified!r})")

    # ---- images and material -------------------------------------------------------------------------

    def upload_image(self, data: bytes, filename: str) -> str:
        """An image for an article body (jpg/png < 1 MB) → its mmbiz.qpic.cn URL. Doesn't use material quota."""
        result = self._call("POST", "media/uploadimg", files={"media": (filename, data)})
        return result["url"]

    def add_image_material(self, data: bytes, filename: str) -> dict:
        """A permanent image (e.g. a cover, < 10 MB) → `{"media_id", "url"}`."""
        result = self._call("POST", "material/add_material", params={"type": "image"},
                            files={"media": (filename, data)})
        return {"media_id": result["media_id"], "url": result.get("url")}

    def batchget_image_materials(self, offset: int = 0, count: int = 20) -> dict:
        return self._call("POST", "material/batchget_material",
                          json_body={"type": "image", "offset": offset, "count": count})

    # ---- draft box -------------------------------------------------------------------------------------

    def draft_add(self, articles: list[dict]) -> str:
        """Creates a draft with every field given (nothing is dropped) → its media_id."""
        return self._call("POST", "draft/add", json_body={"articles": list(articles)})["media_id"]

    def draft_get(self, media_id: str) -> dict:
        return self._call("POST", "draft/get", json_body={"media_id": media_id})

    def draft_update(self, media_id: str, index: int, article: dict) -> None:
        """Replaces article `index` (0-based) of a draft."""
        self._call("POST", "draft/update", json_body={"media_id": media_id, "index": index, "articles": article})

    def draft_delete(self, media_id: str) -> None:
        self._call("POST", "draft/delete", json_body={"media_id": media_id})

    def draft_batchget(self, offset: int = 0, count: int = 20, no_content: bool = True) -> dict:
        return self._call("POST", "draft/batchget",
                          json_body={"offset": offset, "count": count, "no_content": int(bool(no_content))})

    # ---- 发布 (freepublish) ----------------------------------------------------------------------------

    def freepublish_submit(self, media_id: str) -> dict:
        """Submits a draft for 发布 → `{"publish_id", "msg_data_id"}` (strings).

        Not retried when the request may have reached WeChat (timeout, dropped connection, HTTP 5xx):
        there is no idempotency key, so check `freepublish_batchget` before submitting again.
        """
        result = self._call("POST", "freepublish/submit", json_body={"media_id": media_id})
        return {"publish_id": _opt_str(result.get("publish_id")), "msg_data_id": _opt_str(result.get("msg_data_id"))}

    def freepublish_get(self, publish_id: str) -> dict:
        """The status of a 发布 job (0 success, 1 publishing, 2–6 failures). Quota: 100 a day; poll sparingly."""
        return self._call("POST", "freepublish/get", json_body={"publish_id": str(publish_id)})

    def freepublish_delete(self, article_id: str, index: int = 0) -> None:
        """Deletes a published article: `index` is 1-based, 0 deletes all of them. Irreversible; 10 a day."""
        self._call("POST", "freepublish/delete", json_body={"article_id": article_id, "index": index})

    def freepublish_batchget(self, offset: int = 0, count: int = 20, no_content: bool = True) -> dict:
        return self._call("POST", "freepublish/batchget",
                          json_body={"offset": offset, "count": count, "no_content": int(bool(no_content))})

    # ---- 群发 (mass send) -------------------------------------------------------------------------------

    def mass_sendall(self, media_id: str, clientmsgid: str, *, is_to_all: bool = True, tag_id: int | None = None,
                     send_ignore_reprint: int = 0) -> dict:
        """群发 a draft → `{"msg_id", "msg_data_id"}` (strings).

        `clientmsgid` (≤ 64 bytes) makes retries safe: WeChat answers a repeat within 24 h with 45065,
        raised as `AlreadySent` carrying the existing `msg_id`.
        """
        if not clientmsgid or len(clientmsgid.encode("utf-8")) > 64:
            raise ValueError("clientmsgid must be 1 to 64 bytes (derive it deterministically from the push)")
        if not is_to_all and tag_id is None:
            raise ValueError("mass_sendall needs is_to_all=True or a tag_id")
        target: dict = {"is_to_all": bool(is_to_all)}
        if tag_id is not None:
            target["tag_id"] = tag_id
        body = {"filter": target, "mpnews": {"media_id": media_id}, "msgtype": "mpnews",
                "send_ignore_reprint": int(send_ignore_reprint), "clientmsgid": clientmsgid}
        result = self._call("POST", "message/mass/sendall", json_body=body, clientmsgid=clientmsgid)
        return {"msg_id": _opt_str(result.get("msg_id")), "msg_data_id": _opt_str(result.get("msg_data_id"))}

    def mass_get(self, msg_id: str) -> dict:
        """`msg_status`: SEND_SUCCESS, SENDING, SEND_FAIL or DELETE."""
        return self._call("POST", "message/mass/get", json_body={"msg_id": _num(msg_id)})

    def mass_delete(self, msg_id: str, article_idx: int = 0) -> None:
        """Deletes a 群发 article page: `article_idx` is 1-based, 0 deletes all of them."""
        self._call("POST", "message/mass/delete", json_body={"msg_id": _num(msg_id), "article_idx": article_idx})

    def mass_preview(self, media_id: str, *, towxname: str | None = None, touser: str | None = None) -> dict:
        """Sends a draft to one person's phone, by WeChat ID (`towxname`, 100 a day) or OpenID (`touser`)."""
        if not towxname and not touser:
            raise ValueError("mass_preview needs towxname (a WeChat ID) or touser (an OpenID)")
        body: dict = {"msgtype": "mpnews", "mpnews": {"media_id": media_id}}
        if towxname:
            body["towxname"] = towxname
        if touser:
            body["touser"] = touser
        return self._call("POST", "message/mass/preview", json_body=body)

    # ---- quota ------------------------------------------------------------------------------------------

    def quota_get(self, cgi_path: str) -> dict:
        """The daily quota of an API: `quota_get("draft/add")` or `quota_get("/cgi-bin/draft/add")`."""
        path = cgi_path if cgi_path.startswith("/") else "/cgi-bin/" + cgi_path.removeprefix("cgi-bin/")
        return self._call("POST", "openapi/quota/get", json_body={"cgi_path": path})

    # ---- analytics ----------------------------------------------------------------------------------

    def datacube(self, name: str, begin: dt.date, end: dt.date) -> dict:
        """One 数据统计 report (`getbizsummary`, `getusersummary`, …) for begin..end inclusive, as WeChat sends it."""
        return self._call("POST", f"datacube/{name}",
                          json_body={"begin_date": begin.isoformat(), "end_date": end.isoformat()})

    # ---- the machinery ------------------------------------------------------------------------------------

    def _call(self, method: str, endpoint: str, *, json_body: dict | None = None, clientmsgid: str | None = None,
              **request_kwargs) -> dict:
        """One API call: token, request, retries, one token refresh, typed errors. Returns WeChat's JSON."""
        if json_body is not None:
            request_kwargs["data"] = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            request_kwargs["headers"] = _JSON_HEADERS
        repeatable = endpoint not in _NOT_REPEATABLE
        refreshed = False
        attempt = 0
        while True:
            self._ensure_token()
            attempt += 1
            limit = self.max_attempts + int(refreshed)
            outcome = self._attempt(method, endpoint, request_kwargs, attempt, limit)
            if outcome.ok:
                return outcome.result
            if outcome.errcode in TOKEN_ERRCODES:
                if not refreshed:
                    refreshed = True
                    self._wx.forget_token()
                    continue
                raise InvalidCredentials(outcome.errcode, outcome.errmsg, endpoint=endpoint)
            if outcome.retryable and (repeatable or not outcome.maybe_delivered):
                if attempt < limit:
                    self._sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise self._transient(endpoint, outcome, attempt, retried=True)
            if outcome.retryable:
                raise self._transient(endpoint, outcome, attempt, retried=False)
            raise self._error(endpoint, outcome, clientmsgid)

    def _ensure_token(self) -> None:
        if self._wx.token_is_fresh():
            return
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt("POST", STABLE_TOKEN, {}, attempt, self.max_attempts)
            if outcome.ok:
                return
            if outcome.retryable and attempt < self.max_attempts:
                self._sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if outcome.retryable:
                raise self._transient(STABLE_TOKEN, outcome, attempt, retried=True)
            raise self._error(STABLE_TOKEN, outcome, None)

    def _attempt(self, method: str, endpoint: str, request_kwargs: dict, attempt: int, limit: int) -> _Outcome:
        """Makes exactly one HTTP request and reports how it went; never raises for WeChat or network errors."""
        self.calls[endpoint] += 1
        outcome = _Outcome()
        started = time.monotonic()
        try:
            if endpoint == STABLE_TOKEN:
                self._wx.fetch_access_token()
                self._tokens.add(self._wx.current_token())
                outcome.result = {"errcode": 0}
            else:
                kwargs = dict(request_kwargs)
                kwargs["params"] = {**request_kwargs.get("params", {}), "access_token": self._wx.current_token()}
                result = self._wx._request(method.lower(), self._url(endpoint), **kwargs)
                if isinstance(result, dict):
                    outcome.result = result
                else:  # wechatpy hands back the Response when the body is not JSON
                    outcome.http_status = getattr(result, "status_code", None)
                    outcome.failure = f"a response that is not JSON (HTTP {outcome.http_status})"
                    outcome.errmsg = "the server answered with something that is not WeChat JSON; " \
                                     "is WECHAT_API_BASE a WeChat API relay?"
        except WeChatClientException as exc:
            if exc.errcode is None:
                status = getattr(exc.response, "status_code", None)
                outcome.http_status = status
                outcome.failure = f"HTTP {status}" if status else "an unusable response"
                outcome.errmsg = self._scrub(exc.errmsg or getattr(exc.response, "reason", "") or "")
                outcome.retryable = status is not None and status >= 500
            else:
                outcome.errcode = int(exc.errcode)
                outcome.errmsg = self._scrub(str(exc.errmsg))
                outcome.retryable = outcome.errcode in RETRYABLE_ERRCODES
                outcome.maybe_delivered = not outcome.retryable  # WeChat answered "busy": nothing was done
                outcome.failure = f"errcode {outcome.errcode} {outcome.errmsg.split(' rid:')[0]!r}"
                outcome.msg_id = _opt_str(_json_or_empty(exc.response).get("msg_id"))
        except requests.Timeout as exc:
            outcome.retryable = True
            outcome.maybe_delivered = not isinstance(exc, requests.ConnectTimeout)
            outcome.failure = f"a timeout after {self.timeout:g} s ({type(exc).__name__})"
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            outcome.retryable = True
            outcome.maybe_delivered = not _never_connected(exc)
            outcome.failure = f"a connection error ({type(exc).__name__}: {self._scrub(str(exc))[:200]})"
        except requests.RequestException as exc:
            outcome.failure = f"{type(exc).__name__}: {self._scrub(str(exc))[:200]}"
        if not outcome.ok and not outcome.failure:
            outcome.failure = "an unknown error"
        duration_ms = (time.monotonic() - started) * 1000
        errcode = 0 if outcome.ok else outcome.errcode
        line = (f"wechat {method.upper()} {endpoint} attempt {attempt}/{limit} "
                f"errcode={'-' if errcode is None else errcode} {duration_ms:.0f} ms")
        if outcome.http_status:
            line += f" http={outcome.http_status}"
        if not outcome.ok and outcome.errcode is None:
            line += f" error={outcome.failure}"
        line = self._scrub(line)
        _logger.debug("%s", line)
        if self._log is not None:
            self._log(line)
        return outcome

    def _url(self, endpoint: str) -> str:
        """wechatpy puts endpoints under {api_base}/cgi-bin/; datacube lives beside it."""
        return f"{self.api_base}/{endpoint}" if endpoint.startswith("datacube/") else endpoint

    def _scrub(self, text: str) -> str:
        return scrub(text, (self._secret, *self._tokens, self._wx.current_token()))

    def _error(self, endpoint: str, outcome: _Outcome, clientmsgid: str | None) -> WeChatError:
        if outcome.errcode is None:
            return WeChatError(None, outcome.errmsg, endpoint=endpoint, http_status=outcome.http_status,
                               hint=_http_hint(outcome.http_status, self.api_base))
        return error_for(outcome.errcode, outcome.errmsg, endpoint=endpoint, account_type=self.account_type,
                         verified=self.verified, response={"msg_id": outcome.msg_id}, clientmsgid=clientmsgid)

    def _transient(self, endpoint: str, outcome: _Outcome, attempts: int, *, retried: bool) -> TransientError:
        return TransientError(outcome.errcode, outcome.errmsg, endpoint=endpoint, http_status=outcome.http_status,
                              attempts=attempts, failure=outcome.failure, retried=retried)


def _opt_str(value) -> str | None:
    return None if value is None else str(value)


def _num(value):
    """WeChat's numeric ids go back as numbers when they look like numbers."""
    text = str(value)
    return int(text) if text.isdigit() else text


def _json_or_empty(response) -> dict:
    try:
        data = response.json() if response is not None else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the connection was never made (refused, unresolvable), so nothing reached the server."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _http_hint(status: int | None, api_base: str) -> str:
    if status in (401, 403, 407):
        return (f"The server at {api_base} refused the request (HTTP {status}); if WECHAT_API_BASE is a relay, "
                "check its access settings.")
    if status == 404:
        return (f"{api_base} has no such endpoint (HTTP 404); WECHAT_API_BASE must be the API host or a relay "
                "that forwards /cgi-bin/ paths unchanged (no /cgi-bin suffix).")
    return f"Unexpected answer from {api_base}; check that WECHAT_API_BASE points at WeChat's API or a relay."
