"""Golden files: Markdown in tests/golden → the HTML WeChat receives, reviewed when it changes.

Regenerate after an intended change with `UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`
and review the diff of tests/golden/*.html like any other code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.content import load_article
from publisher.project import Project
from publisher.render import render_article

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.md"))


def readable(html: str) -> str:
    """One tag boundary per line, so a golden diff is reviewable; the comparison is unaffected."""
    return html.replace("><", ">\n<") + "\n"


def findings_text(findings) -> str:
    return "".join(f"{f.line} {f.severity} {f.rule}: {f.message}\n" for f in sorted(findings, key=lambda f: (f.line or 0, f.rule, f.message))
                   if not f.rule.startswith("front-matter/title") and not f.rule.startswith("cover/"))


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str):
    project = Project(root=GOLDEN)
    article = load_article(GOLDEN / f"{case}.md", project)
    rendered = render_article(article, project)
    actual = {"html": readable(rendered.html), "findings.txt": findings_text(rendered.findings)}
    for suffix, text in actual.items():
        expected_path = GOLDEN / f"{case}.{suffix}"
        if os.environ.get("UPDATE_GOLDEN"):
            expected_path.write_text(text, encoding="utf-8")
        assert expected_path.exists(), f"no golden file {expected_path.name}: run with UPDATE_GOLDEN=1 and review it"
        assert text == expected_path.read_text(encoding="utf-8"), f"{case}.{suffix} changed"


def test_every_golden_output_is_one_line():
    """WeChat turns whitespace between block tags into empty items: the real output has none."""
    project = Project(root=GOLDEN)
    for case in CASES:
        html = render_article(load_article(GOLDEN / f"{case}.md", project), project).html
        assert "\n" not in html
        assert "> <section" not in html and "> <p" not in html
