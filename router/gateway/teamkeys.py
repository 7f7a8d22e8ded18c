"""Team keys as an :class:`~router.gateway.auth.Authenticator`: a presented ``rk_<id>_...`` key
is looked up by its id, its digest compared in constant time, then refused when revoked or
expired; otherwise the caller is a Principal carrying the key's tasks, tags, metadata and an
:class:`Account` that admits each request against the key's budgets and limits and records
what it spent. Keys of another shape go to the static keys (``ROUTER_GATEWAY_KEYS``), when
there are any.

Revocation reaches every replica within :data:`RECORD_TTL` seconds: each process keeps a
record it read for at most that long, then reads it again (one GET per key and replica per
period, whatever the request rate). Chosen over pub/sub because it needs no subscriber
connection that can silently miss a message across a reconnect, works unchanged on SQLite
(N workers of one host) and on a Redis Cluster, and bounds staleness by construction.

When the store is down: with ``state.on_unavailable: fail_open`` a key read before keeps
working on its last known record (revocations made meanwhile wait for the store); an unknown
key, and every key with ``fail_closed``, is refused with 503.

Per request, in order (each refusal sends nothing upstream):

    budget  spend today / this month (UTC) >= the key's cap  -> 429 insufficient_quota
    limits  rpm and tpm, one GCRA step for both (a full minute's burst)  -> 429 + Retry-After

then after the call, before the answer's last byte: the call's cost is added to the key's
spend, and its tpm charge corrected from the estimate to the real token count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from router.errors import StateUnavailable
from router.gateway.auth import Authenticator, Principal, Refused
from router.gateway.keys import KeyRecord, key_id, matches, when
from router.gateway.keystore import KeyStore, StoreDown, period_ends
from router.redaction import describe
from router.routing.features import CHARS_PER_TOKEN, DEFAULT_EXPECTED_OUTPUT
from router.state.base import StateBackend
from router.types import Embeddings, Response

__all__ = ["RECORD_TTL", "Account", "TeamKeys"]

#: Seconds a process keeps a key's record before reading it again (revocation delay bound).
RECORD_TTL = 0.5
_CACHE_MAX = 10_000


def _state_down(detail: str) -> Refused:
    return Refused(
        f"the key store is unreachable ({detail}); retry shortly",
        status=503,
        code="state_unavailable",
        type="server_error",
        retry_after=1.0,
    )


class Grant:
    """One admitted request: settle it with the answer (or None when there was none)."""

    __slots__ = ("account", "estimate")

    def __init__(self, account: Account, estimate: int) -> None:
        self.account = account
        self.estimate = estimate

    async def settle(self, response: Response | Embeddings | None) -> None:
        await self.account.settle(self, response)


class Account:
    """The budgets and limits of one key, for one request."""

    __slots__ = ("keys", "record")

    def __init__(self, keys: TeamKeys, record: KeyRecord) -> None:
        self.keys = keys
        self.record = record

    def _cells(self, tokens: int) -> list[tuple[str, float, float, float]]:
        s, ident = self.record.settings, self.record.id
        cells = []
        if s.rpm:
            cells.append((f"gwkey:{{{ident}}}:rpm", 1.0, 60.0 / s.rpm, float(s.rpm)))
        if s.tpm:
            cells.append((f"gwkey:{{{ident}}}:tpm", float(tokens), 60.0 / s.tpm, float(s.tpm)))
        return cells

    async def admit(self, body_bytes: int, max_tokens: int | None) -> Grant:
        """Admits one request or raises Refused (budget spent 429, over a limit 429)."""
        s = self.record.settings
        keys = self.keys
        now = keys.clock()
        try:
            if s.daily_usd is not None or s.monthly_usd is not None:
                spent = await keys.store.aspent(self.record.id, now)
                for period, cap in (("daily", s.daily_usd), ("monthly", s.monthly_usd)):
                    if cap is not None and spent[period] >= cap:
                        ends = period_ends(now)[period]
                        raise Refused(
                            f"the key {s.name!r} has spent its {period} budget of ${cap:g} "
                            f"(${spent[period]:.4f}); it resets at {when(ends)}",
                            status=429,
                            code="budget_exceeded",
                            type="insufficient_quota",
                            retry_after=max(ends - now, 1.0),
                        )
            output = DEFAULT_EXPECTED_OUTPUT if max_tokens is None else max_tokens
            estimate = body_bytes // CHARS_PER_TOKEN + output
            cells = self._cells(estimate)
            wait = await keys.limits.aacquire_all(cells) if cells else 0.0
        except StoreDown as down:
            raise _state_down(down.detail) from None
        except StateUnavailable as exc:
            raise _state_down(exc.backend) from None
        if wait > 0:
            labels = [f"{s.rpm} requests/min"] if s.rpm else []
            labels += [f"{s.tpm} tokens/min"] if s.tpm else []
            raise Refused(
                f"the key {s.name!r} is over its rate limit ({', '.join(labels)}); "
                f"retry in {wait:.1f}s",
                status=429,
                code="rate_limit_exceeded",
                type="rate_limit_exceeded",
                retry_after=wait,
            )
        return Grant(self, estimate)

    async def settle(self, grant: Grant, response: Response | Embeddings | None) -> None:
        """Adds the call's cost to the key's spend, and corrects its tpm charge. A store
        failure here is counted (``TeamKeys.unsettled``), never raised: the answer stands."""
        s, keys = self.record.settings, self.keys
        try:
            if response is not None and response.cost:
                await keys.store.aspend(self.record.id, response.cost, keys.clock())
            if s.tpm and response is not None:
                delta = float(response.usage.total_tokens - grant.estimate)
                if delta:
                    await keys.limits.aadjust(
                        f"gwkey:{{{self.record.id}}}:tpm", delta=delta, interval=60.0 / s.tpm
                    )
        except (StoreDown, StateUnavailable, OSError) as exc:
            keys.unsettled += 1
            keys.last_settle_error = describe(exc)


class TeamKeys:
    """The team key authenticator over ``store`` (records, spend) and ``limits`` (the state
    backend holding rpm/tpm). ``static`` answers keys that are not team keys; ``fail_open``
    is the spec's ``state.on_unavailable``."""

    requires_key = True

    def __init__(
        self,
        store: KeyStore,
        limits: StateBackend,
        *,
        static: Authenticator | None = None,
        fail_open: bool = True,
        record_ttl: float = RECORD_TTL,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.limits = limits
        self.static = static
        self.fail_open = fail_open
        self.record_ttl = record_ttl
        self.clock = clock
        self._monotonic = monotonic
        self._cache: dict[str, tuple[KeyRecord | None, float]] = {}
        self.unsettled = 0
        self.last_settle_error: str | None = None

    def __repr__(self) -> str:
        return f"TeamKeys({self.store.where})"

    async def _record(self, ident: str) -> KeyRecord | None:
        now = self._monotonic()
        cached = self._cache.get(ident)
        if cached is not None and now - cached[1] < self.record_ttl:
            return cached[0]
        try:
            record = await self.store.aget(ident)
        except StoreDown as down:
            if self.fail_open and cached is not None and cached[0] is not None:
                # The last known record, until the store is back; asked again only after
                # another period, so an outage costs one failed read per key and period.
                self._cache[ident] = (cached[0], now)
                return cached[0]
            raise _state_down(down.detail) from None
        if len(self._cache) >= _CACHE_MAX:
            self._cache = {k: v for k, v in self._cache.items() if now - v[1] < self.record_ttl}
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
        self._cache[ident] = (record, now)
        return record

    def forget(self, ident: str) -> None:
        """Drops this process's copy of a record (the admin API, after changing it)."""
        self._cache.pop(ident, None)

    async def authenticate(self, key: str | None) -> Principal:
        if key is None:
            raise Refused(
                "no API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
                code="missing_api_key",
            )
        ident = key_id(key)
        if ident is None:
            if self.static is not None:
                return await self.static.authenticate(key)
            raise Refused("invalid API key")
        record = await self._record(ident)
        if record is None or not matches(record, key):
            raise Refused("invalid API key")
        if record.revoked_at is not None:
            raise Refused(
                f"this API key ({record.id}) was revoked at {when(record.revoked_at)}; "
                "ask for a new one",
                code="revoked_api_key",
            )
        if record.expired(self.clock()):
            raise Refused(
                f"this API key ({record.id}) expired at {when(record.settings.expires_at)}; "
                "ask for a new one",
                code="expired_api_key",
            )
        s = record.settings
        return Principal(
            name=f"{s.name} ({record.id})",
            tags=s.tags,
            metadata=s.metadata,
            tasks=frozenset(s.tasks) if s.tasks is not None else None,
            account=Account(self, record),
        )

    async def aclose(self) -> None:
        """Closes the store and the limits' connections (at shutdown)."""
        await self.limits.aclose()
        self.store.close()

    def health(self) -> dict[str, Any]:
        return {"store": self.store.where, "unsettled": self.unsettled}
