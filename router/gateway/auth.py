"""Who is calling: one pluggable :class:`Authenticator` turns a request's credential into a
:class:`Principal`, or refuses it.

The gateway reads the credential from ``Authorization: Bearer <key>`` (what the OpenAI SDK
sends) or ``x-api-key: <key>`` (the Anthropic SDK), on every endpoint, and asks its
authenticator. This slice has two: :class:`StaticKeys` (keys from the environment, compared
by their SHA-256 digests in constant time; the keys themselves are not kept) and
:class:`NoAuth` (``--no-auth``, loopback only). Team keys (hashed keys in a store, allowed
tasks, limits, budgets, revocation) are one more Authenticator, whose Principal carries the
tags, metadata and allowed tasks the gateway then applies.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from router.errors import ConfigError
from router.gateway.errors import Failure
from router.types import Embeddings, Response

__all__ = [
    "KEYS_ENV",
    "Account",
    "Authenticator",
    "Grant",
    "NoAuth",
    "Principal",
    "Refused",
    "StaticKeys",
    "credential",
]

#: The environment variable holding the gateway's keys: comma- or whitespace-separated.
KEYS_ENV = "ROUTER_GATEWAY_KEYS"
MIN_KEY_LENGTH = 16
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``name`` is what logs show (never the key)."""

    name: str
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: Tasks this caller may use (None: every task).
    tasks: frozenset[str] | None = None
    #: Budgets and limits each request is admitted against (team keys), or None.
    account: Account | None = None


class Grant(Protocol):
    """One admitted request's claim on its account, settled once the call is over."""

    async def settle(self, response: Response | Embeddings | None) -> None: ...


class Account(Protocol):
    """What a caller may still spend and how fast (team keys: :mod:`router.gateway.teamkeys`)."""

    async def admit(self, body_bytes: int, max_tokens: int | None) -> Grant:
        """Admits one request or raises :class:`Refused` (nothing is sent upstream then)."""
        ...


class Refused(Exception):
    """The credential is missing or not accepted; ``message`` is what the caller is told."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 401,
        code: str = "invalid_api_key",
        type: str = "invalid_request_error",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.type = type
        self.retry_after = retry_after

    def failure(self) -> Failure:
        """The answer: this status, the API's error shape, Retry-After when there is one."""
        return Failure(self.status, self.message, self.type, self.code, None, self.retry_after)


class Authenticator(Protocol):
    """Decides who a credential belongs to. ``authenticate`` is awaited on the event loop, so
    one backed by a store does its I/O asynchronously."""

    #: False for an authenticator that lets every request in (``/readyz`` says so).
    requires_key: bool

    async def authenticate(self, key: str | None) -> Principal:
        """The caller owning ``key`` (None: no credential sent); raises :class:`Refused`."""
        ...


def credential(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key a request presents: ``Authorization: Bearer K`` or ``x-api-key: K``."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
    return None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


class StaticKeys:
    """A fixed set of keys (from :data:`KEYS_ENV`), every one a full-access caller."""

    requires_key = True

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests: dict[bytes, str] = {}
        for i, key in enumerate(keys, 1):
            self._digests[_digest(key)] = f"key-{i}"
        if not self._digests:
            raise ConfigError(f"no gateway keys: set {KEYS_ENV}")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> StaticKeys:
        """The keys in ``environ[KEYS_ENV]``; a ConfigError that says what to do when there
        are none or one is too short to be a secret."""
        raw = environ.get(KEYS_ENV, "")
        keys = [k for k in raw.replace(",", " ").split() if k]
        if not keys:
            raise ConfigError(
                f"router serve needs keys: set {KEYS_ENV} to one or more keys (comma-separated, "
                f"at least {MIN_KEY_LENGTH} characters each; e.g. "
                f"{KEYS_ENV}=\"$(python -c 'import secrets; print(secrets.token_urlsafe(32))')\"), "
                "or pass --no-auth on a loopback address for local use"
            )
        short = [i for i, k in enumerate(keys, 1) if len(k) < MIN_KEY_LENGTH]
        if short:
            raise ConfigError(
                f"{KEYS_ENV}: key {', '.join(map(str, short))} (by position) is shorter than "
                f"{MIN_KEY_LENGTH} characters: use long random keys"
            )
        return cls(keys)

    def __len__(self) -> int:
        return len(self._digests)

    async def authenticate(self, key: str | None) -> Principal:
        if key is None:
            raise Refused(
                "no API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
                code="missing_api_key",
            )
        digest = _digest(key)
        # Constant time in the key: every stored digest is compared, whichever matches.
        found = None
        for stored, name in self._digests.items():
            if hmac.compare_digest(stored, digest):
                found = name
        if found is None:
            raise Refused("invalid API key")
        return Principal(found)

    def __repr__(self) -> str:
        return f"StaticKeys({len(self._digests)} keys)"


class NoAuth:
    """Every request is let in (``--no-auth``; refused on any address but loopback)."""

    requires_key = False

    async def authenticate(self, key: str | None) -> Principal:
        return _ANONYMOUS


_ANONYMOUS = Principal("anonymous")
