"""Safe YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` is not enough for a config users edit by hand: it keeps the last of two
duplicate keys silently, expands aliases without bound (a "billion laughs" file eats the
machine), and forgets line numbers. Here the file is *composed* into nodes by libyaml (or the
pure-Python parser) and converted by our own walk, which

- accepts only the core tags (str, int, float, bool, null, map, seq; timestamps stay text),
- rejects duplicate keys, naming both lines,
- counts every node it produces, so alias expansion is bounded,
- records the line and column of every key and value under its JSON path.

Every failure is a :class:`~router.diagnostics.Diagnostic` with a line and column.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from router.diagnostics import Diagnostic, Severity
from router.spec.yamlwalk import MAX_DEPTH, Walker, walk_child

try:  # libyaml is ~10x faster; the pure-Python parser gives the same nodes and marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class _MemoLoader(_Loader):
    """Resolving a plain scalar's implicit tag runs a list of regular expressions; specs
    repeat the same values (capabilities, prices, limits) often, so remember the answers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._resolved: dict[tuple[Any, str | None, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        key = (value, implicit[0] if implicit else None, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = self._resolved[key] = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return tag


MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 500_000

PathT = tuple[str | int, ...]
Position = tuple[int, int]


@dataclass(slots=True)
class Document:
    """The loaded data, plus the composed node tree to find where each value is written."""

    data: Any
    file: str
    root: Node | None = field(default=None, repr=False)

    def position(self, path: PathT, *, key: bool = False) -> Position | None:
        """(line, column), 1-based, of the value at ``path`` (or of its key, with
        ``key=True``); for a path that does not exist, the nearest enclosing value's."""
        node, key_node = self.root, None
        if node is None:
            return None
        for step in path:
            found = walk_child(node, step)
            if found is None:
                break
            node, key_node = found
        else:
            if key and key_node is not None:
                node = key_node
        return node.start_mark.line + 1, node.start_mark.column + 1

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


@contextmanager
def paused_gc() -> Iterator[None]:
    """Composing allocates one node and two marks per value, none of them in cycles, and the
    document keeps that tree for positions while it is validated; the cyclic collector's
    passes over the growing heap would more than double the time of a large spec."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_yaml(raw: bytes, file: str) -> Document:
    """Parse ``raw`` (the file's bytes) into a :class:`Document` or raise :class:`YamlError`."""
    with paused_gc():
        return _load(raw, file)


def _load(raw: bytes, file: str) -> Document:
    text = _decode(raw, file)
    try:
        node = yaml.compose(text, Loader=_MemoLoader)
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
                    "the file holds only comments" if text.strip() else "the file is empty",
                    code="yaml-empty",
                    file=file,
                    line=1,
                    column=1,
                    hint="start from configs/minimal.yaml",
                )
            ]
        )
    # Without an anchor (&name) there can be no alias, so nothing to expand or bound.
    if "&" in text and _expanded_size(node, {}, set(), 0) > MAX_NODES:
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
    walker = Walker(file)
    data = walker.convert(node, 0)
    if walker.errors:
        raise YamlError(walker.errors)
    return Document(data, file, node)


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
