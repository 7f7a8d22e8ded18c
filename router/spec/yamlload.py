"""Safe YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` is not enough for a config users edit by hand: it keeps the last of two
duplicate keys silently, expands aliases without bound (a "billion laughs" file eats the
machine), and forgets line numbers. Here the file is *composed* into nodes by libyaml (or the
pure-Python parser) and converted by our own walk, which

- accepts only the core tags (str, int, float, bool, null, map, seq; timestamps stay text),
- rejects duplicate keys, naming both lines,
- counts every node it produces, so alias expansion is bounded,
- records the line and column of every key and value under its JSON path.

Every failure is a :class:`~router.spec.diagnostics.Diagnostic` with a line and column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from router.spec.diagnostics import Diagnostic, Severity

try:  # libyaml is ~10x faster; the pure-Python parser gives the same nodes and marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 500_000
MAX_DEPTH = 64

PathT = tuple[str | int, ...]
Position = tuple[int, int]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass(slots=True)
class Document:
    """The loaded data plus a map from JSON paths to (line, column), both 1-based.

    ``values`` holds where each value starts; ``keys`` where each mapping key is written (for
    a mistake in a key, such as a typo, the key's own position is the useful one).
    """

    data: Any
    file: str
    values: dict[PathT, Position] = field(default_factory=dict)
    keys: dict[PathT, Position] = field(default_factory=dict)

    def position(self, path: PathT, *, key: bool = False) -> Position | None:
        """Where ``path`` is written; falls back to the nearest enclosing value."""
        if key and path in self.keys:
            return self.keys[path]
        p = tuple(path)
        while True:
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def diagnostic(
        self,
        path: PathT,
        message: str,
        code: str,
        *,
        severity: Severity = "error",
        hint: str | None = None,
        key: bool = False,
    ) -> Diagnostic:
        """A diagnostic located at ``path`` in this document."""
        line, column = self.position(path, key=key) or (None, None)
        return Diagnostic(
            message,
            severity=severity,
            code=code,
            path=json_path(path),
            file=self.file,
            line=line,
            column=column,
            hint=hint,
        )


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(path: PathT) -> str:
    """``("tasks", "summarize", "fallback", 1)`` → ``$.tasks.summarize.fallback[1]``
    (RFC 9535 notation: names that are not identifiers go in brackets)."""
    out = ["$"]
    for elem in path:
        if isinstance(elem, int):
            out.append(f"[{elem}]")
        elif _IDENT.match(elem):
            out.append(f".{elem}")
        else:
            out.append("['" + elem.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(out)


class YamlError(Exception):
    """Loading failed; ``diagnostics`` says where and why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.render() for d in diagnostics))
        self.diagnostics = diagnostics


def load_yaml(raw: bytes, file: str) -> Document:
    """Parse ``raw`` (the file's bytes) into a :class:`Document` or raise :class:`YamlError`."""
    text = _decode(raw, file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise YamlError([_from_marked(exc, text, file)]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml errors are all marked
        raise YamlError([Diagnostic(str(exc), code="yaml-syntax", file=file)]) from None
    except RecursionError:
        raise YamlError(
            [Diagnostic(f"nesting deeper than {MAX_DEPTH} levels", code="yaml-depth", file=file)]
        ) from None
    if node is None:
        raise YamlError(
            [
                Diagnostic(
                    "the file is empty",
                    code="yaml-empty",
                    file=file,
                    line=1,
                    column=1,
                    hint="start from configs/minimal.yaml",
                )
            ]
        )
    size = _expanded_size(node, {}, set(), 0)
    if size > MAX_NODES:
        raise YamlError(
            [
                Diagnostic(
                    f"the document expands to more than {MAX_NODES:,} values "
                    "(aliases multiply what they point to)",
                    code="yaml-too-large",
                    file=file,
                    line=1,
                    column=1,
                    hint="use fewer or smaller aliases",
                )
            ]
        )
    walker = _Walker(file)
    data = walker.convert(node, ())
    if walker.errors:
        raise YamlError(walker.errors)
    return Document(data, file, walker.values, walker.keys)


def _expanded_size(node: Node, memo: dict[int, int], active: set[int], depth: int) -> int:
    """How many values the document holds once every alias is expanded, computed on the
    node graph in time proportional to its *unexpanded* size, so a billion-laughs file is
    refused before any expansion happens. Cycles and excess depth are left to the walk,
    which reports them with positions."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active or depth > MAX_DEPTH or isinstance(node, ScalarNode):
        return 1
    active.add(key)
    children: list[Node] = (
        [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
    )
    total = 1
    for child in children:
        total += _expanded_size(child, memo, active, depth + 1)
        if total > MAX_NODES:
            break
    active.discard(key)
    memo[key] = total
    return total


def _decode(raw: bytes, file: str) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(
            [
                Diagnostic(
                    f"the file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}",
                    code="yaml-too-large",
                    file=file,
                )
            ]
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlError(
            [
                Diagnostic(
                    "the file is UTF-16; save it as UTF-8",
                    code="yaml-encoding",
                    file=file,
                    line=1,
                    column=1,
                )
            ]
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise YamlError(
            [
                Diagnostic(
                    f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                    code="yaml-encoding",
                    file=file,
                    line=line,
                    column=column,
                    hint="save the file as UTF-8",
                )
            ]
        ) from None


# PyYAML's wording, translated into what the user did and what to do about it.
_FRIENDLY = (
    (
        "found a tab character",
        "a tab character; YAML indents with spaces only",
        "replace the tab with spaces",
    ),
    (
        "found unexpected end of stream",
        "a quoted string is never closed",
        "add the closing quote",
    ),
    (
        "expected a single document in the stream",
        "the file holds more than one YAML document ('---')",
        "keep the whole spec in one document",
    ),
    (
        "mapping values are not allowed",
        "an unexpected ':'",
        "quote values that contain ': ', or check the indentation",
    ),
    (
        "could not find expected ':'",
        "a key is missing its ':' or a line is indented wrongly",
        None,
    ),
    (
        "found undefined alias",
        "an alias (*name) refers to an anchor (&name) that is not defined above it",
        None,
    ),
)


def _from_marked(exc: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    message, hint = problem, None
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        problem = "found a tab character"
    for needle, words, advice in _FRIENDLY:
        if needle in problem or (exc.context and needle in exc.context):
            message, hint = words, advice
            break
    else:
        if exc.context and exc.context not in problem:
            message = f"{exc.context}: {problem}"
    if "quoted scalar" in (exc.context or "") and exc.context_mark is not None:
        mark = exc.context_mark  # where the unclosed string starts is where to look
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return Diagnostic(message, code="yaml-syntax", file=file, line=line, column=column, hint=hint)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


class _Walker:
    """Converts composed nodes to plain data, recording positions and collecting errors."""

    __slots__ = ("_active", "_constructor", "errors", "file", "keys", "values")

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Diagnostic] = []
        self.values: dict[PathT, Position] = {}
        self.keys: dict[PathT, Position] = {}
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

    def convert(self, node: Node, path: PathT) -> Any:
        if len(path) > MAX_DEPTH:
            if not any(d.code == "yaml-depth" for d in self.errors):
                self._error(node, f"nesting deeper than {MAX_DEPTH} levels", "yaml-depth")
            return None
        if id(node) in self._active:
            self._error(
                node, "an alias refers to the mapping or list that contains it", "yaml-alias"
            )
            return None
        self.values.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _TAG + "seq":
                    self._bad_tag(node)
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                if node.tag != _TAG + "map":
                    self._bad_tag(node)
                return self._mapping(node, path)
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
        if node.tag not in _SCALAR_TAGS:
            self._bad_tag(node)
            return None
        if node.tag in (_TAG + "str", _TAG + "timestamp"):
            return node.value
        value = self._constructor.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            return value  # kept so checks can say which number is NaN or infinite, and where
        return value

    def _mapping(self, node: MappingNode, path: PathT) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.update(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode):
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
            self.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.convert(value_node, (*path, key))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_sources(self, node: Node, path: PathT) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, MappingNode):
                self._error(source, "'<<' merges mappings only", "yaml-merge")
                continue
            # Earlier sources win, as in YAML's merge-key spec.
            for key, value in self.convert(source, path).items():
                merged.setdefault(key, value)
        return merged
