"""Simulated time for ``router simulate``: waits cost no real time, and runs are repeatable.

The router under simulation gets a :class:`SimClock` as its monotonic clock, its wall clock and
its sleeps. Simulated time stands still while anything real happens (an HTTP exchange with the
sandbox, the router's own bookkeeping), and jumps to the next wake-up as soon as every live
request is waiting: on a backoff, a ``Retry-After``, a rate limit, its arrival time, or the
latency the simulator gives each call. So a run of a simulated hour takes as long as its
HTTP exchanges do, and no more.

It is an auto-jumping clock (like trio's ``autojump_clock``), driven by counts the simulator
keeps: ``running`` live workers, ``inflight`` real calls, and the sleepers registered here.
Sleepers that wake at the same instant wake in the order they went to sleep.
"""

from __future__ import annotations

import asyncio
import heapq
import time

__all__ = ["SimClock"]


class SimClock:
    """Monotonic and wall clocks plus sleeps over simulated seconds (``now`` starts at 0)."""

    def __init__(self, epoch: float | None = None) -> None:
        self.now = 0.0
        #: The wall clock's reading at simulated time 0 (real time at creation by default).
        self.epoch = time.time() if epoch is None else epoch
        #: Live worker coroutines; time may jump only when all of them are asleep.
        self.running = 0
        #: Real calls in progress (an HTTP exchange with the sandbox); time never jumps then.
        self.inflight = 0
        self.jumps = 0
        self._sleepers = 0
        self._seq = 0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._check_pending = False

    # -- the clocks the router reads ----------------------------------------------------------
    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.epoch + self.now

    # -- sleeps ---------------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        """The sync driver's sleep (the simulator drives the async one): just moves time on."""
        self.now += max(seconds, 0.0)

    async def asleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        await self.sleep_until(self.now + seconds)

    async def sleep_until(self, when: float) -> None:
        if when <= self.now:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._seq += 1
        heapq.heappush(self._timers, (when, self._seq, future))
        self._sleepers += 1
        self.poke()
        try:
            await future
        except asyncio.CancelledError:
            if future.cancelled():  # never woken: it no longer sleeps here
                self._sleepers -= 1
                self.poke()
            raise

    # -- jumping ------------------------------------------------------------------------------
    def poke(self) -> None:
        """Something changed that may let time jump: check once the loop has run what is ready.
        Call after ``running`` or ``inflight`` went down."""
        if not self._check_pending:
            self._check_pending = True
            asyncio.get_running_loop().call_soon(self._check)

    def _idle(self) -> bool:
        return self.inflight == 0 and self._sleepers >= self.running

    def _check(self) -> None:
        self._check_pending = False
        while self._timers and self._timers[0][2].done():  # cancelled sleepers
            heapq.heappop(self._timers)
        if not self._timers or not self._idle():
            return
        when = self._timers[0][0]
        if when > self.now:
            self.now = when
            self.jumps += 1
        while self._timers and self._timers[0][0] <= self.now:
            _, _, future = heapq.heappop(self._timers)
            if not future.done():
                self._sleepers -= 1  # counted awake from now on, before it even resumes
                future.set_result(None)
