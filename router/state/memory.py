"""State in this process's memory: the default backend, and the fail-open fallback of Redis.

Everything sits behind one ``threading.Lock`` that is never held across an ``await`` (the
async methods are the sync ones: no I/O happens), so the backend is safe for threads and event
loops at once and a GCRA decision is exact under any concurrency.

- rate limits: ``{key: tat}`` (see :mod:`router.state.gcra`); an entry with ``tat <= now`` is
  the same as no entry.
- holds: ``{key: until}``.
- counters: ``{key: [total, expires_at]}``.
- cache: a ``cachetools.TLRUCache`` (least recently used out first once ``cache_max_entries``
  is reached, each entry expiring at its own time on the injected clock).

Expired limit, hold and counter entries are swept whenever a table has doubled since the last
sweep, so memory stays proportional to the live keys at an amortised O(1) per write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Generic, TypeVar

from cachetools import TLRUCache

from router.state import gcra
from router.state.base import StateBackend, check_cache_ttl, check_counter, check_hold

__all__ = ["MemoryBackend"]

_MIN_SWEEP: Final = 1024
_V = TypeVar("_V")


def _cache_expiry(_key: str, entry: tuple[bytes, float], now: float) -> float:
    return now + entry[1]


class _Table(Generic[_V]):
    """A dict whose expired entries are swept once it has doubled since the last sweep."""

    __slots__ = ("data", "expires", "sweep_at")

    def __init__(self, expires: Callable[[_V], float]) -> None:
        self.data: dict[str, _V] = {}
        self.expires = expires
        self.sweep_at = _MIN_SWEEP

    def put(self, key: str, value: _V, now: float) -> None:
        self.data[key] = value
        if len(self.data) >= self.sweep_at:
            self.data = {k: v for k, v in self.data.items() if self.expires(v) > now}
            self.sweep_at = max(_MIN_SWEEP, 2 * len(self.data))


class MemoryBackend(StateBackend):
    """Per-process state. ``clock`` gives seconds (wall clock by default, so that the times it
    stores mean the same as the Redis backend's); ``cache_max_entries`` bounds the cache."""

    name = "memory"

    def __init__(
        self, *, clock: Callable[[], float] = time.time, cache_max_entries: int = 1024
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tat: _Table[float] = _Table(lambda tat: tat)
        self._holds: _Table[float] = _Table(lambda until: until)
        self._counters: _Table[list[float]] = _Table(lambda entry: entry[1])
        self._cache: TLRUCache[str, tuple[bytes, float]] = TLRUCache(
            maxsize=cache_max_entries, ttu=_cache_expiry, timer=clock
        )

    @property
    def location(self) -> str:
        return "per-process memory"

    # -- rate limits ------------------------------------------------------------------------
    def acquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float:
        gcra.check_limit(cost, interval, burst)
        with self._lock:
            now = self._clock() if now is None else now
            tat, wait = gcra.gcra(
                self._tat.data.get(key), now, cost=cost, interval=interval, burst=burst
            )
            if tat is not None:
                self._tat.put(key, tat, now)
        return wait

    async def aacquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float:
        return self.acquire(key, cost=cost, interval=interval, burst=burst, now=now)

    def _admit(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None
    ) -> tuple[float, list[tuple[str, float | None]], float]:
        """Every limit admitted and charged, or none: (longest wait, new tats, now)."""
        for _, cost, interval, burst in limits:
            gcra.check_limit(cost, interval, burst)
        with self._lock:
            now = self._clock() if now is None else now
            decided = []
            longest = 0.0
            for key, cost, interval, burst in limits:
                tat, wait = gcra.gcra(
                    self._tat.data.get(key), now, cost=cost, interval=interval, burst=burst
                )
                longest = max(longest, wait)
                decided.append((key, tat))
            if longest > 0:
                return longest, decided, now
            for key, tat in decided:
                if tat is not None:
                    self._tat.put(key, tat, now)
        return 0.0, decided, now

    def acquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        return self._admit(limits, now)[0]

    async def aacquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        return self._admit(limits, now)[0]

    def acquire_booked(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> tuple[float, Sequence[float] | None]:
        wait, decided, at = self._admit(limits, now)
        if wait > 0:
            return wait, None
        return 0.0, [max((tat or at) - at, 0.0) for _, tat in decided]

    async def aacquire_booked(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> tuple[float, Sequence[float] | None]:
        return self.acquire_booked(limits, now)

    def adjust(self, key: str, *, delta: float, interval: float, now: float | None = None) -> None:
        gcra.check_adjust(delta, interval)
        with self._lock:
            now = self._clock() if now is None else now
            tat = gcra.adjusted(self._tat.data.get(key), now, delta=delta, interval=interval)
            if tat > now:
                self._tat.put(key, tat, now)
            else:
                self._tat.data.pop(key, None)

    async def aadjust(
        self, key: str, *, delta: float, interval: float, now: float | None = None
    ) -> None:
        self.adjust(key, delta=delta, interval=interval, now=now)

    # -- holds ------------------------------------------------------------------------------
    def hold(self, key: str, until: float) -> None:
        check_hold(until)
        with self._lock:
            current = self._holds.data.get(key)
            if current is None or until > current:
                self._holds.put(key, until, self._clock())

    async def ahold(self, key: str, until: float) -> None:
        self.hold(key, until)

    def held_until(self, key: str, now: float | None = None) -> float | None:
        with self._lock:
            until = self._holds.data.get(key)
            # A passed hold is left for the sweep: a caller asking about a later `now` than
            # the clock's must not erase a hold that others still see.
            if until is not None and until > (self._clock() if now is None else now):
                return until
            return None

    async def aheld_until(self, key: str, now: float | None = None) -> float | None:
        return self.held_until(key, now)

    # -- response cache ---------------------------------------------------------------------
    def cache_get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._cache.get(key)
        return None if entry is None else entry[0]

    async def acache_get(self, key: str) -> bytes | None:
        return self.cache_get(key)

    def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        if not check_cache_ttl(ttl):
            return
        with self._lock:
            self._cache[key] = (bytes(value), ttl)

    async def acache_set(self, key: str, value: bytes, ttl: float) -> None:
        self.cache_set(key, value, ttl)

    # -- counters ---------------------------------------------------------------------------
    def incr(self, key: str, amount: float, ttl: float) -> float:
        check_counter(amount, ttl)
        with self._lock:
            now = self._clock()
            entry = self._counters.data.get(key)
            if entry is None or entry[1] <= now:
                entry = [0.0, now + ttl]
                self._counters.put(key, entry, now)
            entry[0] += amount
            return entry[0]

    async def aincr(self, key: str, amount: float, ttl: float) -> float:
        return self.incr(key, amount, ttl)

    # -- lifecycle --------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        with self._lock:
            sizes = {
                "limits": len(self._tat.data),
                "holds": len(self._holds.data),
                "counters": len(self._counters.data),
                "cache": len(self._cache),
            }
        return {"backend": self.name, "ok": True, "detail": "per-process state", **sizes}
