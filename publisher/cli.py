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

    themes = commands.add_parser("themes", help="list the themes an article can use")
    themes.set_defaults(run=run_themes)
    return parser


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
        reports = check(project, paths or None, layout=args.layout, use_cache=not args.no_cache, progress=tick)
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

    def __init__(self, enabled: bool, total: int | None = None):
        self.enabled = enabled and sys.stderr.isatty()
        self.total = total

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.progress import Progress

        self.progress = Progress(transient=True, console=_console(stderr=True))
        self.progress.start()
        task = self.progress.add_task("checking", total=self.total)
        return lambda: self.progress.advance(task)

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.stop()
