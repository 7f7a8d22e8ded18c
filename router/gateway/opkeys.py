"""The operators' keys, apart from the callers': ``ROUTER_ADMIN_KEY`` (the admin endpoints,
e.g. ``POST /admin/reload``; it may also read ``/metrics``) and ``ROUTER_METRICS_KEY`` (only
``/metrics``: what a Prometheus scrape job is given, so it cannot reload or manage keys).

Kept as SHA-256 digests and compared in constant time, like the callers' keys. An endpoint
whose key is not set is refused (403, saying which variable to set), except when the gateway
runs ``--no-auth`` (loopback only), where every endpoint is open.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Literal

from router.errors import ConfigError
from router.gateway.auth import MIN_KEY_LENGTH, credential
from router.gateway.errors import Failure
from router.gateway.exchange import Exchange

__all__ = ["ADMIN_ENV", "METRICS_ENV", "OperatorKeys"]

ADMIN_ENV = "ROUTER_ADMIN_KEY"
METRICS_ENV = "ROUTER_METRICS_KEY"
Scope = Literal["admin", "metrics"]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


class OperatorKeys:
    def __init__(self, admin: str | None, metrics: str | None, *, open_: bool = False) -> None:
        self._admin = _digest(admin) if admin else None
        self._metrics = _digest(metrics) if metrics else None
        self.open = open_

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, no_auth: bool) -> OperatorKeys:
        """The keys in the environment; a ConfigError for one too short to be a secret."""
        found: dict[str, str | None] = {}
        for name in (ADMIN_ENV, METRICS_ENV):
            value = environ.get(name, "").strip() or None
            if value is not None and len(value) < MIN_KEY_LENGTH:
                raise ConfigError(
                    f"{name} is shorter than {MIN_KEY_LENGTH} characters: use a long random key"
                )
            found[name] = value
        return cls(found[ADMIN_ENV], found[METRICS_ENV], open_=no_auth)

    def refusal(self, ex: Exchange, scope: Scope) -> Failure | None:
        """None when the request may use an endpoint of ``scope``; else what to answer."""
        if self.open:
            return None
        accepted = [d for d in (self._admin, self._metrics if scope == "metrics" else None) if d]
        if not accepted:
            wanted = ADMIN_ENV if scope == "admin" else f"{METRICS_ENV} or {ADMIN_ENV}"
            return Failure(
                403,
                f"the {scope} endpoints are off: set {wanted} for router serve, then send it as "
                "'Authorization: Bearer <key>'",
                "permission_error",
                f"{scope}_key_not_set",
            )
        key = credential(ex.scope["headers"])
        if key is None:
            return Failure(401, f"no {scope} key sent", code="missing_api_key")
        digest = _digest(key)
        ok = False
        for stored in accepted:  # every one compared, whichever matches
            ok |= hmac.compare_digest(stored, digest)
        if not ok:
            return Failure(401, f"invalid {scope} key", code="invalid_api_key")
        return None

    def __repr__(self) -> str:
        return f"OperatorKeys(admin={self._admin is not None}, metrics={self._metrics is not None})"
