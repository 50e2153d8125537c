"""Printing findings: text for people (rich, grouped by file), json for machines, github for CI."""

from __future__ import annotations

import json
import sys

from publisher.findings import Finding

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def summary(reports) -> dict:
    findings = [f for r in reports for f in r.findings]
    return {
        "files": len(reports),
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
        "infos": sum(f.severity == "info" for f in findings),
    }


def print_text(reports, console, *, verbose: bool = False) -> None:
    from rich.markup import escape

    for report in reports:
        shown = [f for f in report.findings if verbose or f.severity != "info"]
        if not shown:
            continue
        console.print(f"[bold]{escape(report.path)}[/]")
        for f in shown:
            where = f"{f.line}" if f.line else "-"
            field = f" [dim]{escape(f.field)}[/]" if f.field else ""
            console.print(f"  [dim]{where:>5}[/]  [{SEVERITY_STYLE[f.severity]}]{f.severity:<7}[/] "
                          f"{escape(f.message)}{field} [dim]({f.rule})[/]")
            if f.snippet and verbose:
                console.print(f"         [dim]{escape(f.snippet)}[/]")
    totals = summary(reports)
    colour = "red" if totals["errors"] else "yellow" if totals["warnings"] else "green"
    console.print(f"[{colour}]{totals['files']} file(s) checked: {totals['errors']} error(s), "
                  f"{totals['warnings']} warning(s)[/]")


def print_json(reports, stream=None) -> None:
    stream = stream or sys.stdout
    payload = {
        "summary": summary(reports),
        "files": [
            {"path": r.path, "characters": r.characters, "cached": r.cached,
             "findings": [f.to_dict() for f in r.findings]}
            for r in reports
        ],
    }
    json.dump(payload, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def print_github(reports, stream=None) -> None:
    """GitHub workflow commands: each finding becomes an annotation on the PR diff."""
    stream = stream or sys.stdout
    for report in reports:
        for f in report.findings:
            stream.write(github_command(f) + "\n")
    totals = summary(reports)
    stream.write(f"{totals['files']} file(s) checked: {totals['errors']} error(s), {totals['warnings']} warning(s)\n")


def github_command(f: Finding) -> str:
    command = {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
    props = [f"file={_prop(f.path)}"]
    if f.line:
        props.append(f"line={f.line}")
    if f.column:
        props.append(f"col={f.column}")
    props.append(f"title={_prop(f.rule)}")
    return f"::{command} {','.join(props)}::{_data(f.message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
