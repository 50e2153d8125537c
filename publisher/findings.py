"""Findings: what `check` reports. Every stage that can find a problem returns these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    path: str  # repository-relative, forward slashes
    line: int | None  # 1-based; None when the problem has no single place
    rule: str  # stable identifier, e.g. "front-matter/title-too-long", "structure/line-height"
    severity: str  # one of SEVERITIES
    message: str  # says what was expected and what was found
    column: int | None = None
    field: str | None = None  # front-matter or config field, when there is one
    snippet: str | None = None  # the offending text or outerHTML, shortened

    def to_dict(self) -> dict:
        """Required fields always (line may be null); optional ones only when set."""
        required = ("path", "line", "rule", "severity", "message")
        return {k: v for k, v in asdict(self).items() if k in required or v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        return cls(**data)


@dataclass
class FindingList:
    """Collects findings for one file; `at` fills in the path."""

    path: str
    items: list[Finding] = field(default_factory=list)

    def add(self, severity: str, rule: str, message: str, line: int | None = None, **extra) -> None:
        self.items.append(Finding(self.path, line, rule, severity, message, **extra))

    def error(self, rule: str, message: str, line: int | None = None, **extra) -> None:
        self.add("error", rule, message, line, **extra)

    def warning(self, rule: str, message: str, line: int | None = None, **extra) -> None:
        self.add("warning", rule, message, line, **extra)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.items)


def shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
