"""Images: resolve a path from the article, keep it inside the repository, read its size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image, UnidentifiedImageError

ACCEPTED = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}  # what WeChat takes (GIF through add_material)
CONVERTIBLE = {"WEBP", "BMP", "TIFF", "MPO"}  # converted to JPEG/PNG when published


@dataclass(frozen=True)
class Asset:
    src: str  # as written in the article, relative to the article folder
    path: Path  # resolved file
    rel: str  # repository-relative path, shown to people
    width: int
    height: int
    format: str  # Pillow's name: JPEG, PNG, GIF, WEBP…
    size: int  # bytes
    animated: bool = False


class ImageProblem(Exception):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule, self.message = rule, message


def resolve_image(src: str, article_folder: Path, root: Path) -> Asset:
    """The Asset for `src`, or ImageProblem saying what was expected and what was found."""
    parts = urlsplit(src)
    if parts.scheme in ("http", "https"):
        raise ImageProblem("image/remote", f"expected an image file next to the article, found a web address "
                           f"'{src}': WeChat filters images that were not uploaded; download it into the "
                           "article folder and link it by its file name")
    if parts.scheme:
        raise ImageProblem("image/scheme", f"expected a file path, found a '{parts.scheme}:' address")
    relative = unquote(parts.path)
    path = (root / relative.lstrip("/")) if relative.startswith("/") else (article_folder / relative)
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ImageProblem("image/outside-repository",
                           f"expected a path inside the repository, found '{src}', which leads outside it")
    if not resolved.is_file():
        raise ImageProblem("image/missing", f"expected an image file at '{_show(resolved, root)}', found none")
    return _read(src, resolved, root)


def _read(src: str, path: Path, root: Path) -> Asset:
    try:
        with Image.open(path) as image:
            width, height = image.size
            animated = bool(getattr(image, "is_animated", False))
            fmt = image.format or "unknown"
    except (UnidentifiedImageError, OSError):
        raise ImageProblem("image/unreadable", f"expected a JPEG, PNG or GIF image, found a file Pillow cannot "
                           f"read: '{_show(path, root)}'") from None
    return Asset(src, path, _show(path, root), width, height, fmt, path.stat().st_size, animated)


def _show(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


COVER_RATIOS = {"2.35_1": 2.35, "1_1": 1.0}
MIN_COVER_CROP_WIDTH = 600  # px of the 2.35:1 crop below which the feed card looks blurred


def cover_crops(width: int, height: int, focus: str = "center") -> dict[str, tuple[float, float, float, float]]:
    """WeChat's pic_crop_235_1 / pic_crop_1_1: the largest crop of each ratio around the focus,
    as (x1, y1, x2, y2) fractions of the image with the origin at the top left."""
    crops = {}
    for name, ratio in COVER_RATIOS.items():
        crop_w, crop_h = (height * ratio, height) if width / height >= ratio else (width, width / ratio)
        x = _place(width - crop_w, focus, ("left", "right"))
        y = _place(height - crop_h, focus, ("top", "bottom"))
        crops[name] = tuple(round(v, 4) for v in (x / width, y / height, (x + crop_w) / width, (y + crop_h) / height))
    return crops


def _place(room: float, focus: str, ends: tuple[str, str]) -> float:
    if focus == ends[0]:
        return 0.0
    if focus == ends[1]:
        return room
    return room / 2
