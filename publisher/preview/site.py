"""What the preview server shows, computed with the same functions `check`, `build` and `publish` use.

`Site` holds the repository's settings and three caches, all safe to use from several threads:

- article views (LRU): one `analyse_article` per article (render + every check rule), keyed by the
  article's bytes, the state of the files it depends on (its images, its cover, its folders) and the
  layouts (templates and themes, built-in and the repository's), so only what changed is rendered
  again, whether or not the file watcher saw the change;
- article summaries for the index (title, author, errors, warnings), from a fresh view when there is
  one, else from `publisher check`'s own cache, else checked (`warm_up` does that in the background);
- the calendar (by its file's state) and the ledger records (a few seconds, or until the watcher
  sees the ledger branch move).

Renders take one lock: they are CPU-bound, and one at a time keeps diagrams and memos simple.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.check import analyse_article
from publisher.content import ARTICLE_FILE, ArticleError, load_article
from publisher.findings import Finding
from publisher.preview.files import display_images, file_url
from publisher.project import CONFIG_FILE, ConfigError, Project, load_project
from publisher.render.images import ImageProblem, cover_crops, resolve_image
from publisher.render.layout import BUILTIN_LAYOUTS

VIEW_CACHE = 64  # article views kept (each holds the article's HTML a few times)
LEDGER_TTL = 30.0  # seconds ledger records are reused (the watcher also drops them when the branch moves)
_KEY = re.compile(r"^[^/\\\x00]+(?:/[^/\\\x00]+)*$")


# ---- what the pages show --------------------------------------------------------------------------

@dataclass(frozen=True)
class Crop:
    """One feed crop of the cover, as CSS: `object-fit: cover` with this `object-position` shows exactly
    WeChat's pic_crop box (the largest box of the ratio around the focus)."""

    name: str
    box: tuple[float, float, float, float]

    @property
    def position(self) -> str:
        x1, y1, x2, y2 = self.box
        return f"{_percent(x1, 1 - (x2 - x1))} {_percent(y1, 1 - (y2 - y1))}"


def _percent(offset: float, room: float) -> str:
    return "50%" if room <= 1e-6 else f"{offset / room * 100:.2f}%"


@dataclass(frozen=True)
class Cover:
    src: str  # as written in the front matter
    url: str  # where this server serves it
    width: int
    height: int
    focus: str
    wide: Crop  # 2.35:1, the headline card
    square: Crop  # 1:1, the small card


@dataclass
class ArticleView:
    key: str
    rel: str
    path: Path
    stamp: tuple = ()
    deps: list[Path] = field(default_factory=list)
    rendered: object = None  # publisher.render.Rendered, None when the article could not be read
    findings: list[Finding] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # why it could not be read at all
    crash: str = ""  # a renderer bug: the exception, for the error panel
    display_html: str = ""  # annotated HTML (data-line kept), image addresses made absolute
    cover: Cover | None = None
    rendered_at: float = 0.0
    render_ms: float = 0.0
    _dark: str | None = None

    @property
    def ok(self) -> bool:
        return self.rendered is not None

    @property
    def title(self) -> str:
        return self.rendered.article.meta.title if self.ok else self.key

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in (self.findings or self.problems))

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    @property
    def dark_html(self) -> str:
        if self._dark is None:
            self._dark = to_dark(self.display_html)
        return self._dark


def to_dark(html: str) -> str:
    from publisher.darkmode import dark_html

    return dark_html(html)


@dataclass(frozen=True)
class Summary:
    key: str
    rel: str
    title: str
    author: str
    errors: int | None  # None: not checked yet
    warnings: int | None
    characters: int | None
    readable: bool = True


@dataclass(frozen=True)
class PushView:
    push: object  # publisher.calendar.Push
    status: str
    local: datetime
    account: str

    @property
    def id(self) -> str:
        return self.push.id


@dataclass
class CalendarState:
    calendar: object | None  # publisher.calendar.Calendar
    problems: list[Finding]
    rel: str


# ---- the site -------------------------------------------------------------------------------------

class Site:
    def __init__(self, root: Path, *, clock: Callable[[], datetime] | None = None):
        self.project: Project = load_project(root)  # a settings error stops the server before it starts
        self.root = self.project.root
        self.clock = clock
        self.config_error: ConfigError | None = None
        self.generation = 0  # bumped when settings or layouts change: every view is stale
        self._settings_stamp = _file_stamp(self.root / CONFIG_FILE)
        self._lock = threading.RLock()  # caches
        self._render_lock = threading.RLock()  # one render at a time
        self._waiting = 0  # requests waiting for the render lock: the background check lets them go first
        self._views: OrderedDict[str, ArticleView] = OrderedDict()
        self._summaries: dict[str, tuple[list, Summary]] = {}
        self._summaries_dirty = False
        self._calendar: tuple[tuple, CalendarState] | None = None
        self._ledger: dict[str, tuple[float, dict]] = {}
        self._check_cache = None
        self._load_index()

    # -- time and settings --------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.project.timezone)

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(self.zone)

    def refresh_settings(self) -> bool:
        """Reload pyproject.toml when it changed; a broken one keeps the last good settings and is shown."""
        stamp = _file_stamp(self.root / CONFIG_FILE)
        if stamp == self._settings_stamp:
            return False
        with self._lock:
            self._settings_stamp = stamp
            try:
                self.project = load_project(self.root)
                self.config_error = None
            except ConfigError as exc:
                self.config_error = exc
            self.invalidate_all()
        return True

    def invalidate_all(self) -> None:
        with self._lock:
            self.generation += 1
            self._summaries.clear()
            self._calendar = None
            self._check_cache = None

    def invalidate_article(self, key: str) -> None:
        with self._lock:
            view = self._views.get(key)
            if view is not None:
                view.stamp = ()
                if not view.path.is_file():  # removed: forget it
                    del self._views[key]
            self._summaries.pop(key, None)
            self._summaries_dirty = True

    def invalidate_calendar(self) -> None:
        with self._lock:
            self._calendar = None

    def invalidate_ledger(self) -> None:
        with self._lock:
            self._ledger.clear()

    def layout_stamp(self) -> tuple:
        """(generation, digest of the renderer version, the settings and every template and theme file)."""
        from publisher.render import RENDERER_VERSION

        digest = hashlib.sha256(f"{RENDERER_VERSION}|{_file_stamp(self.root / CONFIG_FILE)}".encode())
        for folder in (self.project.layouts_dir, BUILTIN_LAYOUTS):
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    digest.update(f"|{path}|{_file_stamp(path)}".encode())
        return (self.generation, digest.hexdigest())

    # -- articles -----------------------------------------------------------------------------------

    def article_path(self, key: str) -> Path | None:
        """`content/<key>/index.md` when `key` names an article inside content/, else None."""
        if not _valid_key(key):
            return None
        content = self.project.content_dir.resolve()
        path = content / key / ARTICLE_FILE
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(content) or not resolved.is_file():
            return None
        return path

    def article_keys(self) -> list[str]:
        content = self.project.content_dir
        if not content.is_dir():
            return []
        keys = []
        for path in sorted(content.rglob(ARTICLE_FILE)):  # rglob does not follow symlinked folders
            key = path.parent.relative_to(content).as_posix()
            if _valid_key(key) and (self.article_path(key) if path.is_symlink() else path.is_file()):
                keys.append(key)
        return keys

    def key_for(self, path: Path) -> str | None:
        """The article a changed file belongs to: the nearest folder at or above it with an index.md."""
        content = self.project.content_dir.resolve()
        try:
            path = path.resolve()
        except OSError:
            return None
        if not path.is_relative_to(content):
            return None
        folder = path.parent
        while folder != content and folder.is_relative_to(content):
            if (folder / ARTICLE_FILE).is_file() or path == folder / ARTICLE_FILE:
                return folder.relative_to(content).as_posix()
            folder = folder.parent
        return None

    def keys_depending_on(self, path: Path) -> list[str]:
        """Articles whose last render used `path` (an image shared between articles, say)."""
        resolved = path.resolve()
        with self._lock:
            return [key for key, view in self._views.items() if resolved in view.deps]

    def cached_keys(self) -> list[str]:
        with self._lock:
            return list(self._views)

    def article(self, key: str) -> ArticleView | None:
        """The article's view, rendered again only when something it depends on changed. None: no such article."""
        self.refresh_settings()
        path = self.article_path(key)
        if path is None:
            return None
        with self._rendering():
            try:
                raw = path.read_bytes()
            except OSError:
                return None
            layouts = self.layout_stamp()
            with self._lock:
                view = self._views.get(key)
            if view is not None and view.stamp == _stamp(raw, view.deps, layouts):
                with self._lock:
                    self._views.move_to_end(key)
                return view
            view = self._render(key, path)
            view.stamp = _stamp(raw, view.deps, layouts)
            with self._lock:
                self._views[key] = view
                self._views.move_to_end(key)
                while len(self._views) > VIEW_CACHE:
                    self._views.popitem(last=False)
                self._remember(key, _summary_stamp(path, layouts), self._summary_of(view))
            return view

    def _render(self, key: str, path: Path) -> ArticleView:
        project = self.project
        view = ArticleView(key=key, rel=project.relative(path), path=path)
        view.deps = _folders(path.parent)
        started = time.perf_counter()
        try:
            rendered, findings = analyse_article(project, path)
        except ArticleError as exc:
            view.problems = exc.findings
        except Exception as exc:  # a bug in a stage: show it where the article would be
            view.crash = "".join(traceback.format_exception_only(exc)).strip()
            view.problems = [Finding(view.rel, None, "preview/crash", "error",
                                     f"the renderer failed on this article: {view.crash}")]
        else:
            article = rendered.article
            view.rendered, view.findings = rendered, findings
            view.deps += [asset.path.resolve() for asset in rendered.assets]
            view.display_html = display_images(rendered.annotated_html, article.folder, self.root, project.cache_dir)
            view.cover, cover_path = self._cover(article)
            if cover_path:
                view.deps.append(cover_path)
        view.render_ms = (time.perf_counter() - started) * 1000
        view.rendered_at = time.time()
        return view

    def _cover(self, article) -> tuple[Cover | None, Path | None]:
        if not article.meta.cover:
            return None, None
        try:
            asset = resolve_image(article.meta.cover, article.folder, article.root)
        except ImageProblem:
            return None, None  # check_limits reports it with the line
        url = file_url(self.root, asset.path)
        if url is None or not asset.width or not asset.height:
            return None, asset.path.resolve()
        crops = cover_crops(asset.width, asset.height, article.meta.cover_focus)
        cover = Cover(article.meta.cover, url, asset.width, asset.height, article.meta.cover_focus,
                      Crop("2.35:1", crops["2.35_1"]), Crop("1:1", crops["1_1"]))
        return cover, asset.path.resolve()

    def lookup_cover(self, key: str) -> tuple[str, str, Cover | None]:
        """(title, author, cover) for a feed card, without rendering the article."""
        path = self.article_path(key)
        if path is None:
            return key, "", None
        try:
            article = load_article(path, self.project)
        except ArticleError:
            return key, "", None
        return article.meta.title or key, article.meta.author, self._cover(article)[0]

    # -- summaries for the index --------------------------------------------------------------------

    def summaries(self, budget: float = 0.5) -> list[Summary]:
        """Every article; those not known yet are checked until `budget` seconds are spent (the rest
        show as unchecked, and the background warm-up fills them in)."""
        self.refresh_settings()
        deadline = time.monotonic() + budget
        layouts = self.layout_stamp()
        content = self.project.content_dir
        return [self._summary(key, content / key / ARTICLE_FILE, time.monotonic() < deadline, layouts)
                for key in self.article_keys()]

    def summary(self, key: str, *, check: bool = True, layouts: tuple | None = None) -> Summary | None:
        """Title, author and check counts; from memory (or the last run's file) while the article's file,
        its folders, the settings and the layouts are unchanged."""
        path = self.article_path(key)
        if path is None:
            return None
        return self._summary(key, path, check, layouts if layouts is not None else self.layout_stamp())

    def _summary(self, key: str, path: Path, check: bool, layouts: tuple, background: bool = False) -> Summary:
        stamp = _summary_stamp(path, layouts)
        with self._lock:
            known = self._summaries.get(key)
        if known and known[0] == stamp:
            return known[1]
        summary = self._checked_summary(key, path, check, background)
        if summary.errors is not None:  # unchecked ones are not remembered
            self._remember(key, stamp, summary)
        return summary

    def _remember(self, key: str, stamp: list, summary: Summary) -> None:
        with self._lock:
            self._summaries[key] = (stamp, summary)
            self._summaries_dirty = True

    def unchecked(self) -> list[str]:
        layouts = self.layout_stamp()
        with self._lock:
            known = dict(self._summaries)
        return [key for key in self.article_keys()
                if key not in known or known[key][0] != _summary_stamp(self.project.content_dir / key / ARTICLE_FILE,
                                                                       layouts)]

    def warm_up(self, stop: threading.Event | None = None, on_progress: Callable[[], None] | None = None) -> int:
        """Check every article not summarised yet (the background task at start-up); saves check's cache
        and the summaries, so the next start shows the index at once."""
        done = 0
        layouts = self.layout_stamp()
        for key in self.unchecked():
            if stop is not None and stop.is_set():
                break
            path = self.article_path(key)
            if path is not None:
                self._summary(key, path, True, layouts, background=True)
            done += 1
            if on_progress and done % 50 == 0:
                on_progress()
        with self._lock:
            cache, self._check_cache = self._check_cache, None
        if cache is not None:
            with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
                cache.save()
        self.save_index()
        return done

    @property
    def _index_file(self) -> Path:
        return self.project.cache_dir / "preview-index.json"

    def _load_index(self) -> None:
        try:
            data = json.loads(self._index_file.read_text(encoding="utf-8"))
            entries = {key: (entry["stamp"], Summary(**entry["summary"])) for key, entry in data["articles"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return  # a missing or damaged file only costs time
        with self._lock:
            self._summaries.update(entries)

    def save_index(self) -> None:
        """Write the summaries for the next start (atomically; a failure only costs time)."""
        with self._lock:
            if not self._summaries_dirty:
                return
            entries = {key: {"stamp": stamp, "summary": asdict(summary)} for key, (stamp, summary)
                       in self._summaries.items()}
            self._summaries_dirty = False
        temporary = self._index_file.with_name(f".preview-index-{os.getpid()}-{threading.get_ident()}.tmp")
        with contextlib.suppress(OSError):
            self._index_file.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps({"version": 1, "articles": entries}, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, self._index_file)

    @contextlib.contextmanager
    def _rendering(self, background: bool = False):
        """The render lock; the background check waits while a request is waiting (locks are not fair)."""
        if background:
            while self._waiting:
                time.sleep(0.002)
            with self._render_lock:
                yield
            return
        with self._lock:
            self._waiting += 1
        try:
            with self._render_lock:
                yield
        finally:
            with self._lock:
                self._waiting -= 1

    def _summary_of(self, view: ArticleView) -> Summary:
        if not view.ok:
            return Summary(view.key, view.rel, view.key, "", view.errors, 0, None, readable=False)
        meta = view.rendered.article.meta
        return Summary(view.key, view.rel, meta.title or view.key, meta.author, view.errors, view.warnings,
                       view.rendered.characters)

    def _checked_summary(self, key: str, path: Path, check: bool, background: bool = False) -> Summary:
        from publisher.cache import CheckCache
        from publisher.check import check_article

        rel = self.project.relative(path)
        try:
            meta = load_article(path, self.project).meta
        except ArticleError as exc:
            return Summary(key, rel, key, "", sum(f.severity == "error" for f in exc.findings), 0, None,
                           readable=False)
        with self._lock:
            if self._check_cache is None:
                self._check_cache = CheckCache(self.project)
            cache = self._check_cache
        hit = cache.get(rel, path)
        if hit is not None:
            findings, characters = hit["findings"], hit.get("characters")
        elif check:
            with self._rendering(background):
                report = check_article(self.project, path, cache)
            findings, characters = report.findings, report.characters
        else:
            return Summary(key, rel, meta.title or key, meta.author, None, None, None)
        return Summary(key, rel, meta.title or key, meta.author, sum(f.severity == "error" for f in findings),
                       sum(f.severity == "warning" for f in findings), characters)

    # -- calendar and ledger ------------------------------------------------------------------------

    def calendar(self) -> CalendarState:
        from publisher.calendar import CalendarError, load_calendar

        self.refresh_settings()
        path = self.project.calendar_path
        stamp = (_file_stamp(path), self.generation)
        with self._lock:
            if self._calendar and self._calendar[0] == stamp:
                return self._calendar[1]
        rel = self.project.relative(path)
        if not path.is_file():
            state = CalendarState(None, [], rel)
        else:
            try:
                state = CalendarState(load_calendar(self.project), [], rel)
            except CalendarError as exc:
                state = CalendarState(None, exc.findings, rel)
        with self._lock:
            self._calendar = (stamp, state)
        return state

    def records(self, account) -> dict[str, dict]:
        from publisher.publish import ledger_records

        with self._lock:
            cached = self._ledger.get(account.name)
            if cached and time.monotonic() - cached[0] < LEDGER_TTL:
                return cached[1]
        records = ledger_records(self.project, account)
        with self._lock:
            self._ledger[account.name] = (time.monotonic(), records)
        return records

    def pushes(self) -> list[PushView]:
        """Every push of the calendar with its status (calendar + ledger), in local time."""
        from publisher.calendar import push_status

        state = self.calendar()
        if state.calendar is None:
            return []
        now = self.now()
        names = {a.name for a in self.project.accounts}
        views = []
        for push in state.calendar.pushes:
            account = self.project.account(push.account if push.account in names else None)
            record = self.records(account).get(push.id) if push.kind != "plan" else None
            views.append(PushView(push, push_status(push, record, now, account.grace_hours),
                                  push.at.astimezone(state.calendar.timezone), account.name))
        return views

    def push(self, push_id: str) -> PushView | None:
        return next((p for p in self.pushes() if p.id == push_id), None)

    def rule_findings(self) -> list[Finding]:
        """The calendar's own warnings plus `check`'s calendar rules, judged now."""
        from publisher.lint.calendar_rules import check_calendar_rules

        state = self.calendar()
        if state.calendar is None:
            return state.problems
        calendar = state.calendar
        keys = {k for p in calendar.pushes for k in [*p.articles, p.unpublish] if k}
        errors, tags = {}, {}
        for key in sorted(keys):
            path = self.article_path(key)
            if path is None:
                continue
            summary = self.summary(key)
            errors[key] = summary.errors or 0
            try:
                meta = load_article(path, self.project).meta
                tags[key] = {*meta.tags, meta.title}
            except ArticleError:
                tags[key] = set()
        findings = [*calendar.findings, *check_calendar_rules(calendar, self.project, self.now(), errors, tags,
                                                              state.rel)]
        return sorted(findings, key=lambda f: (f.line or 0, f.rule))

    def titles(self) -> dict[str, str]:
        state = self.calendar()
        if state.calendar is None:
            return {}
        keys = {k for p in state.calendar.pushes for k in [*p.articles, p.unpublish] if k}
        titles = {}
        for key in keys:
            summary = self.summary(key, check=False)
            titles[key] = summary.title if summary else key
        return titles

    # -- the sandbox --------------------------------------------------------------------------------

    def sandbox_dir(self, account: str) -> Path | None:
        if account not in {a.name for a in self.project.accounts}:
            return None
        return self.project.cache_dir / "sandbox" / account

    def sandbox_state(self, account: str) -> tuple[dict | None, str]:
        """The sandbox's state.json for `account` (read only), or None with the reason."""
        folder = self.sandbox_dir(account)
        if folder is None:
            return None, f"no account named '{account}'"
        path = folder / "state.json"
        if not path.is_file():
            return None, (f"nothing published to the sandbox yet: {self.project.relative(path)} does not exist "
                          "(run `publisher publish` without WeChat credentials)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return None, f"{self.project.relative(path)} cannot be read: {exc}"
        if not isinstance(data, dict):
            return None, f"{self.project.relative(path)} is not a sandbox state file"
        return data, ""


def _file_stamp(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (None,)
    return (stat.st_mtime_ns, stat.st_size)


def _folders(folder: Path) -> list[Path]:
    """The article's folder and its direct subfolders: adding or removing an image changes their times."""
    found = [folder.resolve()]
    with contextlib.suppress(OSError):
        found += [child.resolve() for child in folder.iterdir() if child.is_dir() and not child.name.startswith(".")]
    return found


def _valid_key(key: str) -> bool:
    return bool(key) and bool(_KEY.match(key)) and not any(part in (".", "..") or part.startswith(".")
                                                           for part in key.split("/"))


def _summary_stamp(path: Path, layouts: tuple) -> list:
    """What a summary depends on, as JSON-friendly values: the layouts' digest, the file, its folder and
    the folder's subfolders (adding or removing an image changes their times)."""
    folders = [[".", *_file_stamp(path.parent)]]
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                folders.append([entry.name, stat.st_mtime_ns, stat.st_size])
    return [layouts[1], list(_file_stamp(path)), sorted(folders)]


def _stamp(raw: bytes, deps: list[Path], layouts: tuple) -> tuple:
    return (hashlib.sha256(raw).digest(), tuple((str(p), *_file_stamp(p)) for p in deps), layouts)


def month_start(text: str | None, today: datetime) -> datetime:
    """The first day of `text` ("2026-12"), or of today's month when absent or malformed."""
    if text and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        year, month = map(int, text.split("-"))
        return datetime(year, month, 1)
    return datetime(today.year, today.month, 1)


def shift_month(first: datetime, months: int) -> datetime:
    index = first.year * 12 + first.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1)


def weeks_of(first: datetime) -> list[list[datetime]]:
    """The month as weeks Monday–Sunday, padded with the neighbouring months' days."""
    start = first - timedelta(days=first.weekday())
    end = shift_month(first, 1)
    weeks = []
    day = start
    while day < end:
        weeks.append([day + timedelta(days=i) for i in range(7)])
        day += timedelta(days=7)
    return weeks
