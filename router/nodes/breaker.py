"""Circuit breakers: stop calling a model that keeps failing, and probe it again later.

```
 closed ──(failures in a row ≥ N, or failure rate ≥ R over ≥ M calls in the window)──▶ open
 open ──(cooldown passed)──▶ half-open: one probe call goes through
 half-open ──probe succeeds──▶ closed (cooldown back to its base)
 half-open ──probe fails──▶ open again, cooldown doubled (up to max_cooldown)
```

Only the probe's outcome moves an open breaker: calls admitted before it opened that end
while it is open (in flight when it tripped) are stale evidence, so they neither double the
cooldown nor close it, and their ending never frees the probe's slot.

Counting happens in each process; an opening is published to the state backend as a *hold*
(``open:<model>``), so with Redis every process skips the model until the hold ends. Holds
also carry a provider's ``Retry-After`` (``after:<model>``): a model that said "come back in
30 s" is not called again before that by any process sharing the state.

Which failures count: the provider being unhealthy (unavailable, timeout, malformed answers).
Rate limits, refusals, bad requests and context-window errors describe the request or the
quota, not the model's health, and do not open the circuit.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator

from router.errors import ProviderError, ProviderUnavailable, RateLimitError
from router.nodes.base import Node, NodeHealth, Wrapper
from router.nodes.load import Live
from router.specmodel import BreakerPolicy
from router.state.base import StateBackend
from router.types import Chunk, Request, Response

COUNTED_KINDS = frozenset({"unavailable", "timeout", "model_error"})
#: The ticket of the half-open probe; any other ticket is the epoch a call was admitted in.
PROBE = -1


class CircuitBreaker:
    """One model's breaker. Thread-safe; ``clock`` is monotonic seconds (injected in tests)."""

    __slots__ = (
        "_cooldown",
        "_epoch",
        "_failures",
        "_lock",
        "_opened_until",
        "_outcomes",
        "_probing",
        "clock",
        "name",
        "opened_count",
        "policy",
    )

    def __init__(
        self, name: str, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.policy = policy
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0  # consecutive
        self._outcomes: deque[tuple[float, bool]] = deque()  # (time, failed) within the window
        self._opened_until: float | None = None
        self._cooldown = policy.cooldown
        self._probing = False
        self._epoch = 0  # openings so far: a call admitted in an older epoch is stale
        self.opened_count = 0

    @property
    def state(self) -> str:
        with self._lock:
            return self._state(self.clock())

    def _state(self, now: float) -> str:
        if self._opened_until is None:
            return "closed"
        return "open" if now < self._opened_until or self._probing else "half-open"

    def admit(self) -> tuple[float | None, int]:
        """``(wait, ticket)``: ``wait`` is None when a call may go ahead, else the seconds until
        one may (in half-open, only the first caller gets through: the probe; the others wait
        for its outcome). ``ticket`` goes back to :meth:`record` or :meth:`release`:
        :data:`PROBE` for the half-open probe, else the epoch the call was admitted in (so an
        outcome that arrives after the breaker opened is known to be stale)."""
        with self._lock:
            now = self.clock()
            if self._opened_until is None:
                return None, self._epoch
            if now < self._opened_until:
                return self._opened_until - now, self._epoch
            if self._probing:
                # a probe is in flight; check back later
                return self.policy.cooldown, self._epoch
            self._probing = True
            return None, PROBE

    def record(self, failed: bool, ticket: int | None = None) -> float | None:
        """Record a call's outcome; returns the time (clock) until which the breaker is now
        open when this outcome opened it, else None. With the call's ``ticket`` (from
        :meth:`admit`), a call admitted before the breaker last opened changes nothing."""
        with self._lock:
            now = self.clock()
            if ticket is not None and ticket not in (PROBE, self._epoch):
                return None  # in flight when the breaker opened: stale evidence
            window = self.policy.window
            self._outcomes.append((now, failed))
            while self._outcomes and self._outcomes[0][0] <= now - window:
                self._outcomes.popleft()
            if self._opened_until is not None:  # this was the probe
                self._probing = False
                if failed:
                    self._cooldown = min(self._cooldown * 2, self.policy.max_cooldown)
                    return self._open(now)
                self._opened_until = None
                self._cooldown = self.policy.cooldown
                self._failures = 0
                self._outcomes.clear()
                return None
            if not failed:
                self._failures = 0
                return None
            self._failures += 1
            calls = len(self._outcomes)
            failures = sum(1 for _, f in self._outcomes if f)
            rate_tripped = calls >= self.policy.min_calls and failures / calls >= (
                self.policy.failure_rate
            )
            if self._failures >= self.policy.failures or rate_tripped:
                return self._open(now)
            return None

    def release(self, ticket: int | None = None) -> None:
        """The probe ended without a health signal (a rate limit, a bad request, the caller
        stopped reading): let the next caller probe instead. With a ``ticket`` that is not
        the probe's, nothing changes."""
        if ticket is not None and ticket != PROBE:
            return
        with self._lock:
            self._probing = False

    def _open(self, now: float) -> float:
        self.opened_count += 1
        self._epoch += 1
        self._opened_until = now + self._cooldown
        return self._opened_until

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            now = self.clock()
            calls = len(self._outcomes)
            failures = sum(1 for _, f in self._outcomes if f)
            return {
                "state": self._state(now),
                "consecutive_failures": self._failures,
                "window_calls": calls,
                "window_failures": failures,
                "open_for": max(self._opened_until - now, 0.0) if self._opened_until else 0.0,
                "cooldown": self._cooldown,
                "opened_count": self.opened_count,
            }


class BreakerNode(Wrapper):
    """Skips an open model (locally or as published by another process), records outcomes,
    and publishes openings and ``Retry-After`` answers as holds."""

    __slots__ = ("_hold_keys", "backend", "breaker", "key", "live", "model", "provider", "wall")

    def __init__(
        self,
        wrapped: Node,
        breaker: CircuitBreaker,
        backend: StateBackend,
        *,
        model: str,
        provider: str,
        wall: Callable[[], float] = time.time,
        key: str | None = None,
        live: Live | None = None,
    ) -> None:
        """``key`` names the holds (the deployment's state key; default the model's name);
        ``live`` learns every hold and opening, so the deployment is not chosen meanwhile."""
        self.wrapped = wrapped
        self.breaker = breaker
        self.backend = backend
        self.model = model
        self.provider = provider
        self.wall = wall
        self.key = key = key or model
        self.live = live
        # Both holds are read in one round trip (an MGET on Redis).
        self._hold_keys = (f"after:{key}", f"open:{key}")

    def describe(self) -> str:
        return f"breaker({self.breaker.state})"

    def health(self) -> NodeHealth:
        return {"breaker": self.breaker.snapshot()}

    # -- gates ------------------------------------------------------------------------------

    def _learn(self, seconds: float) -> None:
        if self.live is not None:
            self.live.hold(self.breaker.clock() + seconds)

    def _refusal(self, after: float | None, opened: float | None, local: float | None) -> None:
        now = self.wall()
        if after is not None and after > now:
            self._learn(after - now)
            raise RateLimitError(
                f"the provider asked not to be called for {after - now:.1f}s more (Retry-After)",
                provider=self.provider,
                model=self.model,
                retry_after=after - now,
                local=True,
            )
        wait = max(local or 0.0, (opened - now) if opened is not None else 0.0)
        if wait > 0:
            self._learn(wait)
            raise ProviderUnavailable(
                f"circuit open: the model failed repeatedly; next probe in {wait:.1f}s",
                provider=self.provider,
                model=self.model,
                retry_after=wait,
                local=True,
                circuit_open=True,
            )

    def _admit(self, after: float | None, opened: float | None) -> int | None:
        """The call's ticket, or a refusal (raised) while a hold or the breaker says wait."""
        local, ticket = (None, None)
        if after is None and opened is None:
            local, ticket = self.breaker.admit()
        self._refusal(after, opened, local)
        return ticket

    def _check(self) -> int | None:
        after, opened = self.backend.held_until_many(self._hold_keys, self.wall())
        return self._admit(after, opened)

    async def _acheck(self) -> int | None:
        after, opened = await self.backend.aheld_until_many(self._hold_keys, self.wall())
        return self._admit(after, opened)

    # -- outcomes ---------------------------------------------------------------------------

    def _holds(self, error: ProviderError | None, ticket: int | None) -> list[tuple[str, float]]:
        holds = []
        if error is not None and error.retry_after and error.status in (429, 503, 529):
            holds.append((f"after:{self.key}", self.wall() + error.retry_after))
            self._learn(error.retry_after)
        if error is not None and error.kind not in COUNTED_KINDS:
            self.breaker.release(ticket)
            return holds
        until = self.breaker.record(failed=error is not None, ticket=ticket)
        if until is not None:
            holds.append((f"open:{self.key}", self.wall() + (until - self.breaker.clock())))
            self._learn(until - self.breaker.clock())
        return holds

    def _done(self, error: ProviderError | None, ticket: int | None) -> None:
        for key, until in self._holds(error, ticket):
            self.backend.hold(key, until)

    async def _adone(self, error: ProviderError | None, ticket: int | None) -> None:
        for key, until in self._holds(error, ticket):
            await self.backend.ahold(key, until)

    # -- calls ------------------------------------------------------------------------------

    def complete(self, request: Request) -> Response:
        ticket = self._check()
        try:
            response = self.wrapped.complete(request)
        except ProviderError as error:
            self._done(error, ticket)
            raise
        except BaseException:  # the deadline or a cancellation: no verdict on the model
            self.breaker.release(ticket)
            raise
        self._done(None, ticket)
        return response

    async def acomplete(self, request: Request) -> Response:
        ticket = await self._acheck()
        try:
            response = await self.wrapped.acomplete(request)
        except ProviderError as error:
            await self._adone(error, ticket)
            raise
        except BaseException:  # the deadline or a cancellation: no verdict on the model
            self.breaker.release(ticket)
            raise
        await self._adone(None, ticket)
        return response

    def stream(self, request: Request) -> Iterator[Chunk]:
        ticket = self._check()
        recorded = False
        try:
            yield from self.wrapped.stream(request)
            recorded = True
            self._done(None, ticket)
        except ProviderError as error:
            recorded = True
            self._done(error, ticket)
            raise
        finally:
            if not recorded:  # the caller stopped reading: no verdict on the model's health
                self.breaker.release(ticket)

    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        ticket = await self._acheck()
        recorded = False
        try:
            async with contextlib.aclosing(self.wrapped.astream(request)) as chunks:
                async for chunk in chunks:
                    yield chunk
            recorded = True
            await self._adone(None, ticket)
        except ProviderError as error:
            recorded = True
            await self._adone(error, ticket)
            raise
        finally:
            if not recorded:
                self.breaker.release(ticket)
