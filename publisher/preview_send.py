"""`publisher preview-send`: a changed article on the supervisors' phones, through message/mass/preview.

Verified accounts only (WeChat's rule). Each article keeps one preview draft, updated on every
preview, so previews never fill the draft box; the ledger remembers it under previews/.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from publisher.assets import AssetError
from publisher.project import Account, Project
from publisher.publish import PushFailed, Reconciler, now_iso
from publisher.wechat.errors import WeChatError


@dataclass
class PreviewResult:
    key: str
    recipients: list[str]
    media_id: str = ""
    error: str = ""


def changed_articles(project: Project, base: str, head: str = "HEAD") -> list[str]:
    """Article keys whose files differ between base and head (git diff base...head)."""
    try:
        names = subprocess.run(["git", "diff", "--name-only", f"{base}...{head}"], cwd=project.root, check=True,
                               capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as exc:
        stderr = getattr(exc, "stderr", "") or str(exc)
        raise PushFailed(f"cannot compare {base}...{head}: {stderr.strip()}") from None
    keys = []
    for name in names:
        path = (project.root / name).resolve()
        if not path.is_relative_to(project.content_dir.resolve()):
            continue
        folder = path.parent
        while folder != project.content_dir.resolve() and not (folder / "index.md").is_file():
            folder = folder.parent
        if (folder / "index.md").is_file():
            key = folder.relative_to(project.content_dir.resolve()).as_posix()
            if key not in keys:
                keys.append(key)
    return keys


def preview_path(account: Account, key: str) -> str:
    return f"accounts/{account.name}/previews/{key.replace('/', '_')}.json"


def send_previews(reconciler: Reconciler, keys: list[str], recipients: list[str]) -> list[PreviewResult]:
    results = []
    for key in keys:
        result = PreviewResult(key, recipients)
        try:
            result.media_id = _preview_one(reconciler, key, recipients)
        except (PushFailed, WeChatError, AssetError) as exc:  # one article's failure must not stop the others
            result.error = str(exc)
        results.append(result)
    return results


def _preview_one(reconciler: Reconciler, key: str, recipients: list[str]) -> str:
    item = reconciler._prepare_article(key)
    payload = reconciler._article_payload(item, single=True)
    path = preview_path(reconciler.account, key)
    known = reconciler.ledger.snapshot().read(path) or {}
    media_id = known.get("media_id")
    if media_id and reconciler._draft_exists(media_id):
        reconciler.client.draft_update(media_id, 0, payload)
    else:
        media_id = reconciler.client.draft_add([payload])
    for recipient in recipients:
        reconciler.client.mass_preview(media_id, towxname=recipient)
    record = {"key": key, "media_id": media_id, "sent_to": recipients, "at": now_iso(),
              "source_commit": reconciler.source_commit, "content_sha256": item.get("content_hash")}
    reconciler.ledger.update(f"preview {key} to {len(recipients)} phone(s)", lambda snapshot: {path: record})
    return media_id


def recipients_for(project: Project, account: Account, override: list[str] | None) -> list[str]:
    import os

    if override:
        return override
    from_env = os.environ.get("WECHAT_PREVIEW_TO", "")
    configured = project.raw.get("preview_to", [])
    names = [n.strip() for n in from_env.split(",") if n.strip()] or [str(n) for n in configured]
    return names


def relative_paths_to_keys(project: Project, paths: list[Path]) -> list[str]:
    from publisher.content import article_key

    return [article_key(p / "index.md" if p.is_dir() else p, project) for p in paths]
