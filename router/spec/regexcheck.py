r"""Regular expressions for content rules: parsed, refused unless a search provably runs in
time linear in the text, then compiled once.

Python's ``re`` backtracks and has no timeout: ``(a+)+$`` on forty ``a``\ s runs for minutes,
and even ``\w+\(`` takes time in the square of the text (a search starts at every position of
a long run of letters and reads it to its end each time). So a pattern is accepted only when
its parsed form (``re._parser``) shows that cannot happen. A *long* repeat is ``*``, ``+``,
``{m,}`` or ``{m,n}`` with ``n`` above :data:`SHORT`; the rules:

1. no backreferences, lookahead or lookbehind, conditionals, atomic groups or possessive
   repeats (constructs this check does not model);
2. a long repeat repeats one character or class (``\w+``, ``[^"]*``), never a group
   (``(a+)+``, ``(\.\w+)*``): nested repeats are how backtracking becomes exponential;
3. nothing that can follow a long repeat can match a character it matches (``\w+\(`` yes,
   ``\w+\d`` and ``a.*b`` no): then only the longest run can go on, and the run is read once;
4. a search cannot start inside the run of a long repeat and reach it again: something before
   it reads a character it cannot match (``def\s+``, ``"[^"]*"``), or an anchor stands right
   before it (``^``, ``\A``, ``\b`` before word characters), or nothing but an optional part
   follows it (``https?://\S+``: reaching it is a match);
5. at most :data:`MAX_STEPS` steps to match from one position (short repeats and
   alternatives multiply: ``(a|a){16}`` and ``\w{1,16}\W{1,16}`` are refused);
6. it cannot match without reading a character (it would match every request).

These are sufficient, not necessary: some linear patterns are refused, and each refusal says
how to write the pattern so that it passes. Character sets are compared exactly on ASCII and
by three classes beyond it (word characters, spaces, the rest), so the check is sound for any
flags a pattern sets (``(?i)``, ``(?s)``, ``(?m)``, ``(?a)``, ``(?x)``).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from router.spec.regexchars import SINGLE, Chars, chars_of, source, word_chars

# The parser behind re.compile (sre_parse before Python 3.11, and its deprecated alias since);
# typeshed has no stubs for it.
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

__all__ = ["MAX_PATTERN", "MAX_STEPS", "SHORT", "Examined", "examine"]

#: A repeat of at most this many times is short: every count is tried (and counted in ways).
SHORT = 16
#: Most steps a pattern may take to match from one position of the text (see _Checker._cost).
MAX_STEPS = 128
_HUGE = 10**9
#: Longest pattern accepted (characters).
MAX_PATTERN = 1000


@dataclass(frozen=True, slots=True)
class Examined:
    """A pattern examined: compiled when accepted, else why not (``code``, words, a hint)."""

    pattern: re.Pattern[str] | None
    code: str = ""
    message: str = ""
    hint: str = ""


class _Refused(Exception):
    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@lru_cache(maxsize=512)
def examine(source: str) -> Examined:
    """Parse, check and compile ``source`` (cached: a spec reloaded or validated again pays
    once). Never raises."""
    if len(source) > MAX_PATTERN:
        return Examined(
            None,
            "regex-unsupported",
            f"the pattern is {len(source):,} characters long (at most {MAX_PATTERN:,})",
            "split it into several patterns",
        )
    try:
        parsed = _parser.parse(source, 0)
        compiled = re.compile(source)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        where = getattr(exc, "pos", None)
        at = f" at position {where}" if isinstance(where, int) else ""
        msg = getattr(exc, "msg", None) or str(exc)
        return Examined(
            None,
            "regex-invalid",
            f"the pattern is not a valid regular expression: {msg}{at}",
            "Python's `re` syntax; escape a literal character with a backslash (\\. \\( \\?), "
            "or use `any`/`all` keywords for plain words",
        )
    try:
        _Checker(parsed.state.flags).check(list(parsed))
    except _Refused as refused:
        return Examined(None, refused.code, refused.message, refused.hint)
    except RecursionError:
        return Examined(
            None, "regex-unsupported", "the pattern nests too deeply", "flatten its groups"
        )
    return Examined(compiled)


# --- what can come next ----------------------------------------------------------------------


class _Next(NamedTuple):
    """What can come at a point of the pattern: the next character read, whether the match can
    end here (maybe after anchors), and whether it ends here for sure (nothing left to fail)."""

    chars: Chars
    end: bool
    free: bool

    def __or__(self, other: _Next) -> _Next:
        return _Next(self.chars | other.chars, self.end or other.end, self.free or other.free)


_END = _Next(frozenset(), True, True)


def _long(low: int, high: int) -> bool:
    return high == _c.MAXREPEAT or high > SHORT


def _next_of(items: list[Any], after: _Next, flags: int) -> _Next:
    for item in reversed(items):
        after = _item_next(item, after, flags)
    return after


def _item_next(item: tuple[Any, Any], after: _Next, flags: int) -> _Next:
    op, av = item
    if op in SINGLE:
        return _Next(chars_of(item, flags) or frozenset(), False, False)
    if op == _c.AT:
        return _Next(after.chars, after.end, False)
    if op == _c.SUBPATTERN:
        _, add, remove, inner = av
        return _next_of(inner, after, (flags | add) & ~remove)
    if op == _c.BRANCH:
        found = _Next(frozenset(), False, False)
        for branch in av[1]:
            found = found | _next_of(branch, after, flags)
        return found
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, _, body = av
        alone = _next_of(body, _END, flags)
        looped = _next_of(body, after | _Next(alone.chars, False, False), flags)
        return looped | after if low == 0 else looped
    raise _unsupported(op)


def _unsupported(op: Any) -> _Refused:
    what = {
        _c.GROUPREF: "a backreference",
        _c.GROUPREF_EXISTS: "a conditional group",
        _c.ASSERT: "a lookahead or lookbehind",
        _c.ASSERT_NOT: "a negative lookahead or lookbehind",
        _c.ATOMIC_GROUP: "an atomic group",
        _c.POSSESSIVE_REPEAT: "a possessive repeat",
    }.get(op, f"the construct {op}")
    return _Refused(
        "regex-unsupported",
        f"the pattern uses {what}, which content rules do not take",
        "use \\b for word edges, and several patterns or rules for the rest",
    )


# --- the walk --------------------------------------------------------------------------------


class _Before(NamedTuple):
    """What every path from the pattern's start has read before a point: character sets read
    for sure, and the anchor right before it (nothing read since)."""

    read: frozenset[Chars]
    anchor: str | None

    def __and__(self, other: _Before) -> _Before:
        anchor = self.anchor if self.anchor == other.anchor else None
        return _Before(self.read & other.read, anchor)


# A search starts anywhere: nothing is read before the pattern, and no anchor stands there.
_START = _Before(frozenset(), None)


class _Checker:
    def __init__(self, flags: int) -> None:
        self.flags = flags

    def check(self, items: list[Any]) -> None:
        if _next_of(items, _END, self.flags).end:
            raise _Refused(
                "regex-matches-empty",
                "the pattern can match without reading a character, so it matches every text",
                "make at least one part required (`+` rather than `*`, no `?` on everything)",
            )
        self._seq(items, _END, _START, self.flags)
        steps, _ = self._cost(items, _END, self.flags)
        if steps > MAX_STEPS:
            raise _Refused(
                "regex-backtracks",
                f"matching the pattern can take {'over 10,000' if steps > 10_000 else f'{steps:,}'}"
                f" steps from each position of the text (at most {MAX_STEPS})",
                "shorten it, use fewer optional parts and alternatives inside a counted repeat "
                "{m,n}, or split it into several patterns (or keywords, for long phrases)",
            )

    def _seq(self, items: list[Any], after: _Next, before: _Before, flags: int) -> _Before:
        for i, item in enumerate(items):
            follow = _next_of(items[i + 1 :], after, flags)
            before = self._item(item, follow, before, flags)
        return before

    def _item(self, item: tuple[Any, Any], follow: _Next, before: _Before, flags: int) -> _Before:
        op, av = item
        if op in SINGLE:
            return _Before(before.read | {chars_of(item, flags) or frozenset()}, None)
        if op == _c.AT:
            return _Before(before.read, self._anchor(av, flags) or None)
        if op == _c.SUBPATTERN:
            _, add, remove, inner = av
            return self._seq(inner, follow, before, (flags | add) & ~remove)
        if op == _c.BRANCH:
            outs = [self._seq(branch, follow, before, flags) for branch in av[1]]
            merged = outs[0]
            for out in outs[1:]:
                merged = merged & out
            return merged
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            low, high, body = av
            if _long(low, high):
                return self._long_repeat(item, follow, before, flags)
            alone = _next_of(body, _END, flags)
            inner_follow = follow | _Next(alone.chars, False, False)
            out = self._seq(body, inner_follow, before, flags)
            if high >= 2:  # later rounds start after a whole one
                out = self._seq(body, inner_follow, out, flags)
            return out if low >= 1 else out & before
        raise _unsupported(op)

    @staticmethod
    def _anchor(code: Any, flags: int) -> str | None:
        if code == _c.AT_BEGINNING_STRING or (code == _c.AT_BEGINNING and not flags & re.MULTILINE):
            return "start"
        if code == _c.AT_BEGINNING:
            return "line"
        if code == _c.AT_BOUNDARY:
            return "word"
        return None

    def _long_repeat(
        self, item: tuple[Any, Any], follow: _Next, before: _Before, flags: int
    ) -> _Before:
        low, _, body = item[1]
        shown = _shown(item)
        chars = chars_of(body[0], flags) if len(body) == 1 else None
        if chars is None:
            raise _Refused(
                "regex-backtracks",
                f"{shown} repeats a group without a small bound: nested repeats can make a "
                "search take exponential time",
                f"repeat one character or class (like [\\w.]+), or bound the group to at most "
                f"{SHORT} rounds ({{0,{SHORT}}})",
            )
        if follow.chars & chars:
            raise _Refused(
                "regex-backtracks",
                f"{shown} is followed by something that can match the same characters, so "
                "every way to split a run is tried (time grows with a power of the text)",
                "make what follows it start with a character it cannot match (\\w+\\( or "
                '"[^"]*" rather than \\w+\\w or ".*"); for words that must all appear, '
                "use `all: [...]` keywords; a leading or trailing .* adds nothing (a pattern "
                "is searched anywhere in the text)",
            )
        terminal = follow.free  # reaching it with `low` characters is a match
        guarded = (
            terminal
            or any(not (seen & chars) for seen in before.read)
            or before.anchor == "start"
            or (before.anchor == "line" and 10 not in chars)
            or (before.anchor == "word" and chars <= word_chars(flags))
        )
        if not guarded:
            raise _Refused(
                "regex-backtracks",
                f"{shown} can be where a search starts, inside a long run of the characters "
                "it matches: each start reads the run again (time grows with the square of "
                "the text)",
                "start the pattern with a character it cannot match, or anchor it: \\b before "
                "word characters (\\b\\w+\\(), ^ or \\A",
            )
        out = _Before(before.read | {chars}, None)
        return out if low >= 1 else out & before

    def _cost(self, items: list[Any], after: _Next, flags: int) -> tuple[int, int]:
        """(steps, ways): how many steps, at most, matching ``items`` takes from one position,
        and in how many ways it can go on. Along a sequence each item's steps count once per
        way the items before it go on, and ways multiply; alternatives add up (only one goes
        on when they start with different characters); a short repeat of a character steps
        through each count, and goes on from each unless what follows cannot share its
        characters; a long repeat counts its minimum (a search may read that much and fail;
        beyond it, a run is read once per run, see rule 4) and goes on only from its longest
        run (rule 3)."""
        steps, ways = 0, 1
        for i, item in enumerate(items):
            follow = _next_of(items[i + 1 :], after, flags)
            item_steps, item_ways = self._item_cost(item, follow, flags)
            steps = min(steps + ways * item_steps, _HUGE)
            ways = min(ways * item_ways, _HUGE)
        return steps, ways

    def _item_cost(self, item: tuple[Any, Any], follow: _Next, flags: int) -> tuple[int, int]:
        op, av = item
        if op == _c.SUBPATTERN:
            _, add, remove, inner = av
            return self._cost(inner, follow, (flags | add) & ~remove)
        if op == _c.BRANCH:
            costs = [self._cost(branch, follow, flags) for branch in av[1]]
            steps = min(sum(c[0] for c in costs), _HUGE)
            seen: set[Any] = set()
            for branch in av[1]:
                first = _next_of(branch, _END, flags)
                if first.end or seen & first.chars:
                    return steps, min(sum(c[1] for c in costs), _HUGE)
                seen |= first.chars
            return steps, max(c[1] for c in costs)
        if op not in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            return 1, 1
        low, high, body = av
        if _long(low, high):
            return max(1, int(low)), 1
        chars = chars_of(body[0], flags) if len(body) == 1 else None
        if chars is not None:
            return int(high), 1 if not (follow.chars & chars) else int(high) - int(low) + 1
        alone = _next_of(body, _END, flags)
        each_steps, each_ways = self._cost(body, follow | _Next(alone.chars, False, False), flags)
        steps, ways, power = 0, 0, 1
        for k in range(int(high) + 1):
            ways += power if k >= low else 0
            steps = min(steps + power * each_steps, _HUGE) if k < high else steps
            power = min(power * each_ways, _HUGE)
        return steps, min(ways, _HUGE)


def _shown(item: tuple[Any, Any]) -> str:
    low, high, body = item[1]
    lazy = "?" if item[0] == _c.MIN_REPEAT else ""
    count = (
        "*"
        if (low, high) == (0, _c.MAXREPEAT)
        else "+"
        if (low, high) == (1, _c.MAXREPEAT)
        else f"{{{low},}}"
        if high == _c.MAXREPEAT
        else f"{{{low},{high}}}"
    )
    op, av = body[0]
    what = source(op, av, readable=True) if len(body) == 1 and op in SINGLE else "(...)"
    return f"`{what}{count}{lazy}`"
