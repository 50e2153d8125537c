"""WeChat's limits on what is sent: content size, images, cover. Structure rules live in structure.py."""

from __future__ import annotations

from publisher.findings import FindingList
from publisher.project import Project
from publisher.render import Rendered
from publisher.render.images import (
    ACCEPTED,
    CONVERTIBLE,
    MIN_COVER_CROP_WIDTH,
    ImageProblem,
    cover_crops,
    resolve_image,
)

COVER_MAX_BYTES = 10 * 1024 * 1024  # add_material's image limit


def check_limits(rendered: Rendered, project: Project) -> list:
    article = rendered.article
    findings = FindingList(article.rel)
    limits = project.limits
    if rendered.characters >= limits.content_chars:
        findings.error("limit/content-characters",
                       f"expected fewer than {limits.content_chars:,} characters of text (WeChat's limit), found "
                       f"{rendered.characters:,}; split the article")
    if rendered.size >= limits.content_bytes:
        findings.error("limit/content-size", f"expected less than {limits.content_bytes:,} bytes of HTML, found "
                       f"{rendered.size:,}")
    if len(rendered.digest) > limits.digest:
        findings.error("limit/digest", f"expected a digest of at most {limits.digest} characters, found "
                       f"{len(rendered.digest)}", article.line_of("digest"), field="digest")
    for asset in rendered.assets:
        _check_image(asset, findings, limits.image_bytes, article)
    _check_cover(rendered, findings)
    return findings.items


def _check_image(asset, findings: FindingList, limit: int, article) -> None:
    line = _line_of_src(article, asset.src)
    if asset.format in CONVERTIBLE:
        findings.add("info", "image/convert", f"'{asset.rel}' is {asset.format}, which WeChat does not take; it "
                     "will be converted to JPEG/PNG when published", line)
    elif asset.format not in ACCEPTED:
        findings.error("image/format", f"expected a JPEG, PNG or GIF image, found {asset.format} in '{asset.rel}'", line)
    if asset.format == "GIF" and asset.size > COVER_MAX_BYTES:
        findings.error("image/size", f"expected an animated GIF under 10 MB, found {asset.size / 1e6:.1f} MB "
                       f"in '{asset.rel}'", line)
    elif asset.format != "GIF" and asset.size >= limit:
        findings.add("info", "image/size", f"'{asset.rel}' is {asset.size / 1e6:.1f} MB; WeChat takes body images "
                     "under 1 MB, so it will be recompressed when published", line)


def _line_of_src(article, src: str) -> int | None:
    for number, text in enumerate(article.body.splitlines(), start=article.body_line):
        if src in text:
            return number
    return None


def _check_cover(rendered: Rendered, findings: FindingList) -> None:
    article = rendered.article
    cover = article.meta.cover
    line = article.line_of("cover")
    if not cover:
        findings.warning("cover/missing", "expected a 'cover' image (WeChat needs one to publish), found none",
                         line, field="cover")
        return
    try:
        asset = resolve_image(cover, article.folder, article.root)
    except ImageProblem as problem:
        findings.error(f"cover/{problem.rule.split('/')[-1]}", problem.message, line, field="cover")
        return
    if asset.format not in ACCEPTED and asset.format not in CONVERTIBLE:
        findings.error("cover/format", f"expected a JPEG or PNG cover, found {asset.format}", line, field="cover")
    if asset.size > COVER_MAX_BYTES:
        findings.error("cover/size", f"expected a cover under 10 MB, found {asset.size / 1e6:.1f} MB", line,
                       field="cover")
    x1, _, x2, _ = cover_crops(asset.width, asset.height, article.meta.cover_focus)["2.35_1"]
    crop_width = round((x2 - x1) * asset.width)
    if crop_width < MIN_COVER_CROP_WIDTH:
        findings.warning("cover/too-small", f"expected the 2.35:1 crop of the cover to be at least "
                         f"{MIN_COVER_CROP_WIDTH} px wide (900×383 is ideal), found {crop_width} px from a "
                         f"{asset.width}×{asset.height} image", line, field="cover")
