"""Publishing end to end: the real CLI and client, over HTTP, against the sandbox, with a real git ledger."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import git
import pytest
from conftest import run_cli, write

from publisher.wechat.sandbox import SandboxAccount, start_sandbox

CALENDAR = """\
timezone: Asia/Shanghai
pushes:
  - at: "2026-12-01 08:00"
    mode: publish
    articles: [2026/first, 2026/second]
  - at: "2026-12-02 08:00"
    mode: mass
    articles: [2026/third]
  - at: "2026-12-03 08:00"
    mode: draft
    articles: [2026/fourth]
  - at: "2026-12-04 08:00"
    plan: 以后再写
"""

ARTICLE = """\
---
title: {title}
author: 编辑部
cover: cover.jpg
images:
  cover.jpg: {{credit: 测试, license: 自有}}
  a.png: {{credit: 测试, license: 自有}}
  b.png: {{credit: 测试, license: 自有}}
---

本文的第一段。

![图一](a.png "图一")

![图二](b.png "图二")
"""


def make_site(root: Path) -> Path:
    write(root / "pyproject.toml", '[tool.publisher]\ntimezone = "Asia/Shanghai"\n')
    write(root / "calendar.yaml", CALENDAR)
    colours = {"first": 10, "second": 60, "third": 120, "fourth": 180}
    for slug, shade in colours.items():
        folder = root / "content/2026" / slug
        write(folder / "index.md", ARTICLE.format(title=f"文章{slug}"))
        from PIL import Image

        Image.new("RGB", (900, 383), (shade, 120, 90)).save(folder / "cover.jpg")
        for offset, name in enumerate(("a.png", "b.png")):
            path = folder / name
            Image.new("RGB", (320, 200), (shade + offset, 90, 200)).save(path)
    repo = git.Repo.init(root, initial_branch="main")
    repo.git.add(A=True)
    repo.git.commit(m="site", author="Writer <w@example.com>")
    return root


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site")


@pytest.fixture
def sandbox(tmp_path):
    running = start_sandbox(tmp_path / "sandbox", SandboxAccount())
    yield running
    running.stop()


def env_for(sandbox) -> dict:
    return {"WECHAT_APP_ID": "wxsandbox0000000001", "WECHAT_APP_SECRET": "sandbox-secret-0000000000000000",
            "WECHAT_API_BASE": sandbox.base_url}


def publish(site: Path, sandbox, now: str, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("publish", "--now", now, "--format", "json", *extra, cwd=site, env=env_for(sandbox))


def results(completed) -> dict[str, str]:
    assert "Traceback" not in completed.stderr, completed.stderr
    return {p["push_id"]: p["result"] for p in json.loads(completed.stdout)["pushes"]}


def ledger_record(site: Path, push_prefix: str) -> dict:
    repo = git.Repo(site)
    tree = repo.commit("publisher-ledger").tree / "accounts/main/pushes"
    for blob in tree.blobs:
        if blob.name.startswith(push_prefix):
            return json.loads(blob.data_stream.read())
    raise AssertionError(f"no ledger record {push_prefix}")


def test_first_publish_makes_exactly_the_expected_calls_and_rerun_makes_none(site, sandbox):
    first = publish(site, sandbox, "2026-12-01 08:05")
    assert first.returncode == 0, first.stdout + first.stderr
    assert list(results(first).values()) == ["published"]
    counts = sandbox.admin.calls()["counts"]
    assert counts.get("stable_token", counts.get("cgi-bin/stable_token")) == 1
    assert counts["media/uploadimg"] == 4 and counts["material/add_material"] == 2
    assert counts["draft/add"] == 1 and counts["freepublish/submit"] == 1
    sandbox.admin.reset_calls()
    second = publish(site, sandbox, "2026-12-01 08:30")
    assert second.returncode == 0 and results(second) == {}
    counts = sandbox.admin.calls()["counts"]
    for endpoint in ("media/uploadimg", "material/add_material", "draft/add", "freepublish/submit"):
        assert counts.get(endpoint, 0) == 0, counts


def test_ledger_records_ids_urls_and_sources(site, sandbox):
    publish(site, sandbox, "2026-12-01 08:05")
    record = ledger_record(site, "2026_first")
    assert record["status"] == "published" and record["mode"] == "publish"
    assert [a["key"] for a in record["articles"]] == ["2026/first", "2026/second"]
    assert record["article_id"] and len(record["urls"]) == 2 and record["draft_media_id"]
    assert record["articles"][0]["source_commit"] == git.Repo(site).head.commit.hexsha
    assert not sandbox.admin.state()["drafts"]
    assert git.Repo(site).active_branch.name == "main" and not git.Repo(site).is_dirty()


def test_not_before_its_time_and_missed_pushes_wait_for_a_flag(site, sandbox):
    early = publish(site, sandbox, "2026-12-01 07:59")
    assert results(early) == {}
    late = publish(site, sandbox, "2026-12-02 08:30")
    assert list(results(late).values()) == ["skipped", "sent"]
    assert "missed" in late.stdout and "--send-missed" in late.stdout
    sent = publish(site, sandbox, "2026-12-02 08:30", "--send-missed")
    assert list(results(sent).values()) == ["published"]


def test_mass_send_and_draft_modes(site, sandbox):
    publish(site, sandbox, "2026-12-01 08:05")
    assert list(results(publish(site, sandbox, "2026-12-02 08:05")).values()) == ["sent"]
    assert list(results(publish(site, sandbox, "2026-12-03 08:05")).values()) == ["drafted"]
    assert ledger_record(site, "2026_third")["clientmsgid"]
    assert ledger_record(site, "2026_fourth")["status"] == "drafted"


def test_dry_run_calls_nothing_and_records_nothing(site, sandbox):
    outcome = publish(site, sandbox, "2026-12-01 08:05", "--dry-run")
    assert list(results(outcome).values()) == ["planned"]
    assert sandbox.admin.calls()["total"] == 0
    assert "publisher-ledger" not in [h.name for h in git.Repo(site).heads]


CRASH_POINTS = ["after-claim", "after-upload-record", "after-draft-intent", "after-draft-call", "after-draft-record",
                "after-submit-intent", "after-submit-call", "after-submit-record",
                # inside the ledger's write (commit built, branch not moved): the claim, an upload record,
                # the draft intent, the draft record, the submit intent, the submit record, the final record
                *[f"ledger-write:{n}" for n in (1, 2, 8, 9, 10, 11, 12)]]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_between_steps_then_rerun_publishes_exactly_once(site, sandbox, point):
    crashed = run_cli("publish", "--now", "2026-12-01 08:05", cwd=site,
                      env={**env_for(sandbox), "PUBLISHER_CRASH_AT": point})
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    rerun = publish(site, sandbox, "2026-12-01 08:06")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    state = sandbox.admin.state()
    assert len(state["publish_jobs"]) == 1, state["publish_jobs"]
    assert not state["drafts"], f"orphan drafts: {state['drafts']}"
    # uploadimg has no lookup: a kill after the upload and before its record (ledger-write:2) costs exactly
    # one repeated upload, invisible to readers; every other point repeats nothing
    expected_uploads = 5 if point == "ledger-write:2" else 4
    assert sandbox.admin.calls()["counts"]["media/uploadimg"] == expected_uploads
    assert ledger_record(site, "2026_first")["status"] == "published"


def test_lost_response_on_draft_add_leaves_no_orphan(site, sandbox):
    sandbox.admin.fault("draft/add", drop=True, after=True, count=1)
    outcome = publish(site, sandbox, "2026-12-01 08:05")
    assert list(results(outcome).values()) == ["published"], outcome.stdout
    state = sandbox.admin.state()
    assert len(state["publish_jobs"]) == 1 and not state["drafts"]


def test_lost_response_on_mass_send_is_not_sent_twice(site, sandbox):
    publish(site, sandbox, "2026-12-01 08:05")
    sandbox.admin.fault("message/mass/sendall", drop=True, after=True, count=1)
    first = publish(site, sandbox, "2026-12-02 08:05")
    second = publish(site, sandbox, "2026-12-02 08:06")
    assert "sent" in list(results(first).values()) + list(results(second).values())
    assert len(sandbox.admin.state()["mass_sends"]) == 1


def test_two_publishers_at_once_publish_once(site, sandbox):
    sandbox.admin.fault("draft/add", delay=1.0, count=1)
    command = ["python", "-m", "publisher", "publish", "--now", "2026-12-01 08:05", "--format", "json"]
    import os

    environment = {**os.environ, **env_for(sandbox)}
    runs = [subprocess.Popen(command, cwd=site, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all("Traceback" not in err for _, err in outputs), outputs
    state = sandbox.admin.state()
    assert len(state["publish_jobs"]) == 1 and not state["drafts"]
    assert sandbox.admin.calls()["counts"]["freepublish/submit"] == 1
    final = publish(site, sandbox, "2026-12-01 08:10")
    assert results(final) == {}


def test_transient_errors_are_retried(site, sandbox):
    sandbox.admin.fault("media/uploadimg", errcode=-1, count=2)
    sandbox.admin.fault("freepublish/get", http_status=502, count=1)
    outcome = publish(site, sandbox, "2026-12-01 08:05")
    assert list(results(outcome).values()) == ["published"], outcome.stdout + outcome.stderr


def test_quota_exhausted_stops_cleanly_with_the_reason(site, sandbox):
    sandbox.admin.fault("message/mass/sendall", errcode=45028, count=1)
    publish(site, sandbox, "2026-12-01 08:05")
    outcome = publish(site, sandbox, "2026-12-02 08:05")
    assert outcome.returncode == 1
    push = json.loads(outcome.stdout)["pushes"][0]
    assert push["result"] == "failed" and "quota" in push["detail"].lower()


def test_ip_whitelist_error_names_the_ip_and_the_fixes(site, sandbox):
    sandbox.admin.set_account(ip_whitelist=["203.0.113.9"])
    outcome = publish(site, sandbox, "2026-12-01 08:05")
    assert outcome.returncode == 1
    detail = json.loads(outcome.stdout)["pushes"][0]["detail"]
    assert "127.0.0.1" in detail and "self-hosted runner" in detail and "WECHAT_API_BASE" in detail


def test_unverified_account_cannot_publish_and_says_why(site, sandbox):
    sandbox.admin.set_account(verified=False)
    outcome = publish(site, sandbox, "2026-12-01 08:05")
    assert outcome.returncode == 1
    assert "draft" in json.loads(outcome.stdout)["pushes"][0]["detail"]


def test_secrets_never_appear_in_output(site, sandbox):
    sandbox.admin.fault("draft/add", errcode=40001, count=2)
    outputs = []
    for extra in ((), ("--format", "text")):
        done = run_cli("publish", "--now", "2026-12-01 08:05", *extra, cwd=site, env=env_for(sandbox))
        outputs.append(done.stdout + done.stderr)
    import httpx

    token = httpx.post(f"{sandbox.base_url}/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": "wxsandbox0000000001",
        "secret": "sandbox-secret-0000000000000000", "force_refresh": False}).json()["access_token"]
    tokens = [token]  # normal mode hands every caller the token the runs used
    assert len(token) > 20
    for text in outputs:
        assert "sandbox-secret-0000000000000000" not in text
        for token in tokens:
            assert token not in text


def test_without_credentials_the_embedded_sandbox_is_used_and_said(site):
    outcome = run_cli("publish", "--now", "2026-12-01 08:05", cwd=site, env={"WECHAT_APP_ID": "",
                                                                              "WECHAT_APP_SECRET": ""})
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "embedded sandbox" in outcome.stdout
    assert "published" in outcome.stdout


def test_only_one_credential_is_a_usage_error(site):
    outcome = run_cli("publish", "--now", "2026-12-01 08:05", cwd=site, env={"WECHAT_APP_ID": "wx1",
                                                                              "WECHAT_APP_SECRET": ""})
    assert outcome.returncode == 2 and "WECHAT_APP_SECRET" in outcome.stderr


def test_calendar_shows_statuses_and_exports_ics(site, sandbox):
    publish(site, sandbox, "2026-12-01 08:05")
    listing = run_cli("calendar", "--now", "2026-12-02 20:00", "--format", "json", "--ics", "team.ics", cwd=site,
                      env=env_for(sandbox))
    statuses = [p["status"] for p in json.loads(listing.stdout)["pushes"]]
    assert statuses == ["published", "missed", "scheduled", "planned"]
    ics = (site / "team.ics").read_text()
    assert ics.count("BEGIN:VEVENT") == 4 and "DTSTART" in ics and "文章first" in ics


def test_dry_run_shows_the_exact_payload(site, sandbox):
    publish(site, sandbox, "2026-12-01 08:05")  # uploads the first push's images
    outcome = publish(site, sandbox, "2026-12-02 08:05", "--dry-run")
    push = json.loads(outcome.stdout)["pushes"][0]
    article = push["payload"]["articles"][0]
    assert article["title"] == "文章third" and "<img" in article["content"]
    assert "<uploadimg: content/2026/third/a.png>" in article["content"]
    assert article["thumb_media_id"] == "<material: content/2026/third/cover.jpg>"
    assert "sendall" in push["detail"] and "clientmsgid" in push["detail"]


def test_local_times_do_not_depend_on_the_machines_zone(site):
    listings = [run_cli("calendar", "--now", "2026-11-30 12:00", "--format", "json", cwd=site, env={"TZ": zone}).stdout
                for zone in ("UTC", "Asia/Shanghai", "America/Los_Angeles")]
    times = [[p["time"] for p in json.loads(listing)["pushes"]] for listing in listings]
    assert times[0] == times[1] == times[2]
    assert times[0][0] == "2026-12-01T08:00:00+08:00"


def test_preview_send_sends_changed_articles_to_each_recipient(site, sandbox):
    repo = git.Repo(site)
    base = repo.head.commit.hexsha
    index = site / "content/2026/second/index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("的第一段", "的第一段（修改）"), encoding="utf-8")
    repo.git.commit("-am", "edit second", author="Writer <w@example.com>")
    first = run_cli("preview-send", "--base", base, "--to", "boss_wx", "--to", "editor_wx", cwd=site,
                    env=env_for(sandbox))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2026/second: sent to boss_wx, editor_wx" in first.stdout
    previews = sandbox.admin.state()["previews"]
    assert [p["to"] for p in previews] == ["boss_wx", "editor_wx"]
    again = run_cli("preview-send", "--base", base, "--to", "boss_wx", cwd=site, env=env_for(sandbox))
    assert again.returncode == 0 and len(sandbox.admin.state()["drafts"]) == 1  # the preview draft is reused


def test_preview_send_refuses_unverified_accounts_and_missing_recipients(site, sandbox):
    write(site / "pyproject.toml", '[tool.publisher]\n[[tool.publisher.accounts]]\nname = "main"\nverified = false\n')
    unverified = run_cli("preview-send", "content/2026/first", "--to", "x", cwd=site, env=env_for(sandbox))
    assert unverified.returncode == 2 and "verified accounts only" in unverified.stderr
    write(site / "pyproject.toml", "[tool.publisher]\n")
    nobody = run_cli("preview-send", "content/2026/first", cwd=site, env=env_for(sandbox))
    assert nobody.returncode == 2 and "no recipients" in nobody.stderr
