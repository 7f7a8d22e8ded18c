"""Content rules: whether a request's text meets a rule's ``when.text``, and where.

Pure and bounded. :class:`RequestText` reads the already coerced messages; for each scope
(the last user message, the user messages, the system messages, all of them) it takes at most
``max_chars`` characters: all of the text when it is shorter, else its first and last halves,
kept apart (a keyword or a match never spans the cut, nor two messages). Slices are taken per
message part, so a megabyte message is never copied or read whole. On that bounded text:

- keywords: the text is case-folded and cut into words once (one ``re.findall``), and each
  keyword is a set lookup (a phrase, a scan of its first word's places): linear in the text,
  whatever the number of keywords;
- regular expressions: ``pattern.search`` on each piece; :mod:`router.spec.regexcheck`
  accepted only patterns whose search is linear in the text.

The excerpt a hit shows (``router explain``) is made only when asked for: at most
:data:`EXCERPT` characters around the match, on one line, redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from router.redaction import redact
from router.specmodel.content import SCOPE_WORDS, Keyword, TextCondition, keyword_words
from router.types import Message

__all__ = [
    "EXCERPT",
    "Hit",
    "RequestText",
    "Scanned",
    "TextMatch",
    "match_text",
]

#: Most characters of the text an excerpt shows (the match, and some context around it).
EXCERPT = 60
_CONTEXT = 16  # characters shown on each side of a match
_WIDEN = 100  # how far a match is widened to whole words
_ROLES = {"last_user": ("user",), "user": ("user",), "system": ("system",)}
_SPACES = re.compile(r"\s+")
_RUN = re.compile(r"\w+")
_RUNS = _RUN.findall


@dataclass(frozen=True, slots=True)
class Scanned:
    """The bounded text of one scope: its pieces, how many characters the scope holds and
    how many were read."""

    pieces: tuple[str, ...] = field(repr=False)
    total: int
    read: int

    @property
    def truncated(self) -> bool:
        return self.read < self.total


class RequestText:
    """The messages of one request, read per scope and bound on first use (a request's rules
    share the work). Its repr shows sizes, never the text."""

    __slots__ = ("_messages", "_piece_runs", "_runs", "_scanned", "_words")

    def __init__(self, messages: Sequence[Message]) -> None:
        self._messages = tuple(messages)
        self._scanned: dict[tuple[str, int], Scanned] = {}
        self._words: dict[tuple[str, int], tuple[list[str], frozenset[str]]] = {}
        self._runs: dict[tuple[str, int], frozenset[str]] = {}
        # id(piece) -> (piece, its runs): the piece is kept, so its id stays its own
        self._piece_runs: dict[int, tuple[str, frozenset[str]]] = {}

    def __repr__(self) -> str:
        return f"RequestText({len(self._messages)} messages)"

    def _texts(self, scope: str) -> list[str]:
        messages = self._messages
        if scope == "last_user":
            last = next((m for m in reversed(messages) if m.role == "user"), None)
            messages = (last,) if last is not None else ()
        elif scope != "all":
            messages = tuple(m for m in messages if m.role in _ROLES[scope])
        texts: list[str] = []
        for m in messages:
            if isinstance(m.content, str):
                texts.append(m.content)
            else:
                texts += [p.text for p in m.content if hasattr(p, "text") and p.text]
        return texts

    def scanned(self, scope: str, max_chars: int) -> Scanned:
        key = (scope, max_chars)
        found = self._scanned.get(key)
        if found is None:
            found = self._scanned[key] = _bounded(self._texts(scope), max_chars)
        return found

    def runs(self, scope: str, max_chars: int) -> frozenset[str]:
        """The case-folded runs of letters, digits and ``_`` in the bounded text: enough for
        a keyword of one word. Each message part is cut once per request, whatever the
        scopes that read it."""
        key = (scope, max_chars)
        found = self._runs.get(key)
        if found is None:
            found = frozenset()
            for piece in self.scanned(scope, max_chars).pieces:
                kept = self._piece_runs.get(id(piece))
                if kept is None:
                    kept = self._piece_runs[id(piece)] = (piece, frozenset(_RUNS(piece.casefold())))
                found |= kept[1]
            self._runs[key] = found
        return found

    def words(self, scope: str, max_chars: int) -> tuple[list[str], frozenset[str]]:
        """Every word of the bounded text, in order (case-folded; pieces apart: ``""``
        between them), and their set: for phrases and symbols, read only when asked."""
        key = (scope, max_chars)
        found = self._words.get(key)
        if found is None:
            listed: list[str] = []
            for piece in self.scanned(scope, max_chars).pieces:
                listed += keyword_words(piece)
                listed.append("")  # a phrase never runs from one piece into the next
            found = self._words[key] = (listed, frozenset(listed))
        return found


def _bounded(texts: list[str], max_chars: int) -> Scanned:
    """``texts`` within ``max_chars``: whole, or their first and last halves (the characters
    of the concatenation at ``[0, head)`` and ``[total - tail, total)``), cut per text."""
    total = sum(len(t) for t in texts)
    if total <= max_chars:
        return Scanned(tuple(t for t in texts if t), total, total)
    head = max_chars // 2
    tail_from = total - (max_chars - head)
    pieces: list[str] = []
    offset = 0
    for t in texts:
        end = offset + len(t)
        if offset < head:
            pieces.append(t[: head - offset])
        if end > tail_from:
            pieces.append(t[max(0, tail_from - offset) :])
        offset = end
    return Scanned(tuple(p for p in pieces if p), total, max_chars)


@dataclass(frozen=True, slots=True)
class Hit:
    """One part of a condition found in the text: a keyword or a pattern. Where it is (for
    :attr:`excerpt`) is looked up only when asked: a call never pays for it."""

    kind: Literal["keyword", "regex"]
    term: str  # the keyword or the pattern, as the spec wrote it
    finder: re.Pattern[str] = field(repr=False, compare=False)
    pieces: tuple[str, ...] = field(repr=False, compare=False, default=())

    @property
    def excerpt(self) -> str:
        """The match and a little context, on one line, at most about :data:`EXCERPT`
        characters, secrets redacted (``…`` where it is cut); empty if it cannot be placed."""
        for piece in self.pieces:
            m = self.finder.search(piece)
            if m is not None:
                return _excerpt(piece, m.start(), m.end())
        return ""


def _excerpt(piece: str, start: int, end: int) -> str:
    """Whole words only, so that redaction sees every value whole: the match widened to the
    words it touches (redacted, then cut in its middle when long), and the whole words around
    it that fit in :data:`_CONTEXT` characters each side (a longer word ends the context)."""
    low = next((i for i in range(start - 1, max(-1, start - _WIDEN), -1) if piece[i].isspace()), -1)
    high = next((i for i in range(end, min(len(piece), end + _WIDEN)) if piece[i].isspace()), -1)
    start = low + 1 if low >= 0 else (0 if start <= _WIDEN else start)
    end = high if high >= 0 else (len(piece) if len(piece) - end <= _WIDEN else end)
    found = _SPACES.sub(" ", redact(piece[start:end])).strip()
    room = EXCERPT - 2 * _CONTEXT
    if len(found) > room:
        found = found[: room // 2] + "…" + found[-(room // 2) :]
    window = 4 * _CONTEXT
    before = piece[max(0, start - window) : start].split()
    after = piece[end : end + window].split()
    cut_before = start > window and bool(before)
    cut_after = end + window < len(piece) and bool(after)
    if cut_before:
        before.pop(0)  # cut by the window
    if cut_after:
        after.pop()
    shown_before = _fit(reversed(before))[::-1]
    shown_after = _fit(after)
    text = " ".join([*shown_before, found, *shown_after])
    lead = "…" if cut_before or len(shown_before) < len(before) else ""
    trail = "…" if cut_after or len(shown_after) < len(after) else ""
    return lead + redact(text) + trail


def _fit(words: Iterable[str]) -> list[str]:
    kept: list[str] = []
    size = 0
    for word in words:
        size += len(word) + 1
        if size > _CONTEXT + 1:
            break
        kept.append(word)
    return kept


@dataclass(frozen=True, slots=True)
class TextMatch:
    """Why a rule's text condition held: its hits, in the scope read."""

    scope: str
    hits: tuple[Hit, ...]
    total: int  # characters in the scope
    read: int  # characters read (at most max_chars)

    @property
    def where(self) -> str:
        return SCOPE_WORDS[self.scope]


def _keyword_hit(keyword: Keyword, text: RequestText, scope: str, max_chars: int) -> bool:
    words = keyword.words
    if not words:
        return False
    runs = text.runs(scope, max_chars)
    if any(w not in runs for w in words if _RUN.fullmatch(w)):
        return False  # a word missing: no need to cut the text into every word
    if len(words) == 1 and _RUN.fullmatch(words[0]):
        return True
    listed, present = text.words(scope, max_chars)
    if any(w not in present for w in words):
        return False
    size, first = len(words), words[0]
    start = listed.index(first)
    while True:
        if tuple(listed[start : start + size]) == words:
            return True
        try:
            start = listed.index(first, start + 1)
        except ValueError:
            return False


def match_text(cond: TextCondition, text: RequestText | None) -> TextMatch | None:
    """The hits that make ``cond`` hold on ``text``, or None when it does not hold."""
    if text is None:
        return None
    scanned = text.scanned(cond.scope, cond.max_chars)
    hits: list[Hit] = []
    if cond.any or cond.all:
        for keyword in cond.all:
            if not _keyword_hit(keyword, text, cond.scope, cond.max_chars):
                return None
            hits.append(Hit("keyword", keyword.text, keyword.locator, scanned.pieces))
        if cond.any:
            found = next(
                (k for k in cond.any if _keyword_hit(k, text, cond.scope, cond.max_chars)), None
            )
            if found is None:
                return None
            hits.append(Hit("keyword", found.text, found.locator, scanned.pieces))
    if cond.regex:
        hit = next(
            (
                Hit("regex", pattern.pattern, pattern, (piece,))
                for pattern in cond.regex
                for piece in scanned.pieces
                if pattern.search(piece) is not None
            ),
            None,
        )
        if hit is None:
            return None
        hits.append(hit)
    return TextMatch(cond.scope, tuple(hits), scanned.total, scanned.read)
