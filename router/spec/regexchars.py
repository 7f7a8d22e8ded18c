"""What one character of a parsed regular expression can match, for
:mod:`router.spec.regexcheck`: exactly on ASCII (each of the 128 characters tried against the
item written back as a pattern), and beyond it by three classes (word characters, spaces, the
rest), over-approximated, so that two items found disjoint are disjoint for any flags."""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

__all__ = ["ALL", "SINGLE", "Chars", "chars_of", "source", "word_chars"]

# The parser behind re.compile (sre_parse before Python 3.11, and its deprecated alias since);
# typeshed has no stubs for it.
_c: Any = importlib.import_module("re._constants")

ALL = frozenset({"W", "S", "O"})  # beyond ASCII: word characters, spaces, the rest
Chars = frozenset[Any]  # ASCII code points (exact) and the classes beyond ASCII (over)

_CATEGORY = {
    _c.CATEGORY_DIGIT: (r"\d", frozenset({"W"}), frozenset()),
    _c.CATEGORY_NOT_DIGIT: (r"\D", ALL, frozenset({"S", "O"})),
    _c.CATEGORY_SPACE: (r"\s", frozenset({"S"}), frozenset({"S"})),
    _c.CATEGORY_NOT_SPACE: (r"\S", frozenset({"W", "O"}), frozenset({"W", "O"})),
    _c.CATEGORY_WORD: (r"\w", frozenset({"W"}), frozenset({"W"})),
    _c.CATEGORY_NOT_WORD: (r"\W", frozenset({"S", "O"}), frozenset({"S", "O"})),
}
SINGLE = {_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN}


def _class_of(ch: str) -> str:
    return "W" if (ch.isalnum() or ch == "_") else "S" if ch.isspace() else "O"


def _beyond(op: Any, av: Any, flags: int) -> tuple[frozenset[str], frozenset[str]]:
    """The classes beyond ASCII a one-character item may match (touch), and those it
    matches whole (cover)."""
    ascii_only = bool(flags & re.ASCII)
    folded = bool(flags & re.IGNORECASE)
    if op == _c.ANY:
        return ALL, ALL
    if op == _c.LITERAL:
        if av < 128:  # an ASCII letter matches the Kelvin sign, the long s... with (?i)
            return (frozenset({"W"}) if folded and chr(av).isalpha() else frozenset()), frozenset()
        cased = frozenset({"W", "O"}) if folded else frozenset()
        return frozenset({_class_of(chr(av))}) | cased, frozenset()
    if op == _c.NOT_LITERAL:
        alone, _ = _beyond(_c.LITERAL, av, flags)
        return ALL, ALL - alone
    # IN: a class
    touch: set[str] = set()
    cover: set[str] = set()
    negate = False
    for kind, value in av:
        if kind == _c.NEGATE:
            negate = True
        elif kind == _c.CATEGORY:
            if ascii_only:  # \w, \d, \s are ASCII; their complements hold all beyond
                if value in (_c.CATEGORY_NOT_WORD, _c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_SPACE):
                    touch |= ALL
                    cover |= ALL
            else:
                _, t, c = _CATEGORY[value]
                touch |= t
                cover |= c
        elif kind == _c.LITERAL:
            t, _ = _beyond(_c.LITERAL, value, flags)
            touch |= t
        elif kind == _c.RANGE:
            low, high = value
            if high >= 128:
                touch |= ALL
            elif folded and any(chr(x).isalpha() for x in range(low, high + 1)):
                touch.add("W")
        else:  # pragma: no cover - the parser gives no other kind inside a class
            touch |= ALL
    if negate:
        return ALL - frozenset(cover), ALL - frozenset(touch)
    return frozenset(touch), frozenset(cover)


def source(op: Any, av: Any, readable: bool = False) -> str:
    """A one-character item written back as a pattern: exact (every character escaped), to
    test ASCII characters against, or ``readable``, to show in a message."""

    def char(code: int) -> str:
        if readable:
            return re.escape(chr(code)) if 32 < code < 127 else f"\\u{code:04x}"
        return f"\\U{code:08x}"

    if op == _c.ANY:
        return "."
    if op == _c.LITERAL:
        return char(av)
    if op == _c.NOT_LITERAL:
        return f"[^{char(av)}]"
    body: list[str] = []
    for kind, value in av:
        if kind == _c.NEGATE:
            body.insert(0, "^")
        elif kind == _c.CATEGORY:
            body.append(_CATEGORY[value][0])
        elif kind == _c.LITERAL:
            body.append(char(value))
        elif kind == _c.RANGE:
            body.append(f"{char(value[0])}-{char(value[1])}")
    if body == ["^"]:
        return "[^\\s\\S]"
    if readable and len(body) == 1 and body[0].startswith("\\"):
        return body[0]
    return "[" + "".join(body) + "]"


@lru_cache(maxsize=1024)
def _chars_cached(op: Any, av: Any, flags: int) -> Chars:
    probe = re.compile(source(op, av), flags & ~re.VERBOSE)
    ascii_part = {code for code in range(128) if probe.fullmatch(chr(code))}
    return frozenset(ascii_part) | _beyond(op, av, flags)[0]


def chars_of(item: tuple[Any, Any], flags: int) -> Chars | None:
    """What a one-character item can match; None for anything else (a group of one such item
    counts as that item)."""
    op, av = item
    if op in SINGLE:
        key = tuple(av) if op == _c.IN else av
        return _chars_cached(op, key, flags & (re.IGNORECASE | re.ASCII | re.DOTALL))
    if op == _c.SUBPATTERN:
        _, add, remove, inner = av
        if len(inner) == 1:
            return chars_of(inner[0], (flags | add) & ~remove)
    return None


def word_chars(flags: int) -> Chars:
    return chars_of((_c.IN, [(_c.CATEGORY, _c.CATEGORY_WORD)]), flags)  # type: ignore[return-value]
