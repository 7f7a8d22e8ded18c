"""Small helpers shared by the guardrail tests."""

from __future__ import annotations

from collections.abc import Sequence

from router.guardrails import Guardrail, Guardrails, Pii
from router.guardrails.detect import Detecting
from router.types import Message


def user(text: str) -> Message:
    return Message("user", text)


def masked(text: str, guardrail: Guardrail | None = None) -> str:
    """``text`` as a guardrail (PII by default) masks it in one user message."""
    decision = Guardrails([guardrail or Pii()]).check([user(text)])
    content = decision.messages[0].content
    assert isinstance(content, str)
    return content


def found(text: str, guardrail: Detecting) -> list[tuple[str, str]]:
    """(kind, value) of everything the guardrail's detectors find in ``text``, in order."""
    out = []
    for d in guardrail.detectors:
        out += [(d.kind, text[s:e]) for s, e, _ in d.find(text)]
    return out


def kinds(text: str, guardrail: Detecting) -> list[str]:
    return [k for k, _ in found(text, guardrail)]


def only(kind: str, values: Sequence[str]) -> list[tuple[str, str]]:
    return [(kind, v) for v in values]
