"""The contract every state backend fulfils, and the error raised when it cannot.

The nodes of a compiled model (cache, rate limiter, circuit breaker) keep their state in a
backend: :class:`~router.state.memory.MemoryBackend` for one process,
:class:`~router.state.redis.RedisBackend` to share it between processes, and
:class:`~router.state.resilient.ResilientBackend` around the latter for when Redis is down.
A backend holds four kinds of state, each in its own namespace (the same key string names
different things in each):

- **rate limits** (``acquire``/``adjust``): GCRA, see :mod:`router.state.gcra` for the formula
  and what ``interval`` and ``burst`` mean. Admission and charge are one atomic step.
- **holds** (``hold``/``held_until``): "do not call before T" marks (Retry-After, an open
  breaker). Setting keeps the later of the stored and the new time.
- **cache** (``cache_get``/``cache_set``): opaque bytes with a per-entry TTL.
- **counters** (``incr``): a float that starts at 0 and is dropped ``ttl`` seconds after the
  increment that created it (a fixed window: later increments do not extend it).

Times are seconds on the backend's clock (``time.time`` by default: holds and limits are
compared across processes, so it must be the wall clock). Methods that take ``now`` use it
instead of the clock when given; everything else reads the clock. Every method exists in a
sync and an ``a``-prefixed async form with the same meaning.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from typing import Any, ClassVar

from router.errors import StateUnavailable

__all__ = ["StateBackend", "StateUnavailable", "check_cache_ttl", "check_counter", "check_hold"]


def check_cache_ttl(ttl: float) -> bool:
    """Whether a cache entry with this ttl is stored at all (``ttl <= 0``: no); raises
    ValueError for NaN and infinity."""
    if not math.isfinite(ttl):
        raise ValueError(f"cache ttl must be a finite number of seconds, got {ttl!r}")
    return ttl > 0


def check_counter(amount: float, ttl: float) -> None:
    if not math.isfinite(amount):
        raise ValueError(f"counter amount must be finite, got {amount!r}")
    if not (math.isfinite(ttl) and ttl > 0):
        raise ValueError(f"counter ttl must be a finite number > 0 seconds, got {ttl!r}")


def check_hold(until: float) -> None:
    if not math.isfinite(until):
        raise ValueError(f"a hold must end at a finite time, got {until!r}")


class StateBackend(abc.ABC):
    """Where rate limits, holds, cached responses and counters live. One instance serves many
    concurrent callers, threads and event loops alike."""

    #: ``"memory"`` or ``"redis"`` (a wrapper takes its primary's).
    name: str

    #: Exceptions meaning "the backend cannot be reached right now" (as opposed to a bug or a
    #: refused command): :class:`~router.state.resilient.ResilientBackend` fails over on these.
    unavailable_errors: ClassVar[tuple[type[BaseException], ...]] = (OSError,)

    @property
    def location(self) -> str:
        """Where the state lives, safe to log: ``"memory"``, ``"redis at host:port"``."""
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location})"

    # -- rate limits ------------------------------------------------------------------------
    @abc.abstractmethod
    def acquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float:
        """Admits ``cost`` units and returns 0.0, or charges nothing and returns the seconds
        until ``cost`` units could be admitted. ``interval`` is seconds per unit, ``burst`` how
        many units may pass at once; a cost above the burst passes when the key is empty."""

    @abc.abstractmethod
    async def aacquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float: ...

    @abc.abstractmethod
    def adjust(self, key: str, *, delta: float, interval: float, now: float | None = None) -> None:
        """Charges ``delta`` more units (refunds when negative) after the fact, without
        admission; the limit is never moved back before ``now``."""

    @abc.abstractmethod
    async def aadjust(
        self, key: str, *, delta: float, interval: float, now: float | None = None
    ) -> None: ...

    # -- holds ------------------------------------------------------------------------------
    @abc.abstractmethod
    def hold(self, key: str, until: float) -> None:
        """Marks ``key`` as not to be used before ``until``; an existing later hold stays."""

    @abc.abstractmethod
    async def ahold(self, key: str, until: float) -> None: ...

    @abc.abstractmethod
    def held_until(self, key: str, now: float | None = None) -> float | None:
        """The time the hold on ``key`` ends, or None when there is none or it has passed."""

    @abc.abstractmethod
    async def aheld_until(self, key: str, now: float | None = None) -> float | None: ...

    def acquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        """Admit every ``(key, cost, interval, burst)`` or none: 0.0 when all were charged,
        else the longest wait and nothing charged. Backends that can do it in one atomic step
        (a lock, one Lua script) override this sequential version."""
        charged: list[tuple[str, float, float]] = []
        for key, cost, interval, burst in limits:
            wait = self.acquire(key, cost=cost, interval=interval, burst=burst, now=now)
            if wait > 0:
                for done, units, every in charged:
                    self.adjust(done, delta=-units, interval=every, now=now)
                return wait
            charged.append((key, cost, interval))
        return 0.0

    async def aacquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        charged: list[tuple[str, float, float]] = []
        for key, cost, interval, burst in limits:
            wait = await self.aacquire(key, cost=cost, interval=interval, burst=burst, now=now)
            if wait > 0:
                for done, units, every in charged:
                    await self.aadjust(done, delta=-units, interval=every, now=now)
                return wait
            charged.append((key, cost, interval))
        return 0.0

    def acquire_booked(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> tuple[float, Sequence[float] | None]:
        """:meth:`acquire_all`, and when admitted, how far ahead each limit is now booked
        (seconds: its ``tat`` minus now, shared by every process on a shared backend) when
        the backend can say so in the same step; else None. Balancing by headroom reads it."""
        return self.acquire_all(limits, now), None

    async def aacquire_booked(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> tuple[float, Sequence[float] | None]:
        return await self.aacquire_all(limits, now), None

    def held_until_many(self, keys: Sequence[str], now: float | None = None) -> list[float | None]:
        """:meth:`held_until` for several keys (one round trip where the backend can)."""
        return [self.held_until(key, now) for key in keys]

    async def aheld_until_many(
        self, keys: Sequence[str], now: float | None = None
    ) -> list[float | None]:
        return [await self.aheld_until(key, now) for key in keys]

    # -- response cache ---------------------------------------------------------------------
    @abc.abstractmethod
    def cache_get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    async def acache_get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        """Stores ``value`` for ``ttl`` seconds; a ``ttl <= 0`` stores nothing."""

    @abc.abstractmethod
    async def acache_set(self, key: str, value: bytes, ttl: float) -> None: ...

    # -- counters ---------------------------------------------------------------------------
    @abc.abstractmethod
    def incr(self, key: str, amount: float, ttl: float) -> float:
        """Adds ``amount`` and returns the new total (``amount=0`` reads it). A counter that
        does not exist (or has expired) starts at 0 and lives ``ttl`` seconds from then."""

    @abc.abstractmethod
    async def aincr(self, key: str, amount: float, ttl: float) -> float: ...

    # -- lifecycle --------------------------------------------------------------------------
    @abc.abstractmethod
    def health(self) -> dict[str, Any]:
        """``{"backend": name, "ok": bool, "detail": str, ...}``; never raises."""

    def close(self) -> None:  # noqa: B027 - a backend without resources has nothing to close
        """Releases connections. A backend used again afterwards reconnects."""

    async def aclose(self) -> None:
        self.close()
