"""Output size of the shared anchor sample rendered by us, against doocs/md and wenyan, in UTF-8 bytes.

    python bench/size.py

`../shared/anchors/sample.md` is copied into a temporary folder with the images it references
(`cover.jpg`, `images/local.png`, made by Pillow), so it renders like a real article; the size is
that of `Rendered.html`, the exact content `publisher build` writes and WeChat receives. The other
two are the saved outputs `../shared/anchors/doocs-md-0.1.4.copy-cite.html` and
`../shared/anchors/wenyan-core-3.0.10.default.html`.

Target: ours <= 0.7 × the smaller of the two. For context, sizes without math SVG are shown too
(ours: the <svg> inside math-inline/math-block wrappers; theirs: MathJax's <svg>, recognised by
`data-mml-node`; diagram and decoration SVGs stay in). The Mermaid diagram is shown apart: theirs
is an inline SVG, ours a PNG <img> (drawn by Chromium, uploaded as an image) or, without
Chromium, a code block.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

from _common import SHARED, jpeg_bytes, machine, png_bytes, print_table, verdict

RATIO = 0.7
ANCHORS = SHARED / "anchors"
OTHERS = {"doocs/md 0.1.4 (copy, cite)": "doocs-md-0.1.4.copy-cite.html",
          "wenyan-core 3.0.10 (default)": "wenyan-core-3.0.10.default.html"}
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


_OUR_MATH = re.compile(r'<(?:span|section) class="math-(?:inline|block)"[^>]*>(<svg\b.*?</svg>)', re.S)


def without_theirs_math(html: str) -> str:
    return _SVG.sub(lambda m: "" if "data-mml-node" in m.group() else m.group(), html)


def without_our_math(html: str, annotated: str) -> str:
    """Our HTML minus the formula SVGs, found by their math-inline/math-block wrappers in the
    annotated HTML (the SVGs themselves carry no build attributes, so they are the same text in both)."""
    for svg in _OUR_MATH.findall(annotated):
        if svg not in html:
            sys.exit("a formula SVG of the annotated HTML is not in the final HTML; size.py needs updating")
        html = html.replace(svg, "", 1)
    return html


_OUR_DIAGRAM = re.compile(r'<figure class="figure diagram".*?</figure>', re.S)


def theirs_diagram(html: str) -> tuple[str, int]:
    """(form, bytes) of the sample's Mermaid diagram in their HTML: an inline SVG."""
    svgs = [m.group() for m in _SVG.finditer(html) if "mermaid" in m.group()[:200]]
    return "inline <svg>", sum(len(svg.encode()) for svg in svgs)


def our_diagram(html: str, annotated: str) -> tuple[str, int | None]:
    """(form, bytes) of the diagram in our HTML: a PNG <img> when Chromium could draw it, else code."""
    from publisher.render.layout import strip_build_attributes

    match = _OUR_DIAGRAM.search(annotated)
    if not match:
        return "code block (not counted)", None
    figure = strip_build_attributes(match.group())
    if figure not in html:
        sys.exit("the diagram figure of the annotated HTML is not in the final HTML; size.py needs updating")
    return "<img> (the PNG is uploaded apart)", len(figure.encode())


def render_sample() -> tuple[str, str, list[str]]:
    """Our HTML and annotated HTML for the sample, and the rules of its error findings."""
    from publisher.content import load_article
    from publisher.project import Project
    from publisher.render import render_article

    with tempfile.TemporaryDirectory(prefix="bench-size-") as tmp:
        root = Path(tmp)
        folder = root / "sample"
        (folder / "images").mkdir(parents=True)
        shutil.copyfile(ANCHORS / "sample.md", folder / "index.md")
        (folder / "cover.jpg").write_bytes(jpeg_bytes())
        (folder / "images" / "local.png").write_bytes(png_bytes())
        project = Project(root=root)
        rendered = render_article(load_article(folder / "index.md", project), project)
        return rendered.html, rendered.annotated_html, [f.rule for f in rendered.findings if f.severity == "error"]


def main() -> None:
    print(f"size.py — {machine()}")
    if not (ANCHORS / "sample.md").is_file():
        sys.exit(f"expected the shared anchors at {ANCHORS}, found none")
    html, annotated, errors = render_sample()
    print(f"our render: {len(_SVG.findall(html))} <svg>, {len(_OUR_MATH.findall(annotated))} of them formulas "
          f"(the sample has 2); error findings: {errors or 'none'} "
          "(the sample links a remote image on purpose; it stays in the HTML as written)")
    sizes = {"ours (publisher)": html}
    sizes.update({name: (ANCHORS / file).read_text(encoding="utf-8") for name, file in OTHERS.items()})
    ours = len(html.encode())
    smaller = min(len(text.encode()) for name, text in sizes.items() if name != "ours (publisher)")
    rows, bare = [], {}
    for name, text in sizes.items():
        is_ours = name.startswith("ours")
        size = len(text.encode())
        no_math = len((without_our_math(html, annotated) if is_ours else without_theirs_math(text)).encode())
        form, diagram = our_diagram(html, annotated) if is_ours else theirs_diagram(text)
        if diagram is not None:
            bare[name] = no_math - diagram
        rows.append([name, f"{size:,}", f"{no_math:,}", f"{form}, {diagram:,}" if diagram is not None else form,
                     f"{size / smaller:.3f}", verdict(size / smaller, RATIO) if is_ours else ""])
    print_table("HTML size of ../shared/anchors/sample.md, UTF-8 bytes",
                ["renderer", "bytes", "bytes without math SVG", "Mermaid diagram, bytes", "÷ smaller of theirs",
                 "target <= 0.7"], rows)
    print(f"ours / smaller of theirs = {ours:,} / {smaller:,} = {ours / smaller:.3f} (target <= {RATIO}); "
          f"budget {int(RATIO * smaller):,} bytes, {int(RATIO * smaller) - ours:+,} to spare")
    if "ours (publisher)" in bare:
        rest = min(value for name, value in bare.items() if not name.startswith("ours"))
        print(f"context, without math and the diagram: ours {bare['ours (publisher)']:,} / smaller of theirs "
              f"{rest:,} = {bare['ours (publisher)'] / rest:.3f}")


if __name__ == "__main__":
    main()
