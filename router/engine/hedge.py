"""Hedged requests (async calls): the first attempt races a second one sent after the hedge
delay; the first complete answer wins and the other is cancelled and recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from router.aio.deadline import DeadlineReached, within
from router.errors import ProviderError
from router.routing.call import Call, Target, build_request
from router.routing.retry import RetryShare
from router.routing.walk import ChainRun, Go
from router.types import Response

if TYPE_CHECKING:
    from router.engine.router import Router

__all__ = ["HedgeShare", "attempt", "hedged_attempt"]


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


_Outcome = tuple[Target, Response | None, ProviderError | None, float]


async def attempt(router: Router, call: Call, run: ChainRun, step: Go) -> _Outcome:
    """One async attempt of a non-streamed call, within the request's deadline (one loop
    timer: an answer still arriving when it comes fails as the request's TimeoutError)."""
    target = step.target
    request = build_request(router.spec, call, target, step.timeout, router._params_for)
    start = router._clock()
    failure: ProviderError | None = None
    try:
        response = await within(run.deadline - start, target.node.acomplete(request))
        if (refusal := run.refused(target, response.finish_reason)) is not None:
            raise refusal
    except ProviderError as error:
        failure = error
    except DeadlineReached:
        failure = run.overdue(target)
    if failure is not None:  # made out here: nothing internal in the error's chain
        return target, None, failure, router._clock() - start
    return target, response, None, router._clock() - start


async def hedged_attempt(
    router: Router, call: Call, run: ChainRun, budget: RetryShare
) -> Response | None:
    """The first attempt, hedged: if it has not answered after the hedge delay (a set
    number of seconds, or the model's observed p95), the next model gets the same
    request; the first complete answer wins and the other is cancelled. Returns None
    when neither answered, so the ordinary chain walk carries on from there."""
    hedge = call.task.hedge
    budget.request()
    first = run.next_step()
    if not isinstance(first, Go) or hedge is None:
        return None  # a wait or nothing to try: the ordinary walk handles it
    delay = hedge.after
    if delay is None:
        delay = router._acct.latency.estimate(first.target.model).p95
    started = router._clock()
    racing: set[asyncio.Future[_Outcome]] = {
        asyncio.ensure_future(attempt(router, call, run, first))
    }
    if delay is not None:
        timer: asyncio.Future[Any] = asyncio.ensure_future(router._asleep(delay))
        watched: set[asyncio.Future[Any]] = {*racing, timer}
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        timer.cancel()
        if not any(task.done() for task in racing) and budget.try_retry():
            second = run.next_step()
            if isinstance(second, Go):
                racing.add(asyncio.ensure_future(attempt(router, call, run, second)))
    winner: tuple[Target, Response, float] | None = None
    try:
        while racing and winner is None:
            done, racing = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                target, response, error, latency = task.result()
                if response is not None and winner is None:
                    winner = (target, response, latency)
                elif error is not None:
                    run.failed(target, error, latency)
    finally:
        for task in racing:
            task.cancel()
        if racing:
            await asyncio.gather(*racing, return_exceptions=True)
        keep = winner[0].model.name if winner is not None else None
        run.cancel_inflight(router._clock() - started, keep=keep)
    if winner is None:
        return None
    return run.succeeded(*winner)
