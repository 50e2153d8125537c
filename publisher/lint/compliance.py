"""Editorial compliance for `publisher check`: sensitive words, image copyright, confidential data,
copywriting and links between articles. Each rule module exposes `check(article, rendered, project)`
returning Findings; this list is the stage, in the order the report shows them."""

from __future__ import annotations

import importlib

RULE_MODULES = [
    "publisher.lint.sensitive",
    "publisher.lint.copyright",
    "publisher.lint.confidential",
    "publisher.lint.copywriting",
    "publisher.lint.article_links",
]


def check_compliance(article, rendered, project) -> list:
    findings = []
    for name in RULE_MODULES:
        findings.extend(importlib.import_module(name).check(article, rendered, project))
    return findings
