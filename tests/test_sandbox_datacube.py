"""The sandbox's 数据统计 (datacube) reports, over real HTTP, and the model behind their numbers."""

from __future__ import annotations

import json
import re
import statistics
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from publisher.wechat import sandbox_datacube as datacube
from publisher.wechat.sandbox import CHINA, SandboxAccount, start_sandbox

CURRENT = datacube.CURRENT
LEGACY = datacube.LEGACY
SCENE_ORDER = ["全部", "公众号消息", "聊天会话", "朋友圈", "公众号主页", "其他", "推荐", "搜一搜"]
TODAY = datetime.now(CHINA).date() + timedelta(days=1)  # the sandbox's clock is moved to noon of this day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHINA)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


PUSHES = [  # 群发 with three articles and a 发布 on the same day, then more of both
    {"time": at(ago(20), 9).isoformat(), "kind": "masssend", "titles": ["头条：城市通勤", "次条：秋季养生", "三条：旧书修复"]},
    {"time": at(ago(20), 15).isoformat(), "kind": "freepublish", "titles": ["发布：地铁线路"]},
    {"time": at(ago(12), 20, 30).isoformat(), "kind": "masssend", "titles": ["晚间群发", "晚间次条"]},
    {"time": at(ago(5), 10).isoformat(), "kind": "freepublish", "titles": ["五天前发布", "五天前次条"]},
    {"time": at(ago(1), 8, 30).isoformat(), "kind": "masssend", "titles": ["昨天的群发"]},
]


class Datacube:
    """A bare datacube client: POST /datacube/<name>?access_token= with begin_date/end_date."""

    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url, trust_env=False, timeout=10)
        self.login()

    def login(self) -> None:
        body = {"grant_type": "client_credential", "appid": SandboxAccount.app_id,
                "secret": SandboxAccount.app_secret}
        self.token = self.http.post("/cgi-bin/stable_token", json=body).json()["access_token"]

    def __call__(self, name: str, begin: date | str, end: date | str | None = None) -> dict:
        body = {"begin_date": str(begin), "end_date": str(end if end is not None else begin)}
        return self.post(name, body)

    def post(self, name: str, body: dict) -> dict:
        return self.http.post(f"/datacube/{name}", params={"access_token": self.token}, json=body).json()


@pytest.fixture
def sandbox(tmp_path: Path):
    with start_sandbox(tmp_path / "sandbox") as running:
        running.admin.clock_at_least(at(TODAY, 12).timestamp())
        yield running


@pytest.fixture
def api(sandbox):
    client = Datacube(sandbox.base_url)
    yield client
    client.http.close()


@pytest.fixture
def pushes(sandbox):
    return sandbox.admin.seed(pushes=PUSHES)


def state_of(sandbox) -> dict:
    return json.loads((sandbox.state_dir / "state.json").read_text(encoding="utf-8"))


def msgids(push: dict) -> list[str]:
    return [f"{push['msg_data_id']}_{idx}" for idx in range(1, len(push["titles"]) + 1)]


def scenes(sources: list[dict]) -> dict[str, int]:
    assert [s["scene_desc"] for s in sources] == SCENE_ORDER
    assert all(set(s) == {"user_count", "scene_desc"} for s in sources)
    counts = {s["scene_desc"]: s["user_count"] for s in sources}
    assert counts["全部"] == sum(n for scene, n in counts.items() if scene != "全部")
    return counts


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- shapes -----------------------------------------------------------------------------------------


def test_current_reports_have_the_documented_shape(api, pushes):
    mass, publication = pushes[0], pushes[1]
    read = api("getarticleread", ago(19))
    assert read["is_delay"] is False and set(read) == {"list", "is_delay"}
    assert {row["msgid"] for row in read["list"]} == set(msgids(mass) + msgids(publication))
    for row in read["list"]:
        assert set(row) == {"ref_date", "msgid", "detail"} and row["ref_date"] == str(ago(19))
        assert set(row["detail"]) == {"read_user", "read_user_source"}
        assert scenes(row["detail"]["read_user_source"])["全部"] == row["detail"]["read_user"] > 0
    publication_row = next(r for r in read["list"] if r["msgid"] == msgids(publication)[0])
    assert scenes(publication_row["detail"]["read_user_source"])["公众号消息"] == 0  # 发布 is not pushed

    share = api("getarticleshare", ago(20))
    assert share["list"] and all(set(r) == {"ref_date", "msgid", "detail"} and set(r["detail"]) == {"share_user"}
                                 and r["detail"]["share_user"] > 0 for r in share["list"])

    summary = api("getbizsummary", ago(20))
    (entry,) = summary["list"]
    assert set(entry["detail"]) == {"read_user", "read_user_source", "share_user", "zaikan_user", "like_user",
                                    "comment_count", "collection_user", "redirect_ori_page_user", "send_page_count"}
    assert entry["detail"]["send_page_count"] == 4 and entry["detail"]["read_user"] > 0
    assert api("getbizsummary", ago(19))["list"][0]["detail"]["send_page_count"] == 0

    detail = api("getarticletotaldetail", ago(20))
    assert detail["is_delay"] is False
    assert [row["msgid"] for row in detail["list"]] == msgids(mass) + msgids(publication)
    for row in detail["list"]:
        assert set(row) == {"ref_date", "msgid", "publish_type", "title", "content_url", "detail_list"}
        assert row["publish_type"] == (0 if row["msgid"] in msgids(mass) else 1)
        assert urlsplit(row["content_url"]).path.startswith("/sandbox/s/")
        assert [e["stat_date"] for e in row["detail_list"]] == [str(d) for d in days(ago(20), ago(1))]
        last = row["detail_list"][-1]
        assert set(last) == {"stat_date", "read_user", "read_user_source", "share_user", "zaikan_user", "like_user",
                             "comment_count", "collection_user", "praise_money", "read_subscribe_user",
                             "read_delivery_rate", "read_finish_rate", "read_avg_activetime", "read_jump_position"}
        assert [p["position"] for p in last["read_jump_position"]] == [1, 2, 3, 4, 5]
        assert sum(p["rate"] for p in last["read_jump_position"]) == pytest.approx(1, abs=1e-5)
        assert 0 < last["read_finish_rate"] < 1 and last["read_avg_activetime"] > 0
        assert (last["read_delivery_rate"] > 0) == (row["publish_type"] == 0)
    assert [row["title"] for row in detail["list"]] == mass["titles"] + publication["titles"]


def test_totaldetail_keeps_at_most_30_days(sandbox, api):
    (push,) = sandbox.admin.seed(pushes=[{"time": at(ago(45), 9).isoformat(), "kind": "masssend", "titles": ["旧文"]}])
    (row,) = api("getarticletotaldetail", ago(45))["list"]
    assert row["msgid"] == msgids(push)[0]
    assert [e["stat_date"] for e in row["detail_list"]] == [str(d) for d in days(ago(45), ago(16))]


def test_legacy_reports_have_the_documented_shape(api, pushes):
    mass = pushes[0]
    summary = api("getusersummary", ago(20), ago(14))["list"]
    assert {row["ref_date"] for row in summary} == {str(d) for d in days(ago(20), ago(14))}
    assert all(set(r) == {"ref_date", "user_source", "new_user", "cancel_user"} for r in summary)
    assert {r["user_source"] for r in summary} <= set(datacube.USER_SOURCES)
    assert any(r["user_source"] == 57 and r["new_user"] > 0 for r in summary)  # follows after reading

    cumulate = api("getusercumulate", ago(20), ago(14))["list"]
    assert [r["ref_date"] for r in cumulate] == [str(d) for d in days(ago(20), ago(14))]
    assert all(set(r) == {"ref_date", "user_source", "cumulate_user"} for r in cumulate)

    articles = api("getarticlesummary", ago(19))["list"]
    assert {r["msgid"] for r in articles} <= set(msgids(mass)) and articles  # 群发 only
    assert set(articles[0]) == {"ref_date", "msgid", "title", "user_source", "int_page_read_user",
                                "int_page_read_count", "ori_page_read_user", "ori_page_read_count", "share_user",
                                "share_count", "add_to_fav_user", "add_to_fav_count"}

    total = api("getarticletotal", ago(20))["list"]
    assert [r["msgid"] for r in total] == msgids(mass)
    assert [d["stat_date"] for d in total[0]["details"]] == [str(d) for d in days(ago(20), ago(14))]
    first = total[0]["details"][-1]
    sources = ("session", "hist_msg", "feed", "friends", "other")
    assert {f"int_page_from_{s}_read_user" for s in sources} <= set(first)
    assert {f"feed_share_from_{s}_cnt" for s in ("session", "feed", "other")} <= set(first)
    assert sum(first[f"int_page_from_{s}_read_user"] for s in sources) == first["int_page_read_user"]
    assert first["target_user"] > 0 and first["int_page_read_count"] >= first["int_page_read_user"]

    read = api("getuserread", ago(20), ago(18))["list"]
    for day in days(ago(20), ago(18)):
        rows = {r["user_source"]: r for r in read if r["ref_date"] == str(day)}
        assert set(rows) <= {99999999, 0, 1, 2, 4, 5, 6, 7} and 99999999 in rows
        assert rows[99999999]["int_page_read_user"] == sum(r["int_page_read_user"] for c, r in rows.items()
                                                           if c != 99999999)
        assert all(r["ori_page_read_user"] == 0 == r["add_to_fav_user"] for c, r in rows.items() if c != 99999999)

    share = api("getusershare", ago(20), ago(14))["list"]
    assert share and {r["share_scene"] for r in share} <= {1, 2, 255}
    assert all(set(r) == {"ref_date", "share_scene", "share_count", "share_user"} for r in share)


# --- rules ------------------------------------------------------------------------------------------


def test_spans_dates_and_yesterday(sandbox, api):
    for name in CURRENT:
        assert api(name, ago(3), ago(2))["errcode"] == 61501, name  # 2 days on a 1-day report
        assert api(name, ago(2))["is_delay"] is False
    assert api("getusersummary", ago(8), ago(1))["errcode"] == 61501
    assert "list" in api("getusersummary", ago(7), ago(1))
    assert "list" in api("getuserread", ago(3), ago(1)) and api("getuserread", ago(4), ago(1))["errcode"] == 61501
    assert api("getusercumulate", ago(2), ago(3))["errcode"] == 61501  # end before begin
    assert api("getbizsummary", TODAY)["errcode"] == 61501  # today is not over
    error = api("getbizsummary", "2026-02-30")
    assert error["errcode"] == 61500 and error["errmsg"].startswith("date format error rid: ")
    for bad in ("2026/01/01", "20260101", "", "2026-1-01"):
        assert api("getbizsummary", bad)["errcode"] == 61500, bad
    assert api.post("getbizsummary", {"begin_date": str(ago(2))})["errcode"] == 61500
    assert api.post("getbizsummary", {"begin_date": 20260101, "end_date": 20260101})["errcode"] == 61500
    assert api("getbizsummary", "2014-11-30") == {"list": [], "is_delay": False}  # nothing before 2014-12-01
    assert api.http.get("/datacube/getbizsummary", params={"access_token": api.token}).json()["errcode"] == 43002
    assert api.http.post("/cgi-bin/datacube/getbizsummary", params={"access_token": api.token}).status_code == 404


def test_yesterday_is_delayed_until_eight_beijing_time(sandbox, api, pushes):
    sandbox.admin.clock_at_least(at(TODAY + timedelta(days=1), 7, 30).timestamp())  # yesterday is now TODAY
    api.login()
    for name in CURRENT:
        assert api(name, TODAY) == {"list": [], "is_delay": True}, name
    for name in LEGACY:
        assert api(name, TODAY) == {"list": []}, name
    assert api("getusercumulate", ago(1), TODAY)["list"][-1]["ref_date"] == str(ago(1))
    (row,) = api("getarticletotaldetail", ago(1))["list"]  # the 群发 of the day before: its second day waits
    assert [e["stat_date"] for e in row["detail_list"]] == [str(ago(1))]
    assert api("getarticletotaldetail", ago(1))["is_delay"] is True

    sandbox.admin.advance_clock(3600)  # 08:30
    summary = api("getbizsummary", TODAY)
    assert summary["is_delay"] is False and summary["list"][0]["ref_date"] == str(TODAY)
    assert len(api("getusercumulate", ago(1), TODAY)["list"]) == 2
    (row,) = api("getarticletotaldetail", ago(1))["list"]
    assert [e["stat_date"] for e in row["detail_list"]] == [str(ago(1)), str(TODAY)]


def test_admin_marks_days_delayed_then_clears_them(sandbox, api, pushes):
    assert sandbox.admin.datacube() == {"delayed_days": [], "current_api": True}
    settings = sandbox.admin.datacube(delayed_days=[str(ago(15))])
    assert settings == {"delayed_days": [str(ago(15))], "current_api": True}
    assert api("getarticleread", ago(15)) == {"list": [], "is_delay": True}
    assert [r["ref_date"] for r in api("getusercumulate", ago(16), ago(14))["list"]] == [str(ago(16)), str(ago(14))]
    delayed = api("getarticletotaldetail", ago(20))
    assert delayed["is_delay"] is True  # the running totals stop before the delayed day
    assert [e["stat_date"] for e in delayed["list"][0]["detail_list"]] == [str(d) for d in days(ago(20), ago(16))]

    sandbox.admin.datacube(delayed_days=[])
    assert api("getarticleread", ago(15))["is_delay"] is False and api("getarticleread", ago(15))["list"]
    complete = api("getarticletotaldetail", ago(20))
    assert complete["is_delay"] is False and len(complete["list"][0]["detail_list"]) == 20
    assert complete["list"][0]["detail_list"][:5] == delayed["list"][0]["detail_list"]
    assert json.loads((sandbox.state_dir / "state.json").read_text())["datacube"]["delayed_days"] == []

    for bad in ({"delayed_days": ["2026-13-01"]}, {"delayed_days": "2026-01-01"}, {"current_api": "no"}, {"x": 1}):
        with pytest.raises(ValueError):
            sandbox.admin.datacube(**bad)


def test_unverified_account_gets_48001_everywhere(sandbox, api):
    sandbox.admin.set_account(verified=False)
    for name in CURRENT + LEGACY:
        assert api(name, ago(2))["errcode"] == 48001, name


def test_current_reports_switched_off_leave_the_legacy_ones(sandbox, api, pushes):
    sandbox.admin.reset_calls()
    assert sandbox.admin.datacube(current_api=False)["current_api"] is False
    for name in CURRENT:
        assert api(name, ago(20))["errcode"] == 48001, name
    for name in LEGACY:
        assert api(name, ago(20))["list"], name
    counts = sandbox.admin.calls()["counts"]
    assert counts["datacube/getbizsummary"] == 1 and counts["datacube/getusersummary"] == 1
    sandbox.admin.datacube(current_api=True)
    sandbox.admin.fault("datacube/getarticleread", errcode=-1)
    assert api("getarticleread", ago(20))["errcode"] == -1
    assert api("getarticleread", ago(20))["list"]


def test_quota_is_generous_and_counted(sandbox, api):
    api("getbizsummary", ago(2))
    body = {"cgi_path": "/datacube/getbizsummary"}
    quota = api.http.post("/cgi-bin/openapi/quota/get", params={"access_token": api.token}, json=body).json()
    assert quota["quota"]["daily_limit"] == 5000 and quota["quota"]["used"] == 1


# --- the numbers ------------------------------------------------------------------------------------


def pull_everything(api: Datacube, first: date, last: date, *, backwards: bool = False) -> dict:
    """Every report for every day of first..last, in windows of the report's span."""
    windows = [(name, day) for name in CURRENT + LEGACY
               for day in days(first, last)[::datacube.MAX_SPAN_DAYS[name]]]
    answers = {}
    for name, day in reversed(windows) if backwards else windows:
        end = min(last, day + timedelta(days=datacube.MAX_SPAN_DAYS[name] - 1))
        answers[f"{name} {day}"] = api(name, day, end)
    return answers


def without_hosts(answers: dict) -> str:
    return re.sub(r"http://127\.0\.0\.1:\d+", "", json.dumps(answers, sort_keys=True, ensure_ascii=False))


def test_same_answers_in_any_order_and_after_a_restart(tmp_path, pushes, sandbox, api):
    forward = pull_everything(api, ago(21), ago(1))
    assert pull_everything(api, ago(21), ago(1), backwards=True) == forward
    sandbox.stop()
    datacube._MODELS.clear()  # computed again from the state file, not remembered
    with start_sandbox(sandbox.state_dir) as again:
        client = Datacube(again.base_url)
        assert without_hosts(pull_everything(client, ago(21), ago(1))) == without_hosts(forward)


def test_reports_add_up(api, pushes):
    first, last = ago(21), ago(1)
    reads = {day: api("getarticleread", day)["list"] for day in days(first, last)}
    shares = {day: api("getarticleshare", day)["list"] for day in days(first, last)}
    for day in days(first, last):
        (summary,) = api("getbizsummary", day)["list"]
        detail = summary["detail"]
        assert detail["read_user"] == sum(r["detail"]["read_user"] for r in reads[day])
        assert detail["share_user"] == sum(r["detail"]["share_user"] for r in shares[day])
        per_scene = [scenes(r["detail"]["read_user_source"]) for r in reads[day]]
        assert scenes(detail["read_user_source"]) == {s: sum(c[s] for c in per_scene) for s in SCENE_ORDER}
        everyone = [r["int_page_read_user"] for r in api("getuserread", day)["list"] if r["user_source"] == 99999999]
        assert sum(everyone) == detail["read_user"]

    cumulate = {r["ref_date"]: r["cumulate_user"] for r in api("getusercumulate", ago(14), ago(8))["list"]}
    changes = api("getusersummary", ago(13), ago(8))["list"]
    for day in days(ago(13), ago(8)):
        rows = [r for r in changes if r["ref_date"] == str(day)]
        net = sum(r["new_user"] - r["cancel_user"] for r in rows)
        assert cumulate[str(day)] - cumulate[str(day - timedelta(days=1))] == net

    for row in api("getarticletotaldetail", ago(20))["list"]:
        for entry in row["detail_list"]:
            through = days(ago(20), date.fromisoformat(entry["stat_date"]))
            mine = [r for day in through for r in reads[day] if r["msgid"] == row["msgid"]]
            assert entry["read_user"] == sum(r["detail"]["read_user"] for r in mine)
            assert scenes(entry["read_user_source"]) == {
                s: sum(scenes(r["detail"]["read_user_source"])[s] for r in mine) for s in SCENE_ORDER}
            assert entry["share_user"] == sum(r["detail"]["share_user"] for day in through for r in shares[day]
                                              if r["msgid"] == row["msgid"])
    legacy = api("getarticletotal", ago(20))["list"][0]["details"]
    current = api("getarticletotaldetail", ago(20))["list"][0]["detail_list"]
    assert [d["int_page_read_user"] for d in legacy] == [e["read_user"] for e in current[:7]]


def test_http_answers_come_from_the_model(sandbox, api, pushes):
    state = state_of(sandbox)
    item = datacube.find_item(state, msgids(pushes[2])[1])
    day = ago(11)
    (row,) = [r for r in api("getarticleread", day)["list"] if r["msgid"] == item.msgid]
    numbers = datacube.item_day(item, day)
    assert row["detail"]["read_user"] == numbers["read_user"] > 0
    assert scenes(row["detail"]["read_user_source"])["聊天会话"] == numbers["read_user_source"]["聊天会话"]
    account = datacube.account_day(state, day)
    assert api("getbizsummary", day)["list"][0]["detail"]["like_user"] == account["like_user"]
    cumulate = api("getusercumulate", day)["list"][0]["cumulate_user"]
    assert cumulate == datacube.followers_day(state, day)["cumulate_user"]
    assert item.audience == datacube.model_for(state).cumulate(ago(13))  # followers when it was sent


def test_readers_look_like_a_real_account(sandbox):
    sandbox.admin.seed(count=300, start=str(ago(200)), end=str(ago(40)), seed=7)
    model = datacube.model_for(state_of(sandbox))
    items = model.items()
    lifetime = {item.msgid: item.running[-1] for item in items}

    def mean(kind: str, idx: int) -> float:
        return statistics.mean(lifetime[i.msgid] for i in items if i.kind == kind and i.idx == idx)

    assert mean("masssend", 1) > 2.5 * mean("freepublish", 1)  # a 群发 is pushed to the followers
    assert mean("masssend", 1) > 1.8 * mean("masssend", 2)  # the headline gets the readers
    firsts = [lifetime[i.msgid] / i.audience for i in items if i.kind == "masssend" and i.idx == 1]
    assert max(firsts) > 2 * min(firsts)  # quality differs, so rankings are not by position alone
    early = [sum(i.readers[:3]) / lifetime[i.msgid] for i in items if lifetime[i.msgid] > 50]
    assert 0.5 < statistics.mean(early) < 0.8
    assert any(i.readers[40] > 0 for i in items)  # a long tail …
    assert all(datacube.item_day(i, i.day + timedelta(days=60))["read_user"] == 0 for i in items)  # … that ends

    mass = [i for i in items if i.kind == "masssend" and lifetime[i.msgid] > 100]
    on_day = [datacube.item_day(i, i.day + timedelta(days=d))["read_user_source"] for i in mass for d in (0, 14)]
    assert statistics.mean(s["公众号消息"] / max(1, sum(s.values())) for s in on_day[::2]) > 0.5
    later = [s for s in on_day[1::2] if sum(s.values())]
    assert statistics.mean(s["公众号消息"] / sum(s.values()) for s in later) < 0.2
    assert all(datacube.item_day(i, i.day)["read_user_source"]["公众号消息"] == 0
               for i in items if i.kind == "freepublish")

    for item in items:
        total = datacube.empty_day()
        for offset in range(datacube.LIFETIME_DAYS):
            datacube.add_day(total, datacube.item_day(item, item.day + timedelta(days=offset)))
        assert total["read_user"] == lifetime[item.msgid]
        assert total["share_user"] < 0.1 * total["read_user"] + 1 and total["like_user"] <= total["read_user"]
        assert total["share_count"] >= total["share_user"] and total["int_page_read_count"] >= total["read_user"]

    busy = {i.day for i in items}
    new = {day: sum(model.followers_day(day)["new_user"].values()) for day in days(ago(200), ago(40))}
    assert statistics.mean(new[d] for d in busy) > statistics.mean(new[d] for d in new if d not in busy)
    assert model.cumulate(ago(40)) > model.cumulate(ago(200)) > datacube.BASE_FOLLOWERS - 50


# --- seeding ----------------------------------------------------------------------------------------


def test_seeding_by_count_is_deterministic_and_plausible(tmp_path, sandbox, api):
    spec = {"count": 60, "start": str(ago(90)), "end": str(ago(31)), "seed": 3}
    created = sandbox.admin.seed(**spec)
    with start_sandbox(tmp_path / "other") as other:
        again = other.admin.seed(**spec)
        different = other.admin.seed(**{**spec, "seed": 4})
    keys = ("msg_data_id", "kind", "time", "titles")
    assert [{k: p[k] for k in keys} for p in created] == [{k: p[k] for k in keys} for p in again]
    assert [p["titles"] for p in different] != [p["titles"] for p in created[:len(different)]]

    assert sum(len(p["titles"]) for p in created) == 60 and all(1 <= len(p["titles"]) <= 4 for p in created)
    moments = [datetime.fromisoformat(p["time"]).astimezone(CHINA) for p in created]
    assert moments == sorted(moments) and all(ago(90) <= m.date() <= ago(31) and 7 <= m.hour < 22 for m in moments)
    assert {p["kind"] for p in created} == {"masssend", "freepublish"}
    mass_days = [m.date() for m, p in zip(moments, created, strict=True) if p["kind"] == "masssend"]
    assert len(mass_days) == len(set(mass_days))  # one 群发 a day, like a 订阅号
    titles = [t for p in created for t in p["titles"]]
    assert [int(re.match(r"第 (\d+) 篇：\S+", t).group(1)) for t in titles] == list(range(1, 61))
    assert len({t.partition("：")[2] for t in titles}) > 30  # varied words, not one title numbered

    push = created[0]
    rows = api("getarticletotaldetail", moments[0].date())["list"]
    mine = [r for r in rows if r["msgid"].startswith(f"{push['msg_data_id']}_")]
    assert [r["title"] for r in mine] == push["titles"]
    assert {r["publish_type"] for r in mine} == {0 if push["kind"] == "masssend" else 1}


def test_seeding_explicit_pushes_writes_real_publications(sandbox, api, pushes):
    assert [p["kind"] for p in pushes] == [p["kind"] for p in PUSHES]
    assert [p["time"] for p in pushes] == [p["time"] for p in PUSHES]
    state = state_of(sandbox)
    publication = pushes[1]
    job = state["publish_jobs"][str(publication["msg_data_id"])]
    assert job["outcome"] == 0 and state["articles"][job["article_id"]]["news_item"][0]["title"] == "发布：地铁线路"
    sends = [s for s in state["mass_sends"].values() if s["msg_data_id"] == pushes[0]["msg_data_id"]]
    assert len(sends) == 1 and state["articles"][sends[0]["article_id"]]["kind"] == "masssend"
    token = {"access_token": api.token}
    listed = api.http.post("/cgi-bin/freepublish/batchget", params=token, json={"offset": 0, "count": 20}).json()
    assert listed["total_count"] == 2  # the two 发布, as freepublish/batchget sees them

    for bad in ({"pushes": []}, {"pushes": [{"time": "2026-01-01T09:00", "kind": "tweet", "titles": ["x"]}]},
                {"pushes": [{"time": "yesterday", "kind": "masssend", "titles": ["x"]}]},
                {"pushes": [{"time": "2026-01-01T09:00", "kind": "masssend", "titles": ["长" * 33]}]},
                {"count": 0, "start": "2026-01-01", "end": "2026-01-02"},
                {"count": 5, "start": "2026-01-02", "end": "2026-01-01"}):
        with pytest.raises(ValueError):
            sandbox.admin.seed(**bad)


def test_a_year_of_calls_is_fast(sandbox, api):
    sandbox.admin.seed(count=500, start=str(ago(380)), end=str(ago(16)), seed=1)
    api("getbizsummary", ago(380))  # the first call builds the model
    started = clock.perf_counter()
    calls = 0
    for day in days(ago(300), ago(241)):
        for name in CURRENT:
            assert "list" in api(name, day)
            calls += 1
    assert (clock.perf_counter() - started) / calls < 0.05
