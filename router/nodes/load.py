"""What this process knows of one deployment right now, and the node that keeps it.

:class:`Live` is read by the balancing strategies (:mod:`router.routing.balance`) when a
request picks one of a model's deployments: requests in flight, observed latency (an EWMA of
answered calls), until when the deployment should not be chosen (a ``Retry-After`` hold or an
open circuit its breaker node learned of), and the rate-limit headroom its limiter node saw.
It is written by the nodes of the deployment's stack:

- :class:`LoadNode` (under the cache, over the breaker) counts requests in flight and times
  answers;
- the breaker node marks holds and openings (:meth:`Live.hold`);
- the limiter node records each limit's booking after an admission (:meth:`Live.booked`),
  read back as the share of its burst still free (:meth:`Live.headroom`).

Requests in flight, latency and holds are this process's view (a hold another process set is
learned at the first refused attempt, which sends nothing); the bookings are every process's
with Redis state, where the limiter's one script call returns them with its answer
(:meth:`~router.state.base.StateBackend.acquire_booked`). Times are the router's monotonic
``clock``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Iterator

from router.nodes.base import Node, NodeHealth, Wrapper
from router.types import Chunk, Request, Response

__all__ = ["EWMA_WEIGHT", "Live", "LoadNode"]

#: Weight of the newest answer in the latency average (about the last five answers count).
EWMA_WEIGHT = 0.3


class Live:
    """One deployment's live figures in this process (thread-safe where it counts)."""

    __slots__ = ("_limits", "_lock", "in_flight", "latency", "until")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.latency: float | None = None  # EWMA seconds of answered calls; None: none yet
        self.until = 0.0  # not to be chosen before this (clock): a hold or an open circuit
        self._limits: dict[str, tuple[float, float]] = {}  # limit key -> (booked until, window)

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def observe(self, seconds: float) -> None:
        old = self.latency
        self.latency = seconds if old is None else old + EWMA_WEIGHT * (seconds - old)

    def hold(self, until: float) -> None:
        """Not to be chosen before ``until`` (a later hold never shortens an earlier one)."""
        self.until = max(self.until, until)

    def booked(self, key: str, until: float, window: float) -> None:
        """A limit's state after an admission: booked ``until`` (its GCRA ``tat``) out of a
        burst ``window`` seconds long."""
        self._limits[key] = (until, window)

    def charge(self, key: str, cost: float, interval: float, burst: float, now: float) -> None:
        """This process's own booking of a limit: an admission of ``cost`` units (the GCRA
        arithmetic of :mod:`router.state.gcra`, kept here when the backend does not say)."""
        until = self._limits.get(key, (now, 0.0))[0]
        self._limits[key] = (max(until, now) + cost * interval, burst * interval)

    def headroom(self, now: float) -> float:
        """The share of its tightest limit's burst still free, 0..1 (1: no limit, or idle)."""
        if not self._limits:
            return 1.0
        free = 1.0
        for until, window in self._limits.values():
            if until > now:
                free = min(free, max(0.0, 1.0 - (until - now) / window))
        return free

    def snapshot(self, now: float) -> NodeHealth:
        return {
            "in_flight": self.in_flight,
            "latency_ewma": self.latency,
            "held_for": max(self.until - now, 0.0),
            "headroom": round(self.headroom(now), 4),
        }


class LoadNode(Wrapper):
    """Counts the deployment's requests in flight and times its answers into :class:`Live`."""

    __slots__ = ("clock", "live")

    def __init__(self, wrapped: Node, live: Live, clock: Callable[[], float]) -> None:
        self.wrapped = wrapped
        self.live = live
        self.clock = clock

    def describe(self) -> str:
        return "load"

    def health(self) -> NodeHealth:
        return {"load": self.live.snapshot(self.clock())}

    def complete(self, request: Request) -> Response:
        live = self.live
        live.enter()
        start = self.clock()
        try:
            response = self.wrapped.complete(request)
        finally:
            live.leave()
        live.observe(self.clock() - start)
        return response

    async def acomplete(self, request: Request) -> Response:
        live = self.live
        live.enter()
        start = self.clock()
        try:
            response = await self.wrapped.acomplete(request)
        finally:
            live.leave()
        live.observe(self.clock() - start)
        return response

    def stream(self, request: Request) -> Iterator[Chunk]:
        live = self.live
        live.enter()
        try:
            yield from self.wrapped.stream(request)
        finally:
            live.leave()

    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        live = self.live
        live.enter()
        try:
            async with contextlib.aclosing(self.wrapped.astream(request)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            live.leave()
