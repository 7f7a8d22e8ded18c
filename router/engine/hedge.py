"""Hedged requests (async calls): the first attempt races a second one sent after the hedge
delay; the first complete answer wins and the other is cancelled and recorded."""

from __future__ import annotations

import asyncio
from typing import Any

from router.aio.deadline import DeadlineReached, within
from router.engine.compile import Runtime
from router.engine.hookrun import hooks_of
from router.errors import HookFailed, ProviderError
from router.routing.attempt import Try
from router.routing.call import Call
from router.routing.retry import RetryShare
from router.routing.walk import ChainRun, Go
from router.types import Response

__all__ = ["attempt", "hedged_attempt"]


async def attempt(rt: Runtime, run: ChainRun, step: Go) -> Try:
    """One async attempt of a non-streamed call, within the request's deadline (one loop
    timer: an answer still arriving when it comes fails as the request's ProviderTimeout)."""
    t = rt.attempt(run, step)
    hooks = hooks_of(run.call)
    try:
        t.answered(await within(t.time_left, t.target.node.acomplete(t.request)))
        if hooks is not None:
            await hooks.aafter(t)  # rewrites the answer, or rejects it (the chain moves on)
    except (ProviderError, DeadlineReached, HookFailed) as caught:
        t.caught(caught)
    return t


async def hedged_attempt(
    rt: Runtime, call: Call, run: ChainRun, share: RetryShare
) -> Response | None:
    """The first attempt, hedged: if it has not answered after the hedge delay (a set
    number of seconds, or the model's observed p95), the next model gets the same
    request; the first complete answer wins and the other is cancelled. Returns None
    when neither answered, so the ordinary chain walk carries on from there."""
    hedge = call.task.hedge
    share.request()
    first = run.next_step()
    if not isinstance(first, Go) or hedge is None:
        return None  # a wait or nothing to try: the ordinary walk handles it
    delay = hedge.after
    if delay is None:
        delay = rt.accounting.latency.estimate(first.target.model).p95
    started = rt.clock()
    racing: set[asyncio.Future[Try]] = {asyncio.ensure_future(attempt(rt, run, first))}
    if delay is not None:
        timer: asyncio.Future[Any] = asyncio.ensure_future(rt.asleep(delay))
        watched: set[asyncio.Future[Any]] = {*racing, timer}
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        timer.cancel()
        if not any(task.done() for task in racing) and share.try_retry():
            second = run.next_step()
            if isinstance(second, Go):
                racing.add(asyncio.ensure_future(attempt(rt, run, second)))
    winner: Try | None = None
    try:
        while racing and winner is None:
            done, racing = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                t = task.result()
                if t.failure is not None:
                    t.settle()  # recorded; the walk goes on after the race if it may
                elif winner is None and run.fatal is None:  # no hook failed on the other
                    winner = t
    finally:
        for task in racing:
            task.cancel()
        if racing:
            await asyncio.gather(*racing, return_exceptions=True)
        keep = winner.target.key if winner is not None else None
        run.cancel_inflight(rt.clock() - started, keep=keep)
    if winner is None:
        return None
    settled = winner.settle()
    assert isinstance(settled, Response)
    return settled
