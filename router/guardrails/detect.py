"""A guardrail made of detectors (personal data, secrets, blocked terms): each detector finds
spans of one kind in a text; the guardrail masks them with placeholders, refuses the request at
the first one, or only counts them (``report``).

A request's texts are joined by :data:`SEPARATOR` and scanned together: one scan per detector,
not one per text and detector. Where two detectors find overlapping spans, the one listed
first keeps its span (an IBAN's digits are never also a card number).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from router.guardrails.base import Outcome, Refusal, RequestState, Span, rewrite, texts
from router.specmodel.guardrails import GuardrailAction
from router.types import Message

__all__ = ["SEPARATOR", "Detecting", "Detector", "Found", "Windows", "prioritized"]

#: Joins texts so that they are scanned in one call: a private-use character, which no pattern
#: matches (it is not a word character, a space, a digit or punctuation), so no finding spans
#: two texts and each text's edges read as a text's ends.
SEPARATOR = "\ue000"
#: Where a window may begin or end: after or before one of these.
_EDGES = (" ", "\n", "\t", SEPARATOR)


@dataclass(frozen=True, slots=True)
class Detector:
    """Finds one kind of thing. ``find(text)`` yields non-overlapping spans in order;
    ``label`` names its placeholders (``EMAIL`` → ``<EMAIL_1>``); ``noun`` says what it is in
    a refusal ("an e-mail address"), never showing it."""

    kind: str
    label: str
    noun: str
    find: Callable[[str], Iterable[Span]]


#: A finding: start, end, key (see :data:`Span`), and the detector that made it.
Found = tuple[int, int, str, Detector]


def prioritized(found: Iterable[tuple[Detector, Iterable[Span]]]) -> list[Found]:
    """Every detector's spans, in text order, without overlaps: a span overlapping one of an
    earlier detector is dropped. Each detector's spans (in order) are merged into those kept
    so far in one pass: linear in the findings."""
    kept: list[Found] = []
    for detector, spans in found:
        merged: list[Found] = []
        i = 0
        for start, end, key in spans:
            while i < len(kept) and kept[i][1] <= start:
                merged.append(kept[i])
                i += 1
            if i < len(kept) and kept[i][0] < end:
                continue  # it overlaps a span an earlier detector found
            merged.append((start, end, key, detector))
        merged += kept[i:]
        kept = merged
    return kept


@cache
def _gaps(marker: str, length: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The text's lead without a marker, and each marker followed by ``length`` characters or
    more without one (a marker class such as ``0-9``)."""
    return re.compile(f"[^{marker}]*"), re.compile(f"[{marker}][^{marker}]{{{length},}}")


class Windows:
    """The parts of a text where a family of detectors can find something, cut out and joined
    by :data:`SEPARATOR` into one short text to scan (``compact``), and the way back to the
    text's positions (:meth:`spans`).

    ``marker`` is a class of characters every finding holds (``0-9``, ``@``); a window reaches
    ``before`` characters before a marker and ``after`` after it, more than any finding can
    reach from the markers it holds, so a finding is whole in its window. The windows are the
    text less its long stretches without a marker (found in one pass, each stretch from the
    marker before it: a dense text is one window). Then each edge moves out to a space (or
    the text's end): what a pattern reads beyond an edge (the separator) it reads as it would
    the space, so a window scans as the text around it does."""

    __slots__ = ("_at", "_from", "compact")

    def __init__(self, text: str, marker: str, before: int, after: int) -> None:
        lead_pattern, gaps = _gaps(marker, before + after + 1)
        lead = lead_pattern.match(text)
        start: int | None = None if lead is None or lead.end() == len(text) else lead.end()
        near: list[list[int]] = []
        if start is not None:
            start = max(start - before, 0)
            for m in gaps.finditer(text, start):
                near.append([start, m.start() + 1 + after])
                start = m.end() - before if m.end() < len(text) else None
                if start is None:
                    break
            if start is not None:
                near.append([start, len(text)])
        for i, window in enumerate(near):  # each end out to a space, not past the next window
            limit = near[i + 1][0] if i + 1 < len(near) else len(text)
            if window[1] < limit and text[window[1]] not in _EDGES:
                found = [p for c in _EDGES if (p := text.find(c, window[1], limit)) >= 0]
                window[1] = min(found, default=limit)
        merged: list[list[int]] = []
        for window in near:  # each start back to a space, not before the window before
            limit = merged[-1][1] if merged else 0
            if window[0] > limit and text[window[0] - 1] not in _EDGES:
                window[0] = max(text.rfind(c, limit, window[0]) for c in _EDGES) + 1 or limit
            if merged and window[0] <= merged[-1][1]:
                merged[-1][1] = window[1]
            else:
                merged.append(window)
        self.compact = SEPARATOR.join(text[s:e] for s, e in merged)
        self._at = list(accumulate((e - s + 1 for s, e in merged[:-1]), initial=0))
        self._from = [s for s, _ in merged]

    def __bool__(self) -> bool:
        return bool(self._from)

    def spans(self, spans: Iterable[Span]) -> Iterator[Span]:
        """``spans`` of the compact text, at their places in the whole text."""
        for start, end, key in spans:
            i = bisect.bisect_right(self._at, start) - 1
            shift = self._from[i] - self._at[i]
            yield start + shift, end + shift, key


class Detecting:
    """A guardrail of detectors, in priority order."""

    __slots__ = ("action", "detectors", "name", "restorable", "roles", "type")

    def __init__(
        self,
        name: str,
        type: str,
        detectors: Sequence[Detector],
        *,
        action: GuardrailAction,
        roles: frozenset[str],
        restorable: bool = False,
    ) -> None:
        self.name = name
        self.type = type
        self.detectors = tuple(detectors)
        self.action = action
        self.roles = roles
        self.restorable = restorable

    def __repr__(self) -> str:
        kinds = ", ".join(d.kind for d in self.detectors)
        return f"{type(self).__name__}({self.name!r}, action={self.action!r}, kinds=[{kinds}])"

    def findings(self, text: str) -> list[Found]:
        """Everything found in ``text``, in text order (a subclass may scan less of it)."""
        return prioritized((d, d.find(text)) for d in self.detectors)

    def apply(
        self, messages: tuple[Message, ...], state: RequestState
    ) -> tuple[Message, ...] | Refusal:
        read = list(texts(messages, self.roles))
        if not self.detectors or not read:
            return messages
        strings = [text for _, _, text in read]
        joined = len(strings) > 1 and not any(SEPARATOR in s for s in strings)
        units = [SEPARATOR.join(strings)] if joined else strings
        found = [self.findings(unit) for unit in units]
        if self.action == "refuse":
            first = next(((i, f[0]) for i, f in enumerate(found) if f), None)
            if first is None:
                return messages
            i, (start, _, _, d) = first
            if joined:
                starts = list(accumulate((len(s) + 1 for s in strings[:-1]), initial=0))
                i = bisect.bisect_right(starts, start) - 1
            state.tally[(self.name, d.kind, "refused")] += 1
            return Refusal(self.name, d.kind, read[i][1], f"holds {d.noun} ({d.kind})")
        outcome: Outcome = "reported" if self.action == "report" else "masked"
        for f in found:
            for *_, d in f:
                state.tally[(self.name, d.kind, outcome)] += 1
        if self.action == "report" or not any(found):
            return messages
        masked = [self._mask(unit, f, state) for unit, f in zip(units, found, strict=True)]
        rest = iter(masked[0].split(SEPARATOR) if joined else masked)
        return rewrite(messages, self.roles, lambda _: next(rest))

    def _mask(self, text: str, found: list[Found], state: RequestState) -> str:
        if not found:
            return text
        out: list[str] = []
        at = 0
        for start, end, key, d in found:
            out.append(text[at:start])
            out.append(state.placeholder(d.label, key, text[start:end], restorable=self.restorable))
            at = end
        out.append(text[at:])
        return "".join(out)
