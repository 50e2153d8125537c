"""The preview server's Starlette app: routes, templates, the lifespan (watcher + warm-up) and uvicorn.

Routes (all GET):

    /                       every article: title, author, errors/warnings, published, next push; a filter box
    /a/<key>                one article in a phone frame (?width=375|390, ?dark=1), findings, budget, cover, digest
    /html/<key>             the exact content HTML (`render_article(...).html`) as a download
    /push/<push id>         a push as the subscription feed shows it
    /calendar?month=YYYY-MM the month's pushes with their status, the month's topic and the calendar rules
    /sandbox?account=NAME   what the embedded sandbox published, as its sanitiser left it
    /file/<path>            an image inside the repository (nothing else: no `..`, hidden or outside paths)
    /diagram/<name>.png     a rendered Mermaid diagram from the cache
    /sandbox/image/<account>/<name>  an image the sandbox stored
    /events                 server-sent events (see `publisher.preview.live`)
    /status                 JSON: articles, unchecked, clients (for scripts and the benchmark)
    /static/…               the server's own CSS and JS

An article that cannot be read (broken front matter) answers 422 with the file, line and message in
an error panel; a missing article, push or file answers 404. Every page is a Jinja2 template with
autoescaping on; the only unescaped HTML is the article's, inside the phone frame, as our renderer
(or, on the sandbox page, the sandbox's sanitiser and then ours) produced it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from publisher.calendar import MODE_LABELS, summary
from publisher.preview import live
from publisher.preview.files import DIAGRAM_NAME, IMAGE_TYPES, repository_file
from publisher.preview.site import Site, month_start, shift_month, weeks_of
from publisher.serving import StoppableServer, start_in_thread

HERE = Path(__file__).resolve().parent
PHONE_WIDTHS = (375, 390)
STATUS_LABELS = {"planned": "计划 planned", "scheduled": "待发 scheduled", "due": "到期 due", "missed": "错过 missed",
                 "in progress": "进行中 in progress", "published": "已发 published", "drafted": "草稿 drafted",
                 "failed": "失败 failed"}
WARM_UP_DELAY = 0.5  # seconds after start-up before the background check of all articles begins
FEED_LABELS = {"2.35:1": "头条 2.35:1", "1:1": "次条 1:1"}


@dataclass
class Preview:
    """What the routes share: the site, the event fan-out and the templates."""

    site: Site
    broadcaster: live.Broadcaster = field(default_factory=live.Broadcaster)
    boot: str = field(default_factory=lambda: secrets.token_hex(6))
    warming: bool = False

    def __post_init__(self):
        self.templates = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True)
        self.templates.globals.update(static=_static_url, status_label=lambda s: STATUS_LABELS.get(s, s),
                                      mode_label=lambda m: MODE_LABELS.get(m, m), article_url=article_url,
                                      push_url=push_url, feed_label=lambda n: FEED_LABELS.get(n, n))

    def page(self, name: str, request: Request, status: int = 200, **context) -> HTMLResponse:
        template = self.templates.get_template(name)
        html = template.render(request=request, config_error=self.site.config_error, boot=self.boot,
                               repository=self.site.root.name, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def article_url(key: str, **query) -> str:
    query = {k: v for k, v in query.items() if v}
    return "/a/" + quote(key) + ("?" + urlencode(query) if query else "")


def push_url(push_id: str) -> str:
    return "/push/" + quote(push_id, safe="")


def _static_url(name: str) -> str:
    path = HERE / "static" / name
    try:
        version = int(path.stat().st_mtime)
    except OSError:
        version = 0
    return f"/static/{name}?v={version}"


# ---- routes ---------------------------------------------------------------------------------------

def _preview(request: Request) -> Preview:
    return request.app.state.preview


async def index(request: Request) -> Response:
    preview = _preview(request)
    site = preview.site
    # while the background check runs, the index shows what is known and is told as the rest comes in
    summaries = await asyncio.to_thread(site.summaries, 0.0 if preview.warming else 0.5)
    pushes = await asyncio.to_thread(site.pushes)
    now = site.now()
    rows = []
    for item in summaries:
        mine = [p for p in pushes if item.key in p.push.articles]
        sent = [p for p in mine if p.status in ("published", "drafted")]
        upcoming = [p for p in mine if p.status in ("scheduled", "due", "in progress", "failed", "missed")
                    and p.push.at >= now]
        rows.append({"summary": item, "sent": sent[-1] if sent else None,
                     "next": upcoming[0] if upcoming else None,
                     "late": [p for p in mine if p.status in ("missed", "failed")]})
    unchecked = sum(item.errors is None for item in summaries)
    return preview.page("index.html", request, rows=rows, unchecked=unchecked, budget=site.project.limits.content_chars,
                        watch=["article:*", "calendar", "ledger", "layout", "index"], nav="index")


async def article_page(request: Request) -> Response:
    preview = _preview(request)
    site = preview.site
    key = request.path_params["key"].strip("/")
    view = await asyncio.to_thread(site.article, key)
    if view is None:
        raise HTTPException(404, f"no article '{key}' under {site.project.content}/ (expected {site.project.content}/"
                                 f"{key}/index.md)")
    dark = request.query_params.get("dark") in ("1", "true", "on")
    try:
        width = int(request.query_params.get("width", PHONE_WIDTHS[0]))
    except ValueError:
        width = PHONE_WIDTHS[0]
    width = width if width in PHONE_WIDTHS else PHONE_WIDTHS[0]
    content = ""
    if view.ok:
        content = await asyncio.to_thread(lambda: view.dark_html) if dark else view.display_html
    pushes = [p for p in await asyncio.to_thread(site.pushes) if key in p.push.articles or key == p.push.unpublish]
    budget = site.project.limits.content_chars
    characters = view.rendered.characters if view.ok else 0
    status = 200 if view.ok else 500 if view.crash else 422
    return preview.page(
        "article.html", request, status=status, view=view, key=key, dark=dark, width=width, widths=PHONE_WIDTHS,
        content=Markup(content), exact_html=view.rendered.html if view.ok else "",
        findings=[_finding(f, view) for f in (view.findings if view.ok else view.problems)],
        budget=budget, characters=characters, used=characters / budget if budget else 0,
        account=_account_name(site), pushes=pushes, meta=view.rendered.article.meta if view.ok else None,
        digest=view.rendered.digest if view.ok else "", download=f"/html/{quote(key)}",
        watch=[f"article:{key}", "layout", "calendar", "ledger"], nav="index")


def _finding(finding, view) -> dict:
    """A finding for the list, with where clicking it should point in the page."""
    body_line = view.rendered.article.body_line if view.ok else 10**9
    target = ""
    if finding.field and (finding.line is None or finding.line < body_line):
        name = finding.field.split(".")[0]
        target = {"title": "title", "author": "author", "digest": "digest", "cover": "cover",
                  "cover_focus": "cover", "source_url": "source"}.get(name, "")
    place = f"{finding.path}:{finding.line}" if finding.line else finding.path
    if finding.line and finding.column:
        place += f":{finding.column}"
    return {"severity": finding.severity, "rule": finding.rule, "message": finding.message, "line": finding.line,
            "column": finding.column, "field": finding.field, "snippet": finding.snippet, "place": place,
            "target": target, "in_body": bool(finding.line and finding.line >= body_line)}


async def exact_html(request: Request) -> Response:
    site = _preview(request).site
    key = request.path_params["key"].strip("/")
    view = await asyncio.to_thread(site.article, key)
    if view is None:
        raise HTTPException(404, f"no article '{key}'")
    if not view.ok:
        message = "\n".join(f"{f.path}:{f.line or ''} {f.message}" for f in view.problems)
        return Response(message + "\n", status_code=500 if view.crash else 422, media_type="text/plain")
    name = key.rsplit("/", 1)[-1] or "article"
    disposition = f"attachment; filename=\"{_ascii(name)}.html\"; filename*=UTF-8''{quote(name)}.html"
    return Response(view.rendered.html.encode("utf-8"), media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name) or "article"


async def push_page(request: Request) -> Response:
    preview = _preview(request)
    site = preview.site
    push_id = request.path_params["push_id"]
    view = await asyncio.to_thread(site.push, push_id)
    if view is None:
        state = await asyncio.to_thread(site.calendar)
        if state.problems:
            return preview.page("calendar_error.html", request, status=422, state=state, nav="calendar",
                                watch=["calendar", "layout"])
        raise HTTPException(404, f"no push '{push_id}' in {state.rel}")
    cards = []
    for key in view.push.articles or ([view.push.unpublish] if view.push.unpublish else []):
        title, author, cover = await asyncio.to_thread(site.lookup_cover, key)
        exists = site.article_path(key) is not None
        cards.append({"key": key, "title": title, "author": author, "cover": cover, "exists": exists})
    titles = await asyncio.to_thread(site.titles)
    watch = [f"article:{c['key']}" for c in cards] + ["calendar", "ledger", "layout"]
    return preview.page("push.html", request, push=view, cards=cards, summary=summary(view.push, titles),
                        account=_account_name(site, view.account), calendar_rel=site.calendar().rel,
                        month=view.local.strftime("%Y-%m"), watch=watch, nav="calendar")


async def calendar_page(request: Request) -> Response:
    preview = _preview(request)
    site = preview.site
    state = await asyncio.to_thread(site.calendar)
    if state.problems:
        return preview.page("calendar_error.html", request, status=422, state=state, nav="calendar",
                            watch=["calendar", "layout"])
    now = site.now()
    first = month_start(request.query_params.get("month"), now.astimezone(site.zone))
    month = first.strftime("%Y-%m")
    pushes = await asyncio.to_thread(site.pushes)
    titles = await asyncio.to_thread(site.titles)
    by_day: dict[str, list] = {}
    for push in pushes:
        by_day.setdefault(push.local.date().isoformat(), []).append(push)
    findings = await asyncio.to_thread(site.rule_findings)
    in_month = [p for p in pushes if p.local.strftime("%Y-%m") == month]
    counts: dict[str, int] = {}
    for p in in_month:
        counts[p.status] = counts.get(p.status, 0) + 1
    calendar = state.calendar
    zone = calendar.timezone if calendar else site.zone
    return preview.page(
        "calendar.html", request, month=month, first=first, weeks=weeks_of(first), by_day=by_day,
        titles=titles, summary=lambda p: summary(p, titles), topic=calendar.topics.get(month) if calendar else None,
        min_per_week=calendar.min_per_week if calendar else None, findings=findings, rel=state.rel,
        today=now.astimezone(zone).date(), previous=shift_month(first, -1).strftime("%Y-%m"),
        next=shift_month(first, 1).strftime("%Y-%m"), counts=counts, total=len(in_month), zone=zone.key,
        watch=["calendar", "ledger", "layout", "article:*"], nav="calendar")


async def sandbox_page(request: Request) -> Response:
    preview = _preview(request)
    site = preview.site
    accounts = [a.name for a in site.project.accounts]
    account = request.query_params.get("account") or accounts[0]
    if account not in accounts:
        raise HTTPException(404, f"no account '{account}' in the settings")
    state, problem = await asyncio.to_thread(site.sandbox_state, account)
    items = []
    if state:
        images = state.get("images") or {}
        for article in sorted((state.get("articles") or {}).values(), key=lambda a: a.get("ready_at", 0),
                              reverse=True):
            for idx, item in enumerate(article.get("news_item") or [], start=1):
                deleted = (article.get("deleted") or [])[idx - 1:idx] == [True]
                items.append({"id": str(article.get("article_id", "")), "idx": idx, "item": item,
                              "kind": "群发 mass" if article.get("kind") == "masssend" else "发布 publish",
                              "when": _when(article.get("ready_at"), site), "deleted": deleted})
        drafts = len(state.get("drafts") or {})
    else:
        images, drafts = {}, 0
    chosen = None
    wanted = (request.query_params.get("article"), request.query_params.get("idx", "1"))
    for entry in items:
        if (entry["id"], str(entry["idx"])) == wanted or (wanted[0] is None and chosen is None):
            chosen = entry
    content = ""
    if chosen:
        content = await asyncio.to_thread(_sandbox_content, chosen["item"].get("content", ""), account, images)
    return preview.page("sandbox.html", request, accounts=accounts, account=account, items=items, chosen=chosen,
                        content=Markup(content), problem=problem, drafts=drafts,
                        state_rel=site.project.relative(site.project.cache_dir / "sandbox" / account / "state.json"),
                        watch=[f"sandbox:{account}", "layout"], nav="sandbox")


def _sandbox_content(html: str, account: str, images: dict) -> str:
    """The sanitised content as the sandbox stored it, passed through our own allowlist again (the state
    file is only a file), with the sandbox's image addresses pointing at this server."""
    from urllib.parse import urlsplit

    from publisher.render.layout import strip_build_attributes
    from publisher.render.sanitize import Sanitizer

    def image(src: str, line: int) -> str | None:
        name = urlsplit(src).path.rsplit("/mmbiz/", 1)[-1]
        return f"/sandbox/image/{quote(account)}/{quote(name)}" if name in images else None

    sanitizer = Sanitizer(on_image=image, on_link=lambda href, line: "keep" if
                          href.startswith(("https://mp.weixin.qq.com", "http://mp.weixin.qq.com")) else "drop")
    return strip_build_attributes(sanitizer.feed_fragment(html, 1) + sanitizer.close_all())


def _when(moment, site: Site) -> str:
    if not isinstance(moment, (int, float)):
        return ""
    return datetime.fromtimestamp(moment, site.zone).strftime("%Y-%m-%d %H:%M")


def _account_name(site: Site, name: str | None = None) -> str:
    account = site.project.account(name) if name else site.project.accounts[0]
    return account.name


async def repository_image(request: Request) -> Response:
    site = _preview(request).site
    path = repository_file(site.root, request.path_params["path"])
    if path is None:
        raise HTTPException(404, "no such image in the repository")
    return FileResponse(path, media_type=IMAGE_TYPES[path.suffix.lower()], headers={"Cache-Control": "no-cache"})


async def diagram_image(request: Request) -> Response:
    site = _preview(request).site
    name = request.path_params["name"]
    folder = (site.project.cache_dir / "diagrams").resolve()
    path = (folder / name).resolve() if DIAGRAM_NAME.match(name) else None
    if path is None or not path.is_relative_to(folder) or not path.is_file():
        raise HTTPException(404, "no such diagram")
    return FileResponse(path, media_type="image/png")


async def sandbox_image(request: Request) -> Response:
    site = _preview(request).site
    account, name = request.path_params["account"], request.path_params["name"]
    folder = site.sandbox_dir(account)
    state, _ = site.sandbox_state(account) if folder else (None, "")
    if not state or name not in (state.get("images") or {}):
        raise HTTPException(404, "no such sandbox image")
    path = repository_file(folder, f"images/{name}")
    if path is None:
        raise HTTPException(404, "no such sandbox image")
    return FileResponse(path, media_type=IMAGE_TYPES[path.suffix.lower()])


async def events(request: Request) -> Response:
    preview = _preview(request)
    queue = preview.broadcaster.subscribe()

    async def stream():
        try:
            yield "retry: 1000\n\n"
            yield live.sse({"boot": preview.boot}, "hello")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=live.HEARTBEAT)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield live.sse(event)
        finally:
            preview.broadcaster.unsubscribe(queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def status(request: Request) -> Response:
    preview = _preview(request)
    site = preview.site
    unchecked = await asyncio.to_thread(site.unchecked)
    return JSONResponse({"root": str(site.root), "articles": len(site.article_keys()), "unchecked": len(unchecked),
                         "warming": preview.warming, "clients": preview.broadcaster.clients,
                         "events_sent": preview.broadcaster.sent, "boot": preview.boot})


async def not_found(request: Request, exc: HTTPException) -> Response:
    preview = request.app.state.preview
    if exc.status_code != 404:
        return HTMLResponse(str(exc.detail), status_code=exc.status_code)
    if request.url.path.startswith(("/file/", "/diagram/", "/sandbox/image/", "/static/", "/html/")):
        return Response(f"404 Not Found: {exc.detail}\n", status_code=404, media_type="text/plain")
    return preview.page("not_found.html", request, status=404, message=exc.detail, nav="", watch=[])


# ---- the app --------------------------------------------------------------------------------------

def create_app(root: Path, *, watch: bool = True, warm: bool = True,
               clock: Callable[[], datetime] | None = None, host: str = "127.0.0.1") -> Starlette:
    """The preview app for the repository at (or above) `root`. `watch`: live reload (file watcher);
    `warm`: check every article in the background at start, for the index; `clock`: what "now" is;
    `host`: the address served on: on a loopback address only requests naming this machine are
    answered (a web page cannot read the preview through DNS rebinding)."""
    preview = Preview(Site(root, clock=clock))

    @asynccontextmanager
    async def lifespan(app):
        stop, thread_stop = asyncio.Event(), threading.Event()
        tasks = []
        loop = asyncio.get_running_loop()
        if watch:
            tasks.append(asyncio.create_task(live.watch(preview.site, preview.broadcaster, stop)))
        if warm:
            tasks.append(asyncio.create_task(_warm_up(preview, loop, thread_stop)))
        app.state.stop_streams = preview.broadcaster.close
        try:
            yield
        finally:
            stop.set()
            thread_stop.set()
            preview.broadcaster.close()
            for task in tasks:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=3)
            await asyncio.to_thread(preview.site.save_index)  # what the next start shows at once

    routes = [
        Route("/", index),
        Route("/a/{key:path}", article_page),
        Route("/html/{key:path}", exact_html),
        Route("/push/{push_id:path}", push_page),
        Route("/calendar", calendar_page),
        Route("/sandbox", sandbox_page),
        Route("/sandbox/image/{account}/{name}", sandbox_image),
        Route("/file/{path:path}", repository_image),
        Route("/diagram/{name}", diagram_image),
        Route("/events", events),
        Route("/status", status),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: not_found},
                    middleware=[Middleware(Guard, loopback_only=is_loopback(host))])
    app.state.preview = preview
    return app


LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
# Scripts only from this server (the article's HTML never runs any, even if one slipped through), inline
# styles allowed (the article is made of them), nothing loaded from elsewhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
                           "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class Guard:
    """Content-Security-Policy and friends on every answer; when serving on a loopback address, only
    requests whose Host names this machine (a page elsewhere cannot read the preview by DNS rebinding)."""

    def __init__(self, app, loopback_only: bool = True):
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.loopback_only and host_name(Headers(scope=scope).get("host", "")) not in LOOPBACK_NAMES:
            response = PlainTextResponse("400 Bad Request: this preview answers only to 127.0.0.1 or localhost\n",
                                         status_code=400)
            await response(scope, receive, send)
            return

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
            await send(message)

        await self.app(scope, receive, with_headers)


async def _warm_up(preview: Preview, loop, stop: threading.Event) -> None:
    """Check the articles the index does not know yet, in a thread; tell the index pages as it goes."""
    preview.warming = True
    await asyncio.sleep(WARM_UP_DELAY)  # the first pages asked for go first

    def progress():
        loop.call_soon_threadsafe(preview.broadcaster.publish, {"kind": "index"})

    try:
        done = await asyncio.to_thread(preview.site.warm_up, stop, progress)
        if done:
            preview.broadcaster.publish({"kind": "index"})
    except Exception:  # noqa: BLE001 - the index checks on demand instead
        live.log.exception("checking the articles in the background failed")
    finally:
        preview.warming = False


# ---- running it -----------------------------------------------------------------------------------

def host_name(header: str) -> str:
    """The name in a Host header: `[::1]:8000` → `::1`, `localhost:8000` → `localhost`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _server(app: Starlette, host: str, port: int, **options):
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None):
            app.state.preview.broadcaster.close()  # end the event streams, or the shutdown waits for them
            await asyncio.sleep(0)
            await super().shutdown(sockets)

    config = uvicorn.Config(app, host=host, port=port, lifespan="on", timeout_graceful_shutdown=2,
                            access_log=False, **options)
    return Server(config)


@dataclass
class RunningPreview(StoppableServer):
    """A preview server in a background thread (tests, the benchmark); a context manager."""

    url: str
    app: Starlette
    _server: object = field(repr=False)
    _thread: threading.Thread = field(repr=False)


def start_server(root: Path, *, host: str = "127.0.0.1", port: int = 0, **app_options) -> RunningPreview:
    """Serve with uvicorn in a background thread; returns once it accepts connections."""
    app = create_app(root, host=host, **app_options)
    server = _server(app, host, port, log_config=None, log_level="warning")
    thread, bound = start_in_thread(server, "publisher-preview", "the preview server", host, port)
    return RunningPreview(f"http://{host}:{bound}", app, server, thread)


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, *, open_browser: bool = False, say=print) -> None:
    """`publisher serve`: in the foreground until Ctrl-C."""
    app = create_app(root, host=host)
    site = app.state.preview.site
    server = _server(app, host, port, log_level="warning")
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    if not is_loopback(host):
        say(f"warning: serving on {host}, not only this machine: anyone who can reach it sees the articles, "
            "the calendar and the sandbox. Use --host 127.0.0.1 unless that is what you want.")
    say(f"preview of {site.root} ({len(site.article_keys())} articles) on {url} — saving a file updates open "
        "pages. Ctrl-C stops it.")
    if open_browser:
        def opener():
            import webbrowser

            deadline = time.monotonic() + 15
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=opener, daemon=True).start()
    server.run()
