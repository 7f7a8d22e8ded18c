"""State in Redis, shared by every process that points at the same server and key prefix.

Key layout (``P`` is ``key_prefix``, ``"router:"`` by default; ``key`` is the caller's key)::

    P rl:<key>      string  GCRA theoretical arrival time, seconds ("%.17g")
                            PX = until that time + 1 s (an expired key is an empty limit)
    P hold:<key>    string  the time the hold ends, seconds (repr of a float)
                            PX = until that time + 1 s
    P cache:<key>   string  8-byte big-endian double "expires at" + the cached bytes
                            PX = the entry's ttl
    P ctr:<key>     hash    v = the total (HINCRBYFLOAT), exp = when the counter ends
                            PX = ttl + 1 s, set when the counter is created

One round trip per call: the limit decision (read, decide, write), "set the hold if later" and
"increment, starting a new window if the old one ended" are each one Lua script (EVALSHA,
reloaded by redis-py after a server restart empties its script cache), so concurrent callers in
any number of processes are serialised by Redis itself. The GCRA script is the arithmetic of
:mod:`router.state.gcra`, line for line.

Time. Rate limits use the caller's ``now`` when one is given and the Redis server's ``TIME``
otherwise: one clock for every process, so pacing does not depend on how well the hosts' clocks
agree. (Pass ``now`` only from a fake clock in tests, and never mix the two on one key.) Holds,
cache entries and counters compare against the backend's ``clock`` (the wall clock unless
injected), and store the time they end *in the value*. Their Redis expiry is only garbage
collection, set relative to now with a second of slack: an absolute PEXPIREAT would tie them to
the server's clock and make a fake clock (or a host a little behind) lose them at once.

Redis Cluster. A ``redis+cluster://`` (or ``rediss+cluster://``) URL names one node of a
cluster; :mod:`router.state.redis_clients` says how calls over several keys are kept to one
hash slot.

Connections. Clients are made on first use: one ``redis.Redis`` for threads, one
``redis.asyncio.Redis`` per running event loop (closed before its loop closes, see
:mod:`router.aio.eventloops`), each with a blocking pool of ``max_connections``
(redis-py's plain pool raises "Too many connections", a ConnectionError, past 100 concurrent
calls: that would read as "Redis is down"). Connecting, every read, and the wait for a pooled
connection are each bounded by ``connect_timeout``; a command is retried once only after a
``ConnectionError`` (a pooled connection the server closed, e.g. after a restart), never after a
timeout, so a call against a dead or stalled server costs about ``connect_timeout`` (at worst
twice that when it first queued for a connection). A command that timed out may still have run
on the server: a limit may then be charged for a call that was refused, never the reverse.

Secrets. The URL may hold a password: it is kept only inside the client factories; reprs,
health and errors show ``host:port``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.exceptions
import redis.retry
from redis.commands.core import AsyncScript, Script

from router.aio.eventloops import LoopLocal
from router.redaction import describe
from router.state import gcra
from router.state.base import StateBackend, check_cache_ttl, check_counter, check_hold
from router.state.redis_clients import (
    CLUSTER_SCHEMES,
    CLUSTER_UNAVAILABLE,
    cluster_factories,
    one_slot,
    redis_location,
    server_factories,
)
from router.state.redis_scripts import EXPIRES_STRUCT, SLACK_MS, Scripts

__all__ = ["RedisBackend", "redis_location"]


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _time_arg(now: float | None) -> str:
    return "" if now is None else repr(float(now))


def _wait(reply: Any) -> float:
    return float(reply)


def _booked(reply: Any) -> tuple[float, list[float] | None]:
    """The limits script's answer: the wait, or '0' and each key's booking ahead."""
    parts = reply.split()
    wait = float(parts[0])
    return wait, ([float(p) for p in parts[1:]] if wait == 0 else None)


def _held(reply: Any, now: float) -> float | None:
    if reply is None:
        return None
    until = float(reply)
    return until if until > now else None


def _cached(reply: Any, now: float) -> bytes | None:
    if reply is None or len(reply) < EXPIRES_STRUCT.size:
        return None
    (expires,) = EXPIRES_STRUCT.unpack_from(reply)
    return bytes(reply[EXPIRES_STRUCT.size :]) if expires > now else None


class RedisBackend(StateBackend):
    """Shared state in the Redis server at ``url`` (``redis://[[user]:password@]host:port/db``,
    ``rediss://`` for TLS, ``unix://``). Nothing connects until the first call.

    ``connect_timeout`` bounds connecting, each reply, and the wait for a free connection when
    ``max_connections`` (per client: one sync, one per event loop) are all busy."""

    name = "redis"
    unavailable_errors = (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        OSError,
        *CLUSTER_UNAVAILABLE,  # a cluster with no node reachable, or down
    )

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "router:",
        connect_timeout: float = 0.5,
        max_connections: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not connect_timeout > 0:
            raise ValueError(f"connect_timeout must be > 0 seconds, got {connect_timeout!r}")
        self._where = redis_location(url)
        scheme = urlsplit(url).scheme
        #: True on a Redis Cluster (``redis+cluster://``): see :mod:`router.state.redis_clients`.
        self.cluster = scheme in CLUSTER_SCHEMES
        self.key_prefix = key_prefix
        self.connect_timeout = connect_timeout
        self._clock = clock
        # The URL lives only in these closures: not in an attribute, repr or vars().
        if self.cluster:
            plain = CLUSTER_SCHEMES[scheme] + url[len(scheme) :]
            self._make_sync, self._make_async = cluster_factories(plain, connect_timeout)
        else:
            self._make_sync, self._make_async = server_factories(
                url, max_connections, connect_timeout
            )
        self._lock = threading.Lock()
        self._sync: tuple[Any, Scripts[Script]] | None = None
        self._async: LoopLocal[tuple[Any, Scripts[AsyncScript]]] = LoopLocal(_aclose_client)

    @property
    def location(self) -> str:
        return f"redis at {self._where}"

    def __repr__(self) -> str:
        return f"RedisBackend({self._where}, key_prefix={self.key_prefix!r})"

    # -- plumbing ---------------------------------------------------------------------------
    def _key(self, space: str, key: str) -> str:
        return f"{self.key_prefix}{space}:{key}"

    def _client(self) -> tuple[Any, Scripts[Script]]:
        current = self._sync
        if current is None:
            with self._lock:
                current = self._sync
                if current is None:
                    client = self._make_sync()
                    current = self._sync = (client, Scripts.register(client.register_script))
        return current

    def _aclient(self) -> tuple[Any, Scripts[AsyncScript]]:
        # Pooled asyncio connections belong to the loop that opened them, so each loop gets
        # its own client (made here: cheap, nothing connects yet), closed before that loop
        # closes.
        return self._async.current() or self._async.get(self._new_aclient)

    def _new_aclient(self) -> tuple[Any, Scripts[AsyncScript]]:
        client = self._make_async()
        return client, Scripts.register(client.register_script)

    def client(self) -> Any:
        """The sync client (``redis.Redis`` or ``RedisCluster``), for a store of its own
        above this layer (the gateway's team keys); its keys go under :meth:`key`."""
        return self._client()[0]

    def aclient(self) -> Any:
        """The running event loop's async client (see :meth:`client`)."""
        return self._aclient()[0]

    def key(self, space: str, key: str) -> str:
        """The Redis key of ``key`` in ``space`` (``P space:key``)."""
        return self._key(space, key)

    # -- rate limits ------------------------------------------------------------------------
    def acquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float:
        gcra.check_limit(cost, interval, burst)
        _, scripts = self._client()
        keys, args = self._gcra_call(key, cost, interval, burst, now)
        return _wait(scripts.gcra(keys=keys, args=args))

    async def aacquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float:
        gcra.check_limit(cost, interval, burst)
        _, scripts = self._aclient()
        keys, args = self._gcra_call(key, cost, interval, burst, now)
        return _wait(await scripts.gcra(keys=keys, args=args))

    def _all_call(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None
    ) -> tuple[list[str], list[str]]:
        keys, args = [], [_time_arg(now)]
        for key, cost, interval, burst in limits:
            gcra.check_limit(cost, interval, burst)
            keys.append(self._key("rl", key))
            args += [repr(float(cost)), repr(float(interval)), repr(float(burst))]
        return keys, args

    def acquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        return self.acquire_booked(limits, now)[0]

    async def aacquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        return (await self.aacquire_booked(limits, now))[0]

    def acquire_booked(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> tuple[float, Sequence[float] | None]:
        if not limits:
            return 0.0, []
        keys, args = self._all_call(limits, now)
        if self.cluster and not one_slot(keys):
            return StateBackend.acquire_all(self, limits, now), None
        _, scripts = self._client()
        return _booked(scripts.gcra_all(keys=keys, args=args))

    async def aacquire_booked(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> tuple[float, Sequence[float] | None]:
        if not limits:
            return 0.0, []
        keys, args = self._all_call(limits, now)
        if self.cluster and not one_slot(keys):
            return await StateBackend.aacquire_all(self, limits, now), None
        _, scripts = self._aclient()
        return _booked(await scripts.gcra_all(keys=keys, args=args))

    def _gcra_call(
        self, key: str, cost: float, interval: float, burst: float, now: float | None
    ) -> tuple[list[str], list[str]]:
        args = [repr(float(cost)), repr(float(interval)), repr(float(burst)), _time_arg(now)]
        return [self._key("rl", key)], args

    def adjust(self, key: str, *, delta: float, interval: float, now: float | None = None) -> None:
        gcra.check_adjust(delta, interval)
        _, scripts = self._client()
        scripts.adjust(keys=[self._key("rl", key)], args=self._adjust_args(delta, interval, now))

    async def aadjust(
        self, key: str, *, delta: float, interval: float, now: float | None = None
    ) -> None:
        gcra.check_adjust(delta, interval)
        _, scripts = self._aclient()
        await scripts.adjust(
            keys=[self._key("rl", key)], args=self._adjust_args(delta, interval, now)
        )

    @staticmethod
    def _adjust_args(delta: float, interval: float, now: float | None) -> list[str]:
        return [repr(float(delta)), repr(float(interval)), _time_arg(now)]

    # -- holds ------------------------------------------------------------------------------
    def hold(self, key: str, until: float) -> None:
        args = self._hold_args(until)
        if args is not None:
            _, scripts = self._client()
            scripts.hold(keys=[self._key("hold", key)], args=args)

    async def ahold(self, key: str, until: float) -> None:
        args = self._hold_args(until)
        if args is not None:
            _, scripts = self._aclient()
            await scripts.hold(keys=[self._key("hold", key)], args=args)

    def _hold_args(self, until: float) -> list[str] | None:
        """None when the hold has already ended (nothing to store, no round trip)."""
        check_hold(until)
        remaining = until - self._clock()
        if not remaining > 0:
            return None
        return [repr(float(until)), str(_ms(remaining) + SLACK_MS)]

    def held_until(self, key: str, now: float | None = None) -> float | None:
        client, _ = self._client()
        reply = client.get(self._key("hold", key))
        return _held(reply, self._clock() if now is None else now)

    async def aheld_until(self, key: str, now: float | None = None) -> float | None:
        client, _ = self._aclient()
        reply = await client.get(self._key("hold", key))
        return _held(reply, self._clock() if now is None else now)

    def held_until_many(self, keys: Sequence[str], now: float | None = None) -> list[float | None]:
        client, _ = self._client()
        names = [self._key("hold", key) for key in keys]
        replies = client.mget_nonatomic(names) if self.cluster else client.mget(names)
        at = self._clock() if now is None else now
        return [_held(reply, at) for reply in replies]

    async def aheld_until_many(
        self, keys: Sequence[str], now: float | None = None
    ) -> list[float | None]:
        client, _ = self._aclient()
        names = [self._key("hold", key) for key in keys]
        replies = await (client.mget_nonatomic(names) if self.cluster else client.mget(names))
        at = self._clock() if now is None else now
        return [_held(reply, at) for reply in replies]

    # -- response cache ---------------------------------------------------------------------
    def cache_get(self, key: str) -> bytes | None:
        client, _ = self._client()
        return _cached(client.get(self._key("cache", key)), self._clock())

    async def acache_get(self, key: str) -> bytes | None:
        client, _ = self._aclient()
        return _cached(await client.get(self._key("cache", key)), self._clock())

    def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        if check_cache_ttl(ttl):
            client, _ = self._client()
            client.set(self._key("cache", key), self._cache_value(value, ttl), px=_ms(ttl))

    async def acache_set(self, key: str, value: bytes, ttl: float) -> None:
        if check_cache_ttl(ttl):
            client, _ = self._aclient()
            await client.set(self._key("cache", key), self._cache_value(value, ttl), px=_ms(ttl))

    def _cache_value(self, value: bytes, ttl: float) -> bytes:
        return EXPIRES_STRUCT.pack(self._clock() + ttl) + value

    # -- counters ---------------------------------------------------------------------------
    def incr(self, key: str, amount: float, ttl: float) -> float:
        args = self._incr_args(amount, ttl)
        _, scripts = self._client()
        return float(scripts.incr(keys=[self._key("ctr", key)], args=args))

    async def aincr(self, key: str, amount: float, ttl: float) -> float:
        args = self._incr_args(amount, ttl)
        _, scripts = self._aclient()
        return float(await scripts.incr(keys=[self._key("ctr", key)], args=args))

    def _incr_args(self, amount: float, ttl: float) -> list[str]:
        check_counter(amount, ttl)
        now = self._clock()
        return [repr(float(amount)), repr(float(now)), repr(float(ttl)), str(_ms(ttl) + SLACK_MS)]

    # -- lifecycle --------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"backend": self.name, "key_prefix": self.key_prefix}
        started = time.perf_counter()
        try:
            client, _ = self._client()
            client.ping()
        except Exception as exc:
            return {**report, "ok": False, "detail": f"{self.location}: {describe(exc)}"}
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return {**report, "ok": True, "detail": self.location, "latency_ms": latency_ms}

    def close(self) -> None:
        """Closes the sync client; each event loop's async client is closed on its own loop
        (when that loop next runs), or left to the collector if its loop is already closed."""
        current, self._sync = self._sync, None
        self._async.close()
        if current is not None:
            current[0].close()

    async def aclose(self) -> None:
        """Closes the running loop's async client now, then as :meth:`close`."""
        await self._async.aclose()
        self.close()


async def _aclose_client(client: tuple[Any, Scripts[AsyncScript]]) -> None:
    await client[0].aclose()
