"""A guardrail made of detectors (personal data, secrets, blocked terms): each detector finds
spans of one kind in a text; the guardrail masks them with placeholders, refuses the request at
the first one, or only counts them (``report``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from router.guardrails.base import Refusal, RequestState, Span, rewrite, texts
from router.specmodel.guardrails import GuardrailAction
from router.types import Message

__all__ = ["Detecting", "Detector"]


@dataclass(frozen=True, slots=True)
class Detector:
    """Finds one kind of thing. ``find(text)`` yields non-overlapping spans in order;
    ``label`` names its placeholders (``EMAIL`` → ``<EMAIL_1>``); ``noun`` says what it is in
    a refusal ("an e-mail address"), never showing it."""

    kind: str
    label: str
    noun: str
    find: Callable[[str], Iterable[Span]]


class Detecting:
    """A guardrail of detectors, applied in order: in ``mask``, each detector works on the
    text the ones before it left (so a placeholder is never re-read as something else)."""

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

    def detectors_for(self, text: str) -> tuple[Detector, ...]:
        """The detectors that can find something in ``text`` (a subclass may rule some out
        with one cheap look)."""
        return self.detectors

    def apply(
        self, messages: tuple[Message, ...], state: RequestState
    ) -> tuple[Message, ...] | Refusal:
        if not self.detectors:
            return messages
        if self.action == "refuse":
            return self._refusal(messages, state) or messages
        if self.action == "report":
            for _, _, text in texts(messages, self.roles):
                for d in self.detectors_for(text):
                    n = sum(1 for _ in d.find(text))
                    if n:
                        state.tally[(self.name, d.kind, "reported")] += n
            return messages
        return rewrite(messages, self.roles, lambda text: self._mask(text, state))

    def _refusal(self, messages: tuple[Message, ...], state: RequestState) -> Refusal | None:
        for _, where, text in texts(messages, self.roles):
            for d in self.detectors_for(text):
                if next(iter(d.find(text)), None) is not None:
                    state.tally[(self.name, d.kind, "refused")] += 1
                    return Refusal(self.name, d.kind, where, f"holds {d.noun} ({d.kind})")
        return None

    def _mask(self, text: str, state: RequestState) -> str:
        for d in self.detectors_for(text):
            spans = list(d.find(text))
            if not spans:
                continue
            state.tally[(self.name, d.kind, "masked")] += len(spans)
            out: list[str] = []
            at = 0
            for start, end, key in spans:
                value = text[start:end]
                out.append(text[at:start])
                out.append(state.placeholder(d.label, key, value, restorable=self.restorable))
                at = end
            out.append(text[at:])
            text = "".join(out)
        return text
