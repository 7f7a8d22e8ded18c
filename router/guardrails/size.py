"""Input size caps: characters and estimated tokens, per message and over the whole request.
Counted over the texts a guardrail reads (:func:`router.guardrails.base.texts`): text and
tool call arguments, not images. Tokens are estimated at 4 characters each, rounded up per
message (the estimate routing uses for text)."""

from __future__ import annotations

from router.guardrails.base import Refusal, RequestState, texts
from router.specmodel.guardrails import ROLES, SIZE_CAPS
from router.types import Message

__all__ = ["CHARS_PER_TOKEN", "InputSize", "estimated_tokens"]

CHARS_PER_TOKEN = 4


def estimated_tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


class InputSize:
    """Refuses a request over any of its caps (None: no cap). Never rewrites."""

    __slots__ = (
        "max_message_chars",
        "max_message_tokens",
        "max_total_chars",
        "max_total_tokens",
        "name",
        "roles",
    )
    type = "input_size"

    def __init__(
        self,
        name: str,
        *,
        max_message_chars: int | None = None,
        max_message_tokens: int | None = None,
        max_total_chars: int | None = None,
        max_total_tokens: int | None = None,
        roles: frozenset[str] = frozenset(ROLES),
    ) -> None:
        self.name = name
        self.max_message_chars = max_message_chars
        self.max_message_tokens = max_message_tokens
        self.max_total_chars = max_total_chars
        self.max_total_tokens = max_total_tokens
        self.roles = roles

    def __repr__(self) -> str:
        caps = ", ".join(
            f"{k}={getattr(self, k)}" for k in SIZE_CAPS if getattr(self, k) is not None
        )
        return f"InputSize({self.name!r}, {caps})"

    def _over(self, kind: str, where: str, size: int, unit: str) -> Refusal | None:
        cap: int | None = getattr(self, f"max_{kind}")
        if cap is None or size <= cap:
            return None
        return Refusal(
            self.name,
            kind,
            where,
            f"is {size:,} {unit}, over max_{kind} ({cap:,})",
        )

    def apply(
        self, messages: tuple[Message, ...], state: RequestState
    ) -> tuple[Message, ...] | Refusal:
        per_message: dict[int, int] = {}
        for i, _, text in texts(messages, self.roles):
            per_message[i] = per_message.get(i, 0) + len(text)
        total_chars = total_tokens = 0
        for i, chars in per_message.items():
            tokens = estimated_tokens(chars)
            total_chars += chars
            total_tokens += tokens
            where = f"messages[{i}]"
            refusal = self._over("message_chars", where, chars, "characters") or self._over(
                "message_tokens", where, tokens, "tokens (estimated)"
            )
            if refusal is not None:
                state.tally[(self.name, refusal.kind, "refused")] += 1
                return refusal
        refusal = self._over("total_chars", "messages", total_chars, "characters") or self._over(
            "total_tokens", "messages", total_tokens, "tokens (estimated)"
        )
        if refusal is not None:
            state.tally[(self.name, refusal.kind, "refused")] += 1
            return refusal
        return messages
