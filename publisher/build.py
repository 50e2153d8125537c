"""`publisher build`: for each article the exact content HTML, a phone preview page and manifest.json.

Files are written to a temporary name and renamed into place, so an interrupted build never leaves
a half-written file; images are copied beside the HTML so the preview shows them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from publisher.check import analyse_article
from publisher.content import ArticleError
from publisher.findings import Finding
from publisher.project import Project
from publisher.render.images import ImageProblem, cover_crops, resolve_image
from publisher.render.layout import environment

PHONE_WIDTH = 375


@dataclass
class BuiltArticle:
    key: str
    rel: str
    entry: dict | None  # manifest entry; None when the article could not be read
    findings: list[Finding]


def build(project: Project, paths: list[Path], out: Path, *, account: str = "公众号预览", progress=None) -> list[BuiltArticle]:
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for path in paths:
        results.append(build_article(project, path, out, account))
        if progress:
            progress()
    manifest = {"articles": [r.entry for r in results if r.entry], "budget": project.limits.content_chars}
    write_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return results


def build_article(project: Project, path: Path, out: Path, account: str) -> BuiltArticle:
    try:
        rendered, findings = analyse_article(project, path)
    except ArticleError as exc:
        return BuiltArticle(path.parent.name, project.relative(path), None, exc.findings)
    article = rendered.article
    target = out / article.key
    target.mkdir(parents=True, exist_ok=True)
    write_atomic(target / "content.html", rendered.html)
    write_atomic(target / "preview.html", preview_page(rendered, project, account))
    images = _copy_images(rendered, article, target)
    entry = {
        "key": article.key, "source": article.rel, "title": article.meta.title, "author": article.meta.author,
        "digest": rendered.digest, "theme": rendered.theme.name,
        "characters": rendered.characters, "budget": project.limits.content_chars,
        "budget_used": round(rendered.characters / project.limits.content_chars, 4), "bytes": rendered.size,
        "content": f"{article.key}/content.html", "preview": f"{article.key}/preview.html",
        "cover": _cover_entry(article), "images": images,
        "references": [{"number": n.number, "kind": n.kind, "label": n.label, "url": n.url}
                       for n in rendered.references.notes],
        "findings": [f.to_dict() for f in findings],
    }
    return BuiltArticle(article.key, article.rel, entry, findings)


def preview_page(rendered, project: Project, account: str, width: int = PHONE_WIDTH) -> str:
    template = environment(project.layouts_dir).get_template("preview.html")
    return template.render(title=rendered.article.meta.title, author=rendered.article.meta.author,
                           account=account, content=Markup(rendered.html), width=width)


def _copy_images(rendered, article, target: Path) -> list[dict]:
    images = []
    for asset in rendered.assets:
        destination = (target / asset.src).resolve()
        if destination.is_relative_to(target.resolve()):  # the src stays inside the article's output folder
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(asset.path, destination)
        credit = article.meta.images.get(asset.src)
        images.append({"src": asset.src, "path": asset.rel, "width": asset.width, "height": asset.height,
                       "format": asset.format, "bytes": asset.size,
                       "credit": credit.credit if credit else None, "license": credit.license if credit else None})
    if article.meta.cover:
        try:
            cover = resolve_image(article.meta.cover, article.folder, article.root)
            destination = (target / article.meta.cover).resolve()
            if destination.is_relative_to(target.resolve()):
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(cover.path, destination)
        except ImageProblem:
            pass  # reported by check_limits
    return images


def _cover_entry(article) -> dict | None:
    if not article.meta.cover:
        return None
    try:
        cover = resolve_image(article.meta.cover, article.folder, article.root)
    except ImageProblem:
        return None
    crops = cover_crops(cover.width, cover.height, article.meta.cover_focus)
    return {"src": article.meta.cover, "width": cover.width, "height": cover.height, "focus": article.meta.cover_focus,
            "crops": {name: "_".join(f"{v:g}" for v in box) for name, box in crops.items()}}


def write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
