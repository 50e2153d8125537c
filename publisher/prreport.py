"""`publisher pr-report`: what a pull request changes, for the reviewer (the PR check's job summary).

The articles changed between the base and the head of a pull request (`git diff --name-only
base...head`, the changes the PR brings since it left the base) are built exactly as they will be
published, photographed on a phone-sized page in light and dark mode, and summarised in Markdown: a
table with the characters used of WeChat's 20,000 budget and the findings, the pushes each article
belongs to (local time in the calendar's zone and UTC, because runners live in UTC) and what the PR
changes in calendar.yaml.

The report never fails the job (exit 0 unless the command is misused): `publisher check` is the step
that fails it. Missing Chromium only skips the screenshots, with a note.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from publisher.project import Project, load_project

MAX_FINDINGS = 200  # a job summary is limited to 1 MiB per step
EXIT_OK, EXIT_USAGE = 0, 2
MODE_NAMES = {"draft": "草稿 draft", "publish": "发布 publish", "mass": "群发 mass"}


class ReportError(Exception):
    """The report cannot be made (not a git repository, unknown ref): a usage error."""


@dataclass
class PushInfo:
    id: str
    mode: str
    articles: list[str]
    local: str  # "2026-12-01 08:00" in the calendar's zone
    utc: str  # "2026-12-01 00:00"
    change: str = ""  # added | changed | removed, for calendar changes


@dataclass
class ArticleInfo:
    key: str
    source: str
    title: str = ""
    characters: int | None = None
    budget: int = 20000
    findings: list[dict] = field(default_factory=list)
    pushes: list[PushInfo] = field(default_factory=list)
    screenshots: dict[str, str] = field(default_factory=dict)  # light/dark → path relative to the out folder
    note: str = ""  # removed, unreadable …

    @property
    def errors(self) -> int:
        return sum(f["severity"] == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f["severity"] == "warning" for f in self.findings)


@dataclass
class Report:
    base: str
    head: str
    files: list[str]
    articles: list[ArticleInfo]
    timezone: str = ""
    calendar_changed: bool = False
    calendar_changes: list[PushInfo] = field(default_factory=list)
    calendar_findings: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    screenshots_note: str = ""
    out: Path | None = None
    content: str = "content"  # the project's folders, relative to its root, as in `files`
    calendar: str = "calendar.yaml"


# ---- git ------------------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    try:
        completed = subprocess.run(["git", "-c", "core.quotepath=false", *args], cwd=root, capture_output=True,
                                   text=True, timeout=120)
    except FileNotFoundError:
        raise ReportError("git is not installed") from None
    if completed.returncode != 0:
        raise ReportError(f"git {' '.join(args)}: {completed.stderr.strip() or 'failed'}")
    return completed.stdout


def _commit(root: Path, ref: str) -> str:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except ReportError:
        raise ReportError(f"unknown git ref '{ref}' (in CI, check out with full history: fetch-depth: 0)") from None


def changed_files(root: Path, base: str, head: str) -> list[str]:
    """Paths (relative to `root`, inside it) changed on head since it left base: the three-dot diff."""
    output = _git(root, "diff", "--name-only", "-z", "--no-renames", "--relative", f"{base}...{head}", "--")
    return sorted({name for name in output.split("\0") if name})


@contextmanager
def checked_out(root: Path, head: str):
    """The folder holding head's files: the working tree when head is HEAD, else a temporary worktree."""
    if _commit(root, head) == _commit(root, "HEAD"):
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="pr-report-") as temporary:
        tree = Path(temporary) / "head"
        _git(root, "worktree", "add", "--detach", "--quiet", str(tree), head)
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, capture_output=True)


# ---- what changed ---------------------------------------------------------------------------------


def changed_articles(project: Project, files: list[str]) -> tuple[list[Path], list[str]]:
    """(index.md of each article touched by `files`, keys of articles the change removed)."""
    from publisher.content import ARTICLE_FILE, article_key

    content = project.content_dir.resolve()
    found: dict[Path, None] = {}
    removed: dict[str, None] = {}
    for name in files:
        path = (project.root / name).resolve()
        if not path.is_relative_to(content):
            continue
        folder = path.parent
        while folder != content and folder.is_relative_to(content) and not (folder / ARTICLE_FILE).is_file():
            folder = folder.parent
        if folder != content and folder.is_relative_to(content):
            found[folder / ARTICLE_FILE] = None
        elif path.name == ARTICLE_FILE and not path.exists():
            removed[article_key(path, project)] = None
    return sorted(found), sorted(removed)


def _push_info(push, zone, change: str = "") -> PushInfo:
    local = push.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    utc = push.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    articles = push.articles or ([push.unpublish] if push.unpublish else [])
    mode = push.mode if push.kind == "articles" else push.kind
    return PushInfo(push.id, mode, list(articles), local, utc, change)


def _signature(push) -> tuple:
    return (push.at, push.kind, push.mode, tuple(push.articles), push.plan, push.unpublish, push.account)


def calendar_changes(project: Project, base: str, head_calendar) -> tuple[list[PushInfo], list[str]]:
    """Pushes added, changed or removed by the PR (by push id), and notes on what could not be read."""
    from publisher.calendar import CalendarError, load_calendar

    notes = []
    rel = project.relative(project.calendar_path)
    try:
        text = _git(project.root, "show", f"{base}:{rel}")
    except ReportError:
        text = None  # the PR adds the calendar
    before = {}
    if text is not None:
        try:
            before = {p.id: p for p in load_calendar(project, text).pushes}
        except CalendarError as exc:
            notes.append(f"the base's {rel} could not be read ({exc.findings[0].message}): every push is shown as added")
    after = {p.id: p for p in head_calendar.pushes}
    zone = head_calendar.timezone
    changes = [_push_info(p, zone, "added") for key, p in after.items() if key not in before]
    changes += [_push_info(p, zone, "changed") for key, p in after.items()
                if key in before and _signature(p) != _signature(before[key])]
    changes += [_push_info(p, zone, "removed") for key, p in before.items() if key not in after]
    return sorted(changes, key=lambda c: (c.utc, c.id)), notes


# ---- the report -----------------------------------------------------------------------------------


def make_report(root: Path, base: str, head: str, out: Path, *, screenshots: bool = True, now=None) -> Report:
    """Build, photograph and describe the articles the PR changes in the content repository at `root`.
    Raises ReportError when the refs or the repository are wrong."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    inside = root.resolve().relative_to(top.resolve())  # the content repository may be a subfolder
    _commit(root, base)
    files = changed_files(root, base, head)
    with checked_out(top, head) as tree:
        project = load_project(tree / inside)
        report = Report(base, head, files, [], out=out, content=project.content.strip("/"),
                        calendar=project.relative(project.calendar_path))
        paths, removed = changed_articles(project, files)
        report.articles = _build(project, paths, out, report)
        report.articles += [ArticleInfo(key, f"{project.content}/{key}", note="removed by this PR") for key in removed]
        _calendar(project, base, report, now)
        if screenshots and report.articles:
            _screenshots(report, out)
    return report


def _build(project: Project, paths: list[Path], out: Path, report: Report) -> list[ArticleInfo]:
    from publisher.build import build

    if not paths:
        return []
    try:
        results = build(project, paths, out)
    except Exception as exc:  # the report must not fail the job: `check` says what is wrong
        report.notes.append(f"the build failed: {type(exc).__name__}: {exc}")
        return []
    articles = []
    for result in results:
        entry = result.entry or {}
        info = ArticleInfo(result.key if not entry else entry["key"], result.rel, entry.get("title", ""),
                           entry.get("characters"), entry.get("budget", project.limits.content_chars),
                           [f.to_dict() for f in result.findings])
        if not entry:
            info.note = "could not be read"
        articles.append(info)
    return articles


def _calendar(project: Project, base: str, report: Report, now) -> None:
    from publisher.calendar import CalendarError, load_calendar

    rel = project.relative(project.calendar_path)
    report.calendar_changed = rel in report.files
    if not project.calendar_path.is_file():
        return
    try:
        calendar = load_calendar(project)
    except CalendarError as exc:
        report.calendar_findings = [f.to_dict() for f in exc.findings]
        report.notes.append(f"{rel} could not be read: pushes are not shown (see the findings)")
        return
    report.timezone = calendar.timezone.key
    for article in report.articles:
        article.pushes = [_push_info(p, calendar.timezone) for p in calendar.pushes
                          if article.key in p.articles or p.unpublish == article.key]
    if report.calendar_changed:
        report.calendar_changes, notes = calendar_changes(project, base, calendar)
        report.notes += notes
        from publisher.check import check_calendar

        try:
            report.calendar_findings = [f.to_dict() for f in check_calendar(project, [], now).findings]
        except Exception as exc:  # the report goes on; `check` fails the job
            report.notes.append(f"the calendar rules could not be run: {type(exc).__name__}: {exc}")


def _screenshots(report: Report, out: Path) -> None:
    from publisher.browser import BrowserUnavailable, browser
    from publisher.darkmode import dark_html

    pages = [(a, out / a.key / "preview.html") for a in report.articles if (out / a.key / "preview.html").is_file()]
    if not pages:
        return
    try:
        with browser() as instance:
            for article, page in pages:
                dark_page = page.with_name("preview-dark.html")
                dark_page.write_text(dark_html(page.read_text(encoding="utf-8")), encoding="utf-8")
                for mode, source in (("light", page), ("dark", dark_page)):
                    png = out / "screenshots" / f"{article.key}-{mode}.png"
                    _shoot(instance, source, png, dark=mode == "dark")
                    article.screenshots[mode] = png.relative_to(out).as_posix()
    except BrowserUnavailable as exc:
        report.screenshots_note = f"Screenshots skipped: {exc}"
    except Exception as exc:  # a browser that fails to start must not fail the report
        report.screenshots_note = f"Screenshots skipped: the browser failed ({type(exc).__name__}: {exc})"


def _shoot(instance, page_path: Path, png_path: Path, *, dark: bool, width: int = 390) -> None:
    """A full-page PNG at a phone's width, like publisher.browser.screenshot but in an open browser."""
    page = instance.new_page(viewport={"width": width, "height": 800}, color_scheme="dark" if dark else "light")
    try:
        page.goto(page_path.resolve().as_uri())
        page.wait_for_load_state("load")
        png_path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png_path), full_page=True)
    finally:
        page.close()


# ---- Markdown -------------------------------------------------------------------------------------


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _code(text: str) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def to_markdown(report: Report) -> str:
    lines = ["## 公众号 pull request preview", ""]
    others = [f for f in report.files if not f.startswith(f"{report.content}/") and f != report.calendar]
    changed = f"{len(report.articles)} article(s)" + (f", {report.calendar}" if report.calendar_changed else "")
    lines += [f"Changes from {_code(report.base)} to {_code(report.head)}: {changed}"
              f"{f', {len(others)} other file(s)' if others else ''}.", ""]
    if report.articles:
        lines += ["| article | title | characters (of budget) | errors | warnings |",
                  "|---|---|---:|---:|---:|"]
        for a in report.articles:
            if a.characters is not None:
                used = f"{a.characters:,} of {a.budget:,} ({a.characters / a.budget:.1%})"
            else:
                used = a.note or "-"
            title = a.title or a.note or "-"
            lines.append(f"| {_code(a.key)} | {_cell(title)} | {used} | {a.errors} | {a.warnings} |")
        lines.append("")
    else:
        lines += ["No article changed.", ""]

    zone = report.timezone or "local"
    scheduled = [a for a in report.articles if not a.note]
    if scheduled:
        lines += ["### Pushes", "", f"| article | push | mode | local time ({zone}) | UTC |", "|---|---|---|---|---|"]
        for a in scheduled:
            if not a.pushes:
                lines.append(f"| {_code(a.key)} | not scheduled in calendar.yaml yet | | | |")
            for p in a.pushes:
                lines.append(f"| {_code(a.key)} | {_code(p.id)} | {MODE_NAMES.get(p.mode, p.mode)} | {p.local} | "
                             f"{p.utc} UTC |")
        lines.append("")

    if report.calendar_changed:
        lines += ["### Calendar changes", ""]
        if report.calendar_changes:
            lines += [f"| change | push | mode | articles | local time ({zone}) | UTC |", "|---|---|---|---|---|---|"]
            for p in report.calendar_changes:
                articles = ", ".join(_code(k) for k in p.articles) or "-"
                lines.append(f"| {p.change} | {_code(p.id)} | {MODE_NAMES.get(p.mode, p.mode)} | {articles} | "
                             f"{p.local} | {p.utc} UTC |")
        else:
            lines.append(f"{report.calendar} changed, but no push did (comments, rules or formatting).")
        lines.append("")

    findings = [f for a in report.articles for f in a.findings] + report.calendar_findings
    shown = [f for f in findings if f["severity"] in ("error", "warning")]
    lines += ["### Findings", ""]
    if shown:
        icons = {"error": "❌ error", "warning": "⚠️ warning"}
        for f in shown[:MAX_FINDINGS]:
            where = f"{f['path']}:{f['line']}" if f.get("line") else f["path"]
            lines.append(f"- {icons[f['severity']]} {_code(where)} {_cell(f['message'])} ({_code(f['rule'])})")
        if len(shown) > MAX_FINDINGS:
            lines.append(f"- … and {len(shown) - MAX_FINDINGS} more: run `publisher check`")
    else:
        lines.append("No errors or warnings.")
    notes = len(findings) - len(shown)
    if notes:
        lines.append(f"\n{notes} note(s) not shown: `publisher check --verbose` lists them.")
    lines.append("")

    photographed = [a for a in report.articles if a.screenshots]
    if photographed or report.screenshots_note:
        lines += ["### Phone screenshots", ""]
        folder = report.out.name if report.out else "."
        for a in photographed:
            lines.append(f"- {_code(a.key)}: " + ", ".join(f"{mode} {_code(f'{folder}/{path}')}"
                                                           for mode, path in a.screenshots.items()))
        if photographed:
            lines.append(f"\nIn the workflow's `{folder}` artifact, with each article's `preview.html` "
                         "(and `preview-dark.html`, an approximation of WeChat's dark mode).")
        if report.screenshots_note:
            lines.append(report.screenshots_note)
        lines.append("")
    for note in report.notes:
        lines.append(f"> Note: {_cell(note)}")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---- command --------------------------------------------------------------------------------------


def run(args) -> int:
    """`publisher pr-report`: writes the report; 0 unless misused (2)."""
    import sys

    cwd = args.directory or Path.cwd()
    root = load_project(args.directory).root
    out = args.out if args.out.is_absolute() else cwd / args.out
    try:
        report = make_report(root, args.base, args.head, out)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    markdown = to_markdown(report)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(markdown, encoding="utf-8")
    if args.summary:
        summary_path = args.summary if args.summary.is_absolute() else cwd / args.summary
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(markdown, encoding="utf-8")
        where = str(summary_path)
    elif os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as stream:
            stream.write(markdown)
        where = "the job summary ($GITHUB_STEP_SUMMARY)"
    else:
        sys.stdout.write(markdown)
        where = ""
    shots = sum(len(a.screenshots) for a in report.articles)
    print(f"pr-report: {len(report.articles)} changed article(s), {shots} screenshot(s) in {out}"
          + (f"; summary written to {where}" if where else ""), file=sys.stderr)
    if report.screenshots_note:
        print(report.screenshots_note, file=sys.stderr)
    return EXIT_OK
