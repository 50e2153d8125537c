"""Strict YAML, front matter and calendar loading: the traps, and what is read correctly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from publisher import yamlstrict
from publisher.calendar import CalendarError, parse_calendar


@pytest.mark.parametrize("text, needle", [
    ("at: 8:30", "8:30 becomes 510"),
    ("ok: NO", "yes/no value"),
    ("ok: on", "yes/no value"),
    ("a: 1\nb: 2\na: 3", "duplicate key 'a'"),
])
def test_yaml_11_traps_and_duplicates_are_errors(text, needle):
    with pytest.raises(yamlstrict.YamlError) as caught:
        yamlstrict.load(text, first_line=10)
    assert needle in caught.value.message
    assert caught.value.line == 10 + text.count("\n")


def test_quoted_and_12_scalars_are_read_as_written():
    doc = yamlstrict.load('a: "8:30"\nb: \'NO\'\nc: true\nd: 12\ne: 1.5\nf: ~\ng: 2026-12-01 08:00\n')
    assert doc.data == {"a": "8:30", "b": "NO", "c": True, "d": 12, "e": 1.5, "f": None, "g": "2026-12-01 08:00"}
    assert doc.line("g") == 7


def test_calendar_local_times_are_in_the_calendar_zone_not_the_machines():
    calendar = parse_calendar('timezone: Asia/Shanghai\npushes:\n  - at: "2026-12-01 08:00"\n'
                              '    articles: [2026/a]\n  - at: "2026-12-01T08:00:00+00:00"\n    plan: 计划\n', "c.yaml")
    first, second = calendar.pushes
    assert first.at.astimezone(UTC) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert second.at.astimezone(UTC) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert first.mode == "" and first.articles == ["2026/a"] and second.kind == "plan"  # "": account default


@pytest.mark.parametrize("text, line, needle", [
    ("pushes: []\n", 1, "expected 'timezone: Asia/Shanghai'"),
    ("timezone: Asia/Shanghai\npushes:\n  - at: \"2026-12-01 08:00\"\n    articles: [a, b, c, d, e, f, g, h, i]\n",
     4, "at most 8 articles"),
    ("timezone: Asia/Shanghai\npushes:\n  - at: \"2026-12-01 08:00\"\n    mode: blast\n    articles: [a]\n", 4,
     "expected mode draft, publish"),
    ("timezone: Asia/Shanghai\npushes:\n  - at: \"next friday\"\n    articles: [a]\n", 3, "expected \"YYYY-MM-DD HH:MM\""),
    ("timezone: Asia/Shanghai\npushes:\n  - at: \"2026-12-01 08:00\"\n    plan: x\n    articles: [a]\n", 3,
     "exactly one of articles, plan or unpublish"),
    ("timezone: Asia/Shanghai\nrules:\n  min_per_weak: 1\n", 3, "did you mean 'min_per_week'?"),
])
def test_calendar_errors_are_located(text, line, needle):
    with pytest.raises(CalendarError) as caught:
        parse_calendar(text, "calendar.yaml")
    finding = caught.value.findings[0]
    assert finding.line == line and needle in finding.message, caught.value.findings
