"""The `publisher` command: parses arguments, calls the stages, prints. Nothing else lives here.

Heavy modules are imported inside the commands so that `publisher --help` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    from publisher.project import ConfigError

    try:
        return args.run(args)
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="publisher",
        description="Content-as-code publishing for WeChat Official Accounts (微信公众号).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("-C", "--directory", type=Path, default=None,
                        help="run as if started in this folder (the content repository)")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    check = commands.add_parser("check", help="validate articles, the calendar and the rendered HTML",
                                description="Validate front matter, the calendar, WeChat's limits and structure "
                                "rules. Exit 0: clean or warnings only; 1: errors; 2: usage or settings error.")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="articles (index.md or their folders), .html files or calendar.yaml; default: everything")
    check.add_argument("--format", choices=("text", "json", "github"), default="text")
    check.add_argument("--layout", action="store_true",
                       help="also run the rules that need real layout, in headless Chromium")
    check.add_argument("--no-cache", action="store_true", help="re-check everything")
    check.add_argument("-v", "--verbose", action="store_true", help="show notes and the offending HTML")
    check.add_argument("--now", help="the time calendar rules are judged at (default: now)")
    check.set_defaults(run=run_check)

    build = commands.add_parser("build", help="write each article's exact HTML, a phone preview and manifest.json")
    build.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="articles; default: all under content/")
    build.add_argument("--out", type=Path, default=Path("build"), help="output folder (default: build)")
    build.add_argument("--format", choices=("text", "json"), default="text")
    build.set_defaults(run=run_build)

    new = commands.add_parser("new", help="start a new article from the template in layouts/new")
    new.add_argument("title", help="the article's title (at most 32 characters)")
    new.add_argument("--slug", help="folder name (default: made from the title's Latin letters, or the date)")
    new.add_argument("--author", help="default: default_author from [tool.publisher]")
    new.set_defaults(run=run_new)

    publish = commands.add_parser("publish", help="publish what the calendar says is due, exactly once",
                                  description="Reconcile calendar.yaml with the ledger: every push that is due and "
                                  "not yet done is rendered, uploaded, drafted and sent. Without WeChat credentials "
                                  "the embedded sandbox is used. Exit 0: done or nothing due; 1: something failed; "
                                  "2: usage or settings error.")
    publish.add_argument("--now", help="the time to act as (ISO 8601, or 'YYYY-MM-DD HH:MM' in the calendar's zone)")
    publish.add_argument("--account", help="the account to publish for (default: the first in settings)")
    publish.add_argument("--dry-run", action="store_true", help="show what would be done and the payloads; call nothing")
    publish.add_argument("--send-missed", action="store_true",
                         help="also send pushes missed by more than the account's grace period")
    publish.add_argument("--require-approval", action="store_true",
                         help="publish only pushes whose articles and calendar entry a supervisor approved in a "
                         "pull request (always on in GitHub Actions)")
    publish.add_argument("--format", choices=("text", "json"), default="text")
    publish.set_defaults(run=run_publish)

    preview = commands.add_parser("preview-send", help="send changed articles to the supervisors' WeChat as previews",
                                  description="Render the articles changed since --base (or those named), keep one "
                                  "preview draft per article and send it with message/mass/preview to each "
                                  "recipient (WeChat IDs from --to, WECHAT_PREVIEW_TO or preview_to in settings). "
                                  "Verified accounts only.")
    preview.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="articles (default: changed since --base)")
    preview.add_argument("--base", help="git ref to compare with, e.g. origin/main")
    preview.add_argument("--to", action="append", metavar="WECHAT_ID", help="a recipient (repeatable)")
    preview.add_argument("--account", help="the account to preview with")
    preview.set_defaults(run=run_preview_send)

    calendar = commands.add_parser("calendar", help="upcoming and past pushes with their status")
    calendar.add_argument("--ics", type=Path, metavar="FILE", help="also write an iCalendar file to subscribe to")
    calendar.add_argument("--now", help="the time to act as (default: now)")
    calendar.add_argument("--account", help="the account whose ledger gives the status")
    calendar.add_argument("--format", choices=("text", "json"), default="text")
    calendar.set_defaults(run=run_calendar)

    sandbox = commands.add_parser("sandbox", help="run the local WeChat API emulator")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--state", type=Path, help="state folder (default: .publisher-cache/sandbox/<account>)")
    sandbox.add_argument("--account", help="which account's settings and state to use")
    sandbox.set_defaults(run=run_sandbox)

    pr_report = commands.add_parser("pr-report", help="the pull request check's report: changed articles, budget, "
                                    "pushes, findings, phone screenshots",
                                    description="Build the articles changed between --base and --head, take phone "
                                    "screenshots in light and dark mode and write a Markdown job summary. Exit 0 "
                                    "(the check step fails the job), 2 on a usage error.")
    pr_report.add_argument("--base", required=True, help="git ref the PR goes into, e.g. origin/main")
    pr_report.add_argument("--head", default="HEAD", help="git ref of the PR (default: HEAD)")
    pr_report.add_argument("--out", type=Path, default=Path("pr-preview"), help="output folder (default: pr-preview)")
    pr_report.add_argument("--summary", type=Path, metavar="FILE",
                           help="write the Markdown here (default: append to $GITHUB_STEP_SUMMARY, else print)")
    pr_report.set_defaults(run=run_pr_report)

    serve = commands.add_parser("serve", help="preview articles as on a phone in WeChat, updated as you save",
                                description="A local web server: each article in a phone frame (light and dark), "
                                "its findings, budget, cover crops and digest; pushes as the feed shows them; the "
                                "calendar; what the sandbox published. Saving a file updates the open pages.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--open", action="store_true", help="open the preview in the default web browser")
    serve.set_defaults(run=run_serve)

    themes = commands.add_parser("themes", help="list the themes an article can use")
    themes.set_defaults(run=run_themes)

    _add_stats(commands)

    fix = commands.add_parser("fix", help="correct spacing and punctuation between Chinese and Latin text in place",
                              description="Apply the copywriting corrections `check` reports to the prose of "
                              "Markdown files; code, URLs and the front matter never change. Exit 0: done (or, "
                              "with --check, nothing to change); 1: with --check, some file would change.")
    fix.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help="Markdown files or folders; default: the content folder")
    fix.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    fix.set_defaults(run=run_fix)
    return parser


def _add_stats(commands) -> None:
    stats = commands.add_parser("stats", help="pull analytics from WeChat and write reports",
                                description="Analytics: `stats pull` fetches WeChat's datacube numbers into a local "
                                "database and commits them to the ledger branch; `stats report` writes HTML and "
                                "Markdown reports. Without credentials the embedded sandbox is used.")
    verbs = stats.add_subparsers(title="commands", metavar="COMMAND")
    stats.set_defaults(run=lambda args: stats.print_help() or EXIT_USAGE)
    pull = verbs.add_parser("pull", help="fetch daily numbers (resumes where the last pull stopped)",
                            description="Exit 0: pulled; 1: WeChat or the ledger failed; 2: usage or settings error.")
    pull.add_argument("--since", type=_day, help="first day (YYYY-MM-DD); default: the missing days of the last 30")
    pull.add_argument("--until", type=_day, help="last day (YYYY-MM-DD); default: yesterday (Beijing time)")
    pull.add_argument("--account", help="the account (default: the first in settings)")
    pull.add_argument("--now", help="the time to act as (ISO 8601, or 'YYYY-MM-DD HH:MM')")
    pull.add_argument("--format", choices=("text", "json"), default="text")
    pull.set_defaults(run=run_stats_pull)
    report = verbs.add_parser("report", help="write the HTML report with charts and the Markdown summary",
                              description="Exit 0: written; 1: the data could not be read; 2: usage error.")
    report.add_argument("--period", choices=("week", "month", "quarter", "year"), default="week")
    report.add_argument("--date", type=_day, help="a day inside the period (default: yesterday, Beijing time)")
    report.add_argument("--out", type=Path, default=Path("reports"), help="folder for the report (default: reports)")
    report.add_argument("--account", help="the account (default: the first in settings)")
    report.add_argument("--format", choices=("text", "json"), default="text")
    report.set_defaults(run=run_stats_report)


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, found '{text}'") from None


def _version() -> str:
    from publisher import __version__

    return __version__


def _project(args):
    from publisher.project import load_project

    return load_project(args.directory)


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _error(message: str) -> None:
    from rich.markup import escape

    _console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")


def _resolve_paths(args, project) -> list[Path] | None:
    base = args.directory or Path.cwd()
    paths = [p if p.is_absolute() else base / p for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(", ".join(str(p) for p in missing))
    return paths


def run_check(args) -> int:
    from publisher import report
    from publisher.check import check

    project = _project(args)
    try:
        paths = _resolve_paths(args, project)
    except FileNotFoundError as exc:
        _error(f"no such file or folder: {exc}")
        return EXIT_USAGE
    with _progress(args.format == "text") as tick:
        reports = check(project, paths or None, layout=args.layout, use_cache=not args.no_cache, progress=tick,
                        now=_now(args.now, _zone(project)) if args.now else None)
    if args.format == "json":
        report.print_json(reports)
    elif args.format == "github":
        report.print_github(reports)
    else:
        report.print_text(reports, _console(), verbose=args.verbose)
    return EXIT_FINDINGS if report.summary(reports)["errors"] else EXIT_OK


def run_build(args) -> int:
    import json

    from publisher.build import build
    from publisher.content import find_articles

    project = _project(args)
    try:
        paths = find_articles(project, _resolve_paths(args, project) or None)
    except FileNotFoundError as exc:
        _error(f"no such file or folder: {exc}")
        return EXIT_USAGE
    out = args.out if args.out.is_absolute() else (args.directory or Path.cwd()) / args.out
    with _progress(args.format == "text", total=len(paths)) as tick:
        results = build(project, paths, out, progress=tick)
    errors = sum(f.severity == "error" for r in results for f in r.findings)
    if args.format == "json":
        print(json.dumps({"out": str(out), "articles": [r.entry or {"source": r.rel, "findings":
                          [f.to_dict() for f in r.findings]} for r in results]}, ensure_ascii=False, indent=2))
    else:
        _print_build(results, out, errors)
    return EXIT_FINDINGS if errors else EXIT_OK


def _print_build(results, out: Path, errors: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Built into {out}", title_justify="left")
    for column in ("article", "title", "characters", "images", "errors", "warnings"):
        table.add_column(column, justify="right" if column in ("characters", "images", "errors", "warnings") else "left")
    for r in results:
        entry = r.entry or {}
        chars = entry.get("characters")
        budget = f"{chars:,} ({entry['budget_used']:.0%})" if chars is not None else "-"
        table.add_row(escape(r.rel), escape(entry.get("title", "(unreadable)")), budget,
                      str(len(entry.get("images", []))),
                      str(sum(f.severity == "error" for f in r.findings)),
                      str(sum(f.severity == "warning" for f in r.findings)))
    console = _console()
    console.print(table)
    if errors:
        console.print(f"[red]{errors} error(s): run `publisher check` for details[/]")


def run_new(args) -> int:
    from datetime import date

    from publisher.new import NewArticleError, create_article

    project = _project(args)
    try:
        path = create_article(project, args.title, slug=args.slug, author=args.author, today=date.today())
    except NewArticleError as exc:
        _error(str(exc))
        return EXIT_USAGE
    _console().print(f"created [bold]{project.relative(path)}[/]: write, then `publisher check` and `publisher serve`")
    return EXIT_OK


def _now(text: str | None, zone):
    from datetime import datetime

    if not text:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SystemExit(_usage(f"--now: expected ISO 8601 or 'YYYY-MM-DD HH:MM', found '{text}'")) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _zone(project):
    from zoneinfo import ZoneInfo

    return ZoneInfo(project.timezone)


def _usage(message: str) -> int:
    _error(message)
    return EXIT_USAGE


def _calendar(project):
    from publisher.calendar import CalendarError, load_calendar

    try:
        return load_calendar(project)
    except CalendarError as exc:
        first = exc.findings[0]
        raise SystemExit(_usage(f"{first.path}:{first.line}: {first.message} (run publisher check for all)")) from None


def run_publish(args) -> int:
    import json

    from publisher.publish import open_run

    project = _project(args)
    account = project.account(args.account)
    calendar = _calendar(project)
    now = _now(args.now, calendar.timezone)
    console = _console(stderr=args.format == "json")
    say = (lambda line: None) if args.format == "json" else (lambda line: console.print(line, markup=False))
    import os

    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    require_approval = args.require_approval or in_actions
    with open_run(project, account, now, dry_run=args.dry_run, send_missed=args.send_missed,
                  require_approval=require_approval, say=say) as run:
        say(f"publishing for {account.label} to {run.where}, as of {now.isoformat()}")
        say("approval check: on (supervisors: " + ", ".join(project.supervisors) + ")" if require_approval else
            "approval check: off (outside GitHub Actions; --require-approval turns it on)")
        with _progress(args.format == "text") as tick:
            outcomes = run.reconciler.run(calendar, progress=tick)
    failed = any(o.result == "failed" for o in outcomes)
    if args.format == "json":
        print(json.dumps({"account": account.name, "now": now.isoformat(), "target": run.where,
                          "dry_run": args.dry_run, "pushes": [o.__dict__ for o in outcomes]},
                         ensure_ascii=False, indent=2))
    else:
        _print_outcomes(outcomes, console)
        if args.dry_run:
            _print_payloads(outcomes, console)
    return EXIT_FINDINGS if failed else EXIT_OK


def _print_payloads(outcomes, console) -> None:
    """The exact draft/add bodies (content shortened here; --format json has it whole)."""
    import json

    for outcome in outcomes:
        if not outcome.payload:
            continue
        shown = {"articles": [{**article, "content": f"{article['content'][:120]}… ({len(article['content']):,} "
                                                      "characters in all)"} for article in outcome.payload["articles"]]}
        console.print(f"draft/add for {outcome.push_id}:", markup=False)
        console.print(json.dumps(shown, ensure_ascii=False, indent=2), markup=False, highlight=False)


def _print_outcomes(outcomes, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    if not outcomes:
        console.print("[green]nothing due[/]")
        return
    colours = {"failed": "red", "skipped": "yellow", "publishing": "yellow", "planned": "cyan"}
    table = Table(title="Pushes", title_justify="left")
    for column in ("push", "mode", "articles", "result", "detail"):
        table.add_column(column)
    for o in outcomes:
        colour = colours.get(o.result, "green")
        detail = o.detail or "\n".join(o.urls)
        table.add_row(escape(o.push_id), o.mode, escape(", ".join(o.articles)), f"[{colour}]{o.result}[/]",
                      escape(detail))
    console.print(table)


def run_preview_send(args) -> int:
    from datetime import datetime

    from publisher.preview_send import changed_articles, recipients_for, relative_paths_to_keys, send_previews
    from publisher.publish import PushFailed, open_run

    project = _project(args)
    account = project.account(args.account)
    if not account.verified:
        return _usage(f"{account.label}: WeChat sends previews for verified accounts only")
    recipients = recipients_for(project, account, args.to)
    if not recipients:
        return _usage("no recipients: pass --to WECHAT_ID, set WECHAT_PREVIEW_TO, or preview_to in settings")
    try:
        keys = relative_paths_to_keys(project, _resolve_paths(args, project)) if args.paths else \
            changed_articles(project, args.base or "origin/main")
    except (FileNotFoundError, PushFailed) as exc:
        return _usage(str(exc))
    console = _console()
    if not keys:
        console.print("no changed articles to preview")
        return EXIT_OK
    with open_run(project, account, datetime.now().astimezone(), say=lambda line: None) as run:
        console.print(f"previewing with {account.label} on {run.where}", markup=False)
        results = send_previews(run.reconciler, keys, recipients)
    for result in results:
        if result.error:
            console.print(f"{result.key}: {result.error}", style="red", markup=False)
        else:
            console.print(f"{result.key}: sent to {', '.join(result.recipients)} (draft {result.media_id})", markup=False)
    return EXIT_FINDINGS if any(r.error for r in results) else EXIT_OK


def run_calendar(args) -> int:
    import json

    from publisher.calendar import push_status, summary, to_ics
    from publisher.publish import article_titles, ledger_records

    project = _project(args)
    account = project.account(args.account)
    calendar = _calendar(project)
    now = _now(args.now, calendar.timezone)
    records = ledger_records(project, account)
    titles = article_titles(project, calendar)
    statuses = {p.id: push_status(p, records.get(p.id), now, account.grace_hours) for p in calendar.pushes}
    if args.ics:
        args.ics.write_bytes(to_ics(calendar, statuses, titles, f"{account.name} 内容日历"))
    rows = [{"id": p.id, "time": p.at.isoformat(), "at": p.at.astimezone(calendar.timezone).strftime("%Y-%m-%d %a %H:%M"),
             "status": statuses[p.id], "mode": p.mode or p.kind, "summary": summary(p, titles),
             "owner": p.owner} for p in calendar.pushes]
    if args.format == "json":
        print(json.dumps({"timezone": calendar.timezone.key, "now": now.isoformat(), "pushes": rows},
                         ensure_ascii=False, indent=2))
        return EXIT_OK
    _print_calendar(rows, calendar.timezone.key, now.astimezone(calendar.timezone), _console())
    if args.ics:
        _console().print(f"wrote {args.ics}")
    return EXIT_OK


def _print_calendar(rows, zone: str, now, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    colours = {"published": "green", "drafted": "green", "scheduled": "cyan", "planned": "dim", "due": "yellow", "missed": "red",
               "failed": "red", "in progress": "yellow"}
    table = Table(title=f"Calendar ({zone}; now {now.strftime('%Y-%m-%d %H:%M')})", title_justify="left")
    for column in ("when", "status", "push", "owner"):
        table.add_column(column)
    for row in rows:
        colour = colours.get(row["status"], "white")
        table.add_row(row["at"], f"[{colour}]{row['status']}[/]", escape(row["summary"]), escape(row["owner"]))
    console.print(table)


def run_sandbox(args) -> int:
    from publisher.wechat.sandbox import SandboxAccount, serve

    project = _project(args)
    account = project.account(args.account)
    state = args.state or project.cache_dir / "sandbox" / account.name
    sandbox_account = SandboxAccount(type=account.type, verified=account.verified)
    _console(stderr=True).print(f"sandbox for {account.label} on http://{args.host}:{args.port} "
                                f"(state in {state}); app id {sandbox_account.app_id}. Ctrl-C stops it.")
    serve(state, args.host, args.port, sandbox_account)
    return EXIT_OK


def run_pr_report(args) -> int:
    from publisher.prreport import run

    return run(args)


def run_serve(args) -> int:
    from publisher.preview import serve

    project = _project(args)  # a settings error is reported before anything listens
    console = _console(stderr=True)
    serve(project.root, args.host, args.port, open_browser=args.open,
          say=lambda line: console.print(line, markup=False, highlight=False))
    return EXIT_OK


def run_fix(args) -> int:
    from publisher.fix import fix_paths

    project = _project(args)
    try:
        paths = _resolve_paths(args, project) or [project.content_dir]
    except FileNotFoundError as exc:
        _error(f"no such file or folder: {exc}")
        return EXIT_USAGE
    results = fix_paths(paths, check_only=args.check)
    for result in results:
        if result.error:
            _error(f"{project.relative(result.path)}: {result.error}")
        elif result.changed:
            print(f"{'would change' if args.check else 'fixed'} {project.relative(result.path)}")
    changed = sum(result.changed for result in results)
    if not changed:
        print("nothing to change")
    return EXIT_FINDINGS if args.check and changed else EXIT_OK


def run_themes(args) -> int:
    from publisher.render.layout import available_themes, load_theme

    project = _project(args)
    console = _console()
    for name in available_themes(project.layouts_dir):
        theme = load_theme(name, project.layouts_dir)
        default = " (default)" if name == project.theme else ""
        console.print(f"[bold]{name}[/]{default}  {theme.label}  [dim]{theme.folder}[/]")
    return EXIT_OK


class _progress:
    """A rich progress bar on stderr for long runs; silent when output is for machines."""

    def __init__(self, enabled: bool, total: int | None = None, description: str = "checking"):
        self.enabled = enabled and sys.stderr.isatty()
        self.total = total
        self.description = description
        self.progress = None

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.progress import Progress

        self.progress = Progress(transient=True, console=_console(stderr=True))
        self.progress.start()
        task = self.progress.add_task(self.description, total=self.total)
        return lambda: self.progress.advance(task)

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()


def run_stats_pull(args) -> int:
    import json

    from publisher.stats.pull import StatsError, StatsUsageError
    from publisher.stats.run import pull_stats
    from publisher.wechat.errors import WeChatError

    project = _project(args)
    account = project.account(args.account)
    now = _now(args.now, _zone(project))
    console = _console(stderr=args.format == "json")
    bar = _progress(args.format == "text", description="pulling analytics")

    def progress(total: int):
        bar.total = total
        return bar.__enter__()

    try:
        result, where = pull_stats(project, account, since=args.since, until=args.until, now=now, progress=progress,
                                   say=lambda line: None if args.format == "json" else console.print(line, markup=False))
    except StatsError as exc:
        _error(str(exc))
        return EXIT_USAGE if isinstance(exc, StatsUsageError) else EXIT_FINDINGS
    except WeChatError as exc:
        _error(f"WeChat: {exc}")
        return EXIT_FINDINGS
    finally:
        bar.__exit__(None, None, None)
    summary = {"account": account.name, "source": where, "first": result.first.isoformat(),
               "last": result.last.isoformat(), "calls": result.calls, "legacy_endpoints": result.legacy,
               "days": sorted(result.days), "delayed_days": sorted(result.delayed), "articles": result.articles}
    if args.format == "json":
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not result.calls:
        console.print(f"nothing to pull: every day from {result.first} to {result.last} is stored")
        return EXIT_OK
    console.print(f"pulled {len(result.days)} day(s) with {result.calls} call(s)"
                  + (" (legacy endpoints: the current ones were refused)" if result.legacy else "")
                  + f"; {result.articles} article(s) matched to the ledger; exported to the ledger branch")
    if result.delayed:
        console.print(f"[yellow]WeChat marked {', '.join(sorted(result.delayed))} as delayed (is_delay): the next "
                      "pull fetches them again[/]")
    return EXIT_OK


def run_stats_report(args) -> int:
    import json
    from datetime import datetime, timedelta

    from publisher.stats.pull import StatsError
    from publisher.stats.run import write_report
    from publisher.stats.store import BEIJING

    project = _project(args)
    account = project.account(args.account)
    day = args.date or (datetime.now(BEIJING).date() - timedelta(days=1))
    out = args.out if args.out.is_absolute() else (args.directory or Path.cwd()) / args.out
    try:
        report, where = write_report(project, account, args.period, day, out)
    except StatsError as exc:
        _error(str(exc))
        return EXIT_FINDINGS
    if args.format == "json":
        print(json.dumps({"account": account.name, "source": where, "html": str(report.html_path),
                          "markdown": str(report.markdown_path), "figures": report.figures},
                         ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    console = _console()
    console.print(f"numbers: {where}")
    console.print(f"report: [bold]{report.html_path}[/]\nsummary: [bold]{report.markdown_path}[/]")
    return EXIT_OK
