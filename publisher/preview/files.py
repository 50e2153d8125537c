"""Which files the preview server may serve, and how the displayed article finds its images.

Only image files inside the repository are served: a requested path is refused when it is absolute,
has a `..` or hidden segment (`.git`, `.env`, the cache), or resolves (through a symlink) outside the
repository. Mermaid diagrams live in the cache folder, so they have a route of their own that takes a
bare file name.
"""

from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff"}
DIAGRAM_NAME = re.compile(r"^[0-9A-Za-z_-]{1,128}\.png$")
_IMG_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")([^"]*)(")')


def safe_relative(relative: str) -> PurePosixPath | None:
    """`relative` as a clean relative path, or None when it is absolute, climbs or names something hidden."""
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    return PurePosixPath(*parts)


def repository_file(root: Path, relative: str, types: dict[str, str] = IMAGE_TYPES) -> Path | None:
    """The file at `relative` inside `root` if it may be served (an image by default), else None."""
    clean = safe_relative(relative)
    if clean is None or clean.suffix.lower() not in types:
        return None
    root = root.resolve()
    try:
        resolved = (root / clean).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    if resolved.suffix.lower() not in types:  # a symlink to another kind of file
        return None
    return resolved


def file_url(root: Path, path: Path) -> str | None:
    """`/file/<path>` for a file inside the repository, or None."""
    try:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    if safe_relative(relative) is None:
        return None
    return "/file/" + quote(relative)


def display_images(html: str, article_folder: Path, root: Path, cache_dir: Path) -> str:
    """The article HTML with each `<img src>` pointing at this server, for the page only.

    The exact HTML keeps its relative paths (that is what is sent); the page shows the same content
    with the image addresses made absolute, so it does not depend on the page's own URL.
    """

    def replace(match: re.Match) -> str:
        src = unescape(match.group(2))
        url = image_url(src, article_folder, root, cache_dir)
        return match.group(1) + escape(url, quote=True) + match.group(3) if url else match.group(0)

    return _IMG_SRC.sub(replace, html)


def image_url(src: str, article_folder: Path, root: Path, cache_dir: Path) -> str | None:
    parts = urlsplit(src)
    if parts.scheme or parts.netloc:
        return None
    relative = unquote(parts.path)
    name = relative.removeprefix("diagrams/")
    if relative.startswith("diagrams/") and DIAGRAM_NAME.match(name) and (cache_dir / relative).is_file():
        return "/diagram/" + name
    path = (root / relative.lstrip("/")) if relative.startswith("/") else (article_folder / relative)
    return file_url(root, path)
