"""What every guardrail shares: the texts of a request it reads, one request's placeholders,
what it found (findings, a refusal), and the :class:`Decision` a set of guardrails returns.

Which texts are read: of every message whose role the guardrail reads (all four by default),
its text (a string, or each text part; images are not read) and, for an assistant message,
each tool call's arguments (JSON text, masked in place: placeholders hold no character JSON
escapes). Not read: tool definitions, message ``name``\\s, parameters, metadata.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from router.errors import GuardrailRefused
from router.guardrails.restore import PLACEHOLDER, RestoreMap, placeholder
from router.types import Message, Part, TextPart

__all__ = [
    "Decision",
    "Finding",
    "Guardrail",
    "Refusal",
    "RequestState",
    "Span",
    "rewrite",
    "texts",
]

Outcome = Literal["masked", "refused", "reported"]
#: A finding in a text: start, end, and the key that identifies its value within the request
#: (the same key gets the same placeholder). For what is restored, the key is the value as
#: written, so that restoring gives back exactly what was masked.
Span = tuple[int, int, str]


def texts(messages: Sequence[Message], roles: frozenset[str]) -> Iterator[tuple[int, str, str]]:
    """``(message index, where, text)`` for every text a guardrail reading ``roles`` reads;
    ``where`` names it as a call argument (``messages[2].content[1]``)."""
    for i, m in enumerate(messages):
        if m.role not in roles:
            continue
        if isinstance(m.content, str):
            if m.content:
                yield i, f"messages[{i}].content", m.content
        else:
            for j, part in enumerate(m.content):
                if isinstance(part, TextPart) and part.text:
                    yield i, f"messages[{i}].content[{j}]", part.text
        for k, call in enumerate(m.tool_calls):
            if call.arguments:
                yield i, f"messages[{i}].tool_calls[{k}].arguments", call.arguments


def rewrite(
    messages: tuple[Message, ...], roles: frozenset[str], change: Callable[[str], str]
) -> tuple[Message, ...]:
    """``messages`` with every text that :func:`texts` reads passed through ``change``; the
    same tuple (and the same Message objects) where nothing changed."""
    out = list(messages)
    for i, m in enumerate(messages):
        if m.role in roles:
            out[i] = _rewrite_message(m, change)
    if all(a is b for a, b in zip(out, messages, strict=True)):
        return messages
    return tuple(out)


def _rewrite_message(m: Message, change: Callable[[str], str]) -> Message:
    content = m.content
    if isinstance(content, str):
        new_content: str | tuple[Part, ...] = change(content) if content else content
    else:
        parts = tuple(
            replace(p, text=change(p.text)) if isinstance(p, TextPart) and p.text else p
            for p in content
        )
        same = all(
            a is b or (isinstance(a, TextPart) and isinstance(b, TextPart) and a.text == b.text)
            for a, b in zip(parts, content, strict=True)
        )
        new_content = content if same else parts
    calls = tuple(
        replace(c, arguments=change(c.arguments)) if c.arguments else c for c in m.tool_calls
    )
    same_calls = all(a.arguments == b.arguments for a, b in zip(calls, m.tool_calls, strict=True))
    if new_content == content and same_calls:
        return m
    return replace(m, content=new_content, tool_calls=m.tool_calls if same_calls else calls)


class RequestState:
    """One request's placeholders and tallies, shared by the guardrails it passes: the same
    value (by its key) gets the same placeholder, numbered per label from 1, skipping any
    placeholder the request's own texts already hold."""

    __slots__ = ("_counters", "_given", "_restore", "_taken", "tally")

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = frozenset(taken)
        self._given: dict[tuple[str, str], str] = {}
        self._counters: dict[str, int] = {}
        self._restore: dict[str, str] = {}
        self.tally: Counter[tuple[str, str, Outcome]] = Counter()

    def __repr__(self) -> str:
        return f"RequestState({len(self._given)} placeholders, values hidden)"

    @classmethod
    def for_messages(cls, messages: Sequence[Message]) -> RequestState:
        """A state that will not hand out a placeholder these messages already hold."""
        held = {
            m.group(0)
            for _, _, text in texts(messages, frozenset({"system", "user", "assistant", "tool"}))
            if "<" in text
            for m in PLACEHOLDER.finditer(text)
        }
        return cls(held)

    def placeholder(self, label: str, key: str, value: str, *, restorable: bool) -> str:
        """The placeholder of ``value`` (known by ``key``) under ``label``."""
        given = self._given.get((label, key))
        if given is None:
            n = self._counters.get(label, 0) + 1
            while placeholder(label, n) in self._taken:
                n += 1
            self._counters[label] = n
            given = self._given[(label, key)] = placeholder(label, n)
            if restorable:
                self._restore[given] = value
        return given

    def restore_map(self) -> RestoreMap:
        return RestoreMap(self._restore)


@dataclass(frozen=True, slots=True)
class Finding:
    """How many times (occurrences, not distinct values) a guardrail found a kind of thing,
    and what it did. Never the values."""

    guardrail: str
    kind: str
    outcome: Outcome
    count: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a guardrail refused: where (``argument``) and what kind of thing it found, in
    words that never hold the value found."""

    guardrail: str
    kind: str
    argument: str
    reason: str

    def error(self) -> GuardrailRefused:
        return GuardrailRefused(
            f"guardrail '{self.guardrail}' refused the request: {self.argument} {self.reason}; "
            "nothing was sent",
            guardrail=self.guardrail,
            kind=self.kind,
            argument=self.argument,
        )


_NO_RESTORE = RestoreMap()


@dataclass(frozen=True, slots=True, repr=False)
class Decision:
    """What a request's guardrails decided. ``messages`` are what to send (the caller's own
    when nothing changed, or when refused); ``restore`` puts masked values back into the
    answer; ``findings`` are the counts for the ledger and metrics."""

    messages: tuple[Message, ...]
    findings: tuple[Finding, ...] = ()
    refusal: Refusal | None = None
    restore: RestoreMap = field(default=_NO_RESTORE)
    changed: bool = False

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    def raise_if_refused(self) -> None:
        """Raise the refusal's :class:`~router.errors.GuardrailRefused`, if there is one."""
        if self.refusal is not None:
            raise self.refusal.error()

    def counts(self) -> dict[str, dict[str, int]]:
        """``{guardrail: {kind: occurrences}}``: plain data for a ledger row or a metric."""
        out: dict[str, dict[str, int]] = {}
        for f in self.findings:
            kinds = out.setdefault(f.guardrail, {})
            kinds[f.kind] = kinds.get(f.kind, 0) + f.count
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.guardrail}.{f.kind} {f.outcome} x{f.count}" for f in self.findings)
        refusal = (
            f", refused by {self.refusal.guardrail} ({self.refusal.kind})" if self.refusal else ""
        )
        return f"Decision([{shown}]{refusal}, changed={self.changed}, restore={self.restore!r})"


class Guardrail(Protocol):
    """One configured guardrail: reads (and may rewrite) a request's messages, or refuses."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    def apply(
        self, messages: tuple[Message, ...], state: RequestState
    ) -> tuple[Message, ...] | Refusal:
        """The messages to send (the same tuple when nothing changed), or a refusal."""
        ...
