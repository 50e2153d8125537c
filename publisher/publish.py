"""Publish stage: the reconciler. Every run publishes whatever is due and not yet done, exactly once.

WeChat has no scheduled publishing and cron runs may be late, dropped or doubled, so nothing here
reacts to an event: each run compares the calendar with the ledger and finishes what is missing.
Every irreversible step is written ahead in the ledger ("drafting", "submitting", "sending") and
confirmed after, so a run killed anywhere and run again looks WeChat's state up instead of
repeating the step: a draft is found again by its titles, a 发布 by its vanished draft, a 群发 by
its deterministic clientmsgid (45065 = already sent). Two runs at once: the ledger's
compare-and-swap lets one claim a push; the other sees the claim and leaves it.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from pathlib import Path

from publisher.assets import AssetError, prepare_body_image, prepare_cover
from publisher.calendar import Calendar, Push, push_status
from publisher.content import ArticleError, load_article
from publisher.faults import checkpoint
from publisher.project import Account, Project
from publisher.render import render_article
from publisher.render.images import cover_crops, resolve_image
from publisher.wechat.errors import AlreadySent, TransientError, WeChatError

CLAIM_TIMEOUT = 30 * 60  # seconds after which another host's claim is considered abandoned
POLL_DELAYS = (2, 4, 8, 15, 30)  # freepublish/get backoff inside one run (the daily quota is 100 calls)
FINAL = {"published", "sent", "drafted", "withdrawn"}


class PushFailed(Exception):
    """This push cannot go out in this run; the message says why. Other pushes go on."""


# ---- plan ---------------------------------------------------------------------------------------

@dataclass
class Action:
    push: Push
    status: str  # push_status before this run
    will_send: bool
    why: str = ""


def plan(calendar: Calendar, records: dict[str, dict], now: datetime, account: Account,
         *, send_missed: bool = False) -> list[Action]:
    actions = []
    for push in calendar.pushes:
        if push.kind == "plan" or (push.account or account.name) != account.name:
            continue
        status = push_status(push, records.get(push.id), now, account.grace_hours)
        late = (now - push.at).total_seconds() / 3600 > account.grace_hours
        if status == "failed" and late and not send_missed:
            actions.append(Action(push, status, False, f"failed earlier and now more than {account.grace_hours:g} h "
                                  "late; fix the cause, then run with --send-missed to retry it"))
        elif status in ("due", "in progress", "failed"):
            actions.append(Action(push, status, True))
        elif status == "missed":
            why = "" if send_missed else (f"missed: due {push.at.isoformat()}, more than {account.grace_hours:g} h ago; "
                                          "run with --send-missed to send it anyway")
            actions.append(Action(push, status, send_missed, why))
    return actions


# ---- ledger records -----------------------------------------------------------------------------

def push_path(account: Account, push_id: str) -> str:
    return f"accounts/{account.name}/pushes/{push_id}.json"


def upload_path(account: Account, sha256: str) -> str:
    return f"accounts/{account.name}/uploads/{sha256}.json"


def push_records(snapshot, account: Account) -> dict[str, dict]:
    prefix = f"accounts/{account.name}/pushes/"
    records = {}
    for path in snapshot.list(prefix):
        record = snapshot.read(path)
        if record:
            records[record.get("push_id", Path(path).stem)] = record
    return records


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# ---- the run ------------------------------------------------------------------------------------

@dataclass
class Outcome:
    push_id: str
    mode: str
    at: str
    articles: list[str]
    result: str  # published | sent | drafted | withdrawn | skipped | failed | planned (dry run) | publishing
    detail: str = ""
    urls: list[str] = field(default_factory=list)
    payload: dict | None = None  # on a dry run: the exact draft/add body


@dataclass
class Reconciler:
    project: Project
    account: Account
    client: object  # publisher.wechat.client.WeChatClient (or None on a dry run)
    ledger: object  # publisher.ledger.Ledger
    now: datetime
    repo_id: str = ""  # stable identity of the repository, part of every clientmsgid
    source_commit: str = ""
    dry_run: bool = False
    send_missed: bool = False
    say: object = print  # one line per step, for people
    sleep: object = time.sleep
    approval: object = None  # publisher.approval.ApprovalChecker when approval is required
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _upload_snapshot: object = field(default=None, repr=False)
    _uploads: dict = field(default_factory=dict, repr=False)  # sha256 → record, uploaded by this run

    def run(self, calendar: Calendar, progress=None) -> list[Outcome]:
        records = push_records(self.ledger.snapshot(), self.account)
        outcomes = []
        for action in plan(calendar, records, self.now, self.account, send_missed=self.send_missed):
            outcomes.append(self._run_one(action, records.get(action.push.id)))
            if progress:
                progress()
        return outcomes

    def _run_one(self, action: Action, record: dict | None) -> Outcome:
        push = action.push
        outcome = Outcome(push.id, push.mode or "unpublish", push.at.isoformat(), push.articles or [push.unpublish], "")
        if not action.will_send:
            outcome.result, outcome.detail = "skipped", action.why
            return outcome
        try:
            if self.dry_run:
                outcome.result, outcome.detail = "planned", self._dry_run(push, outcome)
            elif push.kind == "unpublish":
                self._withdraw(push, outcome)
            else:
                self._publish(push, outcome)
        except (PushFailed, WeChatError, AssetError) as exc:
            outcome.result, outcome.detail = "failed", str(exc)
            if not self.dry_run:
                self._note_failure(push, exc)
        return outcome

    # -- claim ------------------------------------------------------------------------------------

    def _claim(self, push: Push) -> dict:
        """Take the push for this run (compare-and-swap), or raise PushFailed if another run has it."""
        path = push_path(self.account, push.id)
        claimed: dict = {}

        def change(snapshot):
            record = dict(snapshot.read(path) or {})
            if record.get("status") in FINAL:
                raise _AlreadyDone(record)
            holder = record.get("claim")
            if holder and holder.get("run") != self.run_id and _claim_alive(holder):
                raise PushFailed(f"another run ({holder.get('run')} on {holder.get('host')}) is publishing it")
            record.update(push_id=push.id, mode=push.mode, at=push.at.isoformat(), account=self.account.name,
                          claim={"run": self.run_id, "host": socket.gethostname(), "pid": os.getpid(),
                                 "since": now_iso()})
            record.setdefault("status", "claimed")
            record.setdefault("events", [])
            claimed.clear()
            claimed.update(record)
            return {path: record}

        self.ledger.update(f"claim {push.id}", change)
        checkpoint("after-claim")
        return claimed

    def _record(self, push: Push, message: str, **fields) -> dict:
        """Merge fields into the push's record and append an event; returns the record as written."""
        path = push_path(self.account, push.id)
        written: dict = {}

        def change(snapshot):
            record = dict(snapshot.read(path) or {"push_id": push.id})
            record.update(fields)
            record["events"] = [*record.get("events", []), {"time": now_iso(), "run": self.run_id, "step": message}]
            written.clear()
            written.update(record)
            return {path: record}

        self.ledger.update(f"{push.id}: {message}", change)
        return written

    def _note_failure(self, push: Push, exc: Exception) -> None:
        """Record the error and release the claim; a final failure (WeChat refused) also ends the push."""
        fields = {"error": str(exc), "claim": None}
        if getattr(exc, "final", False):
            fields["status"] = "failed"
        self._record(push, f"failed: {str(exc)[:200]}", **fields)

    # -- publish ----------------------------------------------------------------------------------

    def _approve(self, push: Push) -> dict | None:
        """The PRs and supervisors that approved this push; PushFailed (the push waits) when any is missing."""
        if self.approval is None:
            return None
        from publisher.approval import ApprovalError, NotApproved

        folders = [self.project.content_dir / key for key in (push.articles or [push.unpublish])]
        try:
            approved = self.approval.check_push(folders, self.project.calendar_path, (push.line, push.end_line))
        except (NotApproved, ApprovalError) as exc:
            raise PushFailed(f"not approved: {exc}") from None
        return {"prs": approved.prs, "commits": approved.commits}

    def _publish(self, push: Push, outcome: Outcome) -> None:
        approval = self._approve(push)
        try:
            record = self._claim(push)
        except _AlreadyDone as done:
            outcome.result, outcome.detail = done.record["status"], "already done (ledger)"
            return
        self.say(f"{push.id}: {push.mode} of {', '.join(push.articles)}")
        if approval:
            self._record(push, "approved by " + ", ".join(sorted({a for pr in approval["prs"] for a in pr["approvers"]})),
                         approval=approval)
        if record.get("publish_id"):  # submitted by an earlier run: only the result is missing
            self._poll_publication(push, record["publish_id"], outcome)
            return
        articles = [self._prepare_article(key) for key in push.articles]
        payload = [self._article_payload(item, single=len(articles) == 1) for item in articles]
        media_id = self._ensure_draft(push, record, payload, articles)
        if push.mode == "draft":
            self._record(push, "draft ready", status="drafted", claim=None)
            outcome.result, outcome.detail = "drafted", f"draft {media_id} is in the draft box"
            return
        if push.mode == "publish":
            self._freepublish(push, media_id, outcome)
        else:
            self._mass_send(push, media_id, outcome)

    def _prepare_article(self, key: str) -> dict:
        path = self.project.content_dir / key / "index.md"
        if not path.is_file():
            raise PushFailed(f"article '{key}' is not on this branch ({self.project.relative(path)} is missing)")
        try:
            article = load_article(path, self.project)
        except ArticleError as exc:
            raise PushFailed(f"{key}: {exc}") from None
        rendered = render_article(article, self.project)
        errors = [f for f in [*article.findings, *rendered.findings] if f.severity == "error"]
        if errors:
            first = errors[0]
            raise PushFailed(f"{first.path}:{first.line or '-'}: {first.message} (and {len(errors) - 1} more; "
                             "run publisher check)" if len(errors) > 1 else f"{first.path}:{first.line or '-'}: "
                             f"{first.message}")
        if not article.meta.cover:
            raise PushFailed(f"{key}: a cover is required to publish ('cover:' in the front matter)")
        return {"key": key, "article": article, "rendered": rendered}

    def _article_payload(self, item: dict, *, single: bool) -> dict:
        article, rendered = item["article"], item["rendered"]
        urls = {asset.src: self._upload_body_image(asset.path) for asset in rendered.assets}
        content = replace_image_sources(rendered.html, urls)
        cover = resolve_image(article.meta.cover, article.folder, article.root)
        thumb = self._upload_cover(cover.path)
        crops = cover_crops(cover.width, cover.height, article.meta.cover_focus)
        item["content_hash"] = hashlib.sha256(content.encode()).hexdigest()
        return {
            "article_type": "news",
            "title": article.meta.title,
            "author": article.meta.author,
            "digest": rendered.digest if single else "",
            "content": content,
            "content_source_url": article.meta.source_url or "",
            "thumb_media_id": thumb,
            "need_open_comment": 0 if article.meta.comments == "closed" else 1,
            "only_fans_can_comment": 1 if article.meta.comments == "fans" else 0,
            "pic_crop_235_1": _crop(crops["2.35_1"]),
            "pic_crop_1_1": _crop(crops["1_1"]),
        }

    # -- uploads (once per account, ever) ---------------------------------------------------------

    def _cached_upload(self, sha256: str) -> dict | None:
        """The upload cache, read once per run (with a remote, every ledger read fetches) plus this run's uploads."""
        if sha256 in self._uploads:
            return self._uploads[sha256]
        if self._upload_snapshot is None:
            self._upload_snapshot = self.ledger.snapshot()
        return self._upload_snapshot.read(upload_path(self.account, sha256))

    def _upload_body_image(self, path: Path) -> str:
        prepared = prepare_body_image(path)
        if self.dry_run:
            return self._would_upload(prepared)
        cached = self._cached_upload(prepared.sha256)
        if cached:
            return cached["url"]
        if prepared.endpoint == "material":
            result = self.client.add_image_material(prepared.data, prepared.filename)
            entry = {"url": result["url"], "media_id": result["media_id"]}
        else:
            entry = {"url": self.client.upload_image(prepared.data, prepared.filename)}
        self._remember_upload(prepared, entry)
        return entry["url"]

    def _upload_cover(self, path: Path) -> str:
        prepared = prepare_cover(path)
        if self.dry_run:
            return self._would_upload(prepared)
        cached = self._cached_upload(prepared.sha256)
        if cached and cached.get("media_id"):
            return cached["media_id"]
        result = self.client.add_image_material(prepared.data, prepared.filename)
        self._remember_upload(prepared, {"url": result.get("url", ""), "media_id": result["media_id"]})
        return result["media_id"]

    def _would_upload(self, prepared) -> str:
        cached = self._cached_upload(prepared.sha256)
        if cached:
            return cached.get("media_id") if prepared.endpoint == "material" and cached.get("media_id") else cached["url"]
        return f"<{prepared.endpoint}: {self.project.relative(prepared.source)}>"

    def _remember_upload(self, prepared, entry: dict) -> None:
        # The call and this record are one step: uploadimg has no lookup, so a confirmation lost to a crash
        # costs one repeated upload (invisible to readers); the steps readers can see are written ahead.
        record = {**entry, "sha256": prepared.sha256, "file": self.project.relative(prepared.source),
                  "endpoint": prepared.endpoint, "uploaded_at": now_iso(), "note": prepared.note}
        path = upload_path(self.account, prepared.sha256)
        self.ledger.update(f"upload {record['file']}", lambda snapshot: {path: record})
        self._uploads[prepared.sha256] = record
        self.say(f"  uploaded {record['file']}" + (f" ({prepared.note})" if prepared.note else ""))
        checkpoint("after-upload-record")

    # -- draft ------------------------------------------------------------------------------------

    def _ensure_draft(self, push: Push, record: dict, payload: list[dict], articles: list[dict]) -> str:
        media_id = record.get("draft_media_id")
        if not media_id and record.get("status") == "drafting":
            media_id = self._find_draft(payload)
        if media_id and record.get("status") in ("submitting", "sending"):
            return media_id  # the draft may already be consumed: the next step looks WeChat's state up
        if media_id and self._draft_exists(media_id):
            for index, article in enumerate(payload):
                self.client.draft_update(media_id, index, article)
            self.say(f"  updated draft {media_id}")
        else:
            self._record(push, "drafting", status="drafting", draft_intent_at=now_iso(),
                         articles=[_article_entry(item, self.source_commit) for item in articles])
            checkpoint("after-draft-intent")
            media_id = self._add_draft(payload)
            checkpoint("after-draft-call")
            self.say(f"  created draft {media_id}")
        self._record(push, f"draft {media_id}", status="draft-ready", error=None, draft_media_id=media_id,
                     articles=[_article_entry(item, self.source_commit) for item in articles])
        checkpoint("after-draft-record")
        return media_id

    def _add_draft(self, payload: list[dict]) -> str:
        try:
            return self.client.draft_add(payload)
        except TransientError:
            found = self._find_draft(payload)  # the response was lost: did WeChat create it anyway?
            if found:
                return found
            raise

    def _draft_exists(self, media_id: str) -> bool:
        try:
            self.client.draft_get(media_id)
            return True
        except WeChatError as exc:
            if exc.errcode == 40007:
                return False
            raise

    def _find_draft(self, payload: list[dict]) -> str | None:
        """A draft an interrupted run created: same titles, in the same order."""
        titles = [article["title"] for article in payload]
        offset = 0
        while True:
            page = self.client.draft_batchget(offset=offset, count=20, no_content=False)
            for item in page.get("item", []):
                found = [news.get("title") for news in item.get("content", {}).get("news_item", [])]
                if found == titles:
                    self.say(f"  found the draft an interrupted run created: {item['media_id']}")
                    return item["media_id"]
            offset += page.get("item_count", 0)
            if not page.get("item_count") or offset >= page.get("total_count", 0):
                return None

    # -- 发布 ----------------------------------------------------------------------------------------

    def _freepublish(self, push: Push, media_id: str, outcome: Outcome) -> None:
        record = self.ledger.snapshot().read(push_path(self.account, push.id)) or {}
        publish_id = record.get("publish_id")
        if not publish_id:
            publish_id = self._submit(push, media_id, record)
        if publish_id:
            self._poll_publication(push, publish_id, outcome)
        else:
            outcome.result = "published"

    def _submit(self, push: Push, media_id: str, record: dict) -> str | None:
        if record.get("status") == "submitting" and not self._draft_exists(media_id):
            found = self._find_publication(record)
            self._record(push, "submitted earlier (draft consumed)", status="published" if found else "submitted",
                         article_id=(found or {}).get("article_id"), urls=(found or {}).get("urls", []), claim=None)
            return None
        self._record(push, "submitting", status="submitting", submit_intent_at=now_iso())
        checkpoint("after-submit-intent")
        result = self.client.freepublish_submit(media_id)
        checkpoint("after-submit-call")
        self._record(push, f"submitted {result['publish_id']}", status="submitted", publish_id=result["publish_id"],
                     msg_data_id=result.get("msg_data_id"))
        checkpoint("after-submit-record")
        return result["publish_id"]

    def _find_publication(self, record: dict) -> dict | None:
        titles = [a.get("title") for a in record.get("articles", [])]
        page = self.client.freepublish_batchget(offset=0, count=20, no_content=False)
        for item in page.get("item", []):
            news = item.get("content", {}).get("news_item", [])
            if [n.get("title") for n in news] == titles:
                return {"article_id": item.get("article_id"), "urls": [n.get("url", "") for n in news]}
        return None

    def _poll_publication(self, push: Push, publish_id: str, outcome: Outcome) -> None:
        for delay in (0, *POLL_DELAYS):
            self.sleep(delay)
            status = self.client.freepublish_get(publish_id)
            code = int(status.get("publish_status", 1))
            if code == 0:
                urls = [item.get("article_url", "") for item in status.get("article_detail", {}).get("item", [])]
                self._record(push, f"published {status.get('article_id')}", status="published",
                             article_id=status.get("article_id"), urls=urls, claim=None)
                outcome.result, outcome.urls = "published", urls
                return
            if code != 1:
                failed = PushFailed(f"WeChat refused the publication (publish_status {code}: "
                                    f"{PUBLISH_STATUS.get(code, 'unknown')}); fail_idx {status.get('fail_idx')}")
                failed.final = True
                raise failed
        self._record(push, "still publishing", claim=None)
        outcome.result, outcome.detail = "publishing", "WeChat is still publishing; the next run checks again"

    # -- 群发 ----------------------------------------------------------------------------------------

    def clientmsgid(self, push: Push) -> str:
        return hashlib.sha256(f"{self.repo_id}:{self.account.name}:{push.id}".encode()).hexdigest()[:32]

    def _mass_send(self, push: Push, media_id: str, outcome: Outcome) -> None:
        clientmsgid = self.clientmsgid(push)
        resumed = (self.ledger.snapshot().read(push_path(self.account, push.id)) or {}).get("status") == "sending"
        self._record(push, "sending", status="sending", clientmsgid=clientmsgid, send_intent_at=now_iso())
        checkpoint("after-send-intent")
        try:
            result = self.client.mass_sendall(media_id, clientmsgid)
        except AlreadySent as exc:
            result = {"msg_id": exc.msg_id, "note": "already sent (45065)"}
        except WeChatError as exc:
            if exc.errcode != 40007 or not resumed:
                raise
            # an earlier run wrote "sending" and was cut off: its send consumed the draft
            result = {"msg_id": None, "note": "draft consumed by the interrupted earlier send"}
        checkpoint("after-send-call")
        self._record(push, f"sent {result.get('msg_id')}", status="sent", msg_id=result.get("msg_id"),
                     msg_data_id=result.get("msg_data_id"), claim=None)
        outcome.result, outcome.detail = "sent", result.get("note", "")

    # -- withdraw ---------------------------------------------------------------------------------

    def _withdraw(self, push: Push, outcome: Outcome) -> None:
        approval = self._approve(push)
        try:
            self._claim(push)
        except _AlreadyDone:
            outcome.result, outcome.detail = "withdrawn", "already done (ledger)"
            return
        source = self._published_record(push.unpublish)
        if source is None:
            failed = PushFailed(f"'{push.unpublish}' was never published by this account; nothing to withdraw")
            failed.final = True
            raise failed
        record, index = source
        if record.get("mode") == "mass" and record.get("msg_id"):
            self.client.mass_delete(record["msg_id"], article_idx=index)
        elif record.get("article_id"):
            self.client.freepublish_delete(record["article_id"], index=index)
        self._record(push, f"withdrew {push.unpublish}", status="withdrawn", source_push=record["push_id"],
                     approval=approval, claim=None)
        outcome.result = "withdrawn"

    def _published_record(self, key: str) -> tuple[dict, int] | None:
        for record in push_records(self.ledger.snapshot(), self.account).values():
            if record.get("status") not in ("published", "sent"):
                continue
            keys = [a.get("key") for a in record.get("articles", [])]
            if key in keys:
                return record, keys.index(key) + 1  # WeChat's delete index is 1-based
        return None

    # -- dry run ----------------------------------------------------------------------------------

    def _dry_run(self, push: Push, outcome: Outcome) -> str:
        """What would be sent, with the exact draft/add payload; uploads not yet made show as <endpoint: file>."""
        if push.kind == "unpublish":
            return f"would withdraw {push.unpublish}"
        articles = [self._prepare_article(key) for key in push.articles]
        outcome.payload = {"articles": [self._article_payload(item, single=len(articles) == 1) for item in articles]}
        sizes = ", ".join(f"{item['key']} ({item['rendered'].characters:,} characters, "
                          f"{len(item['rendered'].assets)} images)" for item in articles)
        then = {"publish": "freepublish/submit", "mass": f"message/mass/sendall (clientmsgid {self.clientmsgid(push)})",
                "draft": "nothing more (stays a draft)"}[push.mode]
        return f"would draft/add {sizes}, then {then}"


class _AlreadyDone(Exception):
    def __init__(self, record: dict):
        super().__init__(record.get("status"))
        self.record = record


def _claim_alive(holder: dict) -> bool:
    if holder.get("host") == socket.gethostname():
        try:
            os.kill(int(holder.get("pid", 0)), 0)
            return True
        except (OSError, ValueError):
            return False
    since = holder.get("since")
    try:
        age = (datetime.now().astimezone() - datetime.fromisoformat(since)).total_seconds()
    except (TypeError, ValueError):
        return False
    return age < CLAIM_TIMEOUT


def _article_entry(item: dict, source_commit: str) -> dict:
    article = item["article"]
    return {"key": item["key"], "title": article.meta.title, "source": article.rel,
            "source_sha256": article.source_hash, "content_sha256": item.get("content_hash"),
            "source_commit": source_commit}


def _crop(box: tuple[float, float, float, float]) -> str:
    return "_".join(f"{value:g}" for value in box)


_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")')


def replace_image_sources(html: str, urls: dict[str, str]) -> str:
    """Point every <img> at its uploaded copy; sources are compared unescaped, as the renderer wrote them."""
    return _IMG_SRC.sub(lambda m: m.group(1) + urls.get(unescape(m.group(2)), m.group(2)) + m.group(3), html)


PUBLISH_STATUS = {
    1: "publishing",
    2: "原创声明失败 originality check failed",
    3: "常规失败 failed",
    4: "平台审核不通过 rejected by review",
    5: "deleted by the user after success",
    6: "blocked by the system after success",
}


# ---- opening a run ------------------------------------------------------------------------------

@dataclass
class Run:
    reconciler: Reconciler
    where: str


class open_run:
    """Ledger + WeChat connection (or the embedded sandbox) + reconciler, closed cleanly afterwards."""

    def __init__(self, project: Project, account: Account, now: datetime, *, dry_run: bool = False,
                 send_missed: bool = False, require_approval: bool = False, say=print):
        self.project, self.account, self.now = project, account, now
        self.dry_run, self.send_missed, self.say = dry_run, send_missed, say
        self.require_approval = require_approval
        self.connection = None

    def __enter__(self) -> Run:
        from publisher.wechat.connect import connect, credentials_configured

        repo_id, commit = repository_identity(self.project)
        client, where = None, "nowhere (dry run: nothing is called or recorded)"
        embedded = not credentials_configured(self.account)
        if not self.dry_run:
            self.connection = connect(self.project, self.account, self.now)
            client, where = self.connection.client, self.connection.description
            embedded = self.connection.sandbox is not None
        ledger = open_ledger(self.project, sandbox=embedded)
        reconciler = Reconciler(self.project, self.account, client, ledger, self.now, repo_id=repo_id,
                                source_commit=commit, dry_run=self.dry_run, send_missed=self.send_missed,
                                say=self.say, approval=self._approval_checker())
        return Run(reconciler, where)

    def _approval_checker(self):
        if not self.require_approval:
            return None
        from publisher.approval import ApprovalChecker, ApprovalError
        from publisher.project import CONFIG_FILE, ConfigError

        if not self.project.supervisors:
            raise ConfigError(CONFIG_FILE, None, "tool.publisher.supervisors", "approval is required but no "
                              "supervisors are configured: list their GitHub logins, e.g. supervisors = [\"alice\"]")
        try:
            return ApprovalChecker.from_environment(self.project.root, list(self.project.supervisors))
        except ApprovalError as exc:
            raise ConfigError(CONFIG_FILE, None, None, str(exc)) from None

    def __exit__(self, *exc) -> None:
        if self.connection is not None:
            self.connection.close()


def open_ledger(project: Project, *, sandbox: bool = False):
    """The ledger branch; the embedded sandbox's publications go to a local branch of their own, never pushed."""
    from publisher.ledger import Ledger, LedgerError
    from publisher.project import CONFIG_FILE, ConfigError

    try:
        if sandbox:
            return Ledger(project.root, branch=f"{project.ledger_branch}-sandbox", remote=None)
        return Ledger(project.root, branch=project.ledger_branch)
    except LedgerError as exc:
        raise ConfigError(CONFIG_FILE, None, None, f"publishing needs the repository's git history for its "
                          f"ledger: {exc}") from None


def repository_identity(project: Project) -> tuple[str, str]:
    """(the root commit: the same in every clone, for clientmsgid; the current commit)."""
    import git

    try:
        repo = git.Repo(project.root, search_parent_directories=True)
        roots = repo.git.rev_list("--max-parents=0", "HEAD").split()
        return sorted(roots)[0], repo.head.commit.hexsha
    except (git.GitError, ValueError):
        return str(project.root), ""


def ledger_records(project: Project, account: Account) -> dict[str, dict]:
    """What the ledger says about each push: the real one with credentials set, else the sandbox's."""
    from publisher.ledger import LedgerError
    from publisher.project import ConfigError
    from publisher.wechat.connect import credentials_configured

    try:
        return push_records(open_ledger(project, sandbox=not credentials_configured(account)).snapshot(), account)
    except (LedgerError, ConfigError):  # no git repository: nothing has been published from here
        return {}


def article_titles(project: Project, calendar: Calendar) -> dict[str, str]:
    titles = {}
    keys = {key for push in calendar.pushes for key in [*push.articles, push.unpublish] if key}
    for key in keys:
        path = project.content_dir / key / "index.md"
        try:
            titles[key] = load_article(path, project).meta.title or key
        except ArticleError:
            titles[key] = key
    return titles
