"""Retry policy pieces: backoff (tenacity's full-jitter exponential), the retry share (how
many of a task's requests may retry) and the hedge share (how many may be hedged).

Retries live in one layer only, the chain walk (:class:`router.routing.walk.ChainRun`), because a
retry of the same model competes with moving to the next one for the same deadline: by
default the chain tries every other healthy model first, and a retry (after its backoff, or
after the provider's ``Retry-After``) waits at the end of the line. These helpers answer "how
long to back off" and "may this request retry at all".
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

# At import (of the engine, not of ``router``): a first retry must not import it on a loop.
import tenacity

if TYPE_CHECKING:
    from router.specmodel import RetryPolicy

# Envoy's retry budget keeps a floor of retries even at low traffic.
MIN_RETRIES_PER_WINDOW = 3


def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): uniform in
    [0, min(max_backoff, initial_backoff * 2**(attempt-1))] (full jitter, via tenacity)."""
    wait = tenacity.wait_random_exponential(
        multiplier=policy.initial_backoff, max=policy.max_backoff
    )
    state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
    state.attempt_number = attempt
    return float(wait(state))


class RetryShare:
    """Retries may be at most ``ratio`` of the requests seen in the last ``window`` seconds
    (plus a small floor), so a failing provider cannot multiply the traffic sent to it.
    Thread-safe; per process."""

    __slots__ = ("_lock", "_requests", "_retries", "clock", "floor", "ratio", "window")

    def __init__(
        self,
        ratio: float,
        *,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        floor: int = MIN_RETRIES_PER_WINDOW,
    ) -> None:
        self.ratio = ratio
        self.floor = floor
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()

    def _trim(self, now: float) -> None:
        edge = now - self.window
        while self._requests and self._requests[0] <= edge:
            self._requests.popleft()
        while self._retries and self._retries[0] <= edge:
            self._retries.popleft()

    def _allowed(self, requests: int) -> float:
        """How many retries the window allows after ``requests`` requests."""
        return self.ratio * requests + self.floor

    def request(self) -> None:
        with self._lock:
            now = self.clock()
            self._trim(now)
            self._requests.append(now)

    def can_retry(self) -> bool:
        """Whether the share allows one more retry now (nothing spent)."""
        with self._lock:
            now = self.clock()
            self._trim(now)
            return len(self._retries) + 1 <= self._allowed(len(self._requests))

    def try_retry(self) -> bool:
        """Spend one retry if the budget allows it."""
        with self._lock:
            now = self.clock()
            self._trim(now)
            if len(self._retries) + 1 > self._allowed(len(self._requests)):
                return False
            self._retries.append(now)
            return True

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            self._trim(self.clock())
            return {
                "requests": len(self._requests),
                "retries": len(self._retries),
                "ratio": self.ratio,
            }


class HedgeShare(RetryShare):
    """Hedges may be ``max_share`` of a task's requests in the last ``window`` seconds, and
    at least ``floor`` (one) per window whatever the traffic: a quiet service that sees fewer
    than 1/max_share requests in a window still hedges its slow ones, and a busy one stays
    within its share (the floor is not added on top of it, as a retry share's is)."""

    __slots__ = ()

    def __init__(
        self, max_share: float, *, clock: Callable[[], float] = time.monotonic, floor: int = 1
    ) -> None:
        super().__init__(max_share, clock=clock, floor=floor)

    def _allowed(self, requests: int) -> float:
        return max(self.floor, self.ratio * requests)
