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
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a rule module not written yet
        findings.extend(module.check(article, rendered, project))
    return findings
