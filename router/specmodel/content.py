"""A rule's condition on the text of a request (``when.text``): keywords and regular
expressions, compiled when the spec is built.

Keywords are matched as whole words: a keyword and the text are both cut into words (runs of
letters, digits and ``_``, and every other visible character on its own) and case-folded, and
a keyword matches where its words appear one after another in the text, whatever the spacing
between them (``"node.js"`` matches "Node.js" and "node . js", never "nodejs"). The regular
expressions passed :mod:`router.spec.regexcheck` (linear time on Python's ``re``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, get_args

__all__ = [
    "DEFAULT_MAX_CHARS",
    "SCOPES",
    "Keyword",
    "Scope",
    "TextCondition",
    "keyword_words",
]

#: Which text a condition reads: the last user message, every user message, the caller's
#: system messages, or every message.
Scope: TypeAlias = Literal["last_user", "user", "system", "all"]
SCOPES: tuple[str, ...] = get_args(Scope)

#: At most this many characters of the scoped text are read (its first and last halves), so a
#: megabyte message costs what 16,000 characters cost.
DEFAULT_MAX_CHARS = 8_000

_WORDS = re.compile(r"\w+|[^\w\s]")
_LETTER = re.compile(r"\w")


def keyword_words(text: str) -> tuple[str, ...]:
    """``text`` as the words keyword matching compares: case-folded runs of letters, digits
    and ``_``, and every other visible character on its own."""
    return tuple(_WORDS.findall(text.casefold()))


@dataclass(frozen=True, slots=True)
class Keyword:
    """One keyword: as the spec wrote it, its words, and a pattern that finds it in the text
    as written (for an excerpt; matching itself compares words)."""

    text: str
    words: tuple[str, ...]
    locator: re.Pattern[str] = field(repr=False, compare=False)

    @classmethod
    def of(cls, text: str) -> Keyword:
        words = keyword_words(text)
        # A word of letters starts where none precedes it; a symbol stands alone anyway.
        pattern = r"\s*".join(
            (r"(?<!\w)" if _LETTER.match(w) else "") + re.escape(w) for w in words
        )
        if words and _LETTER.match(words[-1]):
            pattern += r"(?!\w)"
        return cls(text, words, re.compile(pattern, re.IGNORECASE))


@dataclass(frozen=True, slots=True)
class TextCondition:
    """Holds when every part given holds: one of ``any`` appears, each of ``all`` appears,
    one of ``regex`` finds a match, in the ``scope`` text (its first and last
    ``max_chars // 2`` characters when it is longer than ``max_chars``)."""

    any: tuple[Keyword, ...] = ()
    all: tuple[Keyword, ...] = ()
    regex: tuple[re.Pattern[str], ...] = ()
    scope: Scope = "last_user"
    max_chars: int = DEFAULT_MAX_CHARS

    def describe(self) -> str:
        """The condition in words (``router graph``, explain)."""
        parts = []
        if self.any:
            parts.append("any of " + ", ".join(repr(k.text) for k in self.any))
        if self.all:
            parts.append("all of " + ", ".join(repr(k.text) for k in self.all))
        if self.regex:
            parts.append("regex " + " or ".join(f"'{p.pattern}'" for p in self.regex))
        return f"{'; '.join(parts)} in {SCOPE_WORDS[self.scope]}"


SCOPE_WORDS: dict[str, str] = {
    "last_user": "the last user message",
    "user": "the user messages",
    "system": "the system messages",
    "all": "all messages",
}
