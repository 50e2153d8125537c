"""`publisher new`: an article folder from the template in layouts/new, front matter filled in."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from publisher.project import Project
from publisher.render.layout import environment


class NewArticleError(Exception):
    pass


def slugify(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "-".join(w.lower() for w in words)[:60].strip("-")


def create_article(project: Project, title: str, *, slug: str | None, author: str | None, today: date) -> Path:
    title = title.strip()
    if not title:
        raise NewArticleError("expected a title, found an empty one")
    if len(title) > project.limits.title:
        raise NewArticleError(f"expected a title of at most {project.limits.title} characters (WeChat's limit), "
                              f"found {len(title)}")
    slug = slug or slugify(title) or f"{today:%m%d}-article"
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", slug):
        raise NewArticleError(f"expected a folder name of lowercase letters, digits, '-', '_' or '.', found '{slug}'")
    folder = project.content_dir / str(today.year) / slug
    if folder.exists():
        raise NewArticleError(f"{project.relative(folder)} already exists; choose another --slug")
    template = environment(project.layouts_dir).get_template("new/index.md")
    text = template.render(title=_yaml_text(title), author=_yaml_text(author or project.default_author or ""))
    folder.mkdir(parents=True)
    (folder / "images").mkdir()
    path = folder / "index.md"
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return path


def _yaml_text(value: str) -> str:
    """A double-quoted YAML string that keeps Chinese characters readable."""
    return json.dumps(value, ensure_ascii=False)
