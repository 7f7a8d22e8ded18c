"""Blocked terms: words and phrases a request may not send, matched case-insensitively as
whole words, in time linear in the text (for a given list of terms).

The terms become one regular expression shaped as a trie (``proj(?:ect(?:\\s+x)?|ector)``):
at each position at most one branch can go on (siblings differ in their first character), so
a match attempt costs at most the longest term's length, and attempts start only where the
character before is not a word character. A space in a term matches any run of whitespace.
Case-insensitive as Python's ``re.IGNORECASE`` (simple case folding: ``STRAẞE`` matches
``straße``, ``STRASSE`` does not), but for a term's first character, matched in its lower and
upper case only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from router.guardrails.base import Span
from router.guardrails.detect import Detecting, Detector
from router.specmodel.guardrails import ROLES, GuardrailAction

__all__ = ["BlockedTerms", "normalize_term", "terms_pattern"]

_SPACE = re.compile(r"\s+")


def normalize_term(term: str) -> str:
    """A term as it is matched: lower case, whitespace runs as one space, no edge spaces."""
    return _SPACE.sub(" ", term).strip().lower()


def _emit(node: dict[str, Any]) -> str:
    ends = "" in node
    branches = [
        (r"\s+" if ch == " " else re.escape(ch)) + _emit(child)
        for ch, child in sorted(node.items())
        if ch
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


def _first(ch: str) -> list[str]:
    """The first characters a term starting with ``ch`` may begin with: ``ch`` in lower and
    upper case (a first character whose capital is two letters, ß, matches only itself)."""
    return sorted({f for f in (ch, ch.lower(), ch.upper()) if len(f) == 1})


def terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any of ``terms`` as whole words (None when there are none)."""
    root: dict[str, Any] = {}
    for term in terms:
        normalized = normalize_term(term)
        if not normalized:
            continue
        node = root
        for ch in normalized:
            node = node.setdefault(ch, {})
        node[""] = {}
    if not root:
        return None
    # Each branch starts with a literal character (one branch per case of it), so the engine
    # skips ahead to where a term can start; the lookbehind after it refuses a start inside a
    # word. Only the rest is case-insensitive ((?i:...)): the flag on the whole pattern would
    # turn that skipping off.
    branches = [
        re.escape(first) + r"(?<!\w[\s\S])" + (f"(?i:{rest})" if (rest := _emit(child)) else "")
        for ch, child in sorted(root.items())
        for first in _first(ch)
    ]
    return re.compile("(?:" + "|".join(branches) + r")(?!\w)")


class BlockedTerms(Detecting):
    """Refuses (or masks as ``<BLOCKED_TERM_n>``, or counts) the requests that hold one of
    ``terms``. A refusal never names the term."""

    __slots__ = ()

    def __init__(
        self,
        name: str,
        terms: Iterable[str],
        *,
        action: GuardrailAction = "refuse",
        roles: frozenset[str] = frozenset(ROLES),
    ) -> None:
        pattern = terms_pattern(terms)

        def find(text: str) -> Iterator[Span]:
            if pattern is None:
                return
            for m in pattern.finditer(text):
                yield m.start(), m.end(), normalize_term(m.group(0))

        detectors = [Detector("term", "BLOCKED_TERM", "a blocked term", find)]
        super().__init__(
            name, "blocked_terms", detectors if pattern else [], action=action, roles=roles
        )
