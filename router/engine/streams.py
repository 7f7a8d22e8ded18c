"""Streaming drivers: ``Router.stream`` returns a :class:`Stream`, ``Router.astream`` an
:class:`AsyncStream`. Both walk the chain like ``complete`` does, with the streaming contract:
failover is transparent until the first chunk with content has reached the caller; after
that a failure, or an end without the terminal event, raises StreamInterrupted carrying the
partial text. A cut stream never ends as a clean stop.

The request's deadline (``timeouts.total``) runs to the last chunk. Each attempt's read
timeout (``timeouts.request``, capped by the time left) is the idle bound; the deadline ends a
wait for the next chunk that is still going when it comes (async: one loop timer per attempt;
sync: the process's watchdog thread shuts the socket down, see :mod:`router.aio.deadline`), and a
chunk that arrives after it is not passed on. Either way the attempt fails with a TimeoutError:
before any output the chain moves on (if time is left), after it StreamInterrupted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from router.aio.deadline import DeadlineReached, StreamDeadline, reset_current, set_current
from router.aio.eventloops import retrack, untracked
from router.engine.compile import Runtime
from router.errors import ProviderError, ProviderUnavailable, StreamInterrupted
from router.routing.call import Call, Target, cost_of
from router.routing.walk import ChainRun, Wait
from router.types import Chunk, Response, ToolCall, Usage

__all__ = ["AsyncStream", "Stream"]


@dataclass(slots=True)
class _Delivered:
    """What one streamed attempt has delivered so far (pure bookkeeping)."""

    parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    delivered: bool = False
    cached: bool = False

    def admit(self, chunk: Chunk) -> bool:
        """Record ``chunk``; True when it should be passed to the caller. Empty chunks before
        the first content are held back, so failover stays possible until real output."""
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self.tool_calls = chunk.tool_calls or self.tool_calls
            self.cached = chunk.cached
        if not (chunk.delta or chunk.finish_reason or chunk.tool_calls or self.delivered):
            return False
        self.parts.append(chunk.delta)
        self.delivered = True
        return True

    def accept(self, run: ChainRun, target: Target, chunk: Chunk) -> bool:
        """:meth:`admit`, after turning a refusal that arrives before any output into a
        failure the chain can move on from."""
        if not self.delivered and (refusal := run.refused(target, chunk.finish_reason)):
            raise refusal
        return self.admit(chunk)

    def check_terminated(self, target: Target) -> None:
        """A stream that ended without its terminal event is a failure, never a clean stop."""
        if self.finish_reason is None:
            raise ProviderUnavailable(
                _UNTERMINATED, provider=target.provider, model=target.model.name
            )

    def cut(
        self, run: ChainRun, target: Target, error: ProviderError, latency: float
    ) -> StreamInterrupted | None:
        """After output reached the caller a failure cannot be failed over: the attempt is
        recorded and the StreamInterrupted to raise returned. None before any output."""
        if not self.delivered:
            return None
        run.failed(target, error, latency)
        return StreamInterrupted(
            f"the stream from {target.model.name} was cut after it had started: {error}",
            partial_text="".join(self.parts),
            usage=self.usage,
            model=target.model.name,
            provider=target.provider,
            attempts=tuple(run.attempts),
        )

    def response(self, run: ChainRun, target: Target, model_id: str, latency: float) -> Response:
        usage = self.usage or Usage()
        done = Response(
            content="".join(self.parts),
            finish_reason=self.finish_reason or "stop",
            usage=usage,
            model=target.model.name,
            model_id=model_id,
            provider=target.provider,
            cost=cost_of(target.model, self.usage),
            latency_s=latency,
            tool_calls=self.tool_calls,
            cached=self.cached,
        )
        return run.succeeded(target, done, latency)


_UNTERMINATED = "the stream ended before its terminal event"


def _failure(
    run: ChainRun, target: Target, caught: BaseException, *, overdue: bool = False
) -> ProviderError:
    """The attempt's failure: the request's timeout when its deadline ended the stream
    (``overdue``: the sync watchdog shut the socket, whatever error the read then gave)."""
    if isinstance(caught, ProviderError) and not overdue:
        return caught
    return run.overdue(target)


def _goes_on(
    rt: Runtime,
    call: Call,
    run: ChainRun,
    target: Target,
    state: _Delivered,
    failure: ProviderError,
    latency: float,
) -> bool:
    """After a failed attempt: raises StreamInterrupted when output had reached the caller
    (no failover then), else records the failure; True when the chain goes on."""
    if (cut := state.cut(run, target, failure, latency)) is not None:
        rt.accounting.interrupted(call, run, cut, cost_of(target.model, state.usage))
        raise cut from failure
    return run.failed(target, failure, latency)


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
        while (step := run.next_step()) is not None:
            if isinstance(step, Wait):
                rt.sleep(step.seconds)
                continue
            target = step.target
            request = rt.request(call, step)
            start = rt.clock()
            state = _Delivered()
            # The request's deadline on the real monotonic clock: a watchdog ends the read
            # that is blocked when it comes (see router.aio.deadline).
            deadline = StreamDeadline(time.monotonic() + (run.deadline - start))
            chunks: Iterator[Chunk] = target.node.stream(request)
            failure: ProviderError | None = None
            latency = 0.0
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
                    if state.accept(run, target, chunk):
                        yield chunk
                state.check_terminated(target)
            except (ProviderError, DeadlineReached) as caught:
                failure = _failure(run, target, caught, overdue=deadline.fired)
                latency = rt.clock() - start
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            if failure is not None:  # handled out here: nothing internal in the chain
                if _goes_on(rt, call, run, target, state, failure, latency):
                    continue
                break
            done = state.response(run, target, target.model.id, rt.clock() - start)
            self.response = rt.accounting.ok(call, done, stream=True)
            return
        rt.accounting.failed(call, run, stream=True)
        raise run.give_up()


class AsyncStream:
    """``async for chunk in stream``; afterwards ``response`` holds the assembled answer."""

    def __init__(self, rt: Runtime, call: Call) -> None:
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
        call = self._call = await rt.accounting.agate(self._call)
        run = rt.run(call)
        while (step := run.next_step()) is not None:
            if isinstance(step, Wait):
                await rt.asleep(step.seconds)
                continue
            target = step.target
            request = rt.request(call, step)
            start = rt.clock()
            state = _Delivered()
            deadline = _AsyncDeadline(run.deadline - start)
            chunks: AsyncIterator[Chunk] = target.node.astream(request)
            failure = None
            latency = 0.0
            try:
                while True:
                    try:
                        chunk = await deadline.next(chunks)
                    except StopAsyncIteration:
                        break
                    if deadline.fired or rt.clock() >= run.deadline:
                        raise DeadlineReached()  # it came after the deadline: not passed on
                    if state.accept(run, target, chunk):
                        yield chunk
                state.check_terminated(target)
            except (ProviderError, DeadlineReached) as caught:
                failure = _failure(run, target, caught, overdue=deadline.fired)
                latency = rt.clock() - start
            finally:
                deadline.cancel()
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
            if failure is not None:  # handled out here: nothing internal in the chain
                if _goes_on(rt, call, run, target, state, failure, latency):
                    continue
                break
            done = state.response(run, target, target.model.id, rt.clock() - start)
            self.response = await rt.accounting.aok(call, done, stream=True)
            return
        rt.accounting.failed(call, run, stream=True)
        raise run.give_up()
