"""Strict YAML loading with line numbers, for front matter, calendar.yaml and settings.

PyYAML parses the text; we build the Python values ourselves from its node tree, with YAML 1.2
core-schema scalars, so that `8:30` or `NO` never silently become 510 or False. Plain scalars
that YAML 1.1 tools (PyYAML, GitHub's preview, many CI tools) read differently are rejected with
a located message asking the author to quote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_YAML11_BOOLS = re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_INT = re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes and marks, faster
Path = tuple  # a key path inside the document, e.g. ("images", "cover.jpg", "credit")


class YamlError(Exception):
    """A located problem in YAML text. `line` and `column` are 1-based."""

    def __init__(self, message: str, line: int | None, column: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.field = field


@dataclass
class YamlDocument:
    data: object
    lines: dict[Path, int] = field(default_factory=dict)  # key path → 1-based line of its value

    def line(self, *path, default: int | None = None) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), default)


def load(text: str, *, first_line: int = 1) -> YamlDocument:
    """Parse one YAML document. `first_line` is the file line of the text's first line."""
    offset = first_line - 1
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, offset) from None
    except yaml.YAMLError as exc:  # unmarked errors are rare: report them at the document start
        raise YamlError(f"invalid YAML: {exc}", first_line) from None
    doc = YamlDocument(None)
    if node is not None:
        doc.data = _build(node, (), doc.lines, offset)
    return doc


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, offset: int) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 + offset if mark else None
    column = mark.column + 1 if mark else None
    problem = exc.problem or "invalid YAML"
    if "\t" in problem or (mark and _tab_at(text, mark.line)):
        return YamlError("a tab character is used for indentation; YAML needs spaces", line, column)
    context = f" ({exc.context})" if exc.context else ""
    return YamlError(f"invalid YAML: {problem}{context}", line, column)


def _tab_at(text: str, line_index: int) -> bool:
    lines = text.splitlines()
    if not 0 <= line_index < len(lines):
        return False
    line = lines[line_index]
    return "\t" in line[: len(line) - len(line.lstrip())]


def _build(node: yaml.Node, path: Path, lines: dict, offset: int):
    lines[path] = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, path, lines, offset)
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, offset) for i, item in enumerate(node.value)]
    return _scalar(node, path, offset)


def _build_mapping(node: yaml.MappingNode, path: Path, lines: dict, offset: int) -> dict:
    result: dict = {}
    first_seen: dict = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1 + offset
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlError("a mapping key must be plain text", key_line, key_node.start_mark.column + 1)
        key = key_node.value if key_node.style else _scalar(key_node, path, offset)
        key = str(key) if not isinstance(key, str) else key
        if key in first_seen:
            raise YamlError(
                f"duplicate key '{key}' (first set on line {first_seen[key]}); keep one of them",
                key_line, key_node.start_mark.column + 1, field=_dotted((*path, key)),
            )
        first_seen[key] = key_line
        result[key] = _build(value_node, (*path, key), lines, offset)
        lines[(*path, key)] = key_line
    return result


def _scalar(node: yaml.ScalarNode, path: Path, offset: int):
    value = node.value
    if node.style:  # quoted or block scalar: always text
        return value
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    line, column = node.start_mark.line + 1 + offset, node.start_mark.column + 1
    if _YAML11_BOOLS.match(value):
        raise YamlError(
            f"'{value}' is read as a yes/no value by YAML 1.1 tools; write true or false, "
            f"or quote it (\"{value}\") if you mean the text",
            line, column, field=_dotted(path),
        )
    if _SEXAGESIMAL.match(value):
        raise YamlError(
            f"'{value}' is read as a base-60 number by YAML 1.1 tools (8:30 becomes 510); "
            f"quote it: \"{value}\"",
            line, column, field=_dotted(path),
        )
    if _INT.match(value):
        return int(value, 0) if value.startswith(("0o", "0x")) else int(value)
    if _FLOAT.match(value):
        return float(value.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf"))
    return value


def _dotted(path: Path) -> str | None:
    return ".".join(str(p) for p in path) or None
