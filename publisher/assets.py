"""Assets stage: images made acceptable to WeChat before they are uploaded.

Body images go through `media/uploadimg`, which takes JPEG or PNG under 1 MB; covers and animated
GIFs go through `material/add_material` (10 MB, GIF allowed). WebP, BMP and TIFF are converted,
oversized images recompressed and, if need be, scaled down. The cache key is the sha256 of the
original bytes, so an image is uploaded at most once per account whatever its name.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

BODY_LIMIT = 1_000_000 - 1  # uploadimg: "小于1M"
MATERIAL_LIMIT = 10 * 1024 * 1024
MAX_SIDE = 4096  # larger images are scaled down first: no phone shows more
JPEG_QUALITIES = (90, 85, 78, 70, 60)


class AssetError(Exception):
    pass


@dataclass(frozen=True)
class PreparedImage:
    source: Path
    sha256: str  # of the original bytes: the upload cache key
    data: bytes  # what is uploaded
    filename: str  # sha-based, so material listings can be matched back to the ledger
    endpoint: str  # "uploadimg" or "material"
    note: str = ""  # what was changed, for the run's output

    @property
    def size(self) -> int:
        return len(self.data)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare_body_image(path: Path) -> PreparedImage:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    image = _open(path, raw)
    if image.format == "GIF" and getattr(image, "is_animated", False):
        if len(raw) > MATERIAL_LIMIT:
            raise AssetError(f"{path.name}: an animated GIF must be under 10 MB, found {len(raw) / 1e6:.1f} MB")
        return PreparedImage(path, digest, raw, f"{digest[:16]}.gif", "material", "animated GIF kept as is")
    if image.format in ("JPEG", "PNG") and len(raw) <= BODY_LIMIT:
        extension = "jpg" if image.format == "JPEG" else "png"
        return PreparedImage(path, digest, raw, f"{digest[:16]}.{extension}", "uploadimg")
    data, extension, note = _fit(image, BODY_LIMIT)
    return PreparedImage(path, digest, data, f"{digest[:16]}.{extension}", "uploadimg", note)


def prepare_cover(path: Path) -> PreparedImage:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    image = _open(path, raw)
    if image.format in ("JPEG", "PNG") and len(raw) <= MATERIAL_LIMIT:
        extension = "jpg" if image.format == "JPEG" else "png"
        return PreparedImage(path, digest, raw, f"{digest[:16]}.{extension}", "material")
    data, extension, note = _fit(image, MATERIAL_LIMIT)
    return PreparedImage(path, digest, data, f"{digest[:16]}.{extension}", "material", note)


def _open(path: Path, raw: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except Exception as exc:  # Pillow raises many kinds for damaged files
        raise AssetError(f"{path.name}: not an image Pillow can read ({exc})") from None
    return image


def _fit(image: Image.Image, limit: int) -> tuple[bytes, str, str]:
    """PNG when transparency matters and it fits, otherwise JPEG at the best quality that fits."""
    source_format = image.format or "image"
    image = ImageOps.exif_transpose(image)
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    if _has_alpha(image):
        data = _encode(image, "PNG")
        if len(data) <= limit:
            return data, "png", f"{source_format} converted to PNG"
        image = _flatten(image)
    rgb = image.convert("RGB")
    for attempt in range(6):
        for quality in JPEG_QUALITIES:
            data = _encode(rgb, "JPEG", quality=quality, optimize=True, progressive=True)
            if len(data) <= limit:
                scaled = f", scaled to {rgb.width}×{rgb.height}" if attempt else ""
                return data, "jpg", f"{source_format} recompressed as JPEG (quality {quality}{scaled})"
        rgb = rgb.resize((max(1, rgb.width * 3 // 4), max(1, rgb.height * 3 // 4)), Image.LANCZOS)
    raise AssetError(f"could not bring the image under {limit:,} bytes")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def _flatten(image: Image.Image) -> Image.Image:
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image.convert("RGBA"), mask=image.convert("RGBA").split()[-1])
    return background


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
