"""Settings: `[tool.publisher]` in the repository's pyproject.toml, validated with located errors."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_FILE = "pyproject.toml"


class ConfigError(Exception):
    """A problem in the settings; the CLI prints it and exits 2."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str):
        super().__init__(message)
        self.path, self.line, self.field, self.message = path, line, field, message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass(frozen=True)
class Limits:
    title: int = 32
    author: int = 16
    digest: int = 120
    content_chars: int = 20_000
    content_bytes: int = 1_000_000
    image_bytes: int = 1_000_000


ACCOUNT_TYPES = ("subscription", "service")  # 订阅号, 服务号
MODES = ("draft", "publish", "mass")


@dataclass(frozen=True)
class Account:
    """One WeChat account. Credentials come from environment variables named here, never from files."""

    name: str = "main"
    type: str = "subscription"
    verified: bool = True
    app_id_env: str = "WECHAT_APP_ID"
    app_secret_env: str = "WECHAT_APP_SECRET"
    api_base_env: str = "WECHAT_API_BASE"
    default_mode: str = "publish"
    grace_hours: float = 6.0  # a push later than this is "missed": reported, sent only with --send-missed

    @property
    def allowed_modes(self) -> tuple[str, ...]:
        # since July 2025 unverified and personal accounts can only create drafts
        return MODES if self.verified else ("draft",)

    @property
    def label(self) -> str:
        kind = "订阅号" if self.type == "subscription" else "服务号"
        return f"{self.name} ({kind}, {'verified' if self.verified else 'unverified'})"


@dataclass
class Project:
    root: Path
    content: str = "content"
    calendar: str = "calendar.yaml"
    layouts: str = "layouts"
    theme: str = "default"
    timezone: str = "Asia/Shanghai"
    default_author: str = ""
    cache: str = ".publisher-cache"
    limits: Limits = field(default_factory=Limits)
    accounts: tuple[Account, ...] = (Account(),)
    ledger_branch: str = "publisher-ledger"
    supervisors: tuple[str, ...] = ()  # GitHub logins whose PR approval allows publication
    raw: dict = field(default_factory=dict)  # the whole [tool.publisher] table, for later stages

    def account(self, name: str | None = None) -> Account:
        if name is None:
            return self.accounts[0]
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts)
        raise ConfigError(CONFIG_FILE, None, "--account", f"expected one of the accounts {known}, found '{name}'")

    @property
    def content_dir(self) -> Path:
        return self.root / self.content

    @property
    def layouts_dir(self) -> Path:
        return self.root / self.layouts

    @property
    def calendar_path(self) -> Path:
        return self.root / self.calendar

    @property
    def cache_dir(self) -> Path:
        return self.root / self.cache

    def relative(self, path: Path) -> str:
        """A path as shown to people: relative to the repository when inside it."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


_STRING_KEYS = ("content", "calendar", "layouts", "theme", "timezone", "default_author", "cache", "ledger_branch")
_TABLE_KEYS = ("limits", "accounts", "supervisors", "preview_to", "compliance")


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` whose pyproject.toml has a [tool.publisher] table."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file() and "[tool.publisher" in candidate.read_text(encoding="utf-8", errors="replace"):
            return folder
    return None


def load_project(start: Path | None = None) -> Project:
    start = Path.cwd() if start is None else start
    root = find_root(start)
    if root is None:
        return Project(root=start.resolve())
    config_path = root / CONFIG_FILE
    text = config_path.read_text(encoding="utf-8")
    try:
        table = tomllib.loads(text).get("tool", {}).get("publisher", {})
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(CONFIG_FILE, line, None, f"invalid TOML: {exc}") from None
    return _project_from_table(root, table, text)


def _project_from_table(root: Path, table: dict, text: str) -> Project:
    known = set(_STRING_KEYS) | set(_TABLE_KEYS)
    for key, value in table.items():
        line = _key_line(text, key)
        if key not in known:
            hint = difflib.get_close_matches(key, sorted(known), n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; known settings: {', '.join(sorted(known))}"
            raise ConfigError(CONFIG_FILE, line, f"tool.publisher.{key}", f"unknown setting{suggestion}")
        if key in _STRING_KEYS and not isinstance(value, str):
            raise ConfigError(CONFIG_FILE, line, f"tool.publisher.{key}",
                              f"expected text, found {type(value).__name__} {value!r}")
    values = {key: table[key] for key in _STRING_KEYS if key in table}
    project = Project(root=root, limits=_limits(table.get("limits", {}), text),
                      accounts=_accounts(table.get("accounts"), text),
                      supervisors=_supervisors(table.get("supervisors", []), text), raw=table, **values)
    _check_timezone(project, text)
    _check_theme(project, text)
    for key in ("content", "layouts", "calendar", "cache"):
        _check_inside(root, getattr(project, key), key, text)
    return project


def _limits(table: dict, text: str) -> Limits:
    defaults = Limits()
    values = {}
    for key, value in table.items():
        line = _key_line(text, key)
        if not hasattr(defaults, key):
            raise ConfigError(CONFIG_FILE, line, f"tool.publisher.limits.{key}",
                              f"unknown limit; known: {', '.join(defaults.__dataclass_fields__)}")
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(CONFIG_FILE, line, f"tool.publisher.limits.{key}",
                              f"expected a positive whole number, found {value!r}")
        values[key] = value
    return Limits(**values)


def _supervisors(value, text: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(CONFIG_FILE, _key_line(text, "supervisors"), "tool.publisher.supervisors",
                          f"expected a list of GitHub logins such as [\"alice\"], found {value!r}")
    return tuple(v.strip().lstrip("@") for v in value)


def _accounts(entries, text: str) -> tuple[Account, ...]:
    if entries is None:
        return (Account(),)
    if not isinstance(entries, list) or not entries:
        raise ConfigError(CONFIG_FILE, _key_line(text, "accounts"), "tool.publisher.accounts",
                          "expected [[tool.publisher.accounts]] tables, one per account")
    accounts = [_account(entry, index, text) for index, entry in enumerate(entries)]
    names = [a.name for a in accounts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(CONFIG_FILE, _key_line(text, "accounts"), "tool.publisher.accounts",
                          f"expected distinct account names, found '{duplicates[0]}' twice")
    return tuple(accounts)


def _account(entry: dict, index: int, text: str) -> Account:
    where = f"tool.publisher.accounts[{index}]"
    line = _key_line(text, "accounts")
    defaults = Account()
    values = {}
    for key, value in entry.items():
        if key not in Account.__dataclass_fields__:
            hint = difflib.get_close_matches(key, list(Account.__dataclass_fields__), n=1)
            raise ConfigError(CONFIG_FILE, _key_line(text, key) or line, f"{where}.{key}",
                              "unknown account setting" + (f"; did you mean '{hint[0]}'?" if hint else ""))
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ConfigError(CONFIG_FILE, _key_line(text, key) or line, f"{where}.{key}",
                              f"expected {expected.__name__}, found {value!r}")
        values[key] = value
    account = Account(**values)
    if account.type not in ACCOUNT_TYPES:
        raise ConfigError(CONFIG_FILE, _key_line(text, "type") or line, f"{where}.type",
                          f"expected subscription (订阅号) or service (服务号), found '{account.type}'")
    if account.default_mode not in MODES:
        raise ConfigError(CONFIG_FILE, _key_line(text, "default_mode") or line, f"{where}.default_mode",
                          f"expected draft, publish or mass, found '{account.default_mode}'")
    return account


def _check_timezone(project: Project, text: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(project.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(CONFIG_FILE, _key_line(text, "timezone"), "tool.publisher.timezone",
                          f"expected an IANA time zone such as 'Asia/Shanghai', found {project.timezone!r}") from None


def _check_theme(project: Project, text: str) -> None:
    from publisher.render.layout import available_themes

    known = available_themes(project.layouts_dir)
    if project.theme not in known:
        hint = difflib.get_close_matches(project.theme, known, n=1)
        raise ConfigError(CONFIG_FILE, _key_line(text, "theme"), "tool.publisher.theme",
                          f"expected one of the themes {', '.join(known)}, found '{project.theme}'"
                          + (f"; did you mean '{hint[0]}'?" if hint else ""))


def _check_inside(root: Path, relative: str, key: str, text: str) -> None:
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise ConfigError(CONFIG_FILE, _key_line(text, key), f"tool.publisher.{key}",
                          f"expected a path inside the repository, found {relative!r}")


def _key_line(text: str, key: str) -> int | None:
    """The line of `key = …` inside the [tool.publisher…] tables (tomllib keeps no positions)."""
    in_section = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.startswith("[tool.publisher") or stripped.startswith("[[tool.publisher")
            if in_section and stripped.rstrip("]").endswith("." + key):
                return number
            continue
        if in_section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
