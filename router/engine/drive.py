"""The sync and async drivers of one call's chain walk (completions and embeddings alike):
each runs :class:`~router.routing.walk.ChainRun` to a Response or its typed error, doing only
the I/O (sleeping on ``Wait``, sending each ``Try`` within the deadline). The stream drivers
are :mod:`router.engine.streams`; hedged attempts :mod:`router.engine.hedge`."""

from __future__ import annotations

import time

from router.aio.deadline import DeadlineReached, StreamDeadline, reset_current, set_current
from router.engine.compile import Runtime
from router.engine.hedge import attempt, hedged_attempt
from router.errors import ProviderError
from router.routing.call import Call
from router.routing.walk import Wait
from router.types import Response

__all__ = ["adrive", "drive"]


def drive(rt: Runtime, call: Call) -> Response:
    """The sync chain walk of one call, to its Response or its typed error."""
    run = rt.run(call)
    while (step := run.next_step()) is not None:
        if isinstance(step, Wait):
            rt.sleep(step.seconds)
            continue
        t = rt.attempt(run, step)
        # The request's deadline on the real monotonic clock: a watchdog ends the read of an
        # answer still arriving when it comes (see router.aio.deadline).
        deadline = StreamDeadline(time.monotonic() + t.time_left)
        token = set_current(deadline)
        try:
            t.answered(t.target.node.complete(t.request))
        except (ProviderError, DeadlineReached) as caught:
            t.caught(caught, overdue=deadline.fired)
        finally:
            reset_current(token)
        # Settled out here: nothing internal in the chain of the error a request ends with.
        if isinstance(outcome := t.settle(), Response):
            return rt.accounting.ok(call, outcome)
        if not outcome:
            break
    rt.accounting.failed(call, run)
    raise run.give_up()


async def adrive(rt: Runtime, call: Call) -> Response:
    """The async chain walk of one call (hedged where the task says so)."""
    run = rt.run(call)
    if (share := rt.hedges.get(call.task.name)) is not None:
        hedged = await hedged_attempt(rt, call, run, share)
        if hedged is not None:
            return await rt.accounting.aok(call, hedged)
    while (step := run.next_step()) is not None:
        if isinstance(step, Wait):
            await rt.asleep(step.seconds)
            continue
        t = await attempt(rt, run, step)
        if isinstance(outcome := t.settle(), Response):
            return await rt.accounting.aok(call, outcome)
        if not outcome:
            break
    rt.accounting.failed(call, run)
    raise run.give_up()
