"""Confidential data: ID card numbers, mobile numbers, internal addresses, revenue figures.

Settings, `[tool.publisher.compliance]`:

    confidential_defaults = true          # false turns the built-in patterns below off
    internal_hosts = ["*.internal", "*.corp", "localhost"]   # replaces the default host patterns
    confidential = [{name = "工单号", pattern = "TICKET-\\d{6}", severity = "warning"}]

Built in: mainland ID card numbers (18 characters, checksum verified; error), mobile numbers
(1[3-9] + 9 digits, not part of a longer number; error), URLs whose host matches `internal_hosts`
or is a private / loopback IP address (warning; code is skipped, where tutorials show localhost),
revenue and profit figures such as 营收 1.2 亿 (warning). The matched text is masked in messages.
"""

from __future__ import annotations

import bisect
import fnmatch
import ipaddress
import re

from publisher.findings import Finding, FindingList
from publisher.lint.sensitive import settings, visible_body

RULE = "compliance/confidential"
DEFAULT_HOSTS = ("*.internal", "*.corp", "localhost")

_ID = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![\d.])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![\d.])")
_URL = re.compile(r"\b(?:https?|ftp|wss?)://(?:[^@\s/]*@)?(\[[0-9a-fA-F:]+\]|[^\s/:?#<>\"'）)\]]+)", re.I)
_MONEY = re.compile(
    r"(营收|营业收入|营业额|销售额|收入|净利润|毛利润|毛利|利润|亏损|GMV)[^\n。；;，,]{0,6}?"
    r"([-+]?\d[\d,]*(?:\.\d+)?)\s*(亿元|万元|千万|百万|亿|万|元|美元|%|％)")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17].upper()


def mask(text: str, keep_start: int = 3, keep_end: int = 2) -> str:
    """Digits and letters beyond the first and last few become '*': 110105********123X → 110***…3X."""
    chars = list(text)
    positions = [i for i, c in enumerate(chars) if c.isalnum()]
    for i in positions[keep_start:len(positions) - keep_end if keep_end else None]:
        chars[i] = "*"
    return "".join(chars)


def _internal(host: str, patterns) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return any(fnmatch.fnmatchcase(host, p.lower()) or host == p.lower().removeprefix("*.") for p in patterns)
    return address.is_private or address.is_loopback or address.is_link_local


def _custom(config: dict, findings: FindingList) -> list[tuple[str, re.Pattern, str]]:
    rules = []
    for entry in config.get("confidential", []) or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), str):
            findings.error("compliance/confidential-config",
                           f"expected {{name = …, pattern = …, severity = …}} in confidential, found {entry!r}")
            continue
        try:
            pattern = re.compile(entry["pattern"])
        except re.error as exc:
            findings.error("compliance/confidential-config",
                           f"expected a valid regular expression for '{entry.get('name', entry['pattern'])}', "
                           f"found an error: {exc}")
            continue
        severity = entry.get("severity", "error")
        if severity not in ("error", "warning", "info"):
            severity = "error"
        rules.append((str(entry.get("name") or entry["pattern"]), pattern, severity))
    return rules


def scan(text: str, config: dict, *, code_free: str | None = None) -> list[tuple[int, int, str, str, str]]:
    """(start, end, kind, severity, masked text) for each finding in `text`.

    `code_free` is the same text with code and comments blanked; internal URLs are looked up there."""
    found = []
    defaults = config.get("confidential_defaults", True) is not False
    if defaults:
        for m in _ID.finditer(text):
            if id_checksum_ok(m.group(0)):
                found.append((m.start(), m.end(), "an ID card number", "error", mask(m.group(0), 3, 1)))
        for m in _PHONE.finditer(text):
            found.append((m.start(), m.end(), "a mobile phone number", "error", mask(m.group(0), 3, 2)))
        hosts = config.get("internal_hosts", DEFAULT_HOSTS)
        for m in _URL.finditer(code_free if code_free is not None else text):
            if _internal(m.group(1), hosts):
                found.append((m.start(), m.end(), f"an internal address ({m.group(1)})", "warning",
                              m.group(0)[:m.end(1) - m.start()] + "/…"))
        for m in _MONEY.finditer(text):
            figure = m.group(0)
            masked = figure[:m.start(2) - m.start()] + re.sub(r"\d", "*", m.group(2)) + figure[m.end(2) - m.start():]
            found.append((m.start(), m.end(), f"a {m.group(1)} figure", "warning", masked))
    for name, pattern, severity in config.get("_custom", []):
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end(), name, severity, mask(m.group(0), 2, 1)))
    found.sort()
    return found


def check(article, rendered, project, now=None) -> list[Finding]:
    findings = FindingList(article.rel)
    config = dict(settings(project))
    config["_custom"] = _custom(config, findings)
    for name, value in (("title", article.meta.title), ("digest", article.meta.digest)):
        for _, _, kind, severity, masked in scan(value or "", config):
            findings.add(severity, RULE, _message(kind, masked, f" in the {name}"), article.line_of(name), field=name)
    body = article.body
    starts = [0] + [m.end() for m in re.finditer("\n", body)]
    for start, _, kind, severity, masked in scan(body, config, code_free=visible_body(body, hide_urls=False)):
        index = bisect.bisect_right(starts, start) - 1
        findings.add(severity, RULE, _message(kind, masked, ""), article.body_line + index,
                     column=start - starts[index] + 1, snippet=masked)
    return findings.items


def _message(kind: str, masked: str, where: str) -> str:
    return (f"expected no confidential data{where}, found {kind}: {masked}; remove it, or ask whoever owns it "
            "whether it may be published")
