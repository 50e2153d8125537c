"""WeChat's 数据统计 (datacube) API in the sandbox, with realistic numbers that never change.

The endpoints go through the sandbox's dispatcher (token, faults, quota, call log) under the names
`datacube/<name>`, served at `POST /datacube/<name>?access_token=TOKEN`. Their numbers come from a
model of the account (`DatacubeModel`): a pure function of what the state says was published (which
items, when, 群发 or 发布, their titles), so any order of calls, any restart, gives the same answers.

FORMAT REFERENCE (the contract a puller codes against)
======================================================

Request: `POST /datacube/<name>?access_token=TOKEN` with `{"begin_date": "YYYY-MM-DD",
"end_date": "YYYY-MM-DD"}`, both days included. A success answer has no `errcode` (like WeChat's); an
error answer is `{"errcode": N, "errmsg": "… rid: …"}`:
  61500  a date missing, not a string, not YYYY-MM-DD, or not a real day
  61501  end_date < begin_date; more days than the endpoint's max span; end_date after yesterday
         (Beijing time, by the sandbox's clock)
  48001  unverified account (every endpoint); the four current endpoints also when the admin switched
         them off (`current_api: false`)
  and, as for /cgi-bin/: 41001/40001/42001 (token), 43002 (not POST), 45009 (5000 calls a day each).
Days before 2014-12-01 have no data: they are left out of the lists, without an error.
Delay: yesterday's numbers appear at 08:00 Beijing time. Before that, and on the days the admin marked
delayed, a current endpoint leaves the day out and answers `"is_delay": true`; a legacy endpoint
just leaves the day out (it has no `is_delay`).

msgid = "<msg_data_id>_<idx>", idx 1-based, msg_data_id as freepublish/submit and
message/mass/sendall returned it. publish_type: 0 = 已通知 (群发, message/mass/sendall),
1 = 未开启通知 (发布, freepublish/submit).

read_user_source (current endpoints): a list of `{"user_count": int, "scene_desc": str}`; WeChat sends
descriptions, not codes. The sandbox always sends all eight, in this order: 全部 (== read_user),
公众号消息, 聊天会话, 朋友圈, 公众号主页, 其他, 推荐, 搜一搜; the seven after 全部 add up to it.

Current endpoints (max span 1 day each, see MAX_SPAN_DAYS)
  getarticleread: every article read on the day, in publication order.
    {"list": [{"ref_date": "2026-10-02", "msgid": "2247483601_1",
               "detail": {"read_user": 120, "read_user_source": [{"user_count": 120, "scene_desc": "全部"}, …]}}],
     "is_delay": false}
  getarticleshare: every article shared on the day.
    {"list": [{"ref_date", "msgid", "detail": {"share_user"}}], "is_delay": false}
  getbizsummary: the account's totals, one entry per day (zeros included).
    {"list": [{"ref_date", "detail": {"read_user", "read_user_source", "share_user", "zaikan_user" (爱心赞),
               "like_user" (拇指赞), "comment_count", "collection_user", "redirect_ori_page_user",
               "send_page_count" (articles published that day)}}], "is_delay": false}
  getarticletotaldetail: every article PUBLISHED on the day, with running totals (content_url: the
  sandbox's /sandbox/s/<article_id>/<idx> page; WeChat gives the mp.weixin.qq.com link).
    {"list": [{"ref_date" (publication day), "msgid", "publish_type", "title", "content_url",
               "detail_list": [{"stat_date", "read_user", "read_user_source", "share_user", "zaikan_user",
                   "like_user", "comment_count", "collection_user", "praise_money" (分), "read_subscribe_user",
                   "read_delivery_rate" (float 0–1), "read_finish_rate" (float 0–1),
                   "read_avg_activetime" (float, minutes),
                   "read_jump_position": [{"position": 1…5 (0–20% … 80–100%), "rate": float}, × 5]}]}],
     "is_delay": false}
    detail_list has one entry per stat_date from ref_date to ref_date+29, ending at yesterday, or before
    the first delayed day (then is_delay is true); each entry is the sum over [ref_date, stat_date], so
    its numbers equal the sums of getarticleread/getarticleshare over those days.

Legacy endpoints (已停止维护 in the docs; no is_delay; max span in days)
  getusersummary (7): {"list": [{"ref_date", "user_source", "new_user", "cancel_user"}]}, a row per
    user_source with a change; a day without any has one row {user_source 0, 0, 0}. user_source:
    0 其他合计, 1 公众号搜索, 17 名片分享, 30 扫描二维码, 57 文章内账号名称, 100 微信广告, 149 小程序关注,
    161 他人转载, 200 视频号, 201 直播. The sandbox reports every cancel_user under user_source 0.
  getusercumulate (7): {"list": [{"ref_date", "user_source": 0, "cumulate_user"}]}, one row per day;
    cumulate_user(d) = cumulate_user(d-1) + Σ new_user(d) − Σ cancel_user(d).
  getarticlesummary (1): {"list": [{"ref_date", "msgid", "title", "user_source": 0, "int_page_read_user",
    "int_page_read_count", "ori_page_read_user", "ori_page_read_count", "share_user", "share_count",
    "add_to_fav_user", "add_to_fav_count"}]}: 群发 articles read that day, only those with
    int_page_read_user + ori_page_read_user + share_user + share_count + add_to_fav_count >= 3.
  getarticletotal (1): {"list": [{"ref_date" (send day), "msgid", "title", "url", "user_source": 0,
    "details": [{"stat_date", "target_user", "int_page_read_user", "int_page_read_count",
    "ori_page_read_user", "ori_page_read_count", "share_user", "share_count", "add_to_fav_user",
    "add_to_fav_count", "int_page_from_{session,hist_msg,feed,friends,other}_read_{user,count}",
    "feed_share_from_{session,feed,other}_{user,cnt}"}]}]}: 群发 articles sent that day, running totals
    for 7 days (ref_date … ref_date+6), ending at yesterday or before a delayed day.
  getuserread (3): {"list": [{"ref_date", "user_source", "int_page_read_user", "int_page_read_count",
    "ori_page_read_user", "ori_page_read_count", "share_user", "share_count", "add_to_fav_user",
    "add_to_fav_count"}]}, for each day with reads a 99999999 (全部) row, then a row per source with
    readers: 0 会话 (= 公众号消息), 1 好友 (= 聊天会话), 2 朋友圈, 4 历史消息页 (= 公众号主页), 5 其他,
    6 看一看 (= 推荐), 7 搜一搜. ori_page_* and add_to_fav_* only in the 99999999 row (the docs: "原文页阅读、
    收藏只提供<全部>数据"), 0 in the others.
  getusershare (7): {"list": [{"ref_date", "share_scene", "share_count", "share_user"}]}, share_scene
    1 好友转发, 2 朋友圈, 255 其他; rows with shares only.
  The `user_source: 0` of getusercumulate, getarticlesummary and getarticletotal and the `url` of
  getarticletotal are not in the docs' tables but in real answers (and WxJava); a puller should not
  need them.

The model (simplifications, by design)
--------------------------------------
Each article gets a lifetime of readers: followers at the start of its publication day × 7% (群发)
or 1.8% (发布) × its position (1st 1.0, 2nd 0.42, 3rd 0.3 …) × a per-article quality (log-normal),
spread over 60 days (≈60% on days 0–2, a tail to day 59, then nothing; day 0 shrinks when published
late and the rest moves to day 1). Readers move from 公众号消息 (群发 only) towards 聊天会话, 朋友圈,
推荐 and 搜一搜 over the first week. Shares, 在看, likes, comments, favourites, 阅读原文 (only when the
article has a content_source_url), 赞赏 and follows after reading are per-article fractions of the
readers, rounded on running totals so the daily numbers add up exactly. Account numbers are SUMS over
the articles (WeChat counts unique users; the sandbox does not). Followers start at 5,000 on the
first publication day (before it: 5,000, no change); each day brings organic follows (≈0.08% of
followers), the day's follows after reading (user_source 57), and unfollows (≈0.035% a day, plus
≈0.06% per 群发 that day). Deleted articles keep their numbers. The randomness is per article (sha256 of
msgid and title) and per day (sha256 of the day), never the global `random`.

Admin (tests and benchmarks): `GET/POST /sandbox/admin/datacube` ({"delayed_days": [...],
"current_api": bool}, kept in the state) and `POST /sandbox/admin/seed` (published pushes written
straight into the state; see `seed_plans`). Seeded 群发 are real mass sends: one on the sandbox's today
uses up its 群发 quota.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from publisher.wechat.sandbox import CHINA, TITLE_CHARS, Call, State, WeChatError, article_url, cgi

# --- WeChat's rules --------------------------------------------------------------------------------

DATA_START = date(2014, 12, 1)  # "接口侧的公众号数据的数据库中仅存储了2014年12月1日之后的数据"
READY_HOUR = 8  # "请于每天上午8点后查询公众号前一天的数据" (Beijing time)
CURRENT = ("getarticletotaldetail", "getbizsummary", "getarticleread", "getarticleshare")
LEGACY = ("getarticlesummary", "getarticletotal", "getuserread", "getusershare", "getusersummary",
          "getusercumulate")
MAX_SPAN_DAYS = {  # legacy: the docs' table; current: UNCERTAIN (not in the docs), 1 to be safe
    "getarticletotaldetail": 1, "getbizsummary": 1, "getarticleread": 1, "getarticleshare": 1,
    "getarticlesummary": 1, "getarticletotal": 1, "getuserread": 3, "getusershare": 7,
    "getusersummary": 7, "getusercumulate": 7,
}
TOTALDETAIL_DAYS = 30  # getarticletotaldetail: "统计周期内(最大30天)"
ARTICLETOTAL_DAYS = 7  # getarticletotal: "最多统计群发后7天内的数据"
SUMMARY_THRESHOLD = 3  # getarticlesummary counts an article only when reads+shares+favs >= 3

ALL_SCENES = "全部"
SCENES = ("公众号消息", "聊天会话", "朋友圈", "公众号主页", "其他", "推荐", "搜一搜")  # the docs' order
USERREAD_ALL = 99999999
USERREAD_SOURCES = {0: "公众号消息", 1: "聊天会话", 2: "朋友圈", 4: "公众号主页", 5: "其他", 6: "推荐", 7: "搜一搜"}
ARTICLETOTAL_SOURCES = {"session": ("公众号消息",), "hist_msg": ("公众号主页",), "feed": ("朋友圈",),
                        "friends": ("聊天会话",), "other": ("其他", "推荐", "搜一搜")}
SHARE_SCENES = {1: 0.6, 2: 0.3, 255: 0.1}  # 好友转发, 朋友圈, 其他: the sandbox's split of the shares
USER_SOURCES = {0: "其他合计", 1: "公众号搜索", 17: "名片分享", 30: "扫描二维码", 57: "文章内账号名称",
                100: "微信广告", 149: "小程序关注", 161: "他人转载", 200: "视频号", 201: "直播"}
ARTICLE_FOLLOWS = 57

# --- The model's numbers -------------------------------------------------------------------------

LIFETIME_DAYS = 60
BASE_FOLLOWERS = 5_000
OPEN_RATE = {"masssend": 0.07, "freepublish": 0.018}  # lifetime readers per follower, 1st article
POSITION = (1.0, 0.42, 0.3, 0.24, 0.2, 0.18, 0.16, 0.15)
ORGANIC_FOLLOWS = 0.0008  # a day, of the followers
ORGANIC_SOURCES = {1: 0.3, 30: 0.2, 0: 0.2, 17: 0.1, 161: 0.08, 200: 0.07, 149: 0.03, 100: 0.02}
UNFOLLOWS, UNFOLLOWS_PER_MASS_SEND = 0.00035, 0.0006
REPEAT_READS = 0.15  # int_page_read_count = read_user + this share of running readers (counts ≥ users)
MOMENTS_SHARES = 0.35  # the part of the shares that go to 朋友圈 (getarticletotal's feed_share_*)
PRAISE_FEN = 500  # one 赞赏 of 5 元

MIX_FIRST_WEEK = {  # read_user_source shares over SCENES, on day 0 and from day 7 on
    "masssend": ((0.72, 0.09, 0.07, 0.04, 0.04, 0.03, 0.01), (0.08, 0.22, 0.18, 0.12, 0.08, 0.18, 0.14)),
    "freepublish": ((0.0, 0.25, 0.2, 0.3, 0.08, 0.12, 0.05), (0.0, 0.2, 0.15, 0.2, 0.08, 0.2, 0.17)),
}


def _mix(kind: str, offset: int) -> tuple[float, ...]:
    early, late = MIX_FIRST_WEEK[kind]
    t = min(offset / 7, 1.0)
    return tuple(a + (b - a) * t for a, b in zip(early, late, strict=True))


MIX = {kind: [_mix(kind, k) for k in range(LIFETIME_DAYS)] for kind in MIX_FIRST_WEEK}
_DECAY = [0.8 * math.exp(-k / 1.2) + 0.1 * math.exp(-k / 12) for k in range(LIFETIME_DAYS)]
DECAY = [w / sum(_DECAY) for w in _DECAY]  # share of an article's lifetime readers on day k


def rng(*parts: Any) -> random.Random:
    """A private generator seeded from sha256 of the parts: the same parts, the same numbers."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _round(x: float) -> int:
    return int(x + 0.5)


def apportion(total: int, weights: tuple[float, ...] | list[float]) -> list[int]:
    """Split total in proportion to weights, whole numbers adding up to total (largest remainder)."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: parts[i] - exact[i])
    for i in by_remainder[:total - sum(parts)]:
        parts[i] += 1
    return parts


# --- Published items -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Traits:
    """Per-article rates, drawn once from the article's seed."""

    quality: float
    share: float
    zaikan: float
    like: float
    comment: float
    collect: float
    original: float  # 阅读原文, 0 without a content_source_url
    subscribe: float  # follows per reader who came from outside the followers' messages
    praise: float  # 赞赏 per reader
    finish: float
    active_minutes: float
    jumps: tuple[float, ...]  # read_jump_position rates, positions 1..5

    @classmethod
    def draw(cls, msgid: str, title: str, has_source_url: bool) -> Traits:
        r = rng("traits", msgid, title)
        quality = min(3.0, max(0.3, math.exp(r.gauss(0, 0.45))))
        finish = r.uniform(0.35, 0.75)
        leave = [r.uniform(0.8, 1.2) * w for w in (0.4, 0.25, 0.2, 0.15)]
        jumps = tuple(round((1 - finish) * w / sum(leave), 7) for w in leave) + (round(finish, 7),)
        return cls(quality=quality, share=r.uniform(0.025, 0.07) * quality ** 0.3,
                   zaikan=r.uniform(0.008, 0.025), like=r.uniform(0.015, 0.045), comment=r.uniform(0.002, 0.008),
                   collect=r.uniform(0.008, 0.03), original=r.uniform(0.01, 0.04) if has_source_url else 0.0,
                   subscribe=r.uniform(0.02, 0.05), praise=r.uniform(0.001, 0.004) if r.random() < 0.2 else 0.0,
                   finish=round(finish, 7), active_minutes=round(r.uniform(0.8, 4.0), 7), jumps=jumps)


@dataclass(frozen=True)
class Push:
    """One 群发 or 发布 as the state records it."""

    msg_data_id: int
    kind: str  # "masssend" (群发) | "freepublish" (发布)
    published_at: float  # epoch seconds: the mass send's time, or the 发布's ready_at
    article_id: str
    news_item: tuple[dict, ...]

    @property
    def day(self) -> date:
        return datetime.fromtimestamp(self.published_at, CHINA).date()


@dataclass(frozen=True)
class Item:
    """One published article with everything its numbers depend on."""

    msgid: str
    msg_data_id: int
    idx: int
    kind: str
    published_at: float
    day: date
    title: str
    article_id: str
    audience: int  # followers at the start of the publication day
    traits: Traits
    readers: tuple[int, ...]  # new readers on day 0..59 after publication
    running: tuple[int, ...]  # readers through day k
    outside: tuple[float, ...]  # readers not from 公众号消息, through day k

    @property
    def publish_type(self) -> int:
        return 0 if self.kind == "masssend" else 1

    @classmethod
    def build(cls, push: Push, idx: int, audience: int) -> Item:
        news = push.news_item[idx - 1]
        msgid = f"{push.msg_data_id}_{idx}"
        traits = Traits.draw(msgid, news.get("title", ""), bool(news.get("content_source_url")))
        lifetime = audience * OPEN_RATE[push.kind] * POSITION[min(idx, len(POSITION)) - 1] * traits.quality
        readers = _daily_readers(lifetime, push.published_at, rng("readers", msgid))
        running, outside, total, outside_total = [], [], 0, 0.0
        for k, count in enumerate(readers):
            total += count
            outside_total += count * (1 - MIX[push.kind][k][0])
            running.append(total)
            outside.append(outside_total)
        return cls(msgid=msgid, msg_data_id=push.msg_data_id, idx=idx, kind=push.kind,
                   published_at=push.published_at, day=push.day, title=news.get("title", ""),
                   article_id=push.article_id, audience=audience, traits=traits, readers=tuple(readers),
                   running=tuple(running), outside=tuple(outside))


def _daily_readers(lifetime: float, published_at: float, r: random.Random) -> list[int]:
    weights = list(DECAY)
    hours_left = 24 - datetime.fromtimestamp(published_at, CHINA).hour
    late = weights[0] * (1 - min(1.0, hours_left / 14))  # published in the evening: fewer hours on day 0
    weights[0] -= late
    weights[1] += late
    return [_round(lifetime * w * r.uniform(0.85, 1.15)) for w in weights]


def pushes(state_data: dict) -> list[Push]:
    """Every 群发 and 发布 in the state, in publication order."""
    found = []
    for article in state_data["articles"].values():
        if article["kind"] == "masssend":
            send = state_data["mass_sends"][str(article["msg_id"])]
            msg_data_id, moment = send["msg_data_id"], send["time"]
        else:
            msg_data_id, moment = state_data["publish_jobs"][article["publish_id"]]["msg_data_id"], article["ready_at"]
        found.append(Push(int(msg_data_id), article["kind"], moment, article["article_id"],
                          tuple(article["news_item"])))
    return sorted(found, key=lambda p: (p.published_at, p.msg_data_id))


# --- One article's day, one account's day --------------------------------------------------------


def _grown(item: Item, k: int, rate: float) -> int:
    """The day-k part of round(running readers × rate): daily numbers that add up to the running one."""
    before = item.running[k - 1] if k else 0
    return _round(item.running[k] * rate) - _round(before * rate)


def _follows(item: Item, k: int) -> int:
    before = item.outside[k - 1] if k else 0.0
    return _round(item.outside[k] * item.traits.subscribe) - _round(before * item.traits.subscribe)


def item_day(item: Item, day: date) -> dict:
    """The article's numbers on one day (all zero outside its 60 days): WeChat's field names, with
    read_user_source as {scene_desc: readers} and the legacy counts beside them."""
    k = (day - item.day).days
    if not 0 <= k < LIFETIME_DAYS:
        return empty_day()
    t = item.traits
    readers = item.readers[k]
    shares, favourites, originals = _grown(item, k, t.share), _grown(item, k, t.collect), _grown(item, k, t.original)
    return {
        "read_user": readers,
        "read_user_source": dict(zip(SCENES, apportion(readers, MIX[item.kind][k]), strict=True)),
        "int_page_read_count": readers + _grown(item, k, REPEAT_READS),
        "share_user": shares, "share_count": shares + _grown(item, k, t.share * 0.3),
        "zaikan_user": _grown(item, k, t.zaikan), "like_user": _grown(item, k, t.like),
        "comment_count": _grown(item, k, t.comment),
        "collection_user": favourites, "add_to_fav_count": favourites + _grown(item, k, t.collect * 0.05),
        "redirect_ori_page_user": originals, "ori_page_read_count": originals + _grown(item, k, t.original * 0.2),
        "read_subscribe_user": _follows(item, k),
        "praise_money": _grown(item, k, t.praise) * PRAISE_FEN,
    }


def empty_day() -> dict:
    return {"read_user": 0, "read_user_source": dict.fromkeys(SCENES, 0), "int_page_read_count": 0,
            "share_user": 0, "share_count": 0, "zaikan_user": 0, "like_user": 0, "comment_count": 0,
            "collection_user": 0, "add_to_fav_count": 0, "redirect_ori_page_user": 0, "ori_page_read_count": 0,
            "read_subscribe_user": 0, "praise_money": 0}


def add_day(total: dict, day: dict) -> dict:
    """total += day, field by field (read_user_source scene by scene); returns total."""
    for key, value in day.items():
        if key == "read_user_source":
            sources = total[key]
            for scene, count in value.items():
                sources[scene] += count
        else:
            total[key] += value
    return total


class DatacubeModel:
    """The account's numbers for one state: items indexed by publication day, followers day by day.

    Followers on a day depend on the articles read before it and an article's readers on the followers
    at its publication, so the timeline is computed forward, once, as far as a request needs."""

    def __init__(self, published: list[Push]):
        self.pushes_by_day: dict[date, list[Push]] = {}
        for push in published:
            self.pushes_by_day.setdefault(push.day, []).append(push)
        self.first_day = min(self.pushes_by_day, default=None)
        self._items: dict[date, list[Item]] = {}
        self._follows: dict[date, tuple[dict[int, int], int]] = {}  # day → ({source: new}, cancel)
        self._cumulate: dict[date, int] = {}
        self._account: dict[date, dict] = {}
        self._through = self.first_day - timedelta(days=1) if self.first_day else None
        self._lock = threading.RLock()

    # the timeline

    def _advance(self, day: date) -> None:
        with self._lock:
            while self._through is not None and self._through < day:
                self._step(self._through + timedelta(days=1))
                self._through += timedelta(days=1)

    def _step(self, day: date) -> None:
        audience = self.cumulate(day - timedelta(days=1))
        self._items[day] = [Item.build(push, idx, audience) for push in self.pushes_by_day.get(day, [])
                            for idx in range(1, len(push.news_item) + 1)]
        r = rng("followers", day)
        organic = _round(audience * ORGANIC_FOLLOWS * r.uniform(0.5, 1.5))
        new = dict(zip(ORGANIC_SOURCES, apportion(organic, list(ORGANIC_SOURCES.values())), strict=True))
        new[ARTICLE_FOLLOWS] = sum(_follows(item, (day - item.day).days) for item in self._active(day))
        mass_sends = sum(1 for push in self.pushes_by_day.get(day, []) if push.kind == "masssend")
        cancel = _round(audience * (UNFOLLOWS * r.uniform(0.5, 1.5) + UNFOLLOWS_PER_MASS_SEND * mass_sends))
        self._follows[day] = (new, cancel)
        self._cumulate[day] = audience + sum(new.values()) - cancel

    # what the endpoints ask

    def items_on(self, day: date) -> list[Item]:
        """The articles published on the day, in publication order."""
        self._advance(day)
        return self._items.get(day, [])

    def active_items(self, day: date) -> Iterator[Item]:
        """The articles within their 60 days on the day (published on it or up to 59 days before)."""
        self._advance(day)
        return self._active(day)

    def _active(self, day: date) -> Iterator[Item]:
        for back in range(LIFETIME_DAYS - 1, -1, -1):
            yield from self._items.get(day - timedelta(days=back), ())

    def items(self) -> list[Item]:
        """Every published article."""
        last = max(self.pushes_by_day, default=None)
        if last is None:
            return []
        self._advance(last)
        return [item for day in sorted(self._items) for item in self._items[day]]

    def cumulate(self, day: date) -> int:
        """Followers at the end of the day."""
        if self.first_day is None or day < self.first_day:
            return BASE_FOLLOWERS
        self._advance(day)
        return self._cumulate[day]

    def followers_day(self, day: date) -> dict:
        """{"new_user": {user_source: n}, "cancel_user": n, "cumulate_user": n} for the day."""
        if self.first_day is None or day < self.first_day:
            return {"new_user": {}, "cancel_user": 0, "cumulate_user": BASE_FOLLOWERS}
        self._advance(day)
        new, cancel = self._follows[day]
        return {"new_user": dict(new), "cancel_user": cancel, "cumulate_user": self._cumulate[day]}

    def account_day(self, day: date) -> dict:
        """The sum of item_day over the account's articles, plus send_page_count."""
        with self._lock:
            if day not in self._account:
                total = empty_day()
                for item in self.active_items(day):
                    add_day(total, item_day(item, day))
                self._account[day] = {**total, "send_page_count": len(self.items_on(day))}
            return self._account[day]


_MODELS: dict[tuple, DatacubeModel] = {}
_MODELS_LOCK = threading.Lock()
_MODELS_KEPT = 8


def model_for(state_data: dict) -> DatacubeModel:
    """The model of this state, built once per set of published articles."""
    articles = state_data["articles"]
    key = (len(articles), state_data.get("next_number"), hash(tuple(articles)))
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _MODELS[key] = DatacubeModel(pushes(state_data))
            while len(_MODELS) > _MODELS_KEPT:
                del _MODELS[next(iter(_MODELS))]
        return model


def account_day(state_data: dict, day: date) -> dict:
    return model_for(state_data).account_day(day)


def followers_day(state_data: dict, day: date) -> dict:
    return model_for(state_data).followers_day(day)


def find_item(state_data: dict, msgid: str) -> Item:
    for item in model_for(state_data).items():
        if item.msgid == msgid:
            return item
    raise KeyError(msgid)


# --- Requests ------------------------------------------------------------------------------------


def datacube_settings(state_data: dict) -> dict:
    stored = state_data.get("datacube") or {}
    return {"delayed_days": list(stored.get("delayed_days", [])), "current_api": stored.get("current_api", True)}


@dataclass
class Query:
    """One datacube call, checked: the days asked for and what is known about them."""

    days: list[date]  # the days asked for, from 2014-12-01 on
    delayed: set[date]
    yesterday: date
    model: DatacubeModel
    call: Call

    @property
    def ready(self) -> list[date]:
        return [day for day in self.days if day not in self.delayed]

    @property
    def is_delay(self) -> bool:
        return any(day in self.delayed for day in self.days)

    def stat_days(self, first: date, count: int) -> tuple[list[date], bool]:
        """first … first+count-1, up to yesterday and before any delayed day; True when a delay cut it."""
        days = []
        for day in _day_range(first, min(first + timedelta(days=count - 1), self.yesterday)):
            if day in self.delayed:
                return days, True
            days.append(day)
        return days, False


DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: Any) -> date:
    if not isinstance(value, str) or not DAY_PATTERN.fullmatch(value):
        raise WeChatError(61500)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WeChatError(61500) from None


def _day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def query(call: Call, name: str) -> Query:
    """Check a call as WeChat does (48001, 61500, 61501) and say which days it covers."""
    call.require_verified()
    settings = datacube_settings(call.state.data)
    if name in CURRENT and not settings["current_api"]:
        raise WeChatError(48001)
    begin, end = _day(call.body.get("begin_date")), _day(call.body.get("end_date"))
    local = datetime.fromtimestamp(call.now, CHINA)
    yesterday = local.date() - timedelta(days=1)
    if end < begin or (end - begin).days + 1 > MAX_SPAN_DAYS[name] or end > yesterday:
        raise WeChatError(61501)
    delayed = {date.fromisoformat(day) for day in settings["delayed_days"]}
    if local.hour < READY_HOUR:
        delayed.add(yesterday)
    return Query(_day_range(max(begin, DATA_START), end) if end >= DATA_START else [], delayed, yesterday,
                 model_for(call.state.data), call)


def report(name: str):
    """Register a datacube report: /datacube/<name>, "datacube/<name>" in the call log, quota and faults."""
    return cgi(f"datacube/{name}", read_only=True)


def _sources(counts: dict[str, int], total: int) -> list[dict]:
    return [{"user_count": total, "scene_desc": ALL_SCENES},
            *({"user_count": counts[scene], "scene_desc": scene} for scene in SCENES)]


# --- The current endpoints -----------------------------------------------------------------------


@report("getarticleread")
def getarticleread(call: Call) -> dict:
    q = query(call, "getarticleread")
    rows = []
    for day in q.ready:
        for item in q.model.active_items(day):
            numbers = item_day(item, day)
            if numbers["read_user"]:
                rows.append({"ref_date": day.isoformat(), "msgid": item.msgid, "detail": {
                    "read_user": numbers["read_user"],
                    "read_user_source": _sources(numbers["read_user_source"], numbers["read_user"])}})
    return {"list": rows, "is_delay": q.is_delay}


@report("getarticleshare")
def getarticleshare(call: Call) -> dict:
    q = query(call, "getarticleshare")
    rows = []
    for day in q.ready:
        for item in q.model.active_items(day):
            shares = item_day(item, day)["share_user"]
            if shares:
                rows.append({"ref_date": day.isoformat(), "msgid": item.msgid, "detail": {"share_user": shares}})
    return {"list": rows, "is_delay": q.is_delay}


BIZSUMMARY_FIELDS = ("share_user", "zaikan_user", "like_user", "comment_count", "collection_user",
                     "redirect_ori_page_user", "send_page_count")


@report("getbizsummary")
def getbizsummary(call: Call) -> dict:
    q = query(call, "getbizsummary")
    rows = []
    for day in q.ready:
        numbers = q.model.account_day(day)
        detail = {"read_user": numbers["read_user"],
                  "read_user_source": _sources(numbers["read_user_source"], numbers["read_user"]),
                  **{name: numbers[name] for name in BIZSUMMARY_FIELDS}}
        rows.append({"ref_date": day.isoformat(), "detail": detail})
    return {"list": rows, "is_delay": q.is_delay}


TOTALDETAIL_FIELDS = ("share_user", "zaikan_user", "like_user", "comment_count", "collection_user",
                      "praise_money", "read_subscribe_user")


@report("getarticletotaldetail")
def getarticletotaldetail(call: Call) -> dict:
    q = query(call, "getarticletotaldetail")
    rows, cut = [], False
    for day in q.ready:
        stat_days, cut_here = q.stat_days(day, TOTALDETAIL_DAYS)
        cut = cut or cut_here
        for item in q.model.items_on(day):
            rows.append({"ref_date": day.isoformat(), "msgid": item.msgid, "publish_type": item.publish_type,
                         "title": item.title, "content_url": article_url(call, item.article_id, item.idx),
                         "detail_list": _running_details(item, stat_days)})
    return {"list": rows, "is_delay": q.is_delay or cut}


def _running_details(item: Item, stat_days: list[date]) -> list[dict]:
    running, entries = empty_day(), []
    t = item.traits
    for day in stat_days:
        add_day(running, item_day(item, day))
        delivery = running["read_user"] / item.audience if item.kind == "masssend" and item.audience else 0.0
        entries.append({
            "stat_date": day.isoformat(), "read_user": running["read_user"],
            "read_user_source": _sources(running["read_user_source"], running["read_user"]),
            **{name: running[name] for name in TOTALDETAIL_FIELDS},
            "read_delivery_rate": round(delivery, 7), "read_finish_rate": t.finish,
            "read_avg_activetime": t.active_minutes,
            "read_jump_position": [{"position": n, "rate": rate} for n, rate in enumerate(t.jumps, start=1)],
        })
    return entries


# --- The legacy endpoints ------------------------------------------------------------------------


@report("getusersummary")
def getusersummary(call: Call) -> dict:
    q = query(call, "getusersummary")
    rows = []
    for day in q.ready:
        followers = q.model.followers_day(day)
        cancels = {0: followers["cancel_user"]}
        sources = sorted(source for source in set(followers["new_user"]) | set(cancels)
                         if followers["new_user"].get(source) or cancels.get(source)) or [0]
        rows.extend({"ref_date": day.isoformat(), "user_source": source,
                     "new_user": followers["new_user"].get(source, 0), "cancel_user": cancels.get(source, 0)}
                    for source in sources)
    return {"list": rows}


@report("getusercumulate")
def getusercumulate(call: Call) -> dict:
    q = query(call, "getusercumulate")
    return {"list": [{"ref_date": day.isoformat(), "user_source": 0, "cumulate_user": q.model.cumulate(day)}
                     for day in q.ready]}


def _legacy_numbers(numbers: dict) -> dict:
    return {"int_page_read_user": numbers["read_user"], "int_page_read_count": numbers["int_page_read_count"],
            "ori_page_read_user": numbers["redirect_ori_page_user"],
            "ori_page_read_count": numbers["ori_page_read_count"],
            "share_user": numbers["share_user"], "share_count": numbers["share_count"],
            "add_to_fav_user": numbers["collection_user"], "add_to_fav_count": numbers["add_to_fav_count"]}


@report("getarticlesummary")
def getarticlesummary(call: Call) -> dict:
    q = query(call, "getarticlesummary")
    rows = []
    for day in q.ready:
        for item in q.model.active_items(day):
            if item.kind != "masssend":
                continue
            numbers = _legacy_numbers(item_day(item, day))
            counted = ("int_page_read_user", "ori_page_read_user", "share_user", "share_count", "add_to_fav_count")
            if sum(numbers[name] for name in counted) >= SUMMARY_THRESHOLD:
                rows.append({"ref_date": day.isoformat(), "msgid": item.msgid, "title": item.title,
                             "user_source": 0, **numbers})
    return {"list": rows}


@report("getarticletotal")
def getarticletotal(call: Call) -> dict:
    q = query(call, "getarticletotal")
    rows = []
    for day in q.ready:
        stat_days, _ = q.stat_days(day, ARTICLETOTAL_DAYS)
        for item in q.model.items_on(day):
            if item.kind == "masssend":
                rows.append({"ref_date": day.isoformat(), "msgid": item.msgid, "title": item.title,
                             "url": article_url(call, item.article_id, item.idx), "user_source": 0,
                             "details": _running_totals(item, stat_days)})
    return {"list": rows}


def _running_totals(item: Item, stat_days: list[date]) -> list[dict]:
    running, entries = empty_day(), []
    for day in stat_days:
        add_day(running, item_day(item, day))
        entry = {"stat_date": day.isoformat(), "target_user": item.audience, **_legacy_numbers(running)}
        readers = [sum(running["read_user_source"][scene] for scene in scenes)
                   for scenes in ARTICLETOTAL_SOURCES.values()]
        counts = apportion(running["int_page_read_count"], readers)
        for source, users, reads in zip(ARTICLETOTAL_SOURCES, readers, counts, strict=True):
            entry[f"int_page_from_{source}_read_user"] = users
            entry[f"int_page_from_{source}_read_count"] = reads
        origins = {"session": readers[0], "feed": readers[2], "other": sum(readers) - readers[0] - readers[2]}
        users = apportion(_round(running["share_user"] * MOMENTS_SHARES), list(origins.values()))
        shares = apportion(_round(running["share_count"] * MOMENTS_SHARES), list(origins.values()))
        for origin, user, count in zip(origins, users, shares, strict=True):
            entry[f"feed_share_from_{origin}_user"] = user
            entry[f"feed_share_from_{origin}_cnt"] = count
        entries.append(entry)
    return entries


@report("getuserread")
def getuserread(call: Call) -> dict:
    q = query(call, "getuserread")
    rows = []
    for day in q.ready:
        numbers = q.model.account_day(day)
        if not numbers["read_user"]:
            continue
        total = _legacy_numbers(numbers)
        rows.append({"ref_date": day.isoformat(), "user_source": USERREAD_ALL, **total})
        readers = [numbers["read_user_source"][scene] for scene in USERREAD_SOURCES.values()]
        split = {name: apportion(total[name], readers)
                 for name in ("int_page_read_count", "share_user", "share_count")}
        for n, (code, users) in enumerate(zip(USERREAD_SOURCES, readers, strict=True)):
            if users:
                rows.append({"ref_date": day.isoformat(), "user_source": code, "int_page_read_user": users,
                             "int_page_read_count": split["int_page_read_count"][n], "ori_page_read_user": 0,
                             "ori_page_read_count": 0, "share_user": split["share_user"][n],
                             "share_count": split["share_count"][n], "add_to_fav_user": 0, "add_to_fav_count": 0})
    return {"list": rows}


@report("getusershare")
def getusershare(call: Call) -> dict:
    q = query(call, "getusershare")
    rows = []
    for day in q.ready:
        numbers = q.model.account_day(day)
        weights = list(SHARE_SCENES.values())
        users, counts = apportion(numbers["share_user"], weights), apportion(numbers["share_count"], weights)
        rows.extend({"ref_date": day.isoformat(), "share_scene": scene, "share_count": count, "share_user": user}
                    for scene, user, count in zip(SHARE_SCENES, users, counts, strict=True) if user or count)
    return {"list": rows}


# --- Admin: settings and seeding -----------------------------------------------------------------


async def admin_settings(state: State, request: Request) -> Response:
    """GET: {"delayed_days": [...], "current_api": bool}. POST either or both to change them."""
    if request.method == "POST":
        try:
            changes = _settings_changes(await request.json())
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        with state.lock:
            state.data["datacube"] = {**datacube_settings(state.data), **changes}
            state.save()
    with state.lock:
        return JSONResponse(datacube_settings(state.data))


def _settings_changes(body: Any) -> dict:
    if not isinstance(body, dict) or not body or set(body) - {"delayed_days", "current_api"}:
        raise ValueError("give delayed_days (a list of YYYY-MM-DD) and/or current_api (true or false)")
    if "current_api" in body and not isinstance(body["current_api"], bool):
        raise ValueError("current_api must be true or false")
    days = body.get("delayed_days", [])
    if not isinstance(days, list) or not all(isinstance(d, str) and DAY_PATTERN.fullmatch(d) for d in days):
        raise ValueError("delayed_days must be a list of YYYY-MM-DD strings")
    for day in days:
        date.fromisoformat(day)  # a ValueError for 2026-02-30
    return body


async def admin_seed(state: State, request: Request) -> Response:
    """POST {"count", "start", "end", "seed"} or {"pushes": [...]}: see `seed`."""
    try:
        plans = seed_plans(await request.json())
    except (ValueError, TypeError, KeyError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    with state.lock:
        created = [create_push(state, plan) for plan in plans]
        state.save()
    return JSONResponse(created)


@dataclass(frozen=True)
class PushPlan:
    moment: datetime  # Beijing time
    kind: str
    titles: tuple[str, ...]
    source_urls: tuple[str, ...]


def seed_plans(spec: Any) -> list[PushPlan]:
    """The pushes a seed request asks for.

    {"count": 500, "start": "2025-11-01", "end": "2026-10-31", "seed": 1}: `count` articles in pushes
    of 1–4, on random days of start..end at 07:00–21:59 Beijing time, about 55% 群发 (at most one a
    day, like a 订阅号) and the rest 发布, titled "第 N 篇：…"; the same seed, the same pushes.
    {"pushes": [{"time": ISO (naive = Beijing), "kind": "masssend"|"freepublish", "titles": [...]}]}:
    exactly those."""
    if not isinstance(spec, dict):
        raise ValueError("give {count, start, end, seed} or {pushes: [...]}")
    if "pushes" in spec:
        return [_explicit_plan(push) for push in _list(spec["pushes"], "pushes")]
    count, seed_value = spec.get("count"), spec.get("seed", 1)
    if not isinstance(count, int) or not 1 <= count <= 20_000:
        raise ValueError("count must be an integer from 1 to 20000")
    start, end = date.fromisoformat(str(spec.get("start"))), date.fromisoformat(str(spec.get("end")))
    if end < start:
        raise ValueError("end must not be before start")
    return _random_plans(count, start, end, rng("seed", seed_value))


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name} must be a non-empty list")
    return value


def _explicit_plan(push: Any) -> PushPlan:
    if not isinstance(push, dict) or push.get("kind") not in ("masssend", "freepublish"):
        raise ValueError("each push needs kind 'masssend' or 'freepublish', time and titles")
    moment = datetime.fromisoformat(str(push.get("time")))
    titles = _list(push.get("titles"), "titles")
    if len(titles) > 8 or not all(isinstance(t, str) and 0 < len(t) <= TITLE_CHARS for t in titles):
        raise ValueError(f"titles: 1 to 8 strings of 1 to {TITLE_CHARS} characters")
    moment = moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment.astimezone(CHINA)
    return PushPlan(moment, push["kind"], tuple(titles), ("",) * len(titles))


TOPICS = ("城市通勤", "家庭理财", "秋季养生", "儿童阅读", "咖啡烘焙", "露营装备", "旧书修复", "地铁线路",
          "开源社区", "方言保护", "厨房收纳", "跑步膝盖", "古镇旅行", "职场写作", "手机摄影", "垃圾分类",
          "社区菜园", "冬季护肤", "博物馆夜游", "二手家具")
OPENINGS = ("一文读懂", "重新认识", "聊聊", "细说", "从零开始理解", "关于", "漫谈", "实测")
ENDINGS = ("", "的五个细节", "：我们学到了什么", "背后的故事", "的三种误区", "全攻略", "这件小事", "的十年")


def _random_plans(count: int, start: date, end: date, r: random.Random) -> list[PushPlan]:
    sizes = []
    while sum(sizes) < count:
        sizes.append(min(r.choice((1, 1, 2, 2, 3, 4)), count - sum(sizes)))
    span = (end - start).days
    moments = sorted(datetime.combine(start + timedelta(days=r.randint(0, span)),
                                      time(r.randint(7, 21), r.randint(0, 59)), CHINA) for _ in sizes)
    plans, mass_days, number = [], set(), 0
    for size, moment in zip(sizes, moments, strict=True):
        kind = "masssend" if r.random() < 0.55 and moment.date() not in mass_days else "freepublish"
        if kind == "masssend":
            mass_days.add(moment.date())
        titles, urls = [], []
        for _ in range(size):
            number += 1
            titles.append(f"第 {number} 篇：{r.choice(OPENINGS)}{r.choice(TOPICS)}{r.choice(ENDINGS)}")
            urls.append(f"https://example.com/notes/{number}" if r.random() < 0.2 else "")
        plans.append(PushPlan(moment, kind, tuple(titles), tuple(urls)))
    return plans


def _news_item(title: str, source_url: str) -> dict:
    return {"article_type": "news", "title": title, "author": "编辑部", "digest": title,
            "content": f"<p>{title}</p><p>这是一篇由 sandbox seed 生成的示例文章。</p>",
            "content_source_url": source_url, "need_open_comment": 1, "only_fans_can_comment": 0,
            "thumb_media_id": "", "pic_crop_235_1": "", "pic_crop_1_1": ""}


def create_push(state: State, plan: PushPlan) -> dict:
    """Write one published push into the state, as 群发 or 发布 would have; the caller holds the lock."""
    number = state.next_number()
    msg_data_id, moment = 2247483600 + number, plan.moment.timestamp()
    article_id = secrets.token_urlsafe(32)
    news = [_news_item(title, url) for title, url in zip(plan.titles, plan.source_urls, strict=True)]
    article = {"article_id": article_id, "kind": plan.kind, "news_item": news, "deleted": [False] * len(news),
               "ready_at": moment, "update_time": int(moment)}
    if plan.kind == "masssend":
        msg_id = 1000000000 + number
        article["msg_id"] = msg_id
        state.mass_sends[str(msg_id)] = {
            "msg_id": msg_id, "msg_data_id": msg_data_id, "clientmsgid": None, "time": moment,
            "filter": {"is_to_all": True, "tag_id": None}, "send_ignore_reprint": 0, "media_id": "",
            "title": plan.titles[0], "article_id": article_id, "seeded": True}
    else:
        publish_id = str(msg_data_id)
        article["publish_id"] = publish_id
        state.jobs[publish_id] = {"publish_id": publish_id, "msg_data_id": msg_data_id, "media_id": "",
                                  "title": plan.titles[0], "submitted_at": moment, "ready_at": moment,
                                  "outcome": 0, "article_id": article_id, "fail_idx": [], "seeded": True}
    state.articles[article_id] = article
    return {"msg_data_id": msg_data_id, "kind": plan.kind, "time": plan.moment.isoformat(),
            "titles": list(plan.titles), "article_id": article_id}
