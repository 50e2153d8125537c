"""Live reload: one file watcher for the whole server, and server-sent events to every open page.

The watcher (watchfiles, started in the app's lifespan) turns each batch of file changes into events
naming what changed, drops the matching cache entries of the `Site`, and sends the events to every
page listening on `/events`:

    {"kind": "article", "key": "2026/x"}   index.md or a file in its folder (an image), or an image
                                            another article's last render used
    {"kind": "article", "key": null}        something under content/ outside any article (a folder removed)
    {"kind": "calendar"}                    calendar.yaml
    {"kind": "layout"}                      a template or theme under layouts/, or pyproject.toml
    {"kind": "ledger"}                      the ledger branch moved (a push went out)
    {"kind": "sandbox", "account": "main"}  the sandbox's state.json
    {"kind": "index"}                       the background check of all articles made progress

Each page knows which events concern it and fetches itself again (only the part that changes is
swapped in). Articles whose render is cached are rendered again right away in a thread, so by the
time the page asks, the new render is usually ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path

from publisher.preview.site import Site

log = logging.getLogger("publisher.preview")
STEP_MS = 20  # a batch ends after this long without a new change (an editor's save is several events)
DEBOUNCE_MS = 300  # and lasts at most this long while changes keep coming
PRERENDER = 8  # at most this many cached articles rendered ahead after one batch
HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle event stream
_IGNORED_PARTS = {"node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".mypy_cache"}


class Broadcaster:
    """Fan-out of events to the connected pages, one queue each. Used from the event loop only."""

    def __init__(self):
        self._queues: set[asyncio.Queue] = set()
        self.closed = False
        self.sent = 0

    @property
    def clients(self) -> int:
        return len(self._queues)

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=256)
        if self.closed:
            queue.put_nowait(None)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)

    def publish(self, event: dict) -> None:
        self.sent += 1
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a page that stopped reading: it reloads everything when it reconnects
                self._queues.discard(queue)

    def close(self) -> None:
        """End every event stream (the server is stopping)."""
        self.closed = True
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)


def sse(event: dict, name: str | None = None) -> str:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(event, ensure_ascii=False)}\n\n"


def classify(site: Site, changes: set[tuple[object, str]]) -> tuple[list[dict], list[str]]:
    """(events to send, article keys to render ahead) for one batch; drops the matching cache entries."""
    project = site.project
    root = site.root
    content, layouts = project.content_dir.resolve(), project.layouts_dir.resolve()
    calendar = project.calendar_path.resolve()
    sandbox = (project.cache_dir / "sandbox").resolve()
    refs = (root / ".git").resolve()
    events: list[dict] = []
    keys: list[str] = []

    def add(event: dict) -> None:
        if event not in events:
            events.append(event)

    for _change, name in sorted(changes, key=lambda c: c[1]):
        path = Path(name)
        with contextlib.suppress(OSError):
            path = path.parent.resolve() / path.name
        if _IGNORED_PARTS.intersection(path.parts):
            continue
        if path == root / "pyproject.toml":
            if site.refresh_settings():
                add({"kind": "layout"})
        elif path.is_relative_to(layouts):
            site.invalidate_all()
            add({"kind": "layout"})
        elif path == calendar:
            site.invalidate_calendar()
            add({"kind": "calendar"})
        elif path.is_relative_to(content):
            found = [k for k in [site.key_for(path), *site.keys_depending_on(path)] if k]
            found += [k for k in site.cached_keys() if not (content / k / "index.md").is_file()]  # removed
            for key in dict.fromkeys(found):
                site.invalidate_article(key)
                add({"kind": "article", "key": key})
                keys.append(key)
            if not found:
                add({"kind": "article", "key": None})
        elif path.is_relative_to(sandbox) and path.name == "state.json":
            add({"kind": "sandbox", "account": path.parent.name})
        elif path.is_relative_to(refs) and _is_ledger_ref(path.relative_to(refs), project.ledger_branch):
            site.invalidate_ledger()
            add({"kind": "ledger"})
        elif path.is_relative_to(root) and not path.is_relative_to(refs) and path.suffix.lower() in (
                ".png", ".jpg", ".jpeg", ".gif", ".webp"):
            for key in site.keys_depending_on(path):  # an image at the repository root, say
                site.invalidate_article(key)
                add({"kind": "article", "key": key})
                keys.append(key)
    if any(e["kind"] == "layout" for e in events):
        keys += site.cached_keys()[-PRERENDER:]
    return events, list(dict.fromkeys(keys))[:PRERENDER]


def _is_ledger_ref(relative: Path, branch: str) -> bool:
    text = relative.as_posix()
    return text == "packed-refs" or text.startswith(f"refs/heads/{branch}") or text.startswith(
        f"refs/remotes/origin/{branch}")


def _wanted(site: Site):
    """watchfiles' filter: only what can change a page (everything else under the root is noise)."""
    root = str(site.root)
    git = str(site.root / ".git") + "/"

    def accept(_change, name: str) -> bool:
        if not name.startswith(root):
            return False
        if name.startswith(git):
            return "/refs/" in name or name.endswith("packed-refs")
        return not name.endswith(("~", ".swp", ".swx", ".tmp")) and "/.publisher-cache/diagrams" not in name

    return accept


async def watch(site: Site, broadcaster: Broadcaster, stop: asyncio.Event) -> None:
    """Watch the repository until `stop` is set; never raises (a broken watcher only ends live reload)."""
    from watchfiles import awatch

    renders: set[asyncio.Task] = set()
    try:
        async for changes in awatch(site.root, watch_filter=_wanted(site), stop_event=stop, step=STEP_MS,
                                    debounce=DEBOUNCE_MS, ignore_permission_denied=True):
            events, keys = classify(site, changes)
            for event in events:
                broadcaster.publish(event)
            for key in keys:  # render ahead, in a thread; a page asking meanwhile waits for this render
                task = asyncio.create_task(asyncio.to_thread(site.article, key))
                renders.add(task)
                task.add_done_callback(renders.discard)
    except Exception:  # noqa: BLE001 - reported, the server goes on without live reload
        log.exception("the file watcher stopped; pages no longer update by themselves")
    finally:
        for task in renders:
            task.cancel()
