"""Image provenance: every body image and the cover say who made them and under which licence.

Provenance is an `images:` entry in the front matter (`photo.jpg: {credit: …, license: …}`) or a
sidecar file next to the image, `photo.jpg.credit.yaml` (or `photo.credit.yaml`), holding `credit:`
and `license:`. Missing provenance is an error (`compliance/image-provenance`). The same image
bytes (sha256) credited differently in another article of the repository is a warning
(`compliance/image-provenance-conflict`); the other articles' front matter is read once per run.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import frontmatter
import yaml

from publisher.findings import Finding, FindingList

RULE = "compliance/image-provenance"
CONFLICT = "compliance/image-provenance-conflict"

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)


def image_refs(body: str) -> list[tuple[str, int]]:
    """(src, body line index) of each local image in the body, code blocks skipped."""
    refs, fence = [], None
    for index, line in enumerate(body.split("\n")):
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and not line.strip().strip(fence[0]):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for pattern in (_MD_IMAGE, _HTML_IMAGE):
            for match in pattern.finditer(line):
                src = match.group(1)
                if not urlsplit(src).scheme:
                    refs.append((src, index))
    return refs


def _local(src: str, folder: Path, root: Path) -> Path:
    relative = unquote(urlsplit(src).path)
    return (root / relative.lstrip("/")) if relative.startswith("/") else (folder / relative)


def sidecar(path: Path) -> Path | None:
    for candidate in (path.with_name(path.name + ".credit.yaml"), path.with_suffix(".credit.yaml")):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> tuple[tuple[str, str] | None, str | None]:
    """((credit, license), None) or (None, what is wrong)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, f"expected a readable YAML file, found an error: {exc}"
    if not isinstance(data, dict):
        return None, "expected 'credit:' and 'license:' lines, found something else"
    missing = [k for k in ("credit", "license") if not isinstance(data.get(k), str) or not data[k].strip()]
    if missing:
        return None, f"expected {' and '.join(missing)}, found none"
    return (data["credit"].strip(), data["license"].strip()), None


def _from_front_matter(images: dict, src: str, path: Path, folder: Path) -> tuple[str, str] | None:
    for name, credit in images.items():
        if name == src or _same(folder / unquote(name), path):
            if isinstance(credit, dict):
                return str(credit.get("credit") or ""), str(credit.get("license") or "")
            return credit.credit, credit.license
    return None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


_HASHES: dict[tuple, str] = {}


def file_hash(path: Path) -> str | None:
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in _HASHES:
            _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        return _HASHES[key]
    except OSError:
        return None


_INDEX: dict[tuple, dict[str, list[tuple[str, str, str, str]]]] = {}


def provenance_index(project) -> dict[str, list[tuple[str, str, str, str]]]:
    """sha256 → [(article file, image path, credit, license)] over every article's credited images."""
    content = Path(project.content_dir)
    articles = sorted(content.rglob("*.md")) if content.is_dir() else []
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in articles)
    key = (str(content), stamp)
    if key in _INDEX:
        return _INDEX[key]
    index: dict[str, list[tuple[str, str, str, str]]] = {}
    for md in articles:
        try:
            images = frontmatter.loads(md.read_text(encoding="utf-8-sig")).metadata.get("images") or {}
        except Exception:  # a broken article is reported by its own check
            images = {}
        entries = []
        if isinstance(images, dict):
            for name, credit in images.items():
                if isinstance(credit, dict):
                    entries.append((md.parent / unquote(str(name)),
                                    str(credit.get("credit") or ""), str(credit.get("license") or "")))
        for side in md.parent.glob("*.credit.yaml"):
            found, _ = read_sidecar(side)
            image = side.with_name(side.name.removesuffix(".credit.yaml"))
            if found and image.is_file():
                entries.append((image, *found))
        for image, credit, licence in entries:
            digest = file_hash(image)
            if digest:
                index.setdefault(digest, []).append((str(md.resolve()), project.relative(image), credit, licence))
    if len(_INDEX) > 4:
        _INDEX.clear()
    _INDEX[key] = index
    return index


def check(article, rendered, project, now=None) -> list[Finding]:
    findings = FindingList(article.rel)
    wanted: list[tuple[str, int | None, str]] = []  # (src, file line, what it is)
    if article.meta.cover:
        wanted.append((article.meta.cover, article.line_of("cover"), "the cover"))
    seen = set()
    for src, index in image_refs(article.body):
        if src not in seen:
            seen.add(src)
            wanted.append((src, article.body_line + index, "the body image"))
    if not wanted:
        return findings.items
    index = None
    for src, line, what in wanted:
        path = _local(src, article.folder, article.root)
        if not path.is_file() or not path.resolve().is_relative_to(article.root.resolve()):
            continue  # a remote, missing or out-of-repository image is reported by the image rules
        credit = _from_front_matter(article.meta.images, src, path, article.folder)
        if credit is None:
            side = sidecar(path)
            if side is not None:
                credit, problem = read_sidecar(side)
                if problem:
                    findings.error(RULE, f"expected credit and license for {what} '{src}' in "
                                   f"{project.relative(side)}: {problem}", line)
                    continue
        if credit is None:
            findings.error(RULE, f"expected provenance for {what} '{src}', found none; add "
                           f"'images: {{{src}: {{credit: …, license: …}}}}' to the front matter or a sidecar file "
                           f"'{Path(src).name}.credit.yaml' next to the image", line, field="cover"
                           if what == "the cover" else None)
            continue
        digest = file_hash(path)
        if digest is None:
            continue  # a missing image is reported by the image rules
        if index is None:
            index = provenance_index(project)
        me = str(article.path.resolve())
        for other, image, o_credit, o_licence in index.get(digest, []):
            if other == me or (o_credit.strip(), o_licence.strip()) == (credit[0].strip(), credit[1].strip()):
                continue
            findings.warning(CONFLICT, f"expected the same provenance for the same image, found {what} '{src}' "
                             f"credited '{credit[0]}' ({credit[1]}) here but '{o_credit}' ({o_licence}) for "
                             f"{image} in {project.relative(Path(other))}", line)
            break
    return findings.items
