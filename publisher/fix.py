"""`publisher fix`: apply the copywriting corrections (publisher.lint.copywriting) to Markdown files in place.

Only the body's prose changes: the front matter, code blocks, inline code, link destinations and raw
HTML stay byte for byte, and so do line endings and a byte-order mark. Files are replaced atomically
(a temporary file in the same folder, then os.replace), so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from publisher.content import _split
from publisher.lint.copywriting import fix_body

BOM = "\ufeff"


def fix_text(text: str) -> str:
    """The whole file's text with its body corrected; everything before the body is kept as it is."""
    bom = BOM if text.startswith(BOM) else ""
    text = text[len(bom):]
    _, body, _, _ = _split(text)
    if not body or not text.endswith(body):  # nothing to correct, or a split we cannot trust
        return bom + text
    head = text[: len(text) - len(body)]
    return bom + head + fix_body(body)


@dataclass
class FixResult:
    path: Path
    changed: bool
    error: str | None = None


def fix_file(path: Path, *, check_only: bool = False) -> FixResult:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FixResult(path, False, f"cannot read it as UTF-8 text: {exc}")
    fixed = fix_text(text)
    if fixed == text:
        return FixResult(path, False)
    if not check_only:
        write_atomic(path, fixed.encode("utf-8"))
    return FixResult(path, True)


def write_atomic(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):
            os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def markdown_files(targets: list[Path]) -> list[Path]:
    """The Markdown files named, and every *.md under the folders named, in a stable order."""
    found: list[Path] = []
    for target in targets:
        if target.is_dir():
            found.extend(sorted(p for p in target.rglob("*.md") if p.is_file()))
        else:
            found.append(target)
    return found


def fix_paths(targets: list[Path], *, check_only: bool = False) -> list[FixResult]:
    return [fix_file(path, check_only=check_only) for path in markdown_files(targets)]
