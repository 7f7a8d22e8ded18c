"""A spec as YAML text a person edits: keys in the order written, small mappings and lists of
plain values on one line, and comments above it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Block style, except for mappings and lists of plain values (``{input: 2.5, output:
    10}``, ``[gpt-4o, claude]``), which read best on one line."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # lists indented under their key


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


class _Top(dict[str, Any]):
    """The document itself: always in block style."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = (
        not isinstance(data, _Top)
        and bool(data)
        and len(data) <= 4
        and all(_plain(v) for v in data.values())
        and sum(len(str(k)) + len(str(v)) + 4 for k, v in data.items()) <= 72
    )
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(_plain(v) for v in data) or all(
        isinstance(v, dict) and len(v) == 1 and all(_plain(x) for x in v.values()) for v in data
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(_Top, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def comment(lines: Iterable[str], width: int = 98) -> str:
    """Lines of text as YAML comments, wrapped at ``width`` (continuations indented)."""
    out: list[str] = []
    for line in lines:
        if not line:
            out.append("#")
            continue
        indent = len(line) - len(line.lstrip(" "))
        wrapped = textwrap.wrap(
            line.strip(),
            width=width - 2,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 2),
            break_on_hyphens=False,
            break_long_words=False,
        )
        out += [f"# {w}".rstrip() for w in wrapped]
    return "\n".join(out) + "\n"


def dump(spec: dict[str, Any], sections: dict[str, list[str]] | None = None) -> str:
    """``spec`` as YAML, one top-level key after another, each preceded by its comment lines
    from ``sections`` (key → lines) when it has some."""
    parts: list[str] = []
    for key, value in spec.items():
        text = yaml.dump(_Top({key: value}), Dumper=_Dumper, sort_keys=False, width=100)
        notes = (sections or {}).get(key)
        if notes:
            text = comment(notes) + text
        if isinstance(value, dict) and value and key != "version":
            text = "\n" + text
        parts.append(text)
    return "".join(parts)
