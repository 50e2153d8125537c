"""The check cache: findings per article, keyed by a hash of everything that shapes them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from publisher.findings import Finding
from publisher.project import Project


class CheckCache:
    def __init__(self, project: Project):
        from publisher.render import RENDERER_VERSION

        self.project = project
        self.file = project.cache_dir / f"check-{RENDERER_VERSION}.json"
        self.entries: dict = self._read()
        self.dirty = False
        self.base = self._base_key(RENDERER_VERSION)

    def _read(self) -> dict:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}  # a missing or damaged cache only costs time

    def _base_key(self, version: str) -> str:
        """Settings, templates, themes and the publisher's own code: a change to any re-checks every article."""
        digest = hashlib.sha256(version.encode())
        digest.update(json.dumps(self.project.raw, sort_keys=True, default=str).encode())
        package = Path(__file__).parent
        for source in sorted(package.rglob("*.py")):  # a new or changed rule must not be hidden by old results
            digest.update(source.relative_to(package).as_posix().encode() + source.read_bytes())
        for folder in (self.project.layouts_dir, package / "layouts"):
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        digest.update(path.as_posix().encode() + path.read_bytes())
        return digest.hexdigest()

    def _key(self, path: Path, deps: list[str]) -> str | None:
        try:
            digest = hashlib.sha256(self.base.encode() + path.read_bytes())
        except OSError:
            return None
        for dep in deps:
            digest.update(_fingerprint(self.project.root / dep).encode())
        return digest.hexdigest()

    def get(self, rel: str, path: Path) -> dict | None:
        entry = self.entries.get(rel)
        if not entry or entry.get("key") != self._key(path, entry.get("deps", [])):
            return None
        return {"findings": [Finding.from_dict(f) for f in entry["findings"]], "characters": entry.get("characters")}

    def put(self, rel: str, findings: list[Finding], characters: int | None, deps: list[Path]) -> None:
        dep_names = sorted({self.project.relative(p) for p in deps})
        self.entries[rel] = {"key": self._key(self.project.root / rel, dep_names), "deps": dep_names,
                             "characters": characters, "findings": [f.to_dict() for f in findings]}
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.entries, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.file)  # never a half-written cache


def _fingerprint(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
