"""Keeps the router answering, or refusing on purpose, when the shared state backend is down.

:class:`ResilientBackend` wraps a primary (Redis) and is in one of two states::

    up    every call goes to the primary
          a call fails with one of primary.unavailable_errors  ->  down  (logged once)
    down  calls skip the primary, so none waits for a connect timeout:
            fail_open    they are served by the fallback (per-process memory)
            fail_closed  they raise StateUnavailable at once
          the first call at least `retry_every` after the last attempt goes to the primary
          as a probe; if it succeeds                             ->  up    (logged once)

Failing open trades exactness for availability: while down, each process enforces the limits,
holds and cache on its own (N processes may together admit up to N times a limit), and what the
fallback learnt is not copied back to the primary on recovery. Other errors from the primary
(a refused command, a bug) are not unavailability and propagate unchanged.

The decision (which backend serves a call, what a result or failure does to the state) is
written once; the sync and async drivers only carry it out.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

from router.redaction import describe
from router.state.base import StateBackend, StateUnavailable
from router.state.memory import MemoryBackend

__all__ = ["ResilientBackend"]

_T = TypeVar("_T")

#: Event names, also what tests match on.
DOWN_SERVING = "state backend unreachable, serving with per-process state"
DOWN_REFUSING = "state backend unreachable, refusing calls (state.on_unavailable is fail_closed)"
RECOVERED = "state backend reachable again, using shared state"


class _Plan(enum.Enum):
    PRIMARY = "primary"  # up: the primary serves
    PROBE = "probe"  # down, but time to try the primary again
    DEGRADED = "degraded"  # down: fallback or refusal


class ResilientBackend(StateBackend):
    """``primary`` with a fallback policy. ``mode`` is the spec's ``state.on_unavailable``;
    ``fallback`` (fail_open only) defaults to a fresh :class:`MemoryBackend`; ``clock`` (a
    monotonic clock by default) schedules the probes; ``log`` is a structlog logger."""

    def __init__(
        self,
        primary: StateBackend,
        *,
        mode: Literal["fail_open", "fail_closed"],
        fallback: StateBackend | None = None,
        retry_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        log: Any = None,
    ) -> None:
        if mode not in ("fail_open", "fail_closed"):
            raise ValueError(f"mode must be 'fail_open' or 'fail_closed', got {mode!r}")
        if mode == "fail_closed" and fallback is not None:
            raise ValueError("a fallback backend is only used with mode='fail_open'")
        if not retry_every >= 0:
            raise ValueError(f"retry_every must be >= 0 seconds, got {retry_every!r}")
        self.primary = primary
        self.mode = mode
        self.fallback: StateBackend | None = None
        if mode == "fail_open":
            self.fallback = fallback if fallback is not None else MemoryBackend()
        self.name = primary.name
        self.retry_every = retry_every
        self._clock = clock
        # Through the standard library's "router.state" logger: a library must not print to
        # stdout; applications choose handlers (and structlog's processors still apply).
        if log is None:
            import structlog  # at construction: `import router` stays free of it

            log = structlog.wrap_logger(logging.getLogger("router.state"))
        self._log = log
        self._unavailable = primary.unavailable_errors
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_probe = 0.0
        self._last_error: str | None = None

    @property
    def location(self) -> str:
        return self.primary.location

    @property
    def degraded(self) -> bool:
        """Whether the primary is currently considered down."""
        return self._down_since is not None

    def __repr__(self) -> str:
        state = "down" if self.degraded else "up"
        return f"ResilientBackend({self.primary!r}, mode={self.mode!r}, {state})"

    # -- the decision -----------------------------------------------------------------------
    def _plan(self) -> _Plan:
        if self._down_since is None:
            return _Plan.PRIMARY
        with self._lock:
            if self._down_since is None:
                return _Plan.PRIMARY
            now = self._clock()
            if now < self._next_probe:
                return _Plan.DEGRADED
            # Claimed under the lock: one probe per period, however many callers are waiting.
            self._next_probe = now + self.retry_every
            return _Plan.PROBE

    def _failed(self, exc: BaseException) -> None:
        self._down(describe(exc))

    def _down(self, error: str) -> None:
        with self._lock:
            self._last_error = error
            if self._down_since is not None:
                return
            now = self._clock()
            self._down_since = now
            self._next_probe = now + self.retry_every
        self._log.warning(
            DOWN_SERVING if self.fallback is not None else DOWN_REFUSING,
            backend=self.location,
            mode=self.mode,
            error=self._last_error,
            retry_every=self.retry_every,
        )

    def _recovered(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            down_for = self._clock() - self._down_since
            self._down_since = None
            self._last_error = None
        self._log.info(RECOVERED, backend=self.location, mode=self.mode, down_for=down_for)

    def _fallback_or_refuse(self) -> StateBackend:
        # Called outside the ``except`` block that saw the failure, and raised without a
        # cause: the client's exception (and its connection, URL included) stays behind.
        if self.fallback is None:
            raise StateUnavailable(self.location, detail=self._last_error)
        return self.fallback

    # -- the drivers ------------------------------------------------------------------------
    def _run(self, call: Callable[[StateBackend], _T]) -> _T:
        plan = self._plan()
        if plan is _Plan.DEGRADED:
            return call(self._fallback_or_refuse())
        try:
            result = call(self.primary)
        except self._unavailable as exc:
            self._failed(exc)
        else:
            if plan is _Plan.PROBE:
                self._recovered()
            return result
        return call(self._fallback_or_refuse())

    async def _arun(self, call: Callable[[StateBackend], Awaitable[_T]]) -> _T:
        plan = self._plan()
        if plan is _Plan.DEGRADED:
            return await call(self._fallback_or_refuse())
        try:
            result = await call(self.primary)
        except self._unavailable as exc:
            self._failed(exc)
        else:
            if plan is _Plan.PROBE:
                self._recovered()
            return result
        return await call(self._fallback_or_refuse())

    # -- the interface ----------------------------------------------------------------------
    def acquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float:
        return self._run(
            lambda b: b.acquire(key, cost=cost, interval=interval, burst=burst, now=now)
        )

    async def aacquire(
        self, key: str, *, cost: float, interval: float, burst: float, now: float | None = None
    ) -> float:
        return await self._arun(
            lambda b: b.aacquire(key, cost=cost, interval=interval, burst=burst, now=now)
        )

    def adjust(self, key: str, *, delta: float, interval: float, now: float | None = None) -> None:
        self._run(lambda b: b.adjust(key, delta=delta, interval=interval, now=now))

    async def aadjust(
        self, key: str, *, delta: float, interval: float, now: float | None = None
    ) -> None:
        await self._arun(lambda b: b.aadjust(key, delta=delta, interval=interval, now=now))

    def hold(self, key: str, until: float) -> None:
        self._run(lambda b: b.hold(key, until))

    async def ahold(self, key: str, until: float) -> None:
        await self._arun(lambda b: b.ahold(key, until))

    def held_until(self, key: str, now: float | None = None) -> float | None:
        return self._run(lambda b: b.held_until(key, now))

    async def aheld_until(self, key: str, now: float | None = None) -> float | None:
        return await self._arun(lambda b: b.aheld_until(key, now))

    def acquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        return self._run(lambda b: b.acquire_all(limits, now))

    async def aacquire_all(
        self, limits: Sequence[tuple[str, float, float, float]], now: float | None = None
    ) -> float:
        return await self._arun(lambda b: b.aacquire_all(limits, now))

    def held_until_many(self, keys: Sequence[str], now: float | None = None) -> list[float | None]:
        return self._run(lambda b: b.held_until_many(keys, now))

    async def aheld_until_many(
        self, keys: Sequence[str], now: float | None = None
    ) -> list[float | None]:
        return await self._arun(lambda b: b.aheld_until_many(keys, now))

    def cache_get(self, key: str) -> bytes | None:
        return self._run(lambda b: b.cache_get(key))

    async def acache_get(self, key: str) -> bytes | None:
        return await self._arun(lambda b: b.acache_get(key))

    def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        self._run(lambda b: b.cache_set(key, value, ttl))

    async def acache_set(self, key: str, value: bytes, ttl: float) -> None:
        await self._arun(lambda b: b.acache_set(key, value, ttl))

    def incr(self, key: str, amount: float, ttl: float) -> float:
        return self._run(lambda b: b.incr(key, amount, ttl))

    async def aincr(self, key: str, amount: float, ttl: float) -> float:
        return await self._arun(lambda b: b.aincr(key, amount, ttl))

    # -- lifecycle --------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Never raises. While up, the primary's health (a round trip); a primary found
        unreachable there is down from then on, as if a call had failed. While down, which
        backend serves and when the primary is probed next, without touching it. ``status``
        says what calls get: ``ok`` (the primary), ``degraded`` (fail_open: per-process
        state) or ``refusing`` (fail_closed: StateUnavailable)."""
        if self._down_since is None:
            report = self.primary.health()
            if report.get("ok", True):
                return {**report, "mode": self.mode, "in_use": self.primary.name, "status": "ok"}
            detail = str(report.get("detail") or "health check failed")
            self._down(detail.removeprefix(f"{self.location}: "))
        with self._lock:
            down_since, next_probe, last_error = (
                self._down_since,
                self._next_probe,
                self._last_error,
            )
        if down_since is None:  # recovered meanwhile
            return self.health()
        now = self._clock()
        serving = (
            f"serving with {self.fallback.location}"
            if self.fallback is not None
            else "refusing calls"
        )
        return {
            "backend": self.primary.name,
            "ok": False,
            "mode": self.mode,
            "in_use": None if self.fallback is None else self.fallback.name,
            "detail": (
                f"{self.location} unreachable for {now - down_since:.1f}s ({last_error}); {serving}"
            ),
            "next_probe_in": max(0.0, next_probe - now),
            "status": "degraded" if self.fallback is not None else "refusing",
        }

    def close(self) -> None:
        try:
            self.primary.close()
        finally:
            if self.fallback is not None:
                self.fallback.close()

    async def aclose(self) -> None:
        try:
            await self.primary.aclose()
        finally:
            if self.fallback is not None:
                await self.fallback.aclose()
