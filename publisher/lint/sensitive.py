"""Sensitive words: word lists matched with an Aho-Corasick automaton over what readers see.

Scanned: the title, the digest, the body text (fenced code, inline code, URLs and HTML comments
skipped), image alt text and captions (they are part of the body's text). Before matching, text and
words are normalised the same way: NFKC (full-width → half-width), case folded, and characters that
can be slipped between the letters of a word (spaces, line breaks, most punctuation, zero-width
characters) dropped. Clause and sentence punctuation (，。；：！？、 and , ; : ! ?), a blank line and a
skipped span are hard breaks a word never matches across. Every normalised character keeps the
offset of the original character it came from, so findings point at the original line and column.

Settings, `[tool.publisher.compliance]`:

    wordlists = [{path = "wordlists/ads.txt", category = "广告法", severity = "error"},
                 {path = "$PRIVATE_WORDLISTS/politics", category = "政治", severity = "error"}]
    allow = ["国家级非物质文化遗产"]

A path is a .txt file or a folder of them (one word per line, `#` starts a comment line); it may
start with `$ENV_VAR/` to point outside the repository. Without `wordlists`, the small demonstration
list `publisher/wordlists/demo.txt` is used (warnings). `<!-- publisher: allow 词 reason="…" -->` on the
same or the previous line accepts one occurrence; it is then reported as info with the reason.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from publisher.findings import Finding, FindingList, shorten

RULE = "compliance/sensitive-word"
DEMO_LIST = Path(__file__).resolve().parent.parent / "wordlists" / "demo.txt"
SEVERITIES = ("error", "warning", "info")

_HARD = "，。！？；：、,!?;:\u3002\uff61\uff0c\uff01\uff1f\uff1b\uff1a\uff64"
_BREAK = "\x00"
# a run of word characters | a hard break (masked span, blank line, clause punctuation)
_TOKENS = re.compile(rf"([^\W_]+)|(\x00+|\n[ \t]*\n|[{_HARD}])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_URL = re.compile(r"(?:https?|ftp|mailto):[^\s<>\"'）)\]]+|www\.[^\s<>\"'）)\]]+", re.I)
_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")  # the target of a link or image, not its caption
_HTML_ATTR_URL = re.compile(r"\b(?:src|href)\s*=\s*(\"[^\"]*\"|'[^']*')", re.I)
_MARKER = re.compile(r"<!--\s*publisher:\s*allow\s+(.+?)(?:\s+reason\s*=\s*\"([^\"]*)\")?\s*-->")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class WordList:
    words: tuple[str, ...]
    digest: str  # sha256 of the words, the automaton cache's key
    category: str
    severity: str


@dataclass(frozen=True)
class Hit:
    start: int  # offsets in the original text, end exclusive
    end: int
    word: str
    category: str
    severity: str


# ---- normalisation -------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def normalise(text: str) -> tuple[str, list[int]]:
    """(normalised text, for each of its characters the offset of the original character)."""
    out: list[str] = []
    where: list[int] = []
    for match in _TOKENS.finditer(text):
        start = match.start()
        if match.group(2) is not None:
            if not out or out[-1] != _BREAK:
                out.append(_BREAK)
                where.append(start)
            continue
        run = match.group(1)
        folded = _fold(run)
        if len(folded) == len(run):
            out.append(folded)
            where.extend(range(start, start + len(run)))
            continue
        for i, char in enumerate(run):  # a character that folds into several (ß → ss, ㈱ → (株))
            piece = "".join(c for c in _fold(char) if c.isalnum())
            out.append(piece)
            where.extend([start + i] * len(piece))
    return "".join(out), where


def normalise_word(word: str) -> str:
    folded = _fold(word)
    if folded.isalnum():
        return folded
    return "".join(m.group(1) for m in _TOKENS.finditer(_fold(word)) if m.group(1))


# ---- word lists and the automaton ----------------------------------------------------------------

class WordListError(Exception):
    pass


def resolve_path(spec: str, root: Path) -> Path:
    match = re.match(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?(?:[/\\](.*))?$", spec)
    if match:
        value = os.environ.get(match.group(1))
        if not value:
            raise WordListError(f"expected the environment variable ${match.group(1)} (word list '{spec}') "
                                "to be set, found it unset")
        return Path(value) / (match.group(2) or "")
    path = Path(spec).expanduser()
    return path if path.is_absolute() else root / path


def read_words(path: Path) -> list[str]:
    if path.is_dir():
        files = sorted(path.rglob("*.txt"))
    elif path.is_file():
        files = [path]
    else:
        raise WordListError(f"expected a word list file or folder at '{path}', found none")
    words = []
    for file in files:
        for line in file.read_text(encoding="utf-8-sig").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                words.append(line)
    return words


_FILE_CACHE: dict[tuple, tuple[tuple[str, ...], str]] = {}


def _cached_words(path: Path) -> tuple[tuple[str, ...], str]:
    """(words, sha256 of them) for a list file or folder, read again only when a file changed."""
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size)
                  for f in ([path] if path.is_file() else sorted(path.rglob("*.txt")) if path.is_dir() else []))
    key = (str(path), stamp)
    if key not in _FILE_CACHE:
        words = tuple(read_words(path))
        _FILE_CACHE[key] = words, hashlib.sha256("\n".join(words).encode()).hexdigest()
    return _FILE_CACHE[key]


def settings(project) -> dict:
    raw = getattr(project, "raw", None) or {}
    value = raw.get("compliance", {})
    return value if isinstance(value, dict) else {}


def load_lists(project) -> tuple[list[WordList], list[str]]:
    """The configured word lists (or the demonstration list) and problems reading them."""
    config = settings(project).get("wordlists")
    if not config:
        return [WordList(*_cached_words(DEMO_LIST), "示例词表", "warning")], []
    lists, problems = [], []
    entries = config if isinstance(config, list) else [config]
    for entry in entries:
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            problems.append(f"expected {{path = …, category = …, severity = …}} in wordlists, found {entry!r}")
            continue
        severity = entry.get("severity", "error")
        if severity not in SEVERITIES:
            problems.append(f"expected severity error, warning or info for '{entry['path']}', found '{severity}'")
            severity = "error"
        try:
            words, digest = _cached_words(resolve_path(entry["path"], project.root))
        except (WordListError, OSError, UnicodeDecodeError) as exc:
            problems.append(str(exc))
            continue
        lists.append(WordList(words, digest, str(entry.get("category") or Path(entry["path"]).stem), severity))
    return lists, problems


def _bytes(text: str) -> str:
    """UTF-8 bytes as a str of code points 0-255: pyahocorasick's nodes then have at most 256 children,
    where 50,000 CJK words give the root tens of thousands (100 times slower to walk)."""
    return text.encode("utf-8").decode("latin-1")


class Matcher:
    """An automaton over the normalised words of some lists, with the allowlist as a second one.

    Both are keyed by UTF-8 bytes (see `_bytes`); UTF-8 is self-synchronising, so a word's bytes only
    ever match at a character boundary of the text."""

    def __init__(self, lists: list[WordList], allow: list[str]):
        self.words = ahocorasick.Automaton()
        for wordlist in lists:
            for word in wordlist.words:
                key = normalise_word(word)
                if not key:
                    continue
                encoded = _bytes(key)
                if encoded not in self.words:  # the first list that names a word decides
                    latin = bool(_ASCII_WORD.match(key[0])), bool(_ASCII_WORD.match(key[-1]))
                    self.words.add_word(encoded, (len(encoded), word, wordlist.category, wordlist.severity,
                                                  latin))
        self.allow = ahocorasick.Automaton()
        for phrase in allow:
            key = normalise_word(phrase)
            if key:
                self.allow.add_word(_bytes(key), len(_bytes(key)))
        self.empty = len(self.words) == 0
        if not self.empty:
            self.words.make_automaton()
        if len(self.allow):
            self.allow.make_automaton()

    def scan(self, text: str) -> list[Hit]:
        if self.empty or not text:
            return []
        norm, where = normalise(text)
        encoded = _bytes(norm)
        ascii_only = len(encoded) == len(norm)
        allowed = []
        if len(self.allow):
            allowed = [(end - length + 1, end) for end, length in self.allow.iter(encoded)]
        hits = []
        for end, (length, word, category, severity, latin) in self.words.iter(encoded):
            start = end - length + 1
            if any(a <= start and end <= b for a, b in allowed):
                continue
            if ascii_only:
                first, last = where[start], where[end] + 1
            else:  # byte offsets → character offsets; only for hits, which are rare
                raw = encoded.encode("latin-1")
                first = where[len(raw[:start].decode("utf-8"))]
                last = where[len(raw[:end + 1].decode("utf-8")) - 1] + 1
            if latin[0] and first > 0 and _ASCII_WORD.match(text[first - 1]):
                continue  # "ass" inside "class": Latin words match whole words only
            if latin[1] and last < len(text) and _ASCII_WORD.match(text[last]):
                continue
            hits.append(Hit(first, last, word, category, severity))
        # a longer word wins over the words inside it at the same place
        hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
        kept: list[Hit] = []
        for hit in hits:
            if kept and hit.start < kept[-1].end and hit.end <= kept[-1].end:
                continue
            kept.append(hit)
        return kept


_MATCHERS: dict[str, Matcher] = {}


def matcher_for(lists: list[WordList], allow: list[str]) -> Matcher:
    """One automaton per word-list content: built once, reused by every article of the run."""
    digest = hashlib.sha256()
    for wordlist in lists:
        digest.update(f"\x01{wordlist.category}\x02{wordlist.severity}\x02".encode())
        digest.update(wordlist.digest.encode())
    digest.update(("\x03" + "\n".join(allow)).encode())
    key = digest.hexdigest()
    if key not in _MATCHERS:
        if len(_MATCHERS) > 8:
            _MATCHERS.clear()
        _MATCHERS[key] = Matcher(lists, allow)
    return _MATCHERS[key]


# ---- what is scanned -----------------------------------------------------------------------------

def _blank(match: re.Match, group: int = 0) -> str:
    whole = match.group(0)
    s, e = match.start(group) - match.start(), match.end(group) - match.start()
    inner = re.sub(r"[^\n]", _BREAK, whole[s:e])
    return whole[:s] + inner + whole[e:]


def visible_body(body: str, *, hide_urls: bool = True) -> str:
    """The body with code, comments and (unless told otherwise) URLs and link targets replaced by break
    characters; the same length, so offsets still point into the original."""
    lines = body.split("\n")
    fence = None
    for i, line in enumerate(lines):
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
            lines[i] = _BREAK * len(line)
        elif opening:
            fence = opening.group(1)
            lines[i] = _BREAK * len(line)
    text = "\n".join(lines)
    text = _COMMENT.sub(_blank, text)
    text = _INLINE_CODE.sub(_blank, text)
    if not hide_urls:
        return text
    text = _LINK_TARGET.sub(lambda m: _blank(m, 1), text)
    text = _HTML_ATTR_URL.sub(_blank, text)
    text = _URL.sub(_blank, text)
    return text


def _markers(body: str) -> dict[int, list[list]]:
    """Body line index → [normalised word, reason, used] for each allow marker on that line."""
    found: dict[int, list[list]] = {}
    for index, line in enumerate(body.split("\n")):
        for match in _MARKER.finditer(line):
            found.setdefault(index, []).append([normalise_word(match.group(1).strip()), match.group(2), False])
    return found


def _field_column(article, name: str, value: str) -> int | None:
    line = article.line_of(name)
    if not line:
        return None
    try:
        text = article.path.read_text(encoding="utf-8-sig").split("\n")[line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    at = text.find(value[:8]) if value else -1
    return at + 1 if at >= 0 else None


def check(article, rendered, project, now=None) -> list[Finding]:
    findings = FindingList(article.rel)
    lists, problems = load_lists(project)
    for problem in problems:
        findings.error("compliance/wordlist", problem)
    config = settings(project)
    allow = [str(a) for a in config.get("allow", []) or []] if isinstance(config.get("allow", []), list) else []
    matcher = matcher_for(lists, allow)
    if matcher.empty:
        return findings.items

    for name, value in (("title", article.meta.title), ("digest", article.meta.digest)):
        if not value:
            continue
        column = _field_column(article, name, value)
        for hit in matcher.scan(value):
            _report(findings, hit, value, article.line_of(name),
                    (column + hit.start) if column else None, field=name)

    body = article.body
    text = visible_body(body)
    starts = [0] + [m.end() for m in re.finditer("\n", body)]
    markers = _markers(body)
    lines = body.split("\n")
    for hit in matcher.scan(text):
        index = bisect.bisect_right(starts, hit.start) - 1
        column = hit.start - starts[index] + 1
        reason = _accept(markers, index, normalise_word(hit.word))
        context = _context(lines[index], column - 1, hit.end - hit.start)
        _report(findings, hit, body, article.body_line + index, column, context=context, reason=reason)
    return findings.items


def _accept(markers, index: int, key: str) -> str | None:
    for line in (index, index - 1):
        for marker in markers.get(line, []):
            if not marker[2] and marker[0] == key:
                marker[2] = True
                return marker[1] or "no reason given"
    return None


def _context(line: str, at: int, length: int) -> str:
    left, right = max(0, at - 12), at + length + 12
    return ("…" if left else "") + line[left:right].strip() + ("…" if right < len(line) else "")


def _report(findings: FindingList, hit: Hit, source: str, line, column, *, field=None, context=None,
            reason=None) -> None:
    found = source[hit.start:hit.end]
    written = "" if found == hit.word else f", written as '{shorten(found, 40)}'"
    where = f" in the {field}" if field else ""
    if reason is not None:
        findings.add("info", RULE, f"sensitive word '{hit.word}' ({hit.category}){where}{written} accepted by an "
                     f"allow marker: {reason}", line, column=column, field=field, snippet=context or found)
        return
    findings.add(hit.severity, RULE, f"expected no words from the '{hit.category}' list{where}, found "
                 f"'{hit.word}'{written}; rephrase it, add it to [tool.publisher.compliance] allow, or accept "
                 f"this one with <!-- publisher: allow {hit.word} reason=\"…\" -->", line, column=column,
                 field=field, snippet=context or shorten(found, 60))
