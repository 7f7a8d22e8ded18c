"""Streaming drivers: ``Router.stream`` returns a :class:`Stream`, ``Router.astream`` an
:class:`AsyncStream`. Both walk the chain like ``complete`` does, with the streaming contract:
failover is transparent until the first chunk with content has reached the caller; after
that a failure, or an end without the terminal event, raises StreamInterrupted carrying the
partial text. A cut stream never ends as a clean stop.

The request's deadline (``timeouts.total``) runs to the last chunk. Each attempt's read
timeout (``timeouts.request``, capped by the time left) is the idle bound; the deadline ends a
wait for the next chunk that is still going when it comes (async: one loop timer per attempt;
sync: the process's watchdog thread shuts the socket down, see :mod:`router.aio.deadline`), and a
chunk that arrives after it is not passed on. Either way the attempt fails with a ProviderTimeout:
before any output the chain moves on (if time is left), after it StreamInterrupted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
)
from typing import Any

from router.aio.deadline import DeadlineReached, StreamDeadline, reset_current, set_current
from router.aio.eventloops import retrack, untracked
from router.engine.compile import Runtime
from router.engine.delivered import Delivered
from router.engine.hookrun import hooks_of
from router.errors import HookFailed, ProviderError
from router.routing.attempt import Try
from router.routing.call import Call, cost_of, savings_of
from router.routing.walk import Wait
from router.types import Chunk, Response

__all__ = ["AsyncStream", "Stream"]


def _settle(rt: Runtime, call: Call, t: Try, state: Delivered) -> Response | bool:
    """After a streamed attempt: raises StreamInterrupted when it failed after output had
    reached the caller (no failover then); else :meth:`Try.settle` (the answer assembled
    from its chunks)."""
    if (cut := state.cut(t)) is not None:
        model = t.target.model
        rt.accounting.interrupted(
            call, t.run, cut, cost_of(model, state.usage), savings_of(model, state.usage)
        )
        raise cut from t.failure
    if t.failure is None:
        latency = t.elapsed()
        t.answered(state.assembled(t.target, latency), latency=latency, check=False)
    return t.settle()


class _AsyncDeadline:
    """The request's deadline over one async streamed attempt: one loop timer for the whole
    attempt (not one per chunk, as ``asyncio.timeout`` around each wait would be) that
    cancels the task only while it waits for the next chunk; the wait then raises
    DeadlineReached. Between chunks the task runs the caller's code, which it never cancels."""

    __slots__ = ("_handle", "_waiting", "fired")

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._waiting: asyncio.Task[Any] | None = None
        self._handle = asyncio.get_running_loop().call_later(max(seconds, 0.0), self._fire)

    def _fire(self) -> None:
        self.fired = True
        if self._waiting is not None:
            self._waiting.cancel()

    async def next(self, chunks: AsyncIterator[Chunk]) -> Chunk:
        if self.fired:
            raise DeadlineReached()
        task = self._waiting = asyncio.current_task()
        # The generators beneath are this stream's to close (see router.aio.eventloops).
        token = untracked()
        try:
            return await chunks.__anext__()
        except asyncio.CancelledError:
            # Ours alone (no other cancellation pending): the deadline, not a cancelled caller.
            if self.fired and task is not None and task.uncancel() == 0:
                raise DeadlineReached() from None
            raise
        finally:
            retrack(token)
            self._waiting = None

    def cancel(self) -> None:
        self._handle.cancel()


class Stream:
    """Iterate for Chunks; after the last one, ``response`` holds the assembled answer (with
    usage, cost and every attempt)."""

    def __init__(self, rt: Runtime, call: Call) -> None:
        self._rt = rt
        self._call = call
        self.response: Response | None = None
        self._iter = self._run()

    def __iter__(self) -> Iterator[Chunk]:
        return self._iter

    def __next__(self) -> Chunk:
        return next(self._iter)

    def close(self) -> None:
        self._iter.close()

    def _run(self) -> Generator[Chunk, None, None]:
        rt, call = self._rt, self._call
        run = rt.run(call)
        hooks = hooks_of(call)
        while (step := run.next_step()) is not None:
            if isinstance(step, Wait):
                rt.sleep(step.seconds)
                continue
            t = rt.attempt(run, step)
            state = Delivered()
            # The request's deadline on the real monotonic clock: a watchdog ends the read
            # that is blocked when it comes (see router.aio.deadline).
            deadline = StreamDeadline(time.monotonic() + t.time_left)
            chunks: Iterator[Chunk] = t.target.node.stream(t.request)
            if hooks is not None:
                chunks = hooks.stream(t, chunks)
            try:
                while True:
                    token = set_current(deadline)
                    try:
                        chunk = next(chunks, None)
                    finally:
                        reset_current(token)
                    if chunk is None:
                        break
                    if deadline.fired or rt.clock() >= run.deadline:
                        raise DeadlineReached()  # it came after the deadline: not passed on
                    if state.accept(t, chunk):
                        yield chunk
                state.check_terminated(t.target)
            except (ProviderError, DeadlineReached, HookFailed) as caught:
                t.caught(caught, overdue=deadline.fired)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            # Settled out here: nothing internal in the chain of the error a request ends with.
            try:
                outcome = _settle(rt, call, t, state)
            finally:
                if hooks is not None:
                    hooks.observe(run)
            if isinstance(outcome, Response):
                self.response = rt.accounting.ok(call, outcome, stream=True)
                return
            if not outcome:
                break
        if hooks is not None:
            hooks.observe(run)
        rt.accounting.failed(call, run, stream=True)
        raise run.give_up()


class AsyncStream:
    """``async for chunk in stream``; afterwards ``response`` holds the assembled answer."""

    def __init__(self, rt: Runtime, call: Call | Callable[[], Awaitable[Call]]) -> None:
        """``call``, or how to prepare it (awaited when iteration starts: a classification
        that runs in a thread)."""
        self._rt = rt
        self._call = call
        self.response: Response | None = None
        self._iter = self._run()

    def __aiter__(self) -> AsyncIterator[Chunk]:
        return self._iter

    async def __anext__(self) -> Chunk:
        return await self._iter.__anext__()

    async def aclose(self) -> None:
        await self._iter.aclose()

    async def _run(self) -> AsyncGenerator[Chunk, None]:
        rt = self._rt
        prepared = self._call if isinstance(self._call, Call) else await self._call()
        call = self._call = await rt.aenter(prepared)
        run = rt.run(call)
        hooks = hooks_of(call)
        while (step := run.next_step()) is not None:
            if isinstance(step, Wait):
                await rt.asleep(step.seconds)
                continue
            t = rt.attempt(run, step)
            state = Delivered()
            deadline = _AsyncDeadline(t.time_left)
            chunks: AsyncGenerator[Chunk, None] = t.target.node.astream(t.request)
            if hooks is not None:
                chunks = hooks.astream(t, chunks)
            try:
                while True:
                    try:
                        chunk = await deadline.next(chunks)
                    except StopAsyncIteration:
                        break
                    if deadline.fired or rt.clock() >= run.deadline:
                        raise DeadlineReached()  # it came after the deadline: not passed on
                    if state.accept(t, chunk):
                        yield chunk
                state.check_terminated(t.target)
            except (ProviderError, DeadlineReached, HookFailed) as caught:
                t.caught(caught, overdue=deadline.fired)
            finally:
                deadline.cancel()
                await chunks.aclose()
            try:
                outcome = _settle(rt, call, t, state)
            finally:
                if hooks is not None:
                    await hooks.aobserve(run)
            if isinstance(outcome, Response):
                self.response = await rt.accounting.aok(call, outcome, stream=True)
                return
            if not outcome:
                break
        if hooks is not None:
            await hooks.aobserve(run)
        rt.accounting.failed(call, run, stream=True)
        raise run.give_up()
