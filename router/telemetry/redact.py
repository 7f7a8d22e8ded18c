"""Secret redaction: any text that contains a secret becomes ``"[redacted]"``.

A text is taken to contain a secret when it holds the secret itself, any 8-character slice of
it (providers echo key fragments: ``sk-proj-****abcd1234``), or its SHA-256 in hex. The whole
text is replaced, not just the match: what surrounds a key fragment is rarely worth the risk.
Secrets shorter than 8 characters only match whole.

:class:`SecretRedactor` is both a scrubber for plain values (:meth:`~SecretRedactor.scrub`)
and a structlog processor. Its repr never shows the secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from router.redaction import SLICE, Secrets

__all__ = ["REDACTED", "SLICE", "SecretRedactor"]

REDACTED = "[redacted]"


class SecretRedactor:
    """Replace every string that contains a secret, in any nesting of dicts, lists, tuples and
    sets, with ``"[redacted]"``. Called as a structlog processor, it scrubs the event dict."""

    __slots__ = ("_clean", "_secrets")

    # Spec names (tasks, models, providers) recur in every record: short strings found clean
    # once are remembered, so a request costs set lookups, not n-gram scans.
    _CLEAN_MAX = 4096
    _CLEAN_LEN = 256

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._clean: set[str] = set()
        self._secrets = Secrets(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Guard more secrets too (the set is swapped whole, so concurrent scrubs see either
        the old or the new one)."""
        self._secrets = self._secrets.union(secrets)
        self._clean = set()

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __repr__(self) -> str:
        return "SecretRedactor(<secrets>)"

    def leaks(self, text: str) -> bool:
        """True when ``text`` holds a secret, a slice of one, or a secret's SHA-256."""
        if text in self._clean:
            return False
        found = self._secrets.leaks(text)
        if not found and len(text) <= self._CLEAN_LEN and len(self._clean) < self._CLEAN_MAX:
            self._clean.add(text)
        return found

    def text(self, text: str) -> str:
        return REDACTED if self.leaks(text) else text

    def scrub(self, value: Any) -> Any:
        """``value`` with every leaking string replaced (containers rebuilt only when one of
        their items changed; other objects are returned as they are)."""
        if not self:
            return value
        return self._scrub(value)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return REDACTED if self.leaks(value) else value
        if isinstance(value, bytes | bytearray):
            return self._scrub(bytes(value).decode("utf-8", "replace"))
        if isinstance(value, Mapping):
            items = [(self._scrub(k), self._scrub(v)) for k, v in value.items()]
            if all(
                k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True)
            ):
                return value
            return dict(items)
        if isinstance(value, list | tuple | set | frozenset):
            new = [self._scrub(v) for v in value]
            if all(a is b for a, b in zip(new, value, strict=True)):
                return value
            return type(value)(new) if not isinstance(value, list) else new
        if isinstance(value, BaseException):
            # Exceptions reach logs through their text (and their causes'); render them here
            # so the renderer never formats an unscrubbed one.
            return self._scrub(_exception_text(value))
        return value

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if self:
            for key, value in list(event_dict.items()):
                new = self._scrub(value)
                if new is not value:
                    event_dict[key] = new
        return event_dict


def _exception_text(exc: BaseException) -> str:
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)
