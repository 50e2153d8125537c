"""`publisher stats pull` and `stats report` over HTTP against the sandbox, with the real ledger."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import date, datetime, timedelta, timezone

import git
import pytest
from conftest import run_cli
from test_publish import env_for, make_site, publish

from publisher.wechat.sandbox import SandboxAccount, start_sandbox
from publisher.wechat.sandbox_datacube import account_day, find_item, followers_day, item_day

BEIJING = timezone(timedelta(hours=8))
PULLED_AT = "2026-12-12 10:00"  # Beijing time: 2026-12-11 is the newest day with numbers
FIRST, LAST = date(2026, 12, 1), date(2026, 12, 10)


def beijing(moment: str) -> float:
    return datetime.fromisoformat(moment).replace(tzinfo=BEIJING).timestamp()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A site whose calendar was published to a sandbox: 12-01 发布 of two articles, 12-02 群发 of one."""
    root = tmp_path_factory.mktemp("stats")
    site = make_site(root / "site")
    sandbox = start_sandbox(root / "sandbox", SandboxAccount())
    for now in ("2026-12-01 08:30", "2026-12-02 08:30"):
        sandbox.admin.clock_at_least(beijing(now))  # WeChat's clock: when the articles really went out
        result = publish(site, sandbox, now)
        assert result.returncode == 0, result.stdout + result.stderr
    yield site, sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(published):
    """The published sandbox, its datacube settings back to normal and its clock at PULLED_AT."""
    running = published[1]
    running.admin.datacube(delayed_days=[], current_api=True)
    running.admin.set_account(verified=True)
    running.admin.clock_at_least(beijing(PULLED_AT))
    return running


@pytest.fixture
def site(published, sandbox, tmp_path):
    """A fresh clone of the published site (its ledger included), and the sandbox."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(published[0]), str(clone)], check=True)
    subprocess.run(["git", "branch", "-q", "publisher-ledger", "origin/publisher-ledger"], cwd=clone, check=True)
    subprocess.run(["git", "remote", "remove", "origin"], cwd=clone, check=True)
    return clone, sandbox


def pull(site, sandbox, *args, now=PULLED_AT):
    result = run_cli("stats", "pull", "--now", now, "--format", "json", *args, cwd=site, env=env_for(sandbox))
    assert "Traceback" not in result.stderr, result.stderr
    return result


def pulled(result) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def database(site) -> sqlite3.Connection:
    connection = sqlite3.connect(site / ".publisher-cache/stats/main.sqlite")
    connection.row_factory = sqlite3.Row
    return connection


def sandbox_state(sandbox) -> dict:
    return json.loads((sandbox.state_dir / "state.json").read_text(encoding="utf-8"))


def test_each_endpoint_is_called_within_its_span(site):
    site, sandbox = site
    sandbox.admin.reset_calls()
    summary = pulled(pull(site, sandbox, "--since", "2026-12-01", "--until", "2026-12-10"))
    counts = sandbox.admin.calls()["counts"]
    datacube = {name.removeprefix("datacube/"): n for name, n in counts.items() if name.startswith("datacube/")}
    # ten days: one call a day for the 1-day reports, two windows (7 + 3 days) for the 7-day ones
    assert datacube == {"getbizsummary": 10, "getarticleread": 10, "getarticleshare": 10,
                        "getarticletotaldetail": 10, "getusersummary": 2, "getusercumulate": 2}
    assert summary["calls"] == 44 and not summary["legacy_endpoints"]
    assert all(call["errcode"] == 0 for call in sandbox.admin.calls()["calls"])
    assert summary["days"] == [(FIRST + timedelta(days=n)).isoformat() for n in range(10)]


def test_numbers_and_articles_match_the_sandbox_and_the_ledger(site):
    site, sandbox = site
    pulled(pull(site, sandbox, "--since", "2026-12-01", "--until", "2026-12-10"))
    db, state = database(site), sandbox_state(sandbox)
    articles = {row["article_key"]: row for row in db.execute("SELECT * FROM articles")}
    assert set(articles) == {"2026/first", "2026/second", "2026/third"}
    assert {key: row["publish_type"] for key, row in articles.items()} == {
        "2026/first": "publish", "2026/second": "publish", "2026/third": "mass"}
    assert articles["2026/second"]["idx"] == 2 and articles["2026/first"]["title"] == "文章first"
    assert articles["2026/third"]["publish_date"] == "2026-12-02"
    assert articles["2026/first"]["url"].startswith("http")
    for key, row in articles.items():
        item = find_item(state, row["msgid"])
        for day in ("2026-12-02", "2026-12-05"):
            truth = item_day(item, date.fromisoformat(day))
            stored = db.execute("SELECT * FROM article_daily WHERE msgid = ? AND ref_date = ?",
                                (row["msgid"], day)).fetchone()
            assert (stored["read_user"], stored["share_user"], stored["zaikan_user"]) == (
                truth["read_user"], truth["share_user"], truth["zaikan_user"]), (key, day)
        sources = dict(db.execute("SELECT source, SUM(read_user) FROM article_sources WHERE msgid = ? GROUP BY source",
                                  (row["msgid"],)).fetchall())
        assert sum(sources.values()) == db.execute("SELECT SUM(read_user) FROM article_daily WHERE msgid = ?",
                                                   (row["msgid"],)).fetchone()[0]
    day = db.execute("SELECT * FROM account_daily WHERE ref_date = '2026-12-03'").fetchone()
    assert day["read_user"] == account_day(state, date(2026, 12, 3))["read_user"]
    followers = followers_day(state, date(2026, 12, 3))
    assert (day["new_user"], day["cancel_user"], day["cumulate_user"]) == (
        sum(followers["new_user"].values()), followers["cancel_user"], followers["cumulate_user"])


def test_pulling_again_replaces_and_never_duplicates(site):
    site, sandbox = site
    args = ("--since", "2026-12-01", "--until", "2026-12-10")
    pulled(pull(site, sandbox, *args))
    db = database(site)
    tables = ("articles", "article_daily", "article_sources", "account_daily", "account_sources")

    def snapshot():
        return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall() for table in tables}

    def export():
        return git.Repo(site).git.ls_tree("-r", "publisher-ledger", "stats/")

    first, first_export = snapshot(), export()
    tip = git.Repo(site).commit("publisher-ledger").hexsha
    pulled(pull(site, sandbox, *args))
    assert snapshot() == first and export() == first_export
    assert git.Repo(site).commit("publisher-ledger").hexsha == tip  # nothing changed: no new commit
    # without --since: the missing days of the last 30, then nothing but the running totals that still grow
    assert "2026-12-11" in pulled(pull(site, sandbox))["days"]
    again = pulled(pull(site, sandbox))
    assert again["calls"] == 30  # only getarticletotaldetail's running totals of the last 30 days change


def test_delayed_days_are_marked_and_fetched_again(site):
    site, sandbox = site
    sandbox.admin.datacube(delayed_days=["2026-12-10"])
    summary = pulled(pull(site, sandbox, "--since", "2026-12-08", "--until", "2026-12-10"))
    assert summary["delayed_days"] == ["2026-12-10"]
    db = database(site)
    assert db.execute("SELECT COUNT(*) FROM article_daily WHERE ref_date = '2026-12-10' AND read_user > 0"
                      ).fetchone()[0] == 0
    sandbox.admin.datacube(delayed_days=[])
    sandbox.admin.reset_calls()
    summary = pulled(pull(site, sandbox, now="2026-12-11 10:00"))  # resume: only what is missing or delayed
    assert "2026-12-10" in summary["days"] and not summary["delayed_days"]
    assert database(site).execute("SELECT COUNT(*) FROM article_daily WHERE ref_date = '2026-12-10' "
                                  "AND read_user > 0").fetchone()[0] == 3


def test_before_eight_in_beijing_yesterday_is_not_asked_for(site):
    site, sandbox = site
    summary = pulled(pull(site, sandbox, now="2026-12-12 07:30"))
    assert max(summary["days"]) == "2026-12-10"
    result = pull(site, sandbox, "--until", "2026-12-11", now="2026-12-12 07:30")
    assert result.returncode == 2 and "2026-12-11" in result.stderr and "08:00" in result.stderr


def test_legacy_endpoints_when_the_current_ones_are_refused(site):
    site, sandbox = site
    sandbox.admin.datacube(current_api=False)
    summary = pulled(pull(site, sandbox, "--since", "2026-12-02", "--until", "2026-12-04"))
    assert summary["legacy_endpoints"]
    db = database(site)
    third = db.execute("SELECT msgid FROM articles WHERE article_key = '2026/third'").fetchone()[0]
    reads = db.execute("SELECT read_user FROM article_daily WHERE msgid = ? AND ref_date = '2026-12-03'",
                       (third,)).fetchone()[0]
    assert reads == item_day(find_item(sandbox_state(sandbox), third), date(2026, 12, 3))["read_user"]


def test_future_dates_are_refused(site):
    site, sandbox = site
    result = pull(site, sandbox, "--since", "2026-12-20")
    assert result.returncode == 2 and "--since 2026-12-20" in result.stderr
    result = pull(site, sandbox, "--until", "2027-01-01")
    assert result.returncode == 2 and "in the future" in result.stderr
    result = pull(site, sandbox, "--since", "12/01/2026")
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr


def test_account_without_datacube_rights(site):
    site, sandbox = site
    sandbox.admin.set_account(verified=False)
    result = pull(site, sandbox, "--since", "2026-12-01", "--until", "2026-12-02")
    assert result.returncode == 1
    assert "48001" in result.stderr and "verified" in result.stderr and "数据统计" in result.stderr
    assert env_for(sandbox)["WECHAT_APP_SECRET"] not in result.stdout + result.stderr


def test_corrupt_export_is_named_with_its_line(site):
    site, sandbox = site
    pulled(pull(site, sandbox, "--since", "2026-12-01", "--until", "2026-12-03"))
    (site / ".publisher-cache/stats/main.sqlite").unlink()  # a fresh checkout: rebuilt from the export
    repo = git.Repo(site)
    blob = repo.git.show("publisher-ledger:stats/main/2026-12.jsonl").splitlines()
    blob[4] = '{"table": "article_daily", "ref_date": 20261203}'
    from publisher.ledger import Ledger

    Ledger(site, remote=None).update("break it", lambda s: {"stats/main/2026-12.jsonl": ("\n".join(blob) + "\n").encode()})
    result = run_cli("stats", "report", "--period", "month", "--date", "2026-12-05", cwd=site, env=env_for(sandbox))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "stats/main/2026-12.jsonl line 5" in result.stderr and "ref_date" in result.stderr


def test_a_fresh_checkout_rebuilds_the_database_and_reports_the_same_numbers(site):
    site, sandbox = site
    pulled(pull(site, sandbox, "--since", "2026-12-01", "--until", "2026-12-10"))

    def figures():
        result = run_cli("stats", "report", "--period", "month", "--date", "2026-12-05", "--format", "json",
                         "--out", "reports", cwd=site, env=env_for(sandbox))
        assert result.returncode == 0, result.stderr
        figures = json.loads(result.stdout)["figures"]
        figures.pop("generated_at")
        return figures

    before = figures()
    (site / ".publisher-cache/stats/main.sqlite").unlink()
    assert figures() == before
    state = sandbox_state(sandbox)
    expected = sum(account_day(state, FIRST + timedelta(days=n))["read_user"] for n in range(10))
    assert before["totals"]["reads"] == expected


def test_numbers_the_ledger_refused_are_recorded_by_the_next_pull(published, sandbox, tmp_path):
    origin_site = published[0]
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(origin_site), str(origin)], check=True)
    site = tmp_path / "site"
    subprocess.run(["git", "clone", "-q", str(origin), str(site)], check=True)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'ledger frozen' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    refused = pull(site, sandbox, "--since", "2026-11-28", "--until", "2026-11-30")
    assert refused.returncode == 1 and "could not be recorded" in refused.stderr and "next pull" in refused.stderr
    hook.unlink()
    pulled(pull(site, sandbox, "--since", "2026-12-01", "--until", "2026-12-02"))  # December only …
    november = subprocess.run(["git", "show", "publisher-ledger:stats/main/2026-11.jsonl"], cwd=origin,
                              capture_output=True, text=True, check=True).stdout
    assert '"ref_date":"2026-11-30"' in november  # … and the November the remote refused before
