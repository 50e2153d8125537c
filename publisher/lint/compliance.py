"""Editorial compliance for `publisher check`: sensitive words, image copyright, confidential data,
copywriting and links between articles. Each rule module exposes `check(article, rendered, project, now)`
returning Findings (`now`: the moment rules about due pushes judge by, None for the current time);
this list is the stage, in the order the report shows them."""

from __future__ import annotations

import importlib

RULE_MODULES = [
    "publisher.lint.sensitive",
    "publisher.lint.copyright",
    "publisher.lint.confidential",
    "publisher.lint.copywriting",
    "publisher.lint.article_links",
]


def check_compliance(article, rendered, project, now=None) -> list:
    findings = []
    for name in RULE_MODULES:
        findings.extend(importlib.import_module(name).check(article, rendered, project, now))
    return findings
