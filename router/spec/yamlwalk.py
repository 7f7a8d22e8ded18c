"""Composed YAML nodes to plain data (:class:`Walker`): the safe tags only, merge keys,
nesting bounded by :data:`MAX_DEPTH`, an alias that contains itself refused, every problem
collected as a Diagnostic at its node; and :func:`walk_child`, one step from a node to a child,
which is how positions are found in the node tree when a diagnostic needs one."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from router.diagnostics import Diagnostic

MAX_DEPTH = 64

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP = (
    _TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")
)
_SEQ, _MAP, _MERGE = _TAG + "seq", _TAG + "map", _TAG + "merge"
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP})
_PLAIN_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")

_TRUE = frozenset({"yes", "true", "on"})


class Walker:
    """Converts composed nodes to plain data, collecting errors. Positions are not recorded
    here: :meth:`Document.position` finds them in the node tree when a diagnostic needs one,
    which keeps loading a valid file fast."""

    __slots__ = ("_active", "_constructor", "errors", "file")

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Diagnostic] = []
        self._active: set[int] = set()
        self._constructor = yaml.SafeLoader("")

    def _error(self, node: Node, message: str, code: str, hint: str | None = None) -> None:
        self.errors.append(
            Diagnostic(
                message,
                code=code,
                file=self.file,
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
                hint=hint,
            )
        )

    def convert(self, node: Node, depth: int) -> Any:
        if type(node) is ScalarNode:
            return self._scalar(node)
        if depth > MAX_DEPTH:
            if not any(d.code == "yaml-depth" for d in self.errors):
                self._error(node, f"nesting deeper than {MAX_DEPTH} levels", "yaml-depth")
            return None
        if id(node) in self._active:
            self._error(
                node, "an alias refers to the mapping or list that contains it", "yaml-alias"
            )
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    self._bad_tag(node)
                return [self.convert(item, depth + 1) for item in node.value]
            if isinstance(node, MappingNode):
                if node.tag != _MAP:
                    self._bad_tag(node)
                return self._mapping(node, depth)
        finally:
            self._active.discard(id(node))
        return None  # pragma: no cover - composer only makes the three node kinds

    def _bad_tag(self, node: Node) -> None:
        tag = node.tag.replace(_TAG, "!!")
        self._error(
            node,
            f"the tag {tag} is not allowed",
            "yaml-tag",
            "the spec holds plain strings, numbers, booleans, lists and mappings only",
        )

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag in (_STR, _TIMESTAMP):
            return text
        # Fast paths for the common spellings; YAML 1.1's rarer forms (0x1F, 1:30, 1_000)
        # go through PyYAML's own constructor so the meaning is exactly YAML's.
        if tag == _INT and text.isdigit():
            return int(text)
        if tag == _FLOAT and _PLAIN_FLOAT.match(text):
            return float(text)
        if tag == _BOOL:
            return text.lower() in _TRUE
        if tag == _NULL:
            return None
        if tag not in _SCALAR_TAGS:
            self._bad_tag(node)
            return None
        # NaN and infinity are kept: the checks say which number it is, and where.
        return self._constructor.construct_object(node)

    def _mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        merged: dict[str, Any] | None = None
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged = merged or {}
                merged.update(self._merge_sources(value_node, depth))
                continue
            if type(key_node) is not ScalarNode:
                self._error(key_node, "a mapping key must be a plain name", "yaml-key")
                continue
            # Keys are names: take the text as written, so `yes:` or `404:` stay strings.
            key = key_node.value
            if key in first_seen:
                line = first_seen[key].start_mark.line + 1
                self._error(
                    key_node,
                    f"duplicate key '{key}' (first defined on line {line})",
                    "duplicate-key",
                    "remove one of them; YAML would otherwise keep only the last",
                )
                continue
            first_seen[key] = key_node
            result[key] = self.convert(value_node, depth + 1)
        if merged:
            for key, value in merged.items():
                result.setdefault(key, value)
        return result

    def _merge_sources(self, node: Node, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, MappingNode):
                self._error(source, "'<<' merges mappings only", "yaml-merge")
                continue
            # Earlier sources win, as in YAML's merge-key spec.
            for key, value in self.convert(source, depth).items():
                merged.setdefault(key, value)
        return merged


def walk_child(node: Node, step: str | int) -> tuple[Node, Node | None] | None:
    """The (value node, key node) reached from ``node`` by one path step, looking through
    merge keys the way the walk resolved them (own keys first, then merged sources)."""
    if isinstance(node, SequenceNode) and isinstance(step, int):
        return (node.value[step], None) if 0 <= step < len(node.value) else None
    if not isinstance(node, MappingNode):
        return None
    merges = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merges.append(value_node)
        elif type(key_node) is ScalarNode and key_node.value == step:
            return value_node, key_node
    for merge in merges:
        for source in merge.value if isinstance(merge, SequenceNode) else [merge]:
            found = walk_child(source, step)
            if found is not None:
                return found
    return None
